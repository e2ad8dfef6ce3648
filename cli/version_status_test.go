package cli_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"

	"github.com/pg-backup-api/pg-backup-api/cli"
)

func TestVersion(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"plain", []string{"version"}, "pg-backup-api 1.2.3 (commit abc1234, built 2026-02-03)\n"},
		{"-o plain", []string{"version", "-o", "plain"}, "pg-backup-api 1.2.3 (commit abc1234, built 2026-02-03)\n"},
		{"--version", []string{"--version"}, "pg-backup-api version 1.2.3\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runApp(t, "", tt.args...)
			if r.Code != cli.ExitOK || r.Stdout != tt.want {
				t.Errorf("want %q, got %v", tt.want, r)
			}
		})
	}
	t.Run("json", func(t *testing.T) {
		r := runApp(t, "", "version", "-o", "json")
		var got map[string]string
		decodeJSON(t, r.Stdout, &got)
		want := map[string]string{"version": "1.2.3", "commit": "abc1234", "date": "2026-02-03"}
		if r.Code != cli.ExitOK || !reflect.DeepEqual(got, want) {
			t.Errorf("want %v, got %v", want, r)
		}
	})
	t.Run("stamped binary", func(t *testing.T) {
		r := execBinary(t, nil, "", "version", "-o", "json")
		var got map[string]string
		decodeJSON(t, r.Stdout, &got)
		want := map[string]string{"version": testenv.BinaryVersion, "commit": testenv.BinaryCommit, "date": testenv.BinaryDate}
		if r.Code != cli.ExitOK || !reflect.DeepEqual(got, want) {
			t.Errorf("want the -ldflags stamps %v, got %v", want, r)
		}
	})
	t.Run("needs no Barman", func(t *testing.T) {
		r := runApp(t, "", "--barman-config", "/nonexistent/barman.conf", "version")
		if r.Code != cli.ExitOK {
			t.Errorf("version must not read Barman's configuration: %v", r)
		}
	})
}

func TestStatus(t *testing.T) {
	t.Parallel()
	serve := func(status int, body string, delay time.Duration) string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path != "/status" || r.Method != http.MethodGet {
				http.Error(w, "not here", http.StatusNotFound)
				return
			}
			time.Sleep(delay)
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			w.Write([]byte(body))
		}))
		t.Cleanup(srv.Close)
		return srv.URL
	}
	ok := serve(200, "\"OK\"\n", 0)
	okPort := ok[strings.LastIndex(ok, ":")+1:]

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := "http://" + ln.Addr().String()
	ln.Close()

	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantMsg  string
	}{
		{"OK", []string{"status", "--url", ok}, cli.ExitOK, "OK\n", ""},
		{"OK, trailing slash", []string{"status", "--url", ok + "/"}, cli.ExitOK, "OK\n", ""},
		{"OK, --port", []string{"status", "--port", okPort}, cli.ExitOK, "OK\n", ""},
		{"closed port", []string{"status", "--url", closed}, cli.ExitUnavailable, "", "no answer from " + closed},
		// As for every remote command: a URL that is not one is a usage error.
		{"not a server URL", []string{"status", "--url", "nonsense://x"}, cli.ExitUsage, "", "want http://HOST:PORT"},
		{"answers something else", []string{"status", "--url", serve(200, `{"status": "OK"}`, 0)}, cli.ExitUnavailable, "", `not "OK"`},
		{"answers OK unquoted", []string{"status", "--url", serve(200, "OK", 0)}, cli.ExitUnavailable, "", `not "OK"`},
		{"answers another string", []string{"status", "--url", serve(200, `"KO"`, 0)}, cli.ExitUnavailable, "", `not "OK"`},
		{"answers 500", []string{"status", "--url", serve(500, `"OK"`, 0)}, cli.ExitUnavailable, "", "500"},
		{"answers 404", []string{"status", "--url", ok + "/api"}, cli.ExitUnavailable, "", "404"},
		{"too slow", []string{"status", "--url", serve(200, `"OK"`, 2*time.Second), "--timeout", "100ms"}, cli.ExitUnavailable, "", "no answer"},
		{"--port and --url", []string{"status", "--port", okPort, "--url", ok}, cli.ExitUsage, "", "not both"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := runApp(t, "", tt.args...)
			if r.Code != tt.wantCode {
				t.Fatalf("want exit %d, got %v", tt.wantCode, r)
			}
			if r.Stdout != tt.wantOut {
				t.Errorf("stdout: want %q, got %q", tt.wantOut, r.Stdout)
			}
			if !strings.Contains(r.Msg, tt.wantMsg) {
				t.Errorf("message %q does not mention %q", r.Msg, tt.wantMsg)
			}
		})
	}
}
