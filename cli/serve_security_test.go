package cli_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
)

// secUpdate is a config_update a client may send over HTTP.
const secUpdate = `{"type": "config_update", "changes": [{"scope": "server", "server_name": "db_server_two", "archiver": "on"}]}`

// secServe is a running `pg-backup-api serve`.
type secServe struct {
	cmd     *exec.Cmd
	port    int
	logPath string
	done    chan struct{}
	code    int // exit status, once done is closed
}

func (s *secServe) log() string {
	data, _ := os.ReadFile(s.logPath)
	return string(data)
}

func (s *secServe) exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// url is the server's URL on loopback, whatever address it listens on.
func (s *secServe) url(scheme, path string) string {
	return fmt.Sprintf("%s://127.0.0.1:%d%s", scheme, s.port, path)
}

// stop sends SIGTERM and returns the exit status.
func (s *secServe) stop(t *testing.T) int {
	t.Helper()
	if !s.exited() {
		s.cmd.Process.Signal(syscall.SIGTERM)
	}
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		t.Errorf("serve did not exit within 10s of SIGTERM; log:\n%s", s.log())
	}
	return s.code
}

// secFreePort returns a TCP port that was free on loopback a moment ago.
func secFreePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// secStartServe runs `pg-backup-api [--config CONFIG] serve ARGS...` over
// e's Barman and waits until it logs that it listens (true) or exits
// (false). It is stopped when the test ends.
func secStartServe(t *testing.T, e *env, config string, extraEnv []string, port int, args ...string) (*secServe, bool) {
	t.Helper()
	global := []string{"--barman-config", e.Conf, "--barman-command", fakeBarman}
	if config != "" {
		global = append(global, "--config", config)
	}
	s := &secServe{port: port, logPath: filepath.Join(e.Root, fmt.Sprintf("serve-%d.log", port)), done: make(chan struct{})}
	logFile, err := os.Create(s.logPath)
	if err != nil {
		t.Fatal(err)
	}
	s.cmd = exec.Command(binary, append(append(global, "serve"), args...)...)
	s.cmd.Env = append(append(os.Environ(), "FAKE_BARMAN_ARGV_LOG="+e.ArgvLog), extraEnv...)
	// A file, not a pipe: the runners serve starts must not hold ours.
	s.cmd.Stdout, s.cmd.Stderr = logFile, logFile
	if err := s.cmd.Start(); err != nil {
		logFile.Close()
		t.Fatalf("starting serve: %v", err)
	}
	logFile.Close()
	go func() {
		err := s.cmd.Wait()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			s.code = ee.ExitCode()
		} else if err != nil {
			s.code = -1
		}
		close(s.done)
	}()
	t.Cleanup(func() { s.stop(t) })
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(s.log(), "msg=listening") {
			return s, true
		}
		if s.exited() {
			return s, false
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("serve neither listened nor exited within 15s; log:\n%s", s.log())
	return nil, false
}

// mustServe is secStartServe that fails the test unless serve listens.
func mustServe(t *testing.T, e *env, config string, extraEnv []string, args ...string) *secServe {
	t.Helper()
	port := secFreePort(t)
	s, ok := secStartServe(t, e, config, extraEnv, port, append([]string{"--listen", "127.0.0.1:" + strconv.Itoa(port)}, args...)...)
	if !ok {
		t.Fatalf("serve exited with status %d instead of listening; log:\n%s", s.code, s.log())
	}
	return s
}

// secDo sends one request; a transport error is returned, not fatal.
func secDo(client *http.Client, method, url, body, token string) (int, http.Header, string, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, "", err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, "", err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(data), err
}

// secAudit is what a job file records about who asked.
type secAudit struct {
	RequestedBy string `json:"requested_by"`
	Client      string `json:"client"`
}

func readAudit(t *testing.T, path string) secAudit {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("job file: %v", err)
	}
	var job struct {
		Ext secAudit `json:"pg_backup_api"`
	}
	if err := json.Unmarshal(data, &job); err != nil {
		t.Fatalf("job file %s: %v", path, err)
	}
	return job.Ext
}

