package httpd_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/bench/storegen"
	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// hostRequest is a request to h with this Host header.
func hostRequest(t *testing.T, h http.Handler, method, path, host, body string) *httptest.ResponseRecorder {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	r := httptest.NewRequest(method, path, rd)
	r.Host = host
	r.RemoteAddr = "127.0.0.1:5555"
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// TestHostCheckWithoutCredentials (defect 7): with no credentials, only
// loopback Host names and serve.allowed_hosts are answered, so a page that
// rebinds its own name to 127.0.0.1 gets nothing and writes nothing.
func TestHostCheckWithoutCredentials(t *testing.T) {
	e := newEnv(t)
	s, launcher := e.apiServer(t)
	s.AllowedHosts = []string{"barman.internal", "Backup.Example:7480"}
	h := s.Handler()
	for _, host := range []string{"localhost", "localhost:7480", "LOCALHOST:1", "127.0.0.1", "127.0.0.1:7480", "127.5.6.7:80", "[::1]:7480", "[::1]",
		"barman.internal", "barman.internal:9999", "BARMAN.internal.", "backup.example:1234"} {
		if w := hostRequest(t, h, "GET", "/operations", host, ""); w.Code != http.StatusOK {
			t.Errorf("Host %q: %d %s, want 200", host, w.Code, w.Body)
		}
	}
	before := testenv.Snapshot(t, e.Home)
	for _, host := range []string{"evil.example", "evil.example:7480", "127.0.0.1.evil.example", "localhost.evil.example", "", "[::2]:80", "10.0.0.1:7480", "barman.internal.evil"} {
		for _, rq := range []struct{ method, path, body string }{{"GET", "/operations", ""}, {"GET", "/status", ""}, {"POST", "/operations", validUpdate}, {"HEAD", "/diagnose", ""}} {
			w := hostRequest(t, h, rq.method, rq.path, host, rq.body)
			if rq.method == "HEAD" {
				if w.Code != http.StatusForbidden {
					t.Errorf("HEAD with Host %q: %d, want 403", host, w.Code)
				}
				continue
			}
			msg := wantError(t, w, http.StatusForbidden)
			if !strings.Contains(msg, "serve.allowed_hosts") {
				t.Errorf("Host %q: the refusal does not say what to configure: %s", host, msg)
			}
		}
	}
	if diff := testenv.DiffSnapshots(before, testenv.Snapshot(t, e.Home)); diff != "" {
		t.Errorf("refused requests changed the store: %v", diff)
	}
	if k := launcher.Ensured(); len(k) > 0 {
		t.Errorf("refused requests asked for runners: %v", k)
	}

	// With credentials the Host is not what guards the API.
	s2, _ := e.apiServer(t)
	s2.AllowedHosts = nil
	s2.Auth = &httpd.Auth{Tokens: []httpd.Token{{Name: "ci", SHA256: httpd.HashToken(ciSecret)}}}
	r := httptest.NewRequest("GET", "/operations", nil)
	r.Host, r.RemoteAddr = "barman.example.org", "127.0.0.1:5555"
	r.Header.Set("Authorization", bearer(ciSecret))
	w := httptest.NewRecorder()
	s2.Handler().ServeHTTP(w, r)
	wantStatus(t, w, http.StatusOK)
}

// TestHeadStatusLikeGet (defect 8): open_status opens HEAD /status as it
// opens GET; closed, both need credentials.
func TestHeadStatusLikeGet(t *testing.T) {
	e := newEnv(t)
	tokens := []httpd.Token{{Name: "ci", SHA256: httpd.HashToken(ciSecret)}}
	for _, open := range []bool{true, false} {
		h, _, _ := authServer(t, e, &httpd.Auth{Tokens: tokens, OpenStatus: open})
		for _, method := range []string{"GET", "HEAD"} {
			w := doAuth(t, h, authRequest{method: method, path: "/status"})
			want := http.StatusOK
			if !open {
				want = http.StatusUnauthorized
			}
			if w.Code != want {
				t.Errorf("open_status=%v: %s /status: %d, want %d", open, method, w.Code, want)
			}
			w = doAuth(t, h, authRequest{method: method, path: "/status", authz: bearer(ciSecret), remote: "127.0.0.1:1"})
			if w.Code != http.StatusOK {
				t.Errorf("open_status=%v: %s /status with a token: %d, want 200", open, method, w.Code)
			}
		}
		// HEAD opens only /status, not what GET of another path needs.
		if w := doAuth(t, h, authRequest{method: "HEAD", path: "/operations"}); w.Code != http.StatusUnauthorized {
			t.Errorf("open_status=%v: HEAD /operations without a token: %d, want 401", open, w.Code)
		}
	}
}

// TestPlainHTTPTokens (defect 11): a bearer token that crossed the network
// in clear text is refused, whatever its validity, unless TLS carried it
// (ours, or a trusted proxy's that says so) or serve runs --insecure.
func TestPlainHTTPTokens(t *testing.T) {
	e := newEnv(t)
	proxies := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	tls := &tls.ConnectionState{HandshakeComplete: true}
	cases := []struct {
		name     string
		insecure bool
		remote   string
		xff      []string
		xfp      string
		tls      bool
		authz    string
		want     int
	}{
		{"remote_plain", false, "192.0.2.1:1", nil, "", false, bearer(ciSecret), 403},
		{"remote_plain_wrong_token", false, "192.0.2.1:1", nil, "", false, bearer("pgba_guess"), 403},
		{"remote_plain_ipv6", false, "[2001:db8::1]:1", nil, "", false, bearer(ciSecret), 403},
		{"remote_plain_mapped", false, "[::ffff:192.0.2.1]:1", nil, "", false, bearer(ciSecret), 403},
		{"remote_tls", false, "192.0.2.1:1", nil, "", true, bearer(ciSecret), 200},
		{"loopback_plain", false, "127.0.0.1:1", nil, "", false, bearer(ciSecret), 200},
		{"loopback_v6_plain", false, "[::1]:1", nil, "", false, bearer(ciSecret), 200},
		{"proxy_says_https", false, "127.0.0.1:1", []string{"203.0.113.7"}, "https", false, bearer(ciSecret), 200},
		{"proxy_says_http", false, "127.0.0.1:1", []string{"203.0.113.7"}, "http", false, bearer(ciSecret), 403},
		{"proxy_says_nothing", false, "127.0.0.1:1", []string{"203.0.113.7"}, "", false, bearer(ciSecret), 403},
		{"untrusted_peer_says_https", false, "192.0.2.1:1", nil, "https", false, bearer(ciSecret), 403},
		{"insecure", true, "192.0.2.1:1", nil, "", false, bearer(ciSecret), 200},
		{"no_token_is_a_401", false, "192.0.2.1:1", nil, "", false, "", 401},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			auth := &httpd.Auth{Tokens: []httpd.Token{{Name: "ci", SHA256: httpd.HashToken(ciSecret)}}, TrustedProxies: proxies, InsecureHTTP: tc.insecure}
			h, logBuf, _ := authServer(t, e, auth)
			r := httptest.NewRequest("GET", "/operations", nil)
			r.RemoteAddr = tc.remote
			if tc.authz != "" {
				r.Header.Set("Authorization", tc.authz)
			}
			for _, v := range tc.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if tc.xfp != "" {
				r.Header.Set("X-Forwarded-Proto", tc.xfp)
			}
			if tc.tls {
				r.TLS = tls
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.want {
				t.Fatalf("%d %s, want %d", w.Code, w.Body, tc.want)
			}
			if tc.want == 403 {
				msg := wantError(t, w, 403)
				for _, want := range []string{"plain HTTP", "tls_cert", "X-Forwarded-Proto", "--insecure"} {
					if !strings.Contains(msg, want) {
						t.Errorf("refusal %q does not mention %q", msg, want)
					}
				}
			}
			if strings.Contains(logBuf.String(), ciSecret) {
				t.Errorf("the log holds the token")
			}
		})
	}
}

