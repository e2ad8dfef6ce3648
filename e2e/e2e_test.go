//go:build e2e

// Package e2e drives pg-backup-api against a real Barman, PostgreSQL and sshd
// brought up by scripts/sandbox. Run it with `make check` (or `make e2e`),
// which starts the sandbox first; nothing here is faked.
package e2e

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

var (
	bin     string            // the pg-backup-api binary under test
	sandbox map[string]string // scripts/sandbox's env file
	apiURL  string            // a running `pg-backup-api serve`
	marker  string            // a row written just before the test's backup
)

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	envFile := os.Getenv("PG_BACKUP_API_E2E_ENV")
	if envFile == "" {
		envFile = "/var/tmp/pg-backup-api-sandbox/env"
	}
	var err error
	if sandbox, err = readEnvFile(envFile); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\nbring the sandbox up first: scripts/sandbox up (or make check)\n", err)
		return 1
	}
	tmp, err := os.MkdirTemp("", "pg-backup-api-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	bin = filepath.Join(tmp, "pg-backup-api")
	build := exec.Command("go", "build", "-o", bin, "..")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build:", err)
		return 1
	}

	// A fresh row, then a fresh backup: a restore that shows the row came
	// from the backup this run took.
	marker = randomHex()
	if out, err := psql(sandbox["SANDBOX_PG_PORT"], fmt.Sprintf(
		"INSERT INTO sandbox_check (id, note) VALUES (%d, '%s') ON CONFLICT (id) DO UPDATE SET note = EXCLUDED.note",
		2, marker)); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: writing the marker row: %v\n%s", err, out)
		return 1
	}
	start := time.Now()
	backup := exec.Command("barman", "-c", sandbox["SANDBOX_BARMAN_CONF"], "backup", "--wait", sandbox["SANDBOX_SERVER"])
	backup.Dir = "/"
	if out, err := backup.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: barman backup: %v\n%s", err, out)
		return 1
	}
	fmt.Fprintf(os.Stderr, "e2e: took a backup in %s\n", time.Since(start).Round(time.Millisecond))

	stop, err := startServe(tmp)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e: serve:", err)
		return 1
	}
	defer stop()
	return m.Run()
}

func randomHex() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// readEnvFile reads the `export K='V'` lines that scripts/sandbox writes.
func readEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimPrefix(strings.TrimSpace(sc.Text()), "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") || !strings.HasPrefix(v, "'") {
			continue
		}
		env[k] = strings.Trim(v, "'")
	}
	for _, k := range []string{"SANDBOX_BARMAN_CONF", "SANDBOX_SERVER", "SANDBOX_SSH_COMMAND", "SANDBOX_RESTORE_DIR", "SANDBOX_PG_BIN", "SANDBOX_PG_PORT", "SANDBOX_PG_SOCKET_DIR"} {
		if env[k] == "" {
			return nil, fmt.Errorf("%s does not set %s", path, k)
		}
	}
	return env, sc.Err()
}