// jobFiles lists every job file of e's store.
func jobFiles(t *testing.T, e *env) string {
	t.Helper()
	var all []string
	for _, dir := range e.scopeDirs() {
		files, err := filepath.Glob(filepath.Join(dir, "jobs", "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		all = append(all, files...)
	}
	return strings.Join(all, " ")
}

func (e *env) jobFile(server, id string) string {
	return filepath.Join(e.Home, server, "jobs", id+".json")
}

func operationID(t *testing.T, body string) string {
	t.Helper()
	var created struct {
		OperationID string `json:"operation_id"`
	}
	if err := json.Unmarshal([]byte(body), &created); err != nil || !idPattern.MatchString(created.OperationID) {
		t.Fatalf("not a 202 body: %q (%v)", body, err)
	}
	return created.OperationID
}

// writeConfig writes our TOML configuration for e.
func writeConfig(t *testing.T, e *env, name, toml string) string {
	t.Helper()
	return writeFile(t, e.Root, name, toml, 0o644)
}

// secPKI is a certificate and its key, in memory and as the PEM files
// serve's configuration names.
type secPKI struct {
	*testenv.TLSPair
	certFile, keyFile string
}

// secIssue signs tmpl with parent (itself when nil) and writes NAME.crt
// and NAME.key into dir.
func secIssue(t *testing.T, dir, name string, parent *secPKI, tmpl *x509.Certificate) *secPKI {
	t.Helper()
	var signer *testenv.TLSPair
	if parent != nil {
		signer = parent.TLSPair
	}
	p := &secPKI{TLSPair: testenv.IssueCert(t, signer, tmpl)}
	p.certFile, p.keyFile = p.Write(t, dir, name)
	return p
}

func secCA(t *testing.T, dir, name string) *secPKI {
	return secIssue(t, dir, name, nil, &x509.Certificate{Subject: pkix.Name{CommonName: name}, IsCA: true,
		BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature})
}

func secClientCert(t *testing.T, dir, name string, ca *secPKI, cn string) *secPKI {
	return secIssue(t, dir, name, ca, &x509.Certificate{Subject: pkix.Name{CommonName: cn},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}})
}

// tlsClient trusts ca and presents cert (if any) whatever CAs the server
// asks for, as curl --cert does.
func tlsClient(t *testing.T, ca *secPKI, cert *secPKI) *http.Client {
	t.Helper()
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	cfg := &tls.Config{RootCAs: pool}
	if cert != nil {
		pair, err := tls.X509KeyPair(cert.CertPEM, cert.KeyPEM)
		if err != nil {
			t.Fatal(err)
		}
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &pair, nil }
	}
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: cfg}}
	t.Cleanup(client.CloseIdleConnections)
	return client
}

const ciTokenSecret = "pgba_cli-test-token-0123456789abcdefghijklmnopq"

func tokenTOML(name, secret string) string {
	return fmt.Sprintf("[[serve.tokens]]\nname = %q\nsha256 = %q\n", name, httpd.HashToken(secret))
}

