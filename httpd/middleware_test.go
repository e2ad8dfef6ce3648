package httpd_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/bench/storegen"
	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/internal/jsonlog"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// varying are the fields of an access-log line that differ between two
// runs of the same request.
var varying = regexp.MustCompile(`(time=|"time":)("[^"]*"|\S+)|(duration_ms=|"duration_ms":)[^ ,}]+|(request_id=|"request_id":)("[^"]*"|\S+)`)

// TestAccessLogLinesAreSlogs: serve's hand-formatted access log (AccessLog)
// writes what the slog logger of the same format writes, field for field,
// for requests that are answered, refused and unrouted, with paths that
// need quoting or escaping.
func TestAccessLogLinesAreSlogs(t *testing.T) {
	e := newEnv(t)
	auth := &httpd.Auth{Tokens: []httpd.Token{{Name: "ro", SHA256: httpd.HashToken(ciSecret), Permissions: httpd.PermRead}}}
	requests := []authRequest{
		{method: "GET", path: "/status", authz: bearer(ciSecret), remote: "127.0.0.1:5"},
		{method: "GET", path: "/operations", authz: bearer(ciSecret), remote: "[::1]:5"},
		{method: "POST", path: "/operations", authz: bearer(ciSecret), remote: "127.0.0.1:5", body: `{"type": "recovery"}`},
		{method: "GET", path: "/status"},
		{method: "GET", path: "/status", authz: bearer(opsSecret), remote: "127.0.0.1:5"},
		{method: "GET", path: "/a%20b%22c=d%5C%00%0A%C3%A9%FF%E2%80%A8", authz: bearer(ciSecret), remote: "127.0.0.1:5"},
		{method: "DELETE", path: "/status", authz: bearer(ciSecret), remote: "127.0.0.1:5"},
		{method: "GET", path: "/status", authz: bearer(ciSecret), remote: "192.0.2.7:5"},
	}
	for _, format := range []string{jsonlog.Text, jsonlog.JSON} {
		t.Run(format, func(t *testing.T) {
			var viaSlog, viaLines bytes.Buffer
			s, _ := e.apiServer(t)
			s.Auth = auth
			s.Log, _ = jsonlog.New(&viaSlog, format, slog.LevelInfo)
			slogH := s.Handler()
			s, _ = e.apiServer(t)
			s.Auth = auth
			s.Log, _ = jsonlog.New(io.Discard, format, slog.LevelInfo)
			s.AccessLog, _ = jsonlog.NewLines(&viaLines, format, slog.LevelInfo)
			linesH := s.Handler()
			for _, rq := range requests {
				a, b := doAuth(t, slogH, rq), doAuth(t, linesH, rq)
				if a.Code != b.Code {
					t.Fatalf("%s %s: %d through slog, %d through Lines", rq.method, rq.path, a.Code, b.Code)
				}
				if id := b.Header().Get("X-Request-Id"); !strings.Contains(viaLines.String(), id) {
					t.Errorf("%s %s: no access-log line with request ID %q:\n%s", rq.method, rq.path, id, viaLines.String())
				}
			}
			want := varying.ReplaceAllString(viaSlog.String(), "$1$3$4")
			got := varying.ReplaceAllString(viaLines.String(), "$1$3$4")
			if got != want {
				t.Errorf("access log through Lines:\n%s\nthrough slog:\n%s", got, want)
			}
			if n := strings.Count(got, "\n"); n != len(requests) {
				t.Errorf("%d lines for %d requests:\n%s", n, len(requests), got)
			}
			for _, field := range []string{"permission", "denied", "identity", "scheme", "client"} {
				if !strings.Contains(got, field) {
					t.Errorf("no %s field in:\n%s", field, got)
				}
			}
		})
	}
}

// TestAccessLogFollowsTheLevel: below INFO nothing is written, and the
// level may change while serving.
func TestAccessLogFollowsTheLevel(t *testing.T) {
	e := newEnv(t)
	var lv slog.LevelVar
	lv.Set(slog.LevelWarn)
	var out bytes.Buffer
	s, _ := e.apiServer(t)
	s.AccessLog, _ = jsonlog.NewLines(&out, jsonlog.Text, &lv)
	h := s.Handler()
	if w := get(t, h, "/status"); w.Code != 200 {
		t.Fatalf("GET /status: %d", w.Code)
	}
	if out.Len() != 0 {
		t.Errorf("at WARN the access log wrote %q", out.String())
	}
	lv.Set(slog.LevelInfo)
	get(t, h, "/status")
	if !strings.Contains(out.String(), "msg=request method=GET path=/status status=200 ") {
		t.Errorf("at INFO the access log wrote %q", out.String())
	}
}

