package cli_test

import (
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

const newTokenSecret = "pgba_cli-test-new-token-0123456789abcdefghijklm"

// sighup sends SIGHUP to serve and waits until its log has one more line
// with marker than before, which it returns.
func sighup(t *testing.T, pid int, log func() string, marker string) string {
	t.Helper()
	before := strings.Count(log(), marker)
	if err := syscall.Kill(pid, syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		l := log()
		if strings.Count(l, marker) > before {
			lines := strings.Split(l, "\n")
			n := 0
			for _, line := range lines {
				if strings.Contains(line, marker) {
					if n++; n > before {
						return line
					}
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no new %q in serve's log within 10 s of SIGHUP:\n%s", marker, log())
	return ""
}

// rewrite replaces the file at path with content atomically, as an editor
// or a configuration manager does.
func rewrite(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// TestServeReloadOnSIGHUP: SIGHUP makes serve read its configuration file
// again. The new token is accepted and the removed one refused at once,
// while a request in flight (GET /diagnose, slow) and a running operation
// finish; a changed listen address is logged as needing a restart and
// serve stays where it was. Before the reload existed, SIGHUP ended serve.
func TestServeReloadOnSIGHUP(t *testing.T) {
	e := newEnv(t, false)
	port := secFreePort(t)
	listen := "127.0.0.1:" + strconv.Itoa(port)
	conf := writeConfig(t, e, "reload.toml", fmt.Sprintf("[serve]\nlisten = %q\n\n%s", listen, tokenTOML("old", ciTokenSecret)))
	pidFile := filepath.Join(e.Root, "barman.pid")
	srv, ok := secStartServe(t, e, conf, []string{"FAKE_BARMAN_DIAGNOSE_SLEEP=2", "FAKE_BARMAN_SLEEP=3", "FAKE_BARMAN_PIDFILE=" + pidFile}, port)
	if !ok {
		t.Fatalf("serve exited with status %d instead of listening; log:\n%s", srv.code, srv.log())
	}
	client := &http.Client{Timeout: 20 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	want := func(what, secret, method, path, body string, wantCode int) string {
		t.Helper()
		code, _, resp, err := secDo(client, method, srv.url("http", path), body, secret)
		if err != nil {
			t.Fatalf("%s: %v; serve's log:\n%s", what, err, srv.log())
		}
		if code != wantCode {
			t.Fatalf("%s: %d %s, want %d; serve's log:\n%s", what, code, resp, wantCode, srv.log())
		}
		return resp
	}
	want("old token before the reload", ciTokenSecret, "GET", "/operations", "", 200)
	want("new token before the reload", newTokenSecret, "GET", "/operations", "", 401)

	// A running operation: its Barman sleeps 3 s.
	id := operationID(t, want("operation before the reload", ciTokenSecret, "POST", "/operations", secUpdate, 202))
	// A request in flight: diagnose sleeps 2 s. Its Barman's argv is
	// logged before it sleeps.
	var wg sync.WaitGroup
	var diagCode int
	var diagErr error
	wg.Go(func() {
		diagCode, _, _, diagErr = secDo(client, "GET", srv.url("http", "/diagnose"), "", ciTokenSecret)
	})
	deadline := time.Now().Add(10 * time.Second)
	for {
		argv, _ := os.ReadFile(e.ArgvLog)
		_, pidErr := os.Stat(pidFile)
		if strings.Contains(string(argv), "diagnose\n") && pidErr == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("neither diagnose nor the operation's Barman started within 10 s; argv log:\n%s\nserve's log:\n%s", argv, srv.log())
		}
		time.Sleep(10 * time.Millisecond)
	}

	moved := "127.0.0.1:" + strconv.Itoa(secFreePort(t))
	rewrite(t, conf, fmt.Sprintf("[serve]\nlisten = %q\n\n%s", moved, tokenTOML("new", newTokenSecret)))
	line := sighup(t, srv.cmd.Process.Pid, srv.log, "msg=\"configuration reloaded\"")
	for _, w := range []string{"tokens added: new", "tokens removed: old", "file=" + conf} {
		if !strings.Contains(line, w) {
			t.Errorf("the reload's log line does not say %q: %s", w, line)
		}
	}
	if log := srv.log(); !strings.Contains(log, "needs a restart") || !strings.Contains(log, "key=serve.listen") {
		t.Errorf("the changed listen address is not logged as needing a restart:\n%s", log)
	}
	if strings.Contains(srv.log(), newTokenSecret) {
		t.Error("serve's log holds the new token's secret")
	}

	want("new token after the reload", newTokenSecret, "GET", "/operations", "", 200)
	want("removed token after the reload", ciTokenSecret, "GET", "/operations", "", 401)

	wg.Wait()
	if diagErr != nil || diagCode != 200 {
		t.Errorf("GET /diagnose in flight during the reload: %d, %v; want 200 (it started under the old token)", diagCode, diagErr)
	}
	deadline = time.Now().Add(20 * time.Second)
	for {
		var op struct{ Status string }
		if err := json.Unmarshal([]byte(want("the operation", newTokenSecret, "GET", "/operations/"+id, "", 200)), &op); err != nil {
			t.Fatal(err)
		}
		if op.Status == "DONE" {
			break
		}
		if op.Status != "IN_PROGRESS" || time.Now().After(deadline) {
			t.Fatalf("the operation running during the reload is %s, want DONE; serve's log:\n%s", op.Status, srv.log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	if srv.exited() {
		t.Fatalf("serve exited on SIGHUP; log:\n%s", srv.log())
	}
	if code := srv.stop(t); code != 0 {
		t.Errorf("serve exited with status %d after SIGTERM; log:\n%s", code, srv.log())
	}
}

// TestServeReloadRefusesBadConfig: a configuration that does not load is
// refused on SIGHUP, logged in serve's log format with the file and the
// error, and the running one is kept: the token goes on working.
func TestServeReloadRefusesBadConfig(t *testing.T) {
	e := newEnv(t, false)
	good := "[serve]\nlog_format = \"json\"\n\n" + tokenTOML("ci", ciTokenSecret)
	conf := writeConfig(t, e, "reload.toml", good)
	srv := startServe(t, e, conf)
	client := &http.Client{Timeout: 10 * time.Second}
	t.Cleanup(client.CloseIdleConnections)
	check := func(when string) {
		t.Helper()
		if code, _, body, err := secDo(client, "GET", srv.URL+"/operations", "", ciTokenSecret); err != nil || code != 200 {
			t.Fatalf("%s: the token got %d %s (%v), want 200; serve's log:\n%s", when, code, body, err, srv.Log())
		}
	}
	check("before the reload")

	missingTLS := strings.Replace(good, "[serve]\n", fmt.Sprintf("[serve]\ntls_cert = %q\ntls_key = %q\n",
		filepath.Join(e.Root, "no.crt"), filepath.Join(e.Root, "no.key")), 1)
	for _, bad := range []struct{ name, content, wantErr string }{
		{"syntax error", "[serve\nlisten = ", "toml"},
		{"unknown key", good + "\n[serve.nonsense]\nx = 1\n", "unknown key"},
		{"bad permission", "[serve]\nlog_format = \"json\"\n\n" + tokenTOML("ci", ciTokenSecret) + "permissions = [\"rule\"]\n", "unknown permission"},
		// TLS on or off needs a restart, but the files are read all the same.
		{"missing certificate", missingTLS, "no.crt"},
	} {
		content := bad.content
		rewrite(t, conf, content)
		line := sighup(t, srv.Cmd.Process.Pid, srv.Log, `"msg":"reload refused`)
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("%s: the refusal is not a JSON line (log_format json): %q", bad.name, line)
		}
		if rec["file"] != conf || rec["level"] != "ERROR" {
			t.Errorf("%s: the refusal does not name the file %s at level ERROR: %s", bad.name, conf, line)
		}
		if msg, _ := rec["error"].(string); !strings.Contains(msg, bad.wantErr) || msg == "" {
			t.Errorf("%s: the refusal's error %q does not say %q", bad.name, msg, bad.wantErr)
		}
		check("after refusing a config with a " + bad.name)
	}

	// The file fixed, the next SIGHUP applies it.
	rewrite(t, conf, "[serve]\nlog_format = \"json\"\n\n"+tokenTOML("ops", newTokenSecret))
	sighup(t, srv.Cmd.Process.Pid, srv.Log, `"msg":"configuration reloaded"`)
	if code, _, body, err := secDo(client, "GET", srv.URL+"/operations", "", newTokenSecret); err != nil || code != 200 {
		t.Errorf("after the fixed reload, the new token got %d %s (%v), want 200", code, body, err)
	}
	if srv.Exited() {
		t.Fatalf("serve exited; log:\n%s", srv.Log())
	}
}

// TestServeReloadTLSCertificate: on SIGHUP serve keeps its listener and
// serves the new certificate to new handshakes, as after a renewal that
// rewrote the files in place; a key that does not match its certificate is
// refused and the certificate in use stays.
func TestServeReloadTLSCertificate(t *testing.T) {
	e := newEnv(t, false)
	pki := filepath.Join(e.Root, "pki")
	ca := secCA(t, pki, "server-ca")
	serverCert := func(name string) *secPKI {
		return secIssue(t, pki, name, ca, &x509.Certificate{Subject: pkix.Name{CommonName: "barman1"},
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}})
	}
	first := serverCert("server")
	conf := writeConfig(t, e, "tls.toml", fmt.Sprintf("[serve]\ntls_cert = %q\ntls_key = %q\n\n%s", first.certFile, first.keyFile, tokenTOML("ci", ciTokenSecret)))
	srv := mustServe(t, e, conf, nil)
	served := func() *x509.Certificate {
		t.Helper()
		pool := x509.NewCertPool()
		pool.AddCert(ca.Cert)
		conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", "127.0.0.1:"+strconv.Itoa(srv.port), &tls.Config{RootCAs: pool})
		if err != nil {
			t.Fatalf("TLS handshake: %v; serve's log:\n%s", err, srv.log())
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0]
	}
	if got := served(); got.SerialNumber.Cmp(first.Cert.SerialNumber) != 0 {
		t.Fatalf("serve presents serial %v, want the configured %v", got.SerialNumber, first.Cert.SerialNumber)
	}
	// A connection open across the reload keeps working.
	kept := tlsClient(t, ca, nil)
	if code, _, body, err := secDo(kept, "GET", srv.url("https", "/operations"), "", ciTokenSecret); err != nil || code != 200 {
		t.Fatalf("GET over TLS: %d %s (%v)", code, body, err)
	}

	// Renewed in place: the same paths, new content.
	renewed := serverCert("renewed")
	writeFile(t, pki, "server.crt", string(renewed.CertPEM), 0o644)
	writeFile(t, pki, "server.key", string(renewed.KeyPEM), 0o600)
	line := sighup(t, srv.cmd.Process.Pid, srv.log, `msg="configuration reloaded"`)
	if !strings.Contains(line, "TLS certificate replaced") {
		t.Errorf("the reload's log line does not say the certificate changed: %s", line)
	}
	if got := served(); got.SerialNumber.Cmp(renewed.Cert.SerialNumber) != 0 {
		t.Errorf("after the reload serve presents serial %v, want the renewed %v", got.SerialNumber, renewed.Cert.SerialNumber)
	}
	if code, _, body, err := secDo(kept, "GET", srv.url("https", "/operations"), "", ciTokenSecret); err != nil || code != 200 {
		t.Errorf("GET on the connection kept across the reload: %d %s (%v)", code, body, err)
	}

	// A key that is not the certificate's: refused, the renewed one stays.
	other := serverCert("other")
	writeFile(t, pki, "server.key", string(other.KeyPEM), 0o600)
	line = sighup(t, srv.cmd.Process.Pid, srv.log, `msg="reload refused`)
	if !strings.Contains(line, "file="+conf) || !strings.Contains(line, "serve.tls_key") || !strings.Contains(line, "private key does not match public key") {
		t.Errorf("the refusal does not name the file and the key's error: %s", line)
	}
	if got := served(); got.SerialNumber.Cmp(renewed.Cert.SerialNumber) != 0 {
		t.Errorf("after a refused reload serve presents serial %v, want the renewed %v still", got.SerialNumber, renewed.Cert.SerialNumber)
	}
}

// TestPackagedUnitReloads: `systemctl reload pg-backup-api` sends serve
// SIGHUP; without ExecReload systemd refuses the reload.
func TestPackagedUnitReloads(t *testing.T) {
	data, err := os.ReadFile("../packaging/pg-backup-api.service")
	if err != nil {
		t.Fatal(err)
	}
	section := ""
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if strings.HasPrefix(line, "[") {
			section = line
		}
		if section == "[Service]" && line == "ExecReload=/bin/kill -HUP $MAINPID" {
			return
		}
	}
	t.Errorf("packaging/pg-backup-api.service has no ExecReload=/bin/kill -HUP $MAINPID in [Service]:\n%s", data)
}