// TestTokenPermissions: each request needs a permission; a credential
// without it gets a JSON 403 naming it, the store is untouched and the
// access log records the permission and the refusal.
func TestTokenPermissions(t *testing.T) {
	const (
		readSecret    = "pgba_read-0123456789abcdefghijklmnopqrstuvwxyzABCD"
		recoverSecret = "pgba_recover-0123456789abcdefghijklmnopqrstuvwxyzA"
		configSecret  = "pgba_config-0123456789abcdefghijklmnopqrstuvwxyzAB"
		adminSecret   = "pgba_admin-0123456789abcdefghijklmnopqrstuvwxyzABC"
		legacySecret  = "pgba_legacy-0123456789abcdefghijklmnopqrstuvwxyzAB"
		deleteSecret  = "pgba_delete-0123456789abcdefghijklmnopqrstuvwxyzAB"
	)
	tokens := []httpd.Token{
		{Name: "reader", SHA256: httpd.HashToken(readSecret), Permissions: httpd.PermRead},
		{Name: "restorer", SHA256: httpd.HashToken(recoverSecret), Permissions: httpd.PermRecover},
		{Name: "configurer", SHA256: httpd.HashToken(configSecret), Permissions: httpd.PermConfigure | httpd.PermRead},
		{Name: "admin", SHA256: httpd.HashToken(adminSecret), Permissions: httpd.PermAdmin},
		{Name: "legacy", SHA256: httpd.HashToken(legacySecret)},
		{Name: "deleter", SHA256: httpd.HashToken(deleteSecret), Permissions: httpd.PermDelete},
	}
	recoveryNoType := `{"backup_id": "latest", "remote_ssh_command": "ssh postgres@db2", "destination_directory": "/var/lib/pgdata"}`
	type rq struct{ method, path, body string }
	var (
		list      = rq{"GET", "/operations", ""}
		head      = rq{"HEAD", "/servers/db_server_two/operations", ""}
		diagnose  = rq{"GET", "/openapi.json", ""}
		update    = rq{"POST", "/operations", validUpdate}
		recovery  = rq{"POST", srvOps, validRecovery}
		untyped   = rq{"POST", srvOps, recoveryNoType}
		switchOp  = rq{"POST", srvOps, `{"type": "config_switch", "reset": true}`}
		unknown   = rq{"POST", srvOps, `{"type": "restore"}`}
		backupOp  = rq{"POST", srvOps, `{"type": "backup", "backup_name": "before-migration"}`}
		garbage   = rq{"POST", srvOps, `{not json`}
		cancelOne = rq{"POST", srvOps + "/20991231T000000/cancel", ""}
		keepOp    = rq{"POST", srvOps, `{"type": "keep", "backup_id": "latest", "target": "full"}`}
		release   = rq{"POST", srvOps, `{"type": "keep", "backup_id": "latest", "release": true}`}
		deleteOp  = rq{"POST", srvOps, `{"type": "delete", "backup_id": "latest"}`}
	)
	cases := []struct {
		secret string
		rq     rq
		want   int
		denied string // the permission the 403 names
	}{
		{readSecret, list, 200, ""},
		{readSecret, head, 200, ""},
		{readSecret, diagnose, 200, ""},
		{readSecret, update, 403, "configure"},
		{readSecret, recovery, 403, "recover"},
		{readSecret, untyped, 403, "recover"},
		{readSecret, unknown, 403, "recover, configure or delete"},
		{readSecret, garbage, 403, "recover, configure or delete"},
		{readSecret, cancelOne, 403, "recover"},
		{readSecret, backupOp, 403, "recover"},
		{recoverSecret, backupOp, 202, ""},
		{configSecret, backupOp, 403, "recover"},
		{adminSecret, backupOp, 202, ""},
		{recoverSecret, list, 403, "read"},
		{recoverSecret, head, 403, "read"},
		{recoverSecret, recovery, 202, ""},
		{recoverSecret, untyped, 202, ""},
		{recoverSecret, switchOp, 403, "configure"},
		{recoverSecret, update, 403, "configure"},
		{recoverSecret, unknown, 400, ""},
		{recoverSecret, cancelOne, 404, ""},
		{configSecret, update, 202, ""},
		{configSecret, switchOp, 202, ""},
		{configSecret, recovery, 403, "recover"},
		{configSecret, cancelOne, 403, "recover"},
		{configSecret, list, 200, ""},
		{adminSecret, list, 200, ""},
		{adminSecret, update, 202, ""},
		{adminSecret, recovery, 202, ""},
		{adminSecret, cancelOne, 404, ""},
		{legacySecret, update, 202, ""},
		{legacySecret, recovery, 202, ""},
		{legacySecret, list, 200, ""},
		// Deleting a backup, or releasing its keep (which hands it to the
		// retention policy), needs delete, which recover does not imply:
		// a restore robot cannot remove what it restores from. Keeping a
		// backup only protects it, and needs recover as a backup does.
		{readSecret, deleteOp, 403, "delete"},
		{readSecret, keepOp, 403, "recover"},
		{recoverSecret, deleteOp, 403, "delete"},
		{recoverSecret, release, 403, "delete"},
		{recoverSecret, keepOp, 202, ""},
		{configSecret, deleteOp, 403, "delete"},
		{configSecret, release, 403, "delete"},
		{deleteSecret, keepOp, 403, "recover"},
		{deleteSecret, recovery, 403, "recover"},
		{deleteSecret, backupOp, 403, "recover"},
		{deleteSecret, update, 403, "configure"},
		{deleteSecret, cancelOne, 403, "recover"},
		{deleteSecret, list, 403, "read"},
		{deleteSecret, unknown, 400, ""},
		{deleteSecret, release, 202, ""},
		{deleteSecret, deleteOp, 202, ""},
		{adminSecret, deleteOp, 202, ""},
		{adminSecret, release, 202, ""},
		{legacySecret, deleteOp, 202, ""},
	}
	e := newEnv(t)
	for i, tc := range cases {
		name := fmt.Sprintf("%d/%s %s %.20s", i, tc.rq.method, tc.rq.path, tc.rq.body)
		h, logBuf, _ := authServer(t, e, &httpd.Auth{Tokens: tokens})
		before := testenv.Snapshot(t, e.Home)
		w := doAuth(t, h, authRequest{method: tc.rq.method, path: tc.rq.path, body: tc.rq.body, authz: bearer(tc.secret), remote: "127.0.0.1:1"})
		if w.Code != tc.want {
			t.Errorf("%s: %d %s, want %d", name, w.Code, w.Body, tc.want)
			continue
		}
		line := accessLine(t, logBuf, w.Header().Get("X-Request-Id"))
		if tc.want != 403 {
			if strings.Contains(line, "denied=") {
				t.Errorf("%s: access log records a refusal: %s", name, line)
			}
			continue
		}
		if tc.rq.method == "HEAD" {
			continue
		}
		msg := wantError(t, w, 403)
		if !strings.Contains(msg, "lacks the "+tc.denied+" permission") {
			t.Errorf("%s: 403 %q does not name the missing permission %q", name, msg, tc.denied)
		}
		if !strings.Contains(line+" ", `denied="`+tc.denied+`" `) && !strings.Contains(line+" ", "denied="+tc.denied+" ") {
			t.Errorf("%s: access log %q does not record the refused permission %s", name, line, tc.denied)
		}
		if diff := testenv.DiffSnapshots(before, testenv.Snapshot(t, e.Home)); diff != "" {
			t.Errorf("%s: a refused request changed the store: %v", name, diff)
		}
	}
}