// TestServeMutualTLS runs serve with TLS, client certificates from a CA
// limited to CN=ops, and a token, and talks to it over real TLS.
func TestServeMutualTLS(t *testing.T) {
	e := newEnv(t, false)
	pki := filepath.Join(e.Root, "pki")
	ca := secCA(t, pki, "clients-and-server-ca")
	otherCA := secCA(t, pki, "other-ca")
	server := secIssue(t, pki, "server", ca, &x509.Certificate{Subject: pkix.Name{CommonName: "barman1"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}})
	ops := secClientCert(t, pki, "ops", ca, "ops")
	intruder := secClientCert(t, pki, "intruder", ca, "intruder")
	foreign := secClientCert(t, pki, "foreign", otherCA, "ops")

	conf := writeConfig(t, e, "tls.toml", fmt.Sprintf("[serve]\ntls_cert = %q\ntls_key = %q\nclient_ca = %q\nallowed_subjects = [\"CN=ops\"]\n\n%s",
		server.certFile, server.keyFile, ca.certFile, tokenTOML("ci", ciTokenSecret)))
	srv := mustServe(t, e, conf, nil)
	if !strings.Contains(srv.log(), "tls=true") || !strings.Contains(srv.log(), "auth=true") {
		t.Errorf("serve's start-up line does not say tls=true auth=true:\n%s", srv.log())
	}

	cases := []struct {
		name   string
		cert   *secPKI
		token  string
		method string
		path   string
		want   int    // 0: the TLS handshake must fail
		wantBy string // for 202: requested_by in the job file
	}{
		{"allowed_subject/get", ops, "", "GET", "/operations", 200, ""},
		{"allowed_subject/post", ops, "", "POST", "/operations", 202, "http:cert:CN=ops"},
		{"subject_not_allowed/get", intruder, "", "GET", "/operations", 403, ""},
		{"subject_not_allowed/post", intruder, "", "POST", "/operations", 403, ""},
		{"wrong_ca", foreign, "", "GET", "/operations", 0, ""},
		{"wrong_ca_with_token", foreign, ciTokenSecret, "POST", "/operations", 0, ""},
		{"token_no_cert/get", nil, ciTokenSecret, "GET", "/operations", 200, ""},
		{"token_no_cert/post", nil, ciTokenSecret, "POST", "/operations", 202, "http:token:ci"},
		{"no_cert_no_token/get", nil, "", "GET", "/operations", 401, ""},
		{"no_cert_no_token/post", nil, "", "POST", "/operations", 401, ""},
		{"no_cert_bad_token", nil, "pgba_wrong", "GET", "/operations", 401, ""},
		{"status_open_by_default", nil, "", "GET", "/status", 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := ""
			if tc.method == "POST" {
				body = secUpdate
			}
			// Runners are at work on earlier operations: compare job files.
			before := jobFiles(t, e)
			code, hdr, resp, err := secDo(tlsClient(t, ca, tc.cert), tc.method, srv.url("https", tc.path), body, tc.token)
			if tc.want == 0 {
				if err == nil {
					t.Fatalf("a certificate from another CA got %d %s, want a failed handshake", code, resp)
				}
				if after := jobFiles(t, e); after != before {
					t.Errorf("a refused client recorded an operation: %s -> %s", before, after)
				}
				return
			}
			if err != nil {
				t.Fatalf("%s %s: %v", tc.method, tc.path, err)
			}
			if code != tc.want {
				t.Fatalf("%s %s: %d %s, want %d", tc.method, tc.path, code, resp, tc.want)
			}
			switch {
			case code == 401:
				if !strings.HasPrefix(hdr.Get("WWW-Authenticate"), `Bearer realm="pg-backup-api"`) {
					t.Errorf("401 with WWW-Authenticate %q", hdr.Get("WWW-Authenticate"))
				}
				fallthrough
			case code == 403:
				var eb map[string]any
				if json.Unmarshal([]byte(resp), &eb) != nil || eb["error"] == nil {
					t.Errorf("%d body is not a JSON error: %s", code, resp)
				}
				if after := jobFiles(t, e); after != before {
					t.Errorf("a refused request recorded an operation: %s -> %s", before, after)
				}
			case code == 202:
				a := readAudit(t, e.jobFile("", operationID(t, resp)))
				if a.RequestedBy != tc.wantBy || a.Client != "127.0.0.1" {
					t.Errorf("job file records %+v, want requested_by %q and client 127.0.0.1", a, tc.wantBy)
				}
			}
		})
	}

	// Plain HTTP to the TLS port is not served.
	if code, _, body, err := secDo(&http.Client{Timeout: 5 * time.Second}, "GET", srv.url("http", "/operations"), "", ciTokenSecret); err == nil && code == 200 {
		t.Errorf("plain HTTP to the TLS port got 200: %s", body)
	}
	log := srv.log()
	for _, want := range []string{`identity="cert:CN=ops" `, "identity=token:ci ", "scheme=https ", "status=403 ", "status=401 "} {
		if !strings.Contains(log, want) {
			t.Errorf("the access log has no %q:\n%s", want, log)
		}
	}
	if strings.Contains(log, ciTokenSecret) {
		t.Errorf("the access log holds the token secret")
	}
}

