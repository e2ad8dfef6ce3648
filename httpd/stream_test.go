package httpd_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// Tests of GET .../operations/{id}/stream, over a real connection so that
// flushing, deadlines and disconnects are net/http's own.

// streamEnv is a server with one operation of db_server_two that the test
// runs itself, as a runner would: its log is claimed, written and ended by
// the test.
type streamEnv struct {
	e      *env
	api    *httpd.Server
	ts     *httptest.Server
	st     *store.Store
	id     string
	claim  *os.File
	stream string // the operation's stream path
}

func newStreamEnv(t *testing.T, configure func(*httpd.Server)) *streamEnv {
	t.Helper()
	e := newEnv(t)
	api, _ := e.apiServer(t)
	api.SetStreamPace(5*time.Millisecond, time.Hour, 0)
	h := api.Handler()
	w := postJSON(t, h, srvOps, validRecovery)
	if w.Code != http.StatusAccepted {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	if configure != nil {
		configure(api)
	}
	var created struct {
		OperationID string `json:"operation_id"`
	}
	json.Unmarshal(w.Body.Bytes(), &created)
	ts := httptest.NewUnstartedServer(h)
	ts.Config.ReadTimeout = 50 * time.Millisecond // serve has one; a stream must outlive it
	ts.Start()
	t.Cleanup(ts.Close)
	return &streamEnv{e: e, api: api, ts: ts, st: store.Open(&ops.BarmanConfig{BarmanHome: e.Home}), id: created.OperationID,
		stream: srvOps + "/" + created.OperationID + "/stream"}
}

// run claims the operation as its runner would: it is running from now.
func (se *streamEnv) run(t *testing.T) {
	t.Helper()
	f, err := se.st.Claim("db_server_two", se.id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	se.claim = f
}

func (se *streamEnv) write(t *testing.T, s string) {
	t.Helper()
	if _, err := se.claim.WriteString(s); err != nil {
		t.Fatal(err)
	}
}

func (se *streamEnv) end(t *testing.T, success bool, output string) {
	t.Helper()
	if err := se.st.End("db_server_two", se.id, se.claim, ops.Result{Success: success, Output: output}); err != nil {
		t.Fatal(err)
	}
}

// streamReader reads a stream's events one at a time, failing the test if
// one does not come in time.
type streamReader struct {
	t      *testing.T
	resp   *http.Response
	events chan httpd.StreamEvent
	cancel context.CancelFunc
}

func (se *streamEnv) open(t *testing.T, query string, header http.Header) *streamReader {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, _ := http.NewRequestWithContext(ctx, "GET", se.ts.URL+se.stream+query, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := se.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { resp.Body.Close() })
	sr := &streamReader{t: t, resp: resp, events: make(chan httpd.StreamEvent, 100), cancel: cancel}
	if resp.StatusCode != http.StatusOK {
		close(sr.events)
		return sr
	}
	if ct := resp.Header.Get("Content-Type"); ct != httpd.StreamContentType {
		t.Fatalf("Content-Type %q, want %q", ct, httpd.StreamContentType)
	}
	go func() {
		defer close(sr.events)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			var ev httpd.StreamEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				t.Errorf("event %q is not JSON: %v", sc.Text(), err)
				return
			}
			sr.events <- ev
		}
	}()
	return sr
}

// next is the next event that is not a heartbeat; ok is false at the end.
func (sr *streamReader) next() (httpd.StreamEvent, bool) {
	sr.t.Helper()
	for {
		select {
		case ev, ok := <-sr.events:
			if ok && ev.Heartbeat {
				continue
			}
			return ev, ok
		case <-time.After(10 * time.Second):
			sr.t.Fatal("no event in 10 seconds")
		}
	}
}

func (sr *streamReader) want(want httpd.StreamEvent) {
	sr.t.Helper()
	got, ok := sr.next()
	if !ok {
		sr.t.Fatalf("stream ended; want %+v", want)
	}
	if g, w := jsonOf(got), jsonOf(want); g != w {
		sr.t.Fatalf("event %s, want %s", g, w)
	}
}