// countingBarman points $FAKE_BARMAN_ARGV_LOG at a new file and returns a
// function that counts the diagnose runs logged there.
func countingBarman(t *testing.T, sleep string) func() int {
	argvLog := filepath.Join(t.TempDir(), "argv")
	t.Setenv("FAKE_BARMAN_ARGV_LOG", argvLog)
	t.Setenv("FAKE_BARMAN_DIAGNOSE_SLEEP", sleep)
	return func() int {
		data, _ := os.ReadFile(argvLog)
		n := 0
		for _, line := range strings.Split(string(data), "\n") {
			if line == "diagnose" {
				n++
			}
		}
		return n
	}
}

// TestDiagnoseIsShared (defect 6): concurrent GET /diagnose share one
// Barman run, its answer is reused for DiagnoseCacheFor, and HEAD runs
// nothing.
func TestDiagnoseIsShared(t *testing.T) {
	runs := countingBarman(t, "0.5")
	e := newEnv(t)
	s, _ := e.apiServer(t)
	s.DiagnoseCacheFor = 2 * time.Second
	h := s.Handler()

	for range 5 {
		if w := serve(t, h, request{Method: "HEAD", Path: "/diagnose"}); w.Code != http.StatusOK {
			t.Errorf("HEAD /diagnose before any run: %d, want 200", w.Code)
		}
	}
	if n := runs(); n != 0 {
		t.Fatalf("HEAD /diagnose ran barman diagnose %d times, want 0", n)
	}

	var wg sync.WaitGroup
	codes := make([]int, 40)
	for i := range codes {
		wg.Go(func() { codes[i] = get(t, h, "/diagnose").Code })
	}
	wg.Wait()
	for i, c := range codes {
		if c != http.StatusOK {
			t.Errorf("request %d: %d, want 200", i, c)
		}
	}
	if n := runs(); n != 1 {
		t.Fatalf("40 concurrent GET /diagnose ran barman diagnose %d times, want 1", n)
	}
	for range 5 {
		wantStatus(t, get(t, h, "/diagnose"), http.StatusOK)
		serve(t, h, request{Method: "HEAD", Path: "/diagnose"})
	}
	if n := runs(); n != 1 {
		t.Fatalf("requests within the cache time ran barman diagnose again: %d runs", n)
	}
	time.Sleep(2100 * time.Millisecond)
	wantStatus(t, get(t, h, "/diagnose"), http.StatusOK)
	if n := runs(); n != 2 {
		t.Fatalf("after the cache time, %d runs, want 2", n)
	}
}