// TestServeRefusesUnauthenticatedNonLoopback: serve listens beyond loopback
// only with authentication configured, or --insecure.
func TestServeRefusesUnauthenticatedNonLoopback(t *testing.T) {
	e := newEnv(t, false)
	pki := filepath.Join(e.Root, "pki")
	ca := secCA(t, pki, "ca")
	server := secIssue(t, pki, "server", ca, &x509.Certificate{Subject: pkix.Name{CommonName: "barman1"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}})
	tokenConf := writeConfig(t, e, "token.toml", tokenTOML("ci", ciTokenSecret))
	mtlsConf := writeConfig(t, e, "mtls.toml", fmt.Sprintf("[serve]\ntls_cert = %q\ntls_key = %q\nclient_ca = %q\n", server.certFile, server.keyFile, ca.certFile))
	tlsOnlyConf := writeConfig(t, e, "tls-only.toml", fmt.Sprintf("[serve]\ntls_cert = %q\ntls_key = %q\n", server.certFile, server.keyFile))

	cases := []struct {
		name   string
		config func(port int) string // "" for none
		args   func(port int) []string
		start  bool
		token  string // sent when checking a started server
		scheme string
	}{
		{"all_interfaces_no_auth", nil, listenOn("0.0.0.0"), false, "", "http"},
		{"empty_host_no_auth", nil, listenOn(""), false, "", "http"},
		{"ipv6_any_no_auth", nil, listenOn("::"), false, "", "http"},
		{"all_interfaces_tls_without_credentials", func(int) string { return tlsOnlyConf }, listenOn("0.0.0.0"), false, "", "https"},
		{"listen_from_config_no_auth", func(port int) string {
			return writeConfig(t, e, "listen.toml", fmt.Sprintf("[serve]\nlisten = \"0.0.0.0:%d\"\n", port))
		}, func(int) []string { return nil }, false, "", "http"},
		{"all_interfaces_insecure", nil, func(port int) []string { return append(listenOn("0.0.0.0")(port), "--insecure") }, true, "", "http"},
		{"all_interfaces_token", func(int) string { return tokenConf }, listenOn("0.0.0.0"), true, ciTokenSecret, "http"},
		{"all_interfaces_client_ca", func(int) string { return mtlsConf }, listenOn("0.0.0.0"), true, "", "https"},
		{"loopback_no_auth", nil, listenOn("127.0.0.1"), true, "", "http"},
		{"localhost_no_auth", nil, listenOn("localhost"), true, "", "http"},
		{"port_flag_no_auth", nil, func(port int) []string { return []string{"--port", strconv.Itoa(port)} }, true, "", "http"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			port := secFreePort(t)
			conf := ""
			if tc.config != nil {
				conf = tc.config(port)
			}
			srv, listening := secStartServe(t, e, conf, nil, port, tc.args(port)...)
			if !tc.start {
				if listening {
					t.Fatalf("serve listens without authentication:\n%s", srv.log())
				}
				log := srv.log()
				if srv.code != 2 || !strings.Contains(log, "refusing") || !strings.Contains(log, "tokens") || !strings.Contains(log, "--insecure") {
					t.Errorf("exit %d, want 2 with a refusal naming tokens and --insecure; output:\n%s", srv.code, log)
				}
				return
			}
			if !listening {
				t.Fatalf("serve exited with status %d instead of listening:\n%s", srv.code, srv.log())
			}
			client := &http.Client{Timeout: 5 * time.Second}
			if tc.scheme == "https" {
				client = tlsClient(t, ca, nil)
			}
			code, _, body, err := secDo(client, "GET", srv.url(tc.scheme, "/status"), "", "")
			if err != nil || code != 200 {
				t.Errorf("GET /status: %d %s %v", code, body, err)
			}
			if tc.token != "" {
				if code, _, _, err := secDo(client, "GET", srv.url(tc.scheme, "/operations"), "", ""); err != nil || code != 401 {
					t.Errorf("GET /operations without the token: %d %v, want 401", code, err)
				}
				if code, _, _, err := secDo(client, "GET", srv.url(tc.scheme, "/operations"), "", tc.token); err != nil || code != 200 {
					t.Errorf("GET /operations with the token: %d %v, want 200", code, err)
				}
			}
			if code := srv.stop(t); code != 0 {
				t.Errorf("serve exited %d after SIGTERM, want 0:\n%s", code, srv.log())
			}
		})
	}
}

func listenOn(host string) func(port int) []string {
	return func(port int) []string { return []string{"--listen", net.JoinHostPort(host, strconv.Itoa(port))} }
}

var tokenSnippet = regexp.MustCompile(`(?s)\[\[serve\.tokens\]\]\nname = "((?:[^"\\]|\\.)*)"\nsha256 = "([0-9a-f]{64})"\npermissions = \[([a-z", ]*)\]\n`)