func (sr *streamReader) wantEnd() {
	sr.t.Helper()
	if ev, ok := sr.next(); ok {
		sr.t.Fatalf("event %s after the end", jsonOf(ev))
	}
}

func jsonOf(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func intp(n int) *int { return &n }

// TestStreamFollowsOutput: lines arrive as they are written, whole lines
// only while the operation runs, then the rest and the end, and the
// stream ends; a stream outlives the server's read and write timeouts.
func TestStreamFollowsOutput(t *testing.T) {
	se := newStreamEnv(t, func(s *httpd.Server) { s.WriteTimeout = 100 * time.Millisecond })
	sr := se.open(t, "", nil)
	sr.want(httpd.StreamEvent{Phase: ops.PhaseQueued})
	se.run(t)
	sr.want(httpd.StreamEvent{Phase: ops.PhaseRunning})
	se.write(t, "first line\n")
	sr.want(httpd.StreamEvent{Output: "first line\n", Next: 11})
	// Past both timeouts: the stream goes on.
	time.Sleep(200 * time.Millisecond)
	se.write(t, "second\nthird, half")
	sr.want(httpd.StreamEvent{Output: "second\n", Next: 18})
	se.write(t, " written\n")
	sr.want(httpd.StreamEvent{Output: "third, half written\n", Next: 38})
	se.end(t, true, "first line\nsecond\nthird, half written\nlast, no newline")
	sr.want(httpd.StreamEvent{Output: "last, no newline", Next: 54})
	sr.want(httpd.StreamEvent{Status: ops.StatusDone, Phase: ops.PhaseDone, ExitCode: intp(0), Next: 54})
	sr.wantEnd()
	if n := se.api.OpenStreams(); n != 0 {
		t.Errorf("%d streams open after the end", n)
	}
}

// TestStreamResume: ?from= resumes after what the client has; an offset
// that is not where a line starts, or past the output, starts over with a
// reset; a bad one is a 400.
func TestStreamResume(t *testing.T) {
	se := newStreamEnv(t, nil)
	se.run(t)
	se.end(t, false, "one\ntwo\nthree\n")
	sr := se.open(t, "?from=4", nil)
	sr.want(httpd.StreamEvent{Output: "two\n", Next: 8})
	sr.want(httpd.StreamEvent{Output: "three\n", Next: 14})
	sr.want(httpd.StreamEvent{Status: ops.StatusFailed, Phase: ops.PhaseFailed, ExitCode: intp(0), Next: 14})
	sr.wantEnd()

	sr = se.open(t, "?from=14", nil)
	sr.want(httpd.StreamEvent{Status: ops.StatusFailed, Phase: ops.PhaseFailed, ExitCode: intp(0), Next: 14})
	sr.wantEnd()

	for _, from := range []string{"2", "99"} {
		sr = se.open(t, "?from="+from, nil)
		sr.want(httpd.StreamEvent{Reset: true})
		sr.want(httpd.StreamEvent{Output: "one\n", Next: 4})
	}
	for _, from := range []string{"-1", "x"} {
		if sr = se.open(t, "?from="+from, nil); sr.resp.StatusCode != http.StatusBadRequest {
			t.Errorf("from=%s: %d, want 400", from, sr.resp.StatusCode)
		}
	}
}

// TestStreamMasksOutput: passwords are masked as GET ?detail=true masks
// them, and offsets count the masked output.
func TestStreamMasksOutput(t *testing.T) {
	se := newStreamEnv(t, nil)
	se.run(t)
	sr := se.open(t, "", nil)
	sr.want(httpd.StreamEvent{Phase: ops.PhaseRunning})
	line := "conninfo: host=db1 password=hunter2 user=barman\n"
	se.write(t, line)
	masked := ops.MaskSecrets(line)
	if strings.Contains(masked, "hunter2") {
		t.Fatalf("the masker leaves the password in %q", masked)
	}
	sr.want(httpd.StreamEvent{Output: masked, Next: int64(len(masked))})
}

// TestStreamNeedsRead: a credential without the read permission is
// refused before anything is streamed.
func TestStreamNeedsRead(t *testing.T) {
	se := newStreamEnv(t, func(s *httpd.Server) {
		s.SetAccess(&httpd.Auth{Tokens: []httpd.Token{
			{Name: "robot", SHA256: httpd.HashToken(ciSecret), Permissions: httpd.PermRecover},
			{Name: "reader", SHA256: httpd.HashToken(opsSecret), Permissions: httpd.PermRead},
		}}, testHosts)
	})
	if sr := se.open(t, "", nil); sr.resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("no credentials: %d, want 401", sr.resp.StatusCode)
	}
	sr := se.open(t, "", http.Header{"Authorization": {"Bearer " + ciSecret}})
	if sr.resp.StatusCode != http.StatusForbidden {
		t.Errorf("recover only: %d, want 403", sr.resp.StatusCode)
	}
	sr = se.open(t, "", http.Header{"Authorization": {"Bearer " + opsSecret}})
	if sr.resp.StatusCode != http.StatusOK {
		t.Fatalf("read: %d, want 200", sr.resp.StatusCode)
	}
	sr.want(httpd.StreamEvent{Phase: ops.PhaseQueued})
}

