package httpd

import (
	"bytes"
	"encoding/pem"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// recorder is a server that notes every request it gets.
type recorder struct {
	mu   sync.Mutex
	seen []string // "METHOD PATH Authorization body"
}

func (rec *recorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rec.mu.Lock()
	rec.seen = append(rec.seen, r.Method+" "+r.URL.Path+" "+r.Header.Get("Authorization")+" "+string(body))
	rec.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	switch {
	case r.Method == http.MethodPost:
		w.WriteHeader(http.StatusAccepted)
		w.Write([]byte(`{"operation_id": "20261125T080447"}`))
	default:
		w.Write([]byte(`{"servers": ["db1"]}`))
	}
}

func (rec *recorder) requests() []string {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]string(nil), rec.seen...)
}

// redirector answers every request with status, to target plus the
// request's path.
func redirector(status int, target func() string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, target()+r.URL.RequestURI(), status)
	})
}

func caFile(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	name := filepath.Join(t.TempDir(), "ca.crt")
	if err := os.WriteFile(name, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw}), 0o644); err != nil {
		t.Fatal(err)
	}
	return name
}

// recoveryPayload is a request whose body must not go anywhere but the
// server named: it holds a password.
func recoveryPayload(t *testing.T) *pyjson.Object {
	t.Helper()
	p, err := pyjson.DecodeObject([]byte(`{"operation_type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh pg@db1", "destination_directory": "/srv/pg", "conninfo": "password=hunter2"}`), pyjson.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestClientRedirects: the client follows a redirect only to the origin it
// was given. Before, Go's client followed an https server's 307 to http://
// (same host, so with the bearer token) and a 307 to another port of the
// same host (Go keeps Authorization for a host whatever its port), and
// replayed a POST's body to any host.
func TestClientRedirects(t *testing.T) {
	t.Run("https to http is refused", func(t *testing.T) {
		clear := &recorder{}
		target := httptest.NewServer(clear)
		defer target.Close()
		src := httptest.NewTLSServer(redirector(http.StatusTemporaryRedirect, func() string { return target.URL }))
		defer src.Close()
		c, err := NewClient(ClientConfig{URL: src.URL, Token: "s3cret", CACert: caFile(t, src)})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Create("db1", recoveryPayload(t))
		if ops.ErrorCode(err) != ops.EUNAVAILABLE || !strings.Contains(err.Error(), "leaves HTTPS") || !strings.Contains(err.Error(), target.URL) {
			t.Errorf("want an EUNAVAILABLE error saying the redirect leaves HTTPS for %s, got %v", target.URL, err)
		}
		if got := clear.requests(); len(got) != 0 {
			t.Errorf("the plain HTTP server got %q", got)
		}
	})

	t.Run("another host or port is refused", func(t *testing.T) {
		other := &recorder{}
		target := httptest.NewServer(other)
		defer target.Close()
		for name, to := range map[string]string{
			"another port": target.URL,
			"another host": strings.Replace(target.URL, "127.0.0.1", "localhost", 1),
		} {
			t.Run(name, func(t *testing.T) {
				src := httptest.NewServer(redirector(http.StatusTemporaryRedirect, func() string { return to }))
				defer src.Close()
				c, err := NewClient(ClientConfig{URL: src.URL, Token: "s3cret"})
				if err != nil {
					t.Fatal(err)
				}
				if _, err := c.Create("db1", recoveryPayload(t)); ops.ErrorCode(err) != ops.EUNAVAILABLE || !strings.Contains(err.Error(), "refusing a redirect") {
					t.Errorf("POST: want the redirect to %s refused, got %v", to, err)
				}
				if _, err := c.servers(); ops.ErrorCode(err) != ops.EUNAVAILABLE || !strings.Contains(err.Error(), "pass it as --url") {
					t.Errorf("GET: want the redirect to %s refused, got %v", to, err)
				}
			})
		}
		if got := other.requests(); len(got) != 0 {
			t.Errorf("the other server got %q", got)
		}
	})

	t.Run("same origin is followed with the token", func(t *testing.T) {
		rec := &recorder{}
		mux := http.NewServeMux()
		mux.Handle("/moved/", http.StripPrefix("/moved", rec))
		var base string
		mux.Handle("/", redirector(http.StatusPermanentRedirect, func() string { return base + "/moved" }))
		for _, tls := range []bool{false, true} {
			var src *httptest.Server
			cfg := ClientConfig{Token: "s3cret"}
			if tls {
				src = httptest.NewTLSServer(mux)
				cfg.CACert = caFile(t, src)
			} else {
				src = httptest.NewServer(mux)
			}
			base, cfg.URL = src.URL, src.URL
			c, err := NewClient(cfg)
			if err != nil {
				t.Fatal(err)
			}
			if servers, err := c.servers(); err != nil || len(servers) != 1 {
				t.Errorf("%s: GET through a same-origin redirect: %v, %v", src.URL, servers, err)
			}
			if id, err := c.Create("db1", recoveryPayload(t)); err != nil || id != "20261125T080447" {
				t.Errorf("%s: POST through a same-origin 308: %q, %v", src.URL, id, err)
			}
			src.Close()
		}
		got := rec.requests()
		if len(got) != 4 {
			t.Fatalf("want 4 requests after the redirects, got %q", got)
		}
		for _, r := range got {
			if !strings.Contains(r, " Bearer s3cret ") {
				t.Errorf("the token did not follow a same-origin redirect: %q", r)
			}
			if strings.HasPrefix(r, "POST") && !strings.Contains(r, "hunter2") {
				t.Errorf("the 308 did not keep the body: %q", r)
			}
		}
	})
}

// roundTripFunc answers requests without a network.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestClientWarnsOfClearTextToken: a token sent over http:// to a host that
// is not loopback crosses the network in clear; the client says so once.
func TestClientWarnsOfClearTextToken(t *testing.T) {
	for _, tt := range []struct {
		url, token string
		warn       bool
	}{
		{"http://barman2.example.org:7480", "s3cret", true},
		{"http://192.0.2.7:7480", "s3cret", true},
		{"http://[2001:db8::7]:7480", "s3cret", true},
		{"http://barman2.example.org:7480", "", false},
		{"https://barman2.example.org:7480", "s3cret", false},
		{"http://127.0.0.1:7480", "s3cret", false},
		{"http://127.8.9.10:7480", "s3cret", false},
		{"http://[::1]:7480", "s3cret", false},
		{"http://localhost:7480", "s3cret", false},
		{"http://LocalHost.:7480", "s3cret", false},
	} {
		var warnings bytes.Buffer
		c, err := NewClient(ClientConfig{URL: tt.url, Token: tt.token, Warnings: &warnings})
		if err != nil {
			t.Fatal(err)
		}
		c.client.Transport = roundTripFunc(func(r *http.Request) (*http.Response, error) {
			return &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(strings.NewReader(`{"servers": []}`)), Request: r}, nil
		})
		for range 3 {
			if _, err := c.servers(); err != nil {
				t.Fatalf("%s: %v", tt.url, err)
			}
		}
		got := warnings.String()
		switch {
		case tt.warn && (strings.Count(got, "warning:") != 1 || !strings.Contains(got, "plain HTTP") || !strings.Contains(got, tt.url)):
			t.Errorf("%s with a token: want one warning naming it, got %q", tt.url, got)
		case !tt.warn && got != "":
			t.Errorf("%s (token %q): want no warning, got %q", tt.url, tt.token, got)
		}
	}
}

// TestClientErrorsWithoutTerminalControls: what a server says in an error
// is printed on a person's terminal; its escape sequences and
// bidirectional controls are not.
func TestClientErrorsWithoutTerminalControls(t *testing.T) {
	for status, body := range map[int]string{
		http.StatusNotFound:            `{"error": "no \u001b]52;c;ZXZpbA==\u0007operation \u202eevil", "request_id": "\u001b[2J1"}`,
		http.StatusBadRequest:          "plain \x1b]0;title\x07text \u009b31m",
		http.StatusUnauthorized:        `{"error": "who \u001b[31mare\u001b[0m you"}`,
		http.StatusInternalServerError: `{"error": "\u001bPdcs\u001b\\ boom"}`,
		http.StatusConflict:            `{"error": "bad thing\r\npg-backup-api: forged line"}`,
	} {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
			w.Write([]byte(body))
		}))
		c, err := NewClient(ClientConfig{URL: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Get("db1", "20261125T080447")
		srv.Close()
		if err == nil {
			t.Fatalf("%d: no error", status)
		}
		if msg := err.Error(); strings.ContainsAny(msg, "\x1b\x07\u009b\u202e\r\n") {
			t.Errorf("%d: the error keeps terminal controls or starts a line of its own: %q", status, msg)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusTeapot)
	}))
	defer srv.Close()
	c, _ := NewClient(ClientConfig{URL: srv.URL})
	if err := c.Status(); ops.ErrorCode(err) != ops.EUNAVAILABLE || !strings.Contains(err.Error(), `418 I'm a teapot, not "OK"`) {
		t.Errorf("Status of a server that is not ours: %v", err)
	}
}