// TestTokenCreate: token create prints the secret alone on standard output
// and the config lines on standard error; those lines make serve accept it.
func TestTokenCreate(t *testing.T) {
	e := newEnv(t, false)
	created := func(t *testing.T, name string) (secret, snippet string) {
		t.Helper()
		r := execBinary(t, nil, "", "token", "create", name)
		if r.Code != 0 {
			t.Fatalf("token create %q: %v", name, r)
		}
		secret = strings.TrimSuffix(r.Stdout, "\n")
		if !regexp.MustCompile(`^pgba_[A-Za-z0-9_-]{43}$`).MatchString(secret) {
			t.Fatalf("token create printed %q on stdout, want only pgba_ and 32 random bytes", r.Stdout)
		}
		if strings.Contains(r.Stderr, secret) {
			t.Errorf("the secret is also on standard error:\n%s", r.Stderr)
		}
		m := tokenSnippet.FindStringSubmatch(r.Stderr)
		if m == nil {
			t.Fatalf("no [[serve.tokens]] snippet on standard error:\n%s", r.Stderr)
		}
		if m[2] != httpd.HashToken(secret) {
			t.Errorf("snippet sha256 %s, want HashToken(token) %s", m[2], httpd.HashToken(secret))
		}
		// serve takes new tokens on SIGHUP: a restart is not needed.
		if !strings.Contains(r.Stderr, "systemctl reload pg-backup-api") || strings.Contains(r.Stderr, "restart") {
			t.Errorf("token create must say a reload makes serve accept the token, not a restart:\n%s", r.Stderr)
		}
		return secret, m[0]
	}

	ci, ciSnippet := created(t, "ci")
	other, _ := created(t, "ci")
	if ci == other {
		t.Fatalf("two token create runs printed the same token")
	}
	if !strings.Contains(ciSnippet, `name = "ci"`) {
		t.Errorf("snippet does not name the token ci:\n%s", ciSnippet)
	}

	// Odd names still give lines the config file accepts.
	for _, name := range []string{`ci "prod"`, `back\slash`, "ünïcode-名前"} {
		_, snippet := created(t, name)
		conf := writeConfig(t, e, "odd.toml", snippet)
		if r := execBinary(t, nil, "", "--config", conf, "version"); r.Code != 0 {
			t.Errorf("the snippet for %q is not a valid config:\n%s\n%v", name, snippet, r)
		}
	}
	for _, args := range [][]string{{"token", "create"}, {"token", "create", "a", "b"}, {"token", "create", " "}, {"token", "create", "ci\x01"}, {"token", "create", "ci\nx"}} {
		if r := execBinary(t, nil, "", args...); r.Code != 2 || strings.Contains(r.Stdout, "pgba_") {
			t.Errorf("%q: %v; want exit 2 and no token", args, r)
		}
	}

	// End to end: the printed lines, pasted into the config, let serve
	// accept the printed token and only it.
	conf := writeConfig(t, e, "ci.toml", "[serve]\nopen_status = false\n\n"+ciSnippet)
	srv := mustServe(t, e, conf, nil)
	client := &http.Client{Timeout: 10 * time.Second}
	for _, c := range []struct {
		method, path, token string
		want                int
	}{
		{"GET", "/operations", ci, 200},
		{"GET", "/operations", "", 401},
		{"GET", "/operations", other, 401},
		{"GET", "/status", "", 401},
		{"GET", "/status", ci, 200},
		{"POST", "/operations", other, 401},
		{"POST", "/operations", ci, 202},
	} {
		body := ""
		if c.method == "POST" {
			body = secUpdate
		}
		code, _, resp, err := secDo(client, c.method, srv.url("http", c.path), body, c.token)
		if err != nil || code != c.want {
			t.Errorf("%s %s (token %.10s...): %d %s %v, want %d", c.method, c.path, c.token, code, resp, err, c.want)
			continue
		}
		if code == 202 {
			if a := readAudit(t, e.jobFile("", operationID(t, resp))); a.RequestedBy != "http:token:ci" || a.Client != "127.0.0.1" {
				t.Errorf("job file records %+v, want http:token:ci from 127.0.0.1", a)
			}
		}
	}
}