// TestStreamNotFound: an operation that is not in the scope is GET's 404.
func TestStreamNotFound(t *testing.T) {
	se := newStreamEnv(t, nil)
	se.stream = "/operations/" + se.id + "/stream" // it is db_server_two's
	if sr := se.open(t, "", nil); sr.resp.StatusCode != http.StatusNotFound {
		t.Errorf("%d, want 404", sr.resp.StatusCode)
	}
}

// TestStreamClientGone: a client that hangs up ends its stream on the
// server, whose count of open streams goes back to zero; heartbeats come
// while the operation is quiet.
func TestStreamClientGone(t *testing.T) {
	se := newStreamEnv(t, func(s *httpd.Server) { s.SetStreamPace(5*time.Millisecond, 20*time.Millisecond, 0) })
	se.run(t)
	sr := se.open(t, "", nil)
	sr.want(httpd.StreamEvent{Phase: ops.PhaseRunning})
	select {
	case ev := <-sr.events:
		if !ev.Heartbeat {
			t.Fatalf("event %s, want a heartbeat", jsonOf(ev))
		}
	case <-time.After(5 * time.Second):
		t.Fatal("no heartbeat")
	}
	if n := se.api.OpenStreams(); n != 1 {
		t.Fatalf("%d streams open, want 1", n)
	}
	sr.cancel()
	deadline := time.Now().Add(5 * time.Second)
	for se.api.OpenStreams() != 0 {
		if time.Now().After(deadline) {
			t.Fatal("the stream still runs 5 seconds after its client left")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestStreamLimit: past the limit of open streams a client is told to
// poll (503), and a stream that ends makes room.
func TestStreamLimit(t *testing.T) {
	se := newStreamEnv(t, func(s *httpd.Server) { s.SetStreamPace(5*time.Millisecond, time.Hour, 1) })
	first := se.open(t, "", nil)
	first.want(httpd.StreamEvent{Phase: ops.PhaseQueued})
	second := se.open(t, "", nil)
	if second.resp.StatusCode != http.StatusServiceUnavailable {
		t.Fatalf("second stream: %d, want 503", second.resp.StatusCode)
	}
	first.cancel()
	deadline := time.Now().Add(5 * time.Second)
	for se.api.OpenStreams() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if third := se.open(t, "", nil); third.resp.StatusCode != http.StatusOK {
		t.Fatalf("a stream after the first ended: %d, want 200", third.resp.StatusCode)
	}
}

// TestStreamEndsOnShutdown: EndStreams, which serve runs when it shuts
// down, ends open streams, so that shutting down does not wait for an
// operation hours long.
func TestStreamEndsOnShutdown(t *testing.T) {
	se := newStreamEnv(t, nil)
	se.run(t)
	sr := se.open(t, "", nil)
	sr.want(httpd.StreamEvent{Phase: ops.PhaseRunning})
	se.api.EndStreams()
	sr.wantEnd()
	if n := se.api.OpenStreams(); n != 0 {
		t.Errorf("%d streams open after EndStreams", n)
	}
}
