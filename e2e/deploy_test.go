//go:build e2e

package e2e

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/notify"
)

// packagedUnit is what the deploy test takes from packaging/pg-backup-api.service.
type packagedUnit struct {
	execStart   []string
	user, group string
}

func readPackagedUnit(t *testing.T) packagedUnit {
	t.Helper()
	data, err := os.ReadFile("../packaging/pg-backup-api.service")
	if err != nil {
		t.Fatal(err)
	}
	var u packagedUnit
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), "=")
		if !ok || strings.HasPrefix(k, "#") {
			continue
		}
		switch k {
		case "ExecStart":
			u.execStart = strings.Fields(v)
		case "User":
			u.user = v
		case "Group":
			u.group = v
		}
	}
	if len(u.execStart) == 0 || u.execStart[0] != "/usr/bin/pg-backup-api" || u.user == "" || u.group == "" {
		t.Fatalf("packaging/pg-backup-api.service: ExecStart %q, User %q, Group %q; the test expects /usr/bin/pg-backup-api run as a named user and group", u.execStart, u.user, u.group)
	}
	return u
}

// apiClient talks to a serve over HTTPS with a bearer token.
type apiClient struct {
	base, token string
	hc          *http.Client
}

func (c apiClient) do(t *testing.T, method, path string, body any) (int, map[string]any) {
	t.Helper()
	var r io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, c.base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := c.hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, decode(t, resp.Body)
}