// TestServeConfigValidation: bad security settings stop serve with exit 2
// and a message naming the key, before it listens.
func TestServeConfigValidation(t *testing.T) {
	e := newEnv(t, false)
	pki := filepath.Join(e.Root, "pki")
	ca := secCA(t, pki, "ca")
	server := secIssue(t, pki, "server", ca, &x509.Certificate{Subject: pkix.Name{CommonName: "barman1"},
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}})
	notPEM := writeFile(t, pki, "not-pem.crt", "not a certificate\n", 0o644)
	good := httpd.HashToken(ciTokenSecret)
	tlsPair := fmt.Sprintf("tls_cert = %q\ntls_key = %q\n", server.certFile, server.keyFile)

	cases := []struct {
		name, toml string
		want       []string
	}{
		{"token_sha256_short", "[[serve.tokens]]\nname = \"ci\"\nsha256 = \"abc123\"\n", []string{"serve.tokens"}},
		{"token_sha256_not_hex", "[[serve.tokens]]\nname = \"ci\"\nsha256 = \"" + strings.Repeat("g", 64) + "\"\n", []string{"serve.tokens"}},
		{"token_sha256_is_the_secret", "[[serve.tokens]]\nname = \"ci\"\nsha256 = \"" + ciTokenSecret + "\"\n", []string{"serve.tokens"}},
		{"token_without_name", "[[serve.tokens]]\nsha256 = \"" + good + "\"\n", []string{"serve.tokens"}},
		{"token_second_entry_bad", "[[serve.tokens]]\nname = \"ci\"\nsha256 = \"" + good + "\"\n[[serve.tokens]]\nname = \"x\"\nsha256 = \"\"\n", []string{"serve.tokens[1]"}},
		{"tls_cert_without_key", fmt.Sprintf("[serve]\ntls_cert = %q\n", server.certFile), []string{"serve.tls_cert", "serve.tls_key"}},
		{"tls_key_without_cert", fmt.Sprintf("[serve]\ntls_key = %q\n", server.keyFile), []string{"serve.tls_cert", "serve.tls_key"}},
		{"client_ca_without_tls", fmt.Sprintf("[serve]\nclient_ca = %q\n", ca.certFile), []string{"serve.client_ca"}},
		{"tls_cert_missing", fmt.Sprintf("[serve]\ntls_cert = %q\ntls_key = %q\n", filepath.Join(pki, "nope.crt"), server.keyFile), []string{"serve.tls_cert"}},
		{"tls_key_does_not_match", fmt.Sprintf("[serve]\ntls_cert = %q\ntls_key = %q\n", server.certFile, ca.keyFile), []string{"serve.tls_cert"}},
		{"client_ca_missing", "[serve]\n" + tlsPair + fmt.Sprintf("client_ca = %q\n", filepath.Join(pki, "nope.crt")), []string{"serve.client_ca"}},
		{"client_ca_not_pem", "[serve]\n" + tlsPair + fmt.Sprintf("client_ca = %q\n", notPEM), []string{"serve.client_ca"}},
		{"trusted_proxy_not_an_address", "[serve]\ntrusted_proxies = [\"proxy.example\"]\n", []string{"serve.trusted_proxies", "proxy.example"}},
		{"open_status_not_bool", "[serve]\nopen_status = \"no\"\n", []string{"open_status"}},
		// A bare common name is no longer a subject (defect 2).
		{"allowed_subject_not_a_dn", "[serve]\n" + tlsPair + fmt.Sprintf("client_ca = %q\nallowed_subjects = [\"dba\"]\n", ca.certFile), []string{"serve.allowed_subjects", "allowed_common_names"}},
		{"client_subject_without_permissions", "[serve]\n" + tlsPair + fmt.Sprintf("client_ca = %q\n[[serve.client_subjects]]\nsubject = \"CN=dba\"\n", ca.certFile), []string{"serve.client_subjects[0]", "permissions"}},
		{"client_subject_both", "[[serve.client_subjects]]\nsubject = \"CN=dba\"\ncommon_name = \"dba\"\npermissions = [\"read\"]\n", []string{"serve.client_subjects[0]", "exactly one"}},
		{"token_unknown_permission", "[[serve.tokens]]\nname = \"ci\"\nsha256 = \"" + good + "\"\npermissions = [\"write\"]\n", []string{"serve.tokens[0]", "write", "read, recover, configure, delete, admin"}},
		{"token_empty_permissions", "[[serve.tokens]]\nname = \"ci\"\nsha256 = \"" + good + "\"\npermissions = []\n", []string{"serve.tokens[0]", "empty"}},
		{"allowed_host_url", "[serve]\nallowed_hosts = [\"http://barman\"]\n", []string{"serve.allowed_hosts"}},
		{"write_timeout_not_a_duration", "[serve]\nwrite_timeout = \"soon\"\n", []string{"write_timeout"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			conf := writeConfig(t, e, tc.name+".toml", tc.toml)
			port := secFreePort(t)
			srv, listening := secStartServe(t, e, conf, nil, port, "--listen", "127.0.0.1:"+strconv.Itoa(port))
			if listening {
				t.Fatalf("serve started with a bad config:\n%s", tc.toml)
			}
			log := srv.log()
			if srv.code != 2 {
				t.Errorf("exit %d, want 2; output:\n%s", srv.code, log)
			}
			for _, want := range tc.want {
				if !strings.Contains(log, want) {
					t.Errorf("message does not name %q:\n%s", want, log)
				}
			}
		})
	}
}