func freePort(t *testing.T) int {
	port, err := pickPort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func pickPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func startServe(tmp string) (func(), error) {
	port, err := pickPort()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(tmp, "serve.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--barman-config", sandbox["SANDBOX_BARMAN_CONF"], "serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	apiURL = fmt.Sprintf("http://127.0.0.1:%d", port)
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		logFile.Close()
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(apiURL + "/status"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return stop, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	log, _ := os.ReadFile(logPath)
	return nil, fmt.Errorf("serve did not answer /status within 15s:\n%s", log)
}

func postJSON(t *testing.T, path string, body any) (int, map[string]any) {
	t.Helper()
	data, _ := json.Marshal(body)
	resp, err := http.Post(apiURL+path, "application/json", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, decode(t, resp.Body)
}

func getJSON(t *testing.T, path string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(apiURL + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, decode(t, resp.Body)
}

func decode(t *testing.T, r io.Reader) map[string]any {
	t.Helper()
	var m map[string]any
	data, _ := io.ReadAll(r)
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, data)
	}
	return m
}

// waitEnd polls an operation until it is DONE or FAILED and returns its
// detailed view.
func waitEnd(t *testing.T, server, id string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		code, body := getJSON(t, fmt.Sprintf("/servers/%s/operations/%s?detail=true", server, id))
		if code != 200 {
			t.Fatalf("GET operation %s: %d %v", id, code, body)
		}
		if body["status"] != "IN_PROGRESS" {
			return body
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("operation %s did not end within 5 minutes", id)
	return nil
}

func psql(port, query string) ([]byte, error) {
	cmd := exec.Command("psql", "-X", "-q", "-tA", "-h", "127.0.0.1", "-p", port, "-U", "barman", "-d", "postgres", "-c", query)
	cmd.Dir = "/"
	return cmd.CombinedOutput()
}

// checkRestored asserts that dest holds a data directory restored by Barman,
// starts it as a PostgreSQL server and checks the marker row is there.
func checkRestored(t *testing.T, dest string) {
	t.Helper()
	for _, f := range []string{"PG_VERSION", "backup_label"} {
		if _, err := os.Stat(filepath.Join(dest, f)); err != nil {
			t.Fatalf("restored directory lacks %s: %v", f, err)
		}
	}
	port := fmt.Sprint(freePort(t))
	pgctl := filepath.Join(sandbox["SANDBOX_PG_BIN"], "pg_ctl")
	logPath := dest + ".log"
	start := exec.Command("runuser", "-u", "postgres", "--", pgctl, "-D", dest, "-l", logPath, "-w", "-t", "120",
		"-o", fmt.Sprintf("-p %s -k %s -c listen_addresses=127.0.0.1", port, sandbox["SANDBOX_PG_SOCKET_DIR"]), "start")
	start.Dir = "/"
	if out, err := start.CombinedOutput(); err != nil {
		log, _ := os.ReadFile(logPath)
		t.Fatalf("restored cluster did not start: %v\n%s\n%s", err, out, log)
	}
	t.Cleanup(func() {
		stop := exec.Command("runuser", "-u", "postgres", "--", pgctl, "-D", dest, "-m", "fast", "-w", "stop")
		stop.Dir = "/"
		stop.Run()
		os.RemoveAll(dest)
		os.Remove(logPath)
	})
	out, err := psql(port, "SELECT note FROM sandbox_check WHERE id = 2")
	if err != nil {
		t.Fatalf("query on the restored cluster: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != marker {
		t.Fatalf("restored cluster answered %q, want the marker %q written before the backup", got, marker)
	}
}

func destination(t *testing.T, name string) string {
	dest := filepath.Join(sandbox["SANDBOX_RESTORE_DIR"], fmt.Sprintf("%s-%s", name, randomHex()))
	t.Cleanup(func() { os.RemoveAll(dest) })
	return dest
}

func TestRecoveryOverHTTP(t *testing.T) {
	server := sandbox["SANDBOX_SERVER"]
	dest := destination(t, "http")
	code, body := postJSON(t, "/servers/"+server+"/operations", map[string]any{
		"type":                  "recovery",
		"backup_id":             "latest",
		"remote_ssh_command":    sandbox["SANDBOX_SSH_COMMAND"],
		"destination_directory": dest,
	})
	if code != 202 {
		t.Fatalf("POST recovery: %d %v", code, body)
	}
	id, _ := body["operation_id"].(string)
	op := waitEnd(t, server, id)
	if op["status"] != "DONE" {
		t.Fatalf("recovery ended %v, want DONE; output:\n%v", op["status"], op["output"])
	}
	if !strings.Contains(fmt.Sprint(op["output"]), "successfully prepared for recovery") {
		t.Errorf("output lacks Barman's success line:\n%v", op["output"])
	}
	checkRestored(t, dest)
}

func TestRecoveryThroughCLIWait(t *testing.T) {
	dest := destination(t, "cli")
	cmd := exec.Command(bin, "--barman-config", sandbox["SANDBOX_BARMAN_CONF"], "create", "recovery",
		"--server", sandbox["SANDBOX_SERVER"], "--backup-id", "latest",
		"--remote-ssh-command", sandbox["SANDBOX_SSH_COMMAND"], "--destination-directory", dest, "--wait")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("create recovery --wait: %v\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
	}
	if !strings.Contains(stderr.String(), "DONE") {
		t.Errorf("--wait did not report DONE: %s", stderr.String())
	}
	checkRestored(t, dest)
}

func TestRecoveryWithRefusedSSHFails(t *testing.T) {
	server := sandbox["SANDBOX_SERVER"]
	port := freePort(t) // nothing listens there
	dest := destination(t, "refused")
	code, body := postJSON(t, "/servers/"+server+"/operations", map[string]any{
		"type":                  "recovery",
		"backup_id":             "latest",
		"remote_ssh_command":    fmt.Sprintf("ssh -p %d -o BatchMode=yes -o ConnectTimeout=3 postgres@127.0.0.1", port),
		"destination_directory": dest,
	})
	if code != 202 {
		t.Fatalf("POST recovery: %d %v", code, body)
	}
	op := waitEnd(t, server, body["operation_id"].(string))
	if op["status"] != "FAILED" {
		t.Fatalf("recovery to a refusing host ended %v, want FAILED", op["status"])
	}
	if !strings.Contains(fmt.Sprint(op["output"]), "Unable to connect to the target host") {
		t.Errorf("output lacks Barman's error:\n%v", op["output"])
	}
	if op["exit_code"] == float64(0) {
		t.Errorf("exit_code is 0 for a FAILED recovery")
	}
}

func jobCount(t *testing.T, dir string) int {
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return len(entries)
}

func barmanHome(t *testing.T) string {
	data, err := os.ReadFile(sandbox["SANDBOX_BARMAN_CONF"])
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && strings.TrimSpace(k) == "barman_home" {
			return strings.TrimSpace(v)
		}
	}
	t.Fatal("barman_home not found in the sandbox's barman.conf")
	return ""
}

func TestUnknownBackupRefusedBeforeAnythingRuns(t *testing.T) {
	server := sandbox["SANDBOX_SERVER"]
	jobs := filepath.Join(barmanHome(t), server, "jobs")
	before := jobCount(t, jobs)
	code, body := postJSON(t, "/servers/"+server+"/operations", map[string]any{
		"type":                  "recovery",
		"backup_id":             "20000101T000000",
		"remote_ssh_command":    sandbox["SANDBOX_SSH_COMMAND"],
		"destination_directory": "/tmp/never",
	})
	if code != 404 || !strings.Contains(fmt.Sprint(body["error"]), "20000101T000000") {
		t.Fatalf("unknown backup: got %d %v, want 404 naming the backup", code, body)
	}
	if after := jobCount(t, jobs); after != before {
		t.Fatalf("a refused request wrote a job file (%d -> %d)", before, after)
	}
}

// Debian's Barman 3.4 has neither config-switch nor config-update; both are
// refused up front, naming the installed version and the one that added them.
func TestModelsRefusedOnOldBarman(t *testing.T) {
	out, err := exec.Command("barman", "-v").Output()
	if err != nil {
		t.Fatal(err)
	}
	installed := strings.Fields(string(out))[0]
	if !strings.HasPrefix(installed, "3.4.") {
		t.Skipf("installed Barman is %s; this test is about Debian's 3.4", installed)
	}
	server := sandbox["SANDBOX_SERVER"]
	cases := []struct {
		path string
		body map[string]any
	}{
		{"/servers/" + server + "/operations", map[string]any{"type": "config_switch", "reset": true}},
		{"/operations", map[string]any{"type": "config_update", "changes": []any{map[string]any{"scope": "server", "server_name": server, "archiver": "on"}}}},
	}
	for _, c := range cases {
		code, body := postJSON(t, c.path, c.body)
		msg := fmt.Sprint(body["error"])
		if code != 400 || !strings.Contains(msg, installed) || !strings.Contains(msg, "3.10.0") {
			t.Errorf("%v: got %d %q, want 400 naming %s and 3.10.0", c.body["type"], code, msg, installed)
		}
	}
	cmd := exec.Command(bin, "--barman-config", sandbox["SANDBOX_BARMAN_CONF"], "create", "config-switch", "--server", server, "--reset")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 2 || !strings.Contains(stderr.String(), installed) {
		t.Errorf("CLI config-switch on Barman %s: err %v, stderr %q; want exit 2 naming the version", installed, err, stderr.String())
	}
}

func TestDiagnoseIsBarmans(t *testing.T) {
	code, body := getJSON(t, "/diagnose")
	if code != 200 {
		t.Fatalf("GET /diagnose: %d %v", code, body)
	}
	global, _ := body["global"].(map[string]any)
	servers, _ := body["servers"].(map[string]any)
	if global == nil || servers == nil {
		t.Fatalf("diagnose lacks global/servers: %v", body)
	}
	if _, ok := servers[sandbox["SANDBOX_SERVER"]]; !ok {
		t.Fatalf("diagnose does not list server %s: servers %v", sandbox["SANDBOX_SERVER"], keys(servers))
	}
}

func keys(m map[string]any) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	return k
}