// deadlineServer serves a large detailed list over a real listener with
// small socket buffers, so that a client that
// stops reading stalls the response; log shows when each request ended.
func deadlineServer(t *testing.T, writeTimeout time.Duration) (*httptest.Server, *testenv.SyncBuffer) {
	t.Helper()
	gen, err := storegen.Generate(t.TempDir(), 500)
	if err != nil {
		t.Fatal(err)
	}
	logBuf := &testenv.SyncBuffer{}
	api := &httpd.Server{
		Service:      &ops.Service{Barman: barman.NewReader(gen.BarmanConf), OpenStore: store.Opener(), Version: "test"},
		Log:          slog.New(slog.NewTextHandler(logBuf, nil)),
		WriteTimeout: writeTimeout,
		Diagnose: func(context.Context, string) ([]byte, error) {
			return []byte(`{"global": {}}`), nil
		},
	}
	srv := httptest.NewUnstartedServer(api.Handler())
	srv.Listener = smallBufferListener{srv.Listener}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, logBuf
}

// roundTrip asks for path on c and reads the whole answer.
func roundTrip(t *testing.T, c net.Conn, br *bufio.Reader, path string) {
	t.Helper()
	fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", path)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", path, resp.StatusCode)
	}
}

// stallAndTime asks for the detailed list on c, never reads it, and says
// how long the server took to give up.
func stallAndTime(t *testing.T, c net.Conn, log *testenv.SyncBuffer) time.Duration {
	t.Helper()
	before := strings.Count(log.String(), "msg=request")
	start := time.Now()
	fmt.Fprintf(c, "GET /servers/db1/operations?detail=true HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	for time.Since(start) < 20*time.Second {
		if strings.Count(log.String(), "msg=request") > before {
			return time.Since(start)
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("after %v the stalled request has not ended: a client that stops reading holds the server", time.Since(start).Round(time.Millisecond))
	return 0
}

func dialSmall(t *testing.T, srv *httptest.Server) (net.Conn, *bufio.Reader) {
	t.Helper()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.(*net.TCPConn).SetReadBuffer(4096)
	return c, bufio.NewReader(c)
}

// TestWriteDeadlineOnKeptAliveConnections: every request on a kept-alive
// connection has its own write deadline, not what is left of an earlier
// one's (net/http clears it between requests): a stalled response is cut
// off about WriteTimeout after its request, never sooner, never much
// later; after GET /diagnose, which gives itself longer, too.
func TestWriteDeadlineOnKeptAliveConnections(t *testing.T) {
	const timeout = 800 * time.Millisecond
	srv, log := deadlineServer(t, timeout)
	for _, tc := range []struct {
		name  string
		first string        // asked and read before the stalled request
		wait  time.Duration // between the two
	}{
		{"soon_after", "/status", 50 * time.Millisecond},
		{"later", "/status", timeout * 3 / 4},
		{"after_diagnose", "/diagnose", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, br := dialSmall(t, srv)
			roundTrip(t, c, br, tc.first)
			time.Sleep(tc.wait)
			took := stallAndTime(t, c, log)
			if took < timeout {
				t.Errorf("the stalled response was cut off after %v, before the write timeout (%v)", took, timeout)
			}
			// Generous for a loaded machine, far below diagnose's minutes.
			if took > timeout+5*time.Second {
				t.Errorf("the stalled response was cut off only after %v, the write timeout is %v", took, timeout)
			}
		})
	}
}

// discardWriter is the least a ResponseWriter can do, so that the
// benchmark below measures the middleware rather than httptest.
type discardWriter struct {
	h    http.Header
	code int
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) Write(b []byte) (int, error) { return len(b), nil }
func (d *discardWriter) WriteHeader(code int)        { d.code = code }

// SetWriteDeadline is there as on net/http's writer.
func (d *discardWriter) SetWriteDeadline(time.Time) error { return nil }

// BenchmarkMiddlewareStatus is GET /status through the middleware with one
// request reused and a writer that does nothing: the cost of request IDs,
// the access log (by hand as serve writes it, or through slog), auth and
// the header-size check.
//
//	go test -run '^$' -bench MiddlewareStatus -benchmem ./httpd/
func BenchmarkMiddlewareStatus(b *testing.B) {
	for _, mode := range []string{"lines", "slog"} {
		b.Run(mode, func(b *testing.B) {
			api := &httpd.Server{AllowedHosts: testHosts, Auth: &httpd.Auth{}}
			if mode == "lines" {
				api.Log, _ = jsonlog.New(io.Discard, jsonlog.Text, slog.LevelInfo)
				api.AccessLog, _ = jsonlog.NewLines(io.Discard, jsonlog.Text, slog.LevelInfo)
			} else {
				api.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
			}
			api.ObserveRequest = func(string, int, time.Duration) {}
			h := api.Handler()
			r := httptest.NewRequest("GET", "/status", nil)
			r.RemoteAddr = "127.0.0.1:40000"
			w := &discardWriter{h: http.Header{}}
			b.ReportAllocs()
			for b.Loop() {
				clear(w.h)
				w.code = 0
				h.ServeHTTP(w, r)
				if w.code != 200 {
					b.Fatalf("GET /status: %d", w.code)
				}
			}
		})
	}
}