// TestMaskedEverywhereButTheJobFile: a password in a config_update is masked
// in everything shown (CLI and HTTP), while the job file and Barman's argv
// keep the real value.
func TestMaskedEverywhereButTheJobFile(t *testing.T) {
	e := newEnv(t, false)
	const secret = "s3cret"
	changes := `[{"scope": "server", "server_name": "db_server_two", "conninfo": "host=db1 password=s3cret", ` +
		`"streaming_conninfo": "postgresql://streaming_barman:s3cret@db1/postgres"}]`
	failing := []string{"FAKE_BARMAN_EXIT=1"}
	masked := []string{"password=****", "streaming_barman:****@db1"}

	check := func(t *testing.T, what, shown string, wantMasked bool) {
		t.Helper()
		if strings.Contains(shown, secret) {
			t.Errorf("%s shows the password:\n%s", what, shown)
		}
		if wantMasked {
			for _, m := range masked {
				if !strings.Contains(shown, m) {
					t.Errorf("%s does not show %q:\n%s", what, m, shown)
				}
			}
		}
	}

	// create --wait, plain: the ID on stdout, the failure's output on stderr.
	r := e.exec(t, failing, "", "create", "config-update", "--changes", changes, "--wait")
	if r.Code != 4 {
		t.Fatalf("create --wait of a failing config-update: %v; want exit 4", r)
	}
	id := strings.TrimSpace(r.Stdout)
	if !idPattern.MatchString(id) {
		t.Fatalf("create printed %q, want the operation ID", r.Stdout)
	}
	check(t, "create --wait's failure report", r.Stdout+r.Stderr, true)

	// create --wait -o json: payload and output.
	r = e.exec(t, failing, "", "create", "config-update", "--changes", changes, "--wait", "-o", "json")
	if r.Code != 4 {
		t.Fatalf("create --wait -o json: %v; want exit 4", r)
	}
	check(t, "create --wait -o json", r.Stdout+r.Stderr, true)
	var shown struct {
		Payload json.RawMessage `json:"payload"`
		Output  string          `json:"output"`
	}
	decodeJSON(t, r.Stdout, &shown)
	check(t, "create --wait -o json's payload", string(shown.Payload), true)
	check(t, "create --wait -o json's output", shown.Output, true)

	for _, args := range [][]string{{"inspect", id, "-o", "json"}, {"inspect", id}, {"logs", id}} {
		r := e.exec(t, nil, "", args...)
		if r.Code != 0 {
			t.Fatalf("%q: %v", args, r)
		}
		check(t, strings.Join(args, " "), r.Stdout+r.Stderr, true)
		if args[len(args)-1] == "json" {
			shown.Payload, shown.Output = nil, ""
			decodeJSON(t, r.Stdout, &shown)
			check(t, "inspect -o json's payload", string(shown.Payload), true)
			check(t, "inspect -o json's output", shown.Output, true)
		}
	}

	// The job file keeps the real values: Barman needs them.
	job, err := os.ReadFile(e.jobFile("", id))
	if err != nil {
		t.Fatal(err)
	}
	for _, real := range []string{"host=db1 password=s3cret", "postgresql://streaming_barman:s3cret@db1/postgres"} {
		if !bytes.Contains(job, []byte(real)) {
			t.Errorf("the job file lost %q:\n%s", real, job)
		}
	}
	// And Barman was given them.
	gotArgv := false
	for _, call := range testenv.ArgvCalls(t, e.ArgvLog) {
		if len(call) == 4 && call[2] == "config-update" && strings.Contains(call[3], `"conninfo": "host=db1 password=s3cret"`) &&
			strings.Contains(call[3], "postgresql://streaming_barman:s3cret@db1/postgres") {
			gotArgv = true
		}
	}
	if !gotArgv {
		t.Errorf("no barman config-update call got the real conninfo: %q", testenv.ArgvCalls(t, e.ArgvLog))
	}

	// Over HTTP.
	srv := mustServe(t, e, "", nil)
	client := &http.Client{Timeout: 10 * time.Second}
	for _, path := range []string{"/operations/" + id + "?detail=true", "/operations/" + id + "?detail=1", "/operations?detail=true", "/operations/" + id} {
		code, _, body, err := secDo(client, "GET", srv.url("http", path), "", "")
		if err != nil || code != 200 {
			t.Fatalf("GET %s: %d %s %v", path, code, body, err)
		}
		check(t, "GET "+path, body, strings.HasPrefix(path, "/operations/"+id+"?"))
	}
	check(t, "serve's log", srv.log(), false)
}