// smallBufferListener shrinks each accepted connection's send buffer, so
// that a response blocks on a client that stops reading after kilobytes,
// not after the megabytes loopback buffers hold.
type smallBufferListener struct{ net.Listener }

func (l smallBufferListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		tc.SetWriteBuffer(4096)
	}
	return c, err
}

// TestSlowReaderIsCutOff (defect 5): a client that asks for the detailed
// list and never reads holds its request only until the write deadline.
func TestSlowReaderIsCutOff(t *testing.T) {
	gen, err := storegen.Generate(t.TempDir(), 500)
	if err != nil {
		t.Fatal(err)
	}
	logBuf := &testenv.SyncBuffer{}
	api := &httpd.Server{
		Service:      &ops.Service{Barman: barman.NewReader(gen.BarmanConf), OpenStore: store.Opener(), Version: "test"},
		Log:          slog.New(slog.NewTextHandler(logBuf, nil)),
		WriteTimeout: time.Second,
	}
	h := api.Handler()
	// The full answer, read without a network, is far larger than the
	// socket buffers.
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "http://127.0.0.1/servers/db1/operations?detail=true", nil))
	full := rec.Body.Bytes()
	if rec.Code != 200 || len(full) < 80_000 {
		t.Fatalf("the detailed list is %d bytes (%d); the test needs a large one", len(full), rec.Code)
	}
	srv := httptest.NewUnstartedServer(h)
	srv.Listener = smallBufferListener{srv.Listener}
	srv.Start()
	defer srv.Close()

	const clients = 3
	conns := make([]net.Conn, clients)
	for i := range conns {
		d := net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
			return c.Control(func(fd uintptr) { syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096) })
		}}
		c, err := d.Dial("tcp", srv.Listener.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		fmt.Fprintf(c, "GET /servers/db1/operations?detail=true HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
		conns[i] = c
	}
	// Nobody reads. Each request must end (its access-log line written)
	// soon after the one-second deadline.
	start := time.Now()
	for time.Since(start) < 10*time.Second {
		if strings.Count(logBuf.String(), "msg=request") >= clients+1 {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if n := strings.Count(logBuf.String(), "msg=request"); n < clients+1 {
		t.Fatalf("after %v, %d of %d stalled requests have ended; a client that stops reading holds the server", time.Since(start).Round(time.Millisecond), n-1, clients)
	}
	// What a stalled client got is a prefix of the answer, then the end.
	conns[0].SetReadDeadline(time.Now().Add(5 * time.Second))
	got, _ := io.ReadAll(bufio.NewReader(conns[0]))
	if len(got) >= len(full) {
		t.Errorf("the stalled client received %d bytes, the whole answer (%d); the deadline did not cut it", len(got), len(full))
	}
}

// TestOpenAPIDocumentsRefusals: every operation documents the 401, 403 and
// 431 the middleware may answer, and the permission it needs.
func TestOpenAPIDocumentsRefusals(t *testing.T) {
	doc, _ := parseOpenAPI(t)
	for path, item := range doc.Paths {
		for method, data := range item {
			var op struct {
				Responses  map[string]any `json:"responses"`
				Permission string         `json:"x-permission"`
			}
			if err := json.Unmarshal(data, &op); err != nil || op.Responses == nil {
				continue
			}
			for _, code := range []string{"401", "403", "431"} {
				if _, ok := op.Responses[code]; !ok {
					t.Errorf("%s %s does not document %s", method, path, code)
				}
			}
			if op.Permission == "" {
				t.Errorf("%s %s does not say which permission it needs (x-permission)", method, path)
			}
		}
	}
}

// TestDiagnoseMasksPasswords: GET /diagnose passes Barman's JSON on, and
// Barman's own redaction misses forms libpq reads ("password = x", a URI's
// user info); the answer is masked as everything else is, and stays JSON.
func TestDiagnoseMasksPasswords(t *testing.T) {
	e := newEnv(t)
	s, _ := e.apiServer(t)
	s.Diagnose = func(context.Context, string) ([]byte, error) {
		return []byte(`{
  "global": {"system_info": {"release": "Debian 12"}},
  "servers": {"db1": {"config": {
    "conninfo": "host=db1 user=barman password = s3cretOne dbname=postgres",
    "streaming_conninfo": "postgres://streaming_barman:s3cretTwo@db1:5432/postgres",
    "primary_conninfo": "postgresql://db1/postgres?sslpassword=s3cretThree",
    "custom_password": 12345678,
    "retention_policy": "RECOVERY WINDOW OF 4 WEEKS"
  }}}
}`), nil
	}
	w := get(t, s.Handler(), "/diagnose")
	wantStatus(t, w, http.StatusOK)
	body := w.Body.String()
	if !json.Valid([]byte(body)) {
		t.Fatalf("GET /diagnose answered something that is not JSON: %s", body)
	}
	for _, secret := range []string{"s3cretOne", "s3cretTwo", "s3cretThree", "12345678"} {
		if strings.Contains(body, secret) {
			t.Errorf("GET /diagnose shows the password %q: %s", secret, body)
		}
	}
	for _, kept := range []string{`"host=db1 user=barman password = **** dbname=postgres"`, `"postgres://streaming_barman:****@db1:5432/postgres"`, `"RECOVERY WINDOW OF 4 WEEKS"`} {
		if !strings.Contains(body, kept) {
			t.Errorf("GET /diagnose lost %s: %s", kept, body)
		}
	}
}
