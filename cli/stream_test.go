package cli_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/cli"
	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// countingServe is an in-process serve over e's store that counts the
// requests it answers; noStream makes it answer 404 to the stream
// endpoint, as a server from before it does.
type countingServe struct {
	mu       sync.Mutex
	requests []string
	url      string
}

func newCountingServe(t *testing.T, e *env, noStream bool) *countingServe {
	t.Helper()
	s := &httpd.Server{
		Service: &ops.Service{Barman: barman.NewReader(e.Conf), OpenStore: store.Opener(), Version: "test"},
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	h := s.Handler()
	cs := &countingServe{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cs.mu.Lock()
		cs.requests = append(cs.requests, r.URL.Path)
		cs.mu.Unlock()
		if noStream && strings.HasSuffix(r.URL.Path, "/stream") {
			http.NotFound(w, r)
			return
		}
		h.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	cs.url = srv.URL
	return cs
}

func (cs *countingServe) count() (all, streams int) {
	cs.mu.Lock()
	defer cs.mu.Unlock()
	for _, p := range cs.requests {
		if strings.HasSuffix(p, "/stream") {
			streams++
		}
	}
	return len(cs.requests), streams
}

// runFor plays a runner for the queued operation id of the instance: it
// writes lines for about two seconds, then ends it FAILED.
func runFor(t *testing.T, e *env, id string) {
	t.Helper()
	st := store.Open(&ops.BarmanConfig{BarmanHome: e.Home})
	claim, err := st.Claim("", id)
	if err != nil {
		t.Error(err)
		return
	}
	var out strings.Builder
	for i := range 8 {
		line := "step " + string(rune('a'+i)) + " password=hunter2\n"
		out.WriteString(line)
		claim.WriteString(line)
		time.Sleep(250 * time.Millisecond)
	}
	if err := st.End("", id, claim, ops.Result{Success: false, ExitCode: 1, Output: out.String()}); err != nil {
		t.Error(err)
	}
}

// TestRemoteWaitStreams: remote wait and logs -f follow a two-second
// operation through one stream, a handful of requests where polling
// makes one every 200 or 250 ms; logs -f prints the output once, masked,
// and both exit as the operation ended. Against a server without streams
// they poll and end the same.
func TestRemoteWaitStreams(t *testing.T) {
	for _, tc := range []struct {
		name     string
		noStream bool
	}{{"stream", false}, {"older_server", true}} {
		t.Run(tc.name, func(t *testing.T) {
			for _, cmd := range [][]string{{"wait"}, {"logs", "-f"}} {
				e := newEnv(t, true)
				holdRunnerLock(t, e, "")
				id := queueOp(t, e, "", "create", "config-update", "--changes", instanceChanges)
				cs := newCountingServe(t, e, tc.noStream)
				done := make(chan struct{})
				go func() {
					defer close(done)
					runFor(t, e, id)
				}()
				r := runApp(t, "", append(cmd, "--instance", id, "--url", cs.url)...)
				<-done
				if r.Code != cli.ExitFailed {
					t.Errorf("%s: exit %d, want %d (FAILED): %v", cmd, r.Code, cli.ExitFailed, r)
				}
				all, streams := cs.count()
				switch {
				case tc.noStream && all < 8:
					t.Errorf("%s against an older server: %d requests; did it poll?", cmd, all)
				case !tc.noStream && (streams != 1 || all > 4):
					t.Errorf("%s: %d requests, %d of them streams; want one stream and at most 4 in all", cmd, all, streams)
				}
				if cmd[0] != "logs" {
					continue
				}
				if strings.Contains(r.Stdout, "hunter2") {
					t.Errorf("logs -f printed a password:\n%s", r.Stdout)
				}
				if n := strings.Count(r.Stdout, "step "); n != 8 || !strings.Contains(r.Stdout, "step h") {
					t.Errorf("logs -f printed %d lines, want the 8 once:\n%s", n, r.Stdout)
				}
			}
		})
	}
}