// TestStoreModesAndAudit: whichever door an operation comes in by, the
// store's directories are 0700 and its files 0600 (whatever the umask),
// and the job file names who asked.
func TestStoreModesAndAudit(t *testing.T) {
	// Children inherit the umask: 0 shows the modes the code asks for.
	old := syscall.Umask(0)
	t.Cleanup(func() { syscall.Umask(old) })
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	recovery := []string{"create", "recovery", "-s", "db_server_two", "-b", "latest", "--remote-ssh-command", "ssh db2", "-d", "/pgdata", "--wait"}
	update := []string{"create", "config-update", "--changes", `[{"scope": "server", "server_name": "db_server_two", "archiver": "on"}]`, "--wait"}
	const recoveryBody = `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh db2", "destination_directory": "/pgdata"}`

	doors := []struct {
		name       string
		create     func(t *testing.T, e *env) map[string]string // scope -> ID
		wantBy     string
		wantClient string
	}{
		{"cli", func(t *testing.T, e *env) map[string]string {
			ids := map[string]string{}
			for scope, args := range map[string][]string{"db_server_two": recovery, "": update} {
				r := e.exec(t, nil, "", args...)
				if r.Code != 0 {
					t.Fatalf("%q: %v", args, r)
				}
				ids[scope] = strings.TrimSpace(r.Stdout)
			}
			return ids
		}, "cli:" + me.Username, ""},
		{"http", func(t *testing.T, e *env) map[string]string {
			srv := mustServe(t, e, "", nil)
			client := &http.Client{Timeout: 10 * time.Second}
			ids := map[string]string{}
			for scope, req := range map[string][2]string{"db_server_two": {"/servers/db_server_two/operations", recoveryBody}, "": {"/operations", secUpdate}} {
				code, _, body, err := secDo(client, "POST", srv.url("http", req[0]), req[1], "")
				if err != nil || code != 202 {
					t.Fatalf("POST %s: %d %s %v", req[0], code, body, err)
				}
				ids[scope] = operationID(t, body)
			}
			e.waitIdle(t, 30*time.Second)
			return ids
		}, "http:anonymous", "127.0.0.1"},
	}
	for _, door := range doors {
		t.Run(door.name, func(t *testing.T) {
			e := newEnv(t, false)
			ids := door.create(t, e)
			for scope, id := range ids {
				if _, err := os.Stat(filepath.Join(e.Home, scope, "output", id+".json")); err != nil {
					t.Errorf("operation %s has no output file: %v", id, err)
				}
				if a := readAudit(t, e.jobFile(scope, id)); a.RequestedBy != door.wantBy || a.Client != door.wantClient {
					t.Errorf("job file of %s records %+v, want requested_by %q, client %q", id, a, door.wantBy, door.wantClient)
				}
			}
			checked := 0
			for _, scope := range []string{"", "db_server_two"} {
				for _, dir := range []string{"jobs", "output", ".pg-backup-api"} {
					root := filepath.Join(e.Home, scope, dir)
					err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
						if err != nil {
							return err
						}
						fi, err := d.Info()
						if err != nil {
							return err
						}
						want := fs.FileMode(0o600)
						if d.IsDir() {
							want = 0o700
						}
						if !fi.Mode().IsRegular() && !d.IsDir() {
							t.Errorf("%s is a %v", path, fi.Mode().Type())
						} else if fi.Mode().Perm() != want {
							t.Errorf("%s has mode %04o, want %04o", path, fi.Mode().Perm(), want)
						}
						checked++
						return nil
					})
					if err != nil {
						t.Errorf("walking %s: %v", root, err)
					}
				}
			}
			// Three directories and at least a job and an output file
			// in each scope.
			if checked < 2*(3+2) {
				t.Errorf("checked only %d paths", checked)
			}
		})
	}
}