func (c apiClient) waitEnd(t *testing.T, path string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		code, body := c.do(t, "GET", path+"?detail=true", nil)
		if code != 200 {
			t.Fatalf("GET %s: %d %v", path, code, body)
		}
		if body["status"] != "IN_PROGRESS" {
			return body
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("operation %s did not end within 5 minutes", path)
	return nil
}

// hookDelivery is one POST the test's webhook receiver got.
type hookDelivery struct {
	body   []byte
	header http.Header
}

// deployConfig is /etc/pg-backup-api.toml as an operator would write it.
func deployConfig(b *barmanUT, port, hookURL, secret string, tokens [][3]string) string {
	var s strings.Builder
	fmt.Fprintf(&s, "barman_config = %q\nbarman_command = %q\n\n[serve]\nlisten = \"127.0.0.1:%s\"\n", b.conf, b.command, port)
	s.WriteString("tls_cert = \"/etc/pg-backup-api/server.crt\"\ntls_key = \"/etc/pg-backup-api/server.key\"\n")
	for _, tok := range tokens {
		fmt.Fprintf(&s, "\n[[serve.tokens]]\nname = %q\nsha256 = %q\npermissions = [%s]\n", tok[0], httpd.HashToken(tok[1]), tok[2])
	}
	fmt.Fprintf(&s, "\n[[notify.webhooks]]\nurl = %q\nsecret = %q\ntimeout = \"10s\"\n", hookURL, secret)
	return s.String()
}

// mountNamespace is the inode of a process's mount namespace.
func mountNamespace(pid int) string {
	link, _ := os.Readlink(fmt.Sprintf("/proc/%d/ns/mnt", pid))
	return link
}

// processesIn lists the processes whose mount namespace is ns: never the
// test's own namespace (that would be every process of the machine).
func processesIn(ns string) []int {
	if ns == "" || ns == mountNamespace(os.Getpid()) {
		return nil
	}
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if mountNamespace(pid) == ns {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestDeployAsPackaged runs serve the way the packages deploy it: the unit's
// ExecStart (the binary under test in place of /usr/bin/pg-backup-api, its
// arguments kept), as the unit's User and Group, configured only through
// /etc/pg-backup-api.toml, root:barman 0640. The machine's /etc is not
// touched: serve runs in a private mount namespace where an overlay over
// /etc holds the test's files, and the runners it starts inherit it. Over
// HTTPS with tokens of different permissions it restores a backup with the
// sandbox's Barman, signs a webhook, answers `status`, and takes a
// reloaded configuration (SIGHUP) while a recovery runs. It does so with
// each Barman of the sandbox, as Debian 12 (3.4), Debian 13 (3.13.3) and
// Debian unstable would package it beside ours, at once: each serve has a
// mount namespace, a port and a barman_home of its own.
func TestDeployAsPackaged(t *testing.T) {
	eachAtOnce(t, deployAsPackaged)
}

func deployAsPackaged(t *testing.T, b *barmanUT) {
	unit := readPackagedUnit(t)
	account, err := user.Lookup(unit.user)
	if err != nil {
		t.Fatalf("the unit's User=%s: %v", unit.user, err)
	}
	group, err := user.LookupGroup(unit.group)
	if err != nil {
		t.Fatalf("the unit's Group=%s: %v", unit.group, err)
	}
	uid, _ := strconv.Atoi(account.Uid)
	gid, _ := strconv.Atoi(group.Gid)

	// The sandbox's own serves and CLI runs are root's, so the store they
	// wrote under barman_home (jobs/, output/, .pg-backup-api/) is root's,
	// 0700/0600: serve as Barman's user answers 503 for it. An operator
	// moving to the packaged unit hands barman_home to Barman's user, as
	// `doctor` asks; root's serves go on working.
	server := sandbox["SANDBOX_SERVER"]
	if out, err := exec.Command("find", b.home, "!", "-user", unit.user, "-exec", "chown", "-h", unit.user+":"+unit.group, "{}", "+").CombinedOutput(); err != nil {
		t.Fatalf("handing %s to %s: %v\n%s", b.home, unit.user, err, out)
	}

	// Everything of the deployment lives here; the binary must be reachable
	// by Barman's user (t.TempDir and the test binary's directory are 0700).
	dir, err := os.MkdirTemp("", "pg-backup-api-deploy-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	exe := filepath.Join(dir, "pg-backup-api")
	data, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, data, 0o755); err != nil {
		t.Fatal(err)
	}
	upper, work := filepath.Join(dir, "upper"), filepath.Join(dir, "work")
	for _, d := range []string{upper, work, filepath.Join(upper, "pg-backup-api")} {
		if err := os.Mkdir(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// place writes a file into the overlay's upper directory before it is
	// mounted, owned as the packages own it.
	place := func(rel string, data []byte, mode os.FileMode) {
		t.Helper()
		p := filepath.Join(upper, rel)
		if err := os.WriteFile(p, data, mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(p, 0, gid); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(p, mode); err != nil {
			t.Fatal(err)
		}
	}
	ca := testenv.NewCA(t, "pg-backup-api e2e CA")
	serverCert := testenv.NewServerCert(t, ca, "127.0.0.1")
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.CertPEM, 0o644); err != nil {
		t.Fatal(err)
	}
	place("pg-backup-api/server.crt", serverCert.CertPEM, 0o640)
	place("pg-backup-api/server.key", serverCert.KeyPEM, 0o640)
	if err := os.Chown(filepath.Join(upper, "pg-backup-api"), 0, gid); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(upper, "pg-backup-api"), 0o750); err != nil {
		t.Fatal(err)
	}

	// The webhook receiver: plain HTTP on loopback (a webhook has no CA
	// setting of its own, and serve accepts http:// to loopback silently).
	var (
		hookMu     sync.Mutex
		deliveries []hookDelivery
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		hookMu.Lock()
		deliveries = append(deliveries, hookDelivery{body: body, header: r.Header.Clone()})
		hookMu.Unlock()
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(hook.Close)
	secret := "e2e-secret-" + randomHex()

	port := strconv.Itoa(freePort(t))
	readTok, recoverTok, thirdTok := "pgba_read_"+randomHex(), "pgba_recover_"+randomHex(), "pgba_third_"+randomHex()
	tokens := [][3]string{
		{"monitor", readTok, `"read"`},
		{"restore-bot", recoverTok, `"read", "recover"`},
	}
	place("pg-backup-api.toml", []byte(deployConfig(b, port, hook.URL+"/barman", secret, tokens)), 0o640)

	// unshare without --fork execs: the shell mounts the overlay and execs
	// setpriv, which execs ExecStart, so cmd's process is serve itself.
	argv := append([]string{exe}, unit.execStart[1:]...)
	script := fmt.Sprintf("mount -t overlay overlay -o lowerdir=/etc,upperdir=%s,workdir=%s /etc && "+
		`exec setpriv --reuid=%s --regid=%s --init-groups --no-new-privs -- "$@"`, upper, work, unit.user, unit.group)
	cmd := exec.Command("unshare", append([]string{"--mount", "--propagation", "private", "--", "sh", "-c", script, "sh"}, argv...)...)
	cmd.Dir = "/"
	// What systemd gives a unit with User=: no PG_BACKUP_API_* variables,
	// so the configuration is /etc/pg-backup-api.toml by the default lookup.
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=" + account.HomeDir,
		"USER=" + unit.user, "LOGNAME=" + unit.user, "SHELL=/bin/sh", "LANG=C.UTF-8"}
	// A file, not a pipe: cmd.Wait would wait for every process holding
	// a pipe's end, and runners outlive serve.
	logFile, err := os.Create(filepath.Join(dir, "serve.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logFile.Close()
	logBuf := serveLog(logFile.Name())
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	pid := cmd.Process.Pid
	// unshare enters the new namespace just after the start: until then
	// the process is in the test's, which cleanup must never take for it.
	self, ns := mountNamespace(os.Getpid()), ""
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if n := mountNamespace(pid); n != "" && n != self {
			ns = n
			break
		}
	}
	if ns == "" {
		cmd.Process.Signal(syscall.SIGTERM)
		t.Fatalf("serve (pid %d) is not in a mount namespace of its own 10s after unshare started", pid)
	}
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("serve exited after SIGTERM: %v\n%s", err, logBuf.String())
			}
		case <-time.After(45 * time.Second): // the unit's TimeoutStopSec
			t.Errorf("serve did not exit within 45s of SIGTERM")
			cmd.Process.Kill()
			<-exited
		}
		// The runners outlive serve (KillMode=process) but end with their
		// last operation; the namespace, and its overlay, go with them.
		deadline := time.Now().Add(30 * time.Second)
		for len(processesIn(ns)) > 0 && time.Now().Before(deadline) {
			time.Sleep(200 * time.Millisecond)
		}
		if left := processesIn(ns); len(left) > 0 {
			t.Errorf("processes %v are still in serve's mount namespace 30s after serve ended; killing them", left)
			for _, p := range left {
				syscall.Kill(p, syscall.SIGKILL)
			}
		}
	}
	t.Cleanup(func() {
		stop()
		if t.Failed() {
			t.Logf("serve's log:\n%s", logBuf.String())
		}
	})

	hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	base := "https://127.0.0.1:" + port
	reader := apiClient{base, readTok, hc}
	restorer := apiClient{base, recoverTok, hc}
	third := apiClient{base, thirdTok, hc}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if resp, err := hc.Get(base + "/status"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		select {
		case err := <-exited:
			stopped = true
			t.Fatalf("serve exited before answering: %v\n%s", err, logBuf.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not answer https /status within 15s:\n%s", logBuf.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := processUID(t, pid); got != uid {
		t.Fatalf("serve runs as uid %d, want %d (%s)", got, uid, unit.user)
	}

	// The read-only token may look but not restore, and writes nothing.
	check := noNewJobs(t, b)
	ops := "/servers/" + server + "/operations"
	recovery := func(dest string, extra map[string]any) map[string]any {
		body := map[string]any{"type": "recovery", "backup_id": b.older.request,
			"remote_ssh_command": sandbox["SANDBOX_SSH_COMMAND"], "destination_directory": dest}
		for k, v := range extra {
			body[k] = v
		}
		return body
	}
	if code, body := reader.do(t, "POST", ops, recovery("/tmp/never", nil)); code != 403 {
		t.Fatalf("POST recovery with the read-only token: %d %v, want 403", code, body)
	}
	check()
	if code, body := reader.do(t, "GET", ops, nil); code != 200 {
		t.Fatalf("GET operations with the read-only token: %d %v", code, body)
	}

	// A real recovery over HTTPS with the recover token.
	dest := destination(t, "deploy")
	code, body := restorer.do(t, "POST", ops, recovery(dest, nil))
	if code != 202 {
		t.Fatalf("POST recovery with the recover token: %d %v", code, body)
	}
	id, _ := body["operation_id"].(string)
	op := restorer.waitEnd(t, ops+"/"+id)
	if op["status"] != "DONE" {
		t.Fatalf("recovery ended %v, want DONE; output:\n%v\nserve's log:\n%s", op["status"], op["output"], logBuf.String())
	}
	checkRecoveryOutput(t, b, id, fmt.Sprint(op["output"]))
	checkRestored(t, dest, b.older)
	if fi, err := os.Stat(filepath.Join(b.home, server, "jobs", id+".json")); err != nil {
		t.Fatal(err)
	} else if st := fi.Sys().(*syscall.Stat_t); int(st.Uid) != uid {
		t.Errorf("the operation's job file belongs to uid %d, want %s's %d", st.Uid, unit.user, uid)
	}

	// Its webhook arrives signed with the configured secret.
	var got *hookDelivery
	deadline = time.Now().Add(60 * time.Second)
	for got == nil && time.Now().Before(deadline) {
		hookMu.Lock()
		for i := range deliveries {
			var ev struct {
				OperationID string `json:"operation_id"`
			}
			if json.Unmarshal(deliveries[i].body, &ev) == nil && ev.OperationID == id {
				got = &deliveries[i]
			}
		}
		hookMu.Unlock()
		time.Sleep(200 * time.Millisecond)
	}
	if got == nil {
		t.Fatalf("no webhook for operation %s within 60s (%d other deliveries)", id, len(deliveries))
	}
	if err := notify.VerifyV1(secret, got.body, got.header.Get(notify.HeaderIdempotency), got.header.Get(notify.HeaderSignatureV1), time.Now(), 5*time.Minute); err != nil {
		t.Errorf("webhook signature: %v\nheaders: %v", err, got.header)
	}
	var ev map[string]any
	json.Unmarshal(got.body, &ev)
	if ev["status"] != "DONE" || ev["type"] != "recovery" || ev["requested_by"] != "http:token:restore-bot" {
		t.Errorf("webhook event: status %v, type %v, requested_by %v; want DONE, recovery, http:token:restore-bot", ev["status"], ev["type"], ev["requested_by"])
	}

	// The CLI's health check over HTTPS with the test's CA.
	status := exec.Command(bin, "status", "--url", base, "--ca-cert", caFile)
	status.Dir = "/"
	// No configuration file of root's: an empty home.
	home := t.TempDir()
	status.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + home, "XDG_CONFIG_HOME=" + home}
	if out, err := status.CombinedOutput(); err != nil || strings.TrimSpace(string(out)) != "OK" {
		t.Errorf("status --url %s --ca-cert %s: %v\n%s", base, caFile, err, out)
	}

	// A reload while a recovery runs: bwlimit (KB/s) keeps rsync copying
	// the 25 MB backup for about a minute (1000 took 3.5 minutes).
	if code, _ := third.do(t, "GET", ops, nil); code != 401 {
		t.Fatalf("GET with a token not yet configured: %d, want 401", code)
	}
	dest2 := destination(t, "deploy-reload")
	code, body = restorer.do(t, "POST", ops, recovery(dest2, map[string]any{"bwlimit": 4000}))
	if code != 202 {
		t.Fatalf("POST slow recovery: %d %v", code, body)
	}
	id2, _ := body["operation_id"].(string)
	time.Sleep(2 * time.Second)
	if code, body := restorer.do(t, "GET", ops+"/"+id2, nil); code != 200 || body["status"] != "IN_PROGRESS" {
		t.Fatalf("the slow recovery is %d %v before the reload, want IN_PROGRESS", code, body)
	}
	tokens = append(tokens, [3]string{"auditor", thirdTok, `"read"`})
	write := exec.Command("nsenter", fmt.Sprintf("--mount=/proc/%d/ns/mnt", pid), "--", "sh", "-c",
		"umask 077 && cat > /etc/pg-backup-api.toml.new && chown root:"+unit.group+" /etc/pg-backup-api.toml.new && "+
			"chmod 0640 /etc/pg-backup-api.toml.new && mv -f /etc/pg-backup-api.toml.new /etc/pg-backup-api.toml")
	write.Stdin = strings.NewReader(deployConfig(b, port, hook.URL+"/barman", secret, tokens))
	if out, err := write.CombinedOutput(); err != nil {
		t.Fatalf("writing the new /etc/pg-backup-api.toml in serve's namespace: %v\n%s", err, out)
	}
	before := strings.Count(logBuf.String(), "configuration reloaded")
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline = time.Now().Add(10 * time.Second)
	for strings.Count(logBuf.String(), "configuration reloaded") == before {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not log \"configuration reloaded\" within 10s of SIGHUP:\n%s", logBuf.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
	if code, body := third.do(t, "GET", ops+"/"+id2, nil); code != 200 || body["status"] != "IN_PROGRESS" {
		t.Fatalf("the new token after the reload: %d %v, want 200 with the recovery still IN_PROGRESS", code, body)
	}
	if code, body := third.do(t, "POST", ops, recovery("/tmp/never", nil)); code != 403 {
		t.Errorf("the new read-only token POSTing a recovery: %d %v, want 403", code, body)
	}
	if code, body := reader.do(t, "GET", ops, nil); code != 200 {
		t.Errorf("the read-only token after the reload: %d %v", code, body)
	}
	if code, body := restorer.do(t, "GET", ops, nil); code != 200 {
		t.Errorf("the recover token after the reload: %d %v", code, body)
	}
	op = restorer.waitEnd(t, ops+"/"+id2)
	if op["status"] != "DONE" {
		t.Fatalf("the recovery running across the reload ended %v, want DONE; output:\n%v", op["status"], op["output"])
	}
	stop()
	if t.Failed() {
		return
	}
	if !strings.Contains(logBuf.String(), "auditor") {
		t.Errorf("serve's reload log does not name the added token \"auditor\":\n%s", logBuf.String())
	}
}

func processUID(t *testing.T, pid int) int {
	t.Helper()
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 1 && f[0] == "Uid:" {
			n, _ := strconv.Atoi(f[1])
			return n
		}
	}
	t.Fatalf("/proc/%d/status has no Uid line", pid)
	return -1
}

// serveLog reads serve's log file whole on each String.
type serveLog string

func (l serveLog) String() string {
	data, _ := os.ReadFile(string(l))
	return string(data)
}
