package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

const secret = "s3cret-shared"

func exitCode(n int) *int { return &n }

func testOp(id, status string) Operation {
	return Operation{
		ID: id, Server: "pg", Type: "recovery", Status: status, Phase: strings.ToLower(status),
		Start:    time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC),
		End:      time.Date(2025, 3, 1, 11, 30, 0, 0, time.UTC),
		ExitCode: exitCode(0), RequestedBy: "token:ops",
		Output: "Starting remote restore\nconninfo host=db password=hunter2 user=x\nRestore done\n",
	}
}

func mustEvent(t *testing.T, op Operation) Event {
	t.Helper()
	ev, err := NewEvent(op)
	if err != nil {
		t.Fatal(err)
	}
	return ev
}

func newOutbox(t *testing.T) *Outbox {
	t.Helper()
	o, err := OpenOutbox(filepath.Join(t.TempDir(), "outbox"))
	if err != nil {
		t.Fatal(err)
	}
	return o
}

// receiver is a webhook endpoint on loopback that checks signatures and
// answers with the codes it is given, then 200.
type receiver struct {
	t        *testing.T
	srv      *httptest.Server
	mu       sync.Mutex
	fail     []int          // codes to answer before succeeding
	accepted map[string]int // idempotency key -> accepted deliveries
	bodies   map[string][]byte
	requests atomic.Int32
	// intercept, when set, answers a request instead of serve when it
	// returns true.
	intercept func(http.ResponseWriter, *http.Request) bool
}

func newReceiver(t *testing.T, fail ...int) *receiver {
	return newReceiverIntercept(t, nil, fail...)
}

func newReceiverIntercept(t *testing.T, intercept func(http.ResponseWriter, *http.Request) bool, fail ...int) *receiver {
	r := &receiver{t: t, fail: fail, accepted: map[string]int{}, bodies: map[string][]byte{}, intercept: intercept}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if r.intercept != nil && r.intercept(w, req) {
			return
		}
		r.serve(w, req)
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) serve(w http.ResponseWriter, req *http.Request) {
	r.requests.Add(1)
	body, _ := io.ReadAll(req.Body)
	if req.Method != http.MethodPost || req.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "want a JSON POST", http.StatusBadRequest)
		return
	}
	if !Verify(secret, body, req.Header.Get(HeaderSignature)) {
		http.Error(w, "bad signature", http.StatusUnauthorized)
		return
	}
	key := req.Header.Get(HeaderIdempotency)
	if key == "" || req.Header.Get(HeaderDelivery) != key {
		http.Error(w, "no idempotency key", http.StatusBadRequest)
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.fail) > 0 {
		code := r.fail[0]
		r.fail = r.fail[1:]
		http.Error(w, "try later", code)
		return
	}
	r.accepted[key]++
	r.bodies[key] = body
	w.WriteHeader(http.StatusNoContent)
}

func (r *receiver) count(key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.accepted[key]
}

type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func dispatcher(o *Outbox, cfg Config, log io.Writer) *Dispatcher {
	if err := cfg.Validate(); err != nil {
		panic(err)
	}
	return &Dispatcher{
		Outbox: o, Config: cfg, Log: slog.New(slog.NewJSONHandler(log, nil)),
		PollInterval: 20 * time.Millisecond, MinBackoff: 10 * time.Millisecond, MaxBackoff: 40 * time.Millisecond,
	}
}

func webhookConfig(url string) Config {
	return Config{Webhooks: []Webhook{{URL: url, Secret: secret}}}
}

// runUntil runs d until cond holds or 10 s pass.
func runUntil(t *testing.T, d *Dispatcher, cond func() bool) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			cancel()
			<-done
			t.Fatal("condition not reached within 10s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	if err := <-done; err != context.Canceled {
		t.Fatalf("Run returned %v, want context.Canceled", err)
	}
}

func TestEventDocument(t *testing.T) {
	ev := mustEvent(t, testOp("20250301T100000", "FAILED"))
	body, err := ev.Body()
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{
		"schema_version": 1.0, "event": "failed", "operation_id": "20250301T100000", "scope": "server", "server": "pg",
		"type": "recovery", "status": "FAILED", "phase": "failed", "start_time": "2025-03-01T10:00:00Z",
		"end_time": "2025-03-01T11:30:00Z", "exit_code": 0.0, "requested_by": "token:ops",
		"idempotency_key": Key("pg", "20250301T100000", "FAILED"), "output_truncated": false,
	}
	for k, v := range want {
		if doc[k] != v {
			t.Errorf("%s = %#v, want %#v", k, doc[k], v)
		}
	}
	excerpt := doc["output_excerpt"].(string)
	if strings.Contains(excerpt, "hunter2") || !strings.Contains(excerpt, "password=****") || !strings.HasSuffix(excerpt, "Restore done") {
		t.Errorf("excerpt not masked or not the tail: %q", excerpt)
	}

	inst := testOp("x1", "DONE")
	inst.Server, inst.ExitCode, inst.Start = "", nil, time.Time{}
	ev = mustEvent(t, inst)
	body, _ = ev.Body()
	if !bytes.Contains(body, []byte(`"scope":"instance"`)) || bytes.Contains(body, []byte(`"server"`)) ||
		!bytes.Contains(body, []byte(`"exit_code":null`)) || !bytes.Contains(body, []byte(`"start_time":null`)) {
		t.Errorf("instance event misencoded: %s", body)
	}

	for _, status := range []string{"IN_PROGRESS", ""} {
		if _, err := NewEvent(testOp("x", status)); err == nil || !strings.Contains(err.Error(), "only DONE and FAILED") {
			t.Errorf("status %q: err = %v, want a refusal", status, err)
		}
	}
	if Key("pg", "1", "DONE") == Key("", "1", "DONE") || Key("pg", "1", "DONE") == Key("pg", "1", "FAILED") ||
		Key("a", "bc", "DONE") == Key("ab", "c", "DONE") {
		t.Error("distinct operation ends share an idempotency key")
	}
}

func TestExcerpt(t *testing.T) {
	var lines []string
	for i := range 100 {
		lines = append(lines, fmt.Sprintf("line %d", i))
	}
	got, cut := Excerpt(strings.Join(lines, "\n")+"\n", 3, 0)
	if got != "line 97\nline 98\nline 99" || !cut {
		t.Errorf("last 3 lines = %q, %v", got, cut)
	}
	got, cut = Excerpt("a\nb", 3, 0)
	if got != "a\nb" || cut {
		t.Errorf("short output = %q, %v; want it whole and not cut", got, cut)
	}
	got, cut = Excerpt(strings.Repeat("é", 100), 20, 51)
	if !cut || len(got) > 51 || !strings.HasSuffix(got, "é") || strings.ContainsRune(got, '\uFFFD') {
		t.Errorf("byte cap broke a character or did not cut: %q (%d bytes)", got, len(got))
	}
	// A password whose keyword would be cut away by the line limit is
	// still masked: masking comes first.
	got, _ = Excerpt("password='a\nb c' tail\nnext", 1, 0)
	if strings.Contains(got, "b c") {
		t.Errorf("cutting before masking leaked a password: %q", got)
	}
}

func TestConfigValidation(t *testing.T) {
	cfg := Config{
		Webhooks: []Webhook{{URL: "https://hooks.example/x", Secret: "k"}},
		Commands: []Command{{Argv: []string{"/bin/cat"}, Events: []string{"FAILED "}}},
	}
	if err := cfg.Validate(); err != nil {
		t.Fatalf("valid config refused: %v", err)
	}
	if w := cfg.Webhooks[0]; len(w.Events) != 2 || w.Timeout.Duration != DefaultWebhookTimeout {
		t.Errorf("defaults not filled: %+v", w)
	}
	if c := cfg.Commands[0]; len(c.Events) != 1 || c.Events[0] != "failed" || c.Timeout.Duration != DefaultCommandTimeout {
		t.Errorf("command events/timeout not normalised: %+v", c)
	}

	bad := []struct {
		cfg  Config
		want string
	}{
		{Config{Webhooks: []Webhook{{Secret: "k"}}}, "notify.webhooks[0].url: is empty"},
		{Config{Webhooks: []Webhook{{URL: "ftp://x/y", Secret: "k"}}}, "must start with https:// or http://"},
		{Config{Webhooks: []Webhook{{URL: "https:///path", Secret: "k"}}}, "has no host"},
		{Config{Webhooks: []Webhook{{URL: "https://h/x"}}}, "notify.webhooks[0].secret is empty"},
		{Config{Webhooks: []Webhook{{URL: "https://h/x", Secret: "k", Events: []string{"started"}}}}, `"started" is not an event`},
		{Config{Webhooks: []Webhook{{URL: "https://h/x", Secret: "k", Timeout: Duration{-time.Second}}}}, "timeout: -1s is negative"},
		{Config{Webhooks: []Webhook{{URL: "https://h/x", Secret: "k", Timeout: Duration{2 * time.Hour}}}}, "longer than an hour"},
		{Config{Webhooks: []Webhook{{URL: "https://h/x", Secret: "k"}, {URL: "https://h/x", Secret: "j"}}}, "notify.webhooks[1].url repeats notify.webhooks[0].url"},
		{Config{Commands: []Command{{}}}, "notify.commands[0].argv is empty"},
		{Config{Commands: []Command{{Argv: []string{"mail", "-s", "x"}}}}, `argv[0] "mail" is not an absolute path`},
		{Config{Commands: []Command{{Argv: []string{"/bin/true"}}, {Argv: []string{"/bin/true"}}}}, "notify.commands[1].argv repeats"},
	}
	for _, c := range bad {
		err := c.cfg.Validate()
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%+v: err = %v, want it to say %q", c.cfg, err, c.want)
		}
	}
	// Secrets in a URL never reach an error message.
	err := (&Config{Webhooks: []Webhook{{URL: "ftp://user:pw@h/x?token=abc", Secret: "k"}}}).Validate()
	if err == nil || strings.Contains(err.Error(), "pw") || strings.Contains(err.Error(), "abc") {
		t.Errorf("error leaks URL credentials: %v", err)
	}
	var d Duration
	if err := d.UnmarshalText([]byte("10 seconds")); err == nil || !strings.Contains(err.Error(), "not a duration") {
		t.Errorf("bad duration: err = %v", err)
	}
}

func TestEnqueueIsIdempotentAndDurable(t *testing.T) {
	o := newOutbox(t)
	ev := mustEvent(t, testOp("1", "DONE"))
	if ok, err := o.Enqueue(ev); !ok || err != nil {
		t.Fatalf("first enqueue = %v, %v", ok, err)
	}
	if ok, err := o.Enqueue(ev); ok || err != nil {
		t.Fatalf("second enqueue = %v, %v; want a no-op", ok, err)
	}
	// Another process (a new Outbox on the same directory) sees it.
	o2, err := OpenOutbox(o.Dir())
	if err != nil {
		t.Fatal(err)
	}
	envs, errs := o2.Pending()
	if len(errs) != 0 || len(envs) != 1 || envs[0].Key != ev.IdempotencyKey || envs[0].Name != "done" {
		t.Fatalf("pending = %+v, %v", envs, errs)
	}
	want, _ := ev.Body()
	if !bytes.Equal(envs[0].Event, want) {
		t.Errorf("stored body differs from the event:\n%s\n%s", envs[0].Event, want)
	}
	entries, _ := os.ReadDir(filepath.Join(o.Dir(), pendingDir))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %v", entries)
	}
	if fi, _ := os.Stat(filepath.Join(o.Dir(), pendingDir, ev.IdempotencyKey+".json")); fi.Mode().Perm() != 0o600 {
		t.Errorf("outbox file mode %v, want 0600: events carry Barman's output", fi.Mode().Perm())
	}
	// Once delivered, enqueueing it again does not start a second round.
	if err := o.Finish(ev.IdempotencyKey); err != nil {
		t.Fatal(err)
	}
	if ok, err := o.Enqueue(ev); ok || err != nil {
		t.Fatalf("enqueue after delivery = %v, %v; want a no-op", ok, err)
	}
	if envs, _ := o.Pending(); len(envs) != 0 {
		t.Errorf("delivered event pending again: %+v", envs)
	}
	if _, err := o.Enqueue(Event{OperationID: "x"}); err == nil || !strings.Contains(err.Error(), "idempotency key") {
		t.Errorf("event without key: err = %v", err)
	}
}

// TestEnqueueUnwritableOutbox: an outbox that cannot be written is an error
// that names the directory and why, and nothing is left behind. Tests run
// as root, whom permission bits do not stop, so the outbox is made
// unwritable by putting a regular file where a directory must be.
func TestEnqueueUnwritableOutbox(t *testing.T) {
	notADir := func(t *testing.T, path string) {
		t.Helper()
		if err := os.RemoveAll(path); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("not a directory\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	// What the test leaves of the outbox directory: every path under it,
	// with each regular file's content.
	snapshot := func(t *testing.T, dir string) map[string]string {
		t.Helper()
		files := map[string]string{}
		err := filepath.Walk(dir, func(path string, fi os.FileInfo, err error) error {
			if err != nil {
				return err
			}
			files[path] = fi.Mode().Type().String()
			if fi.Mode().IsRegular() {
				data, err := os.ReadFile(path)
				files[path] += " " + string(data)
				return err
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return files
	}
	ev := mustEvent(t, testOp("1", "DONE"))

	t.Run("open", func(t *testing.T) {
		parent := filepath.Join(t.TempDir(), "state")
		notADir(t, parent)
		dir := filepath.Join(parent, "notify")
		o, err := OpenOutbox(dir)
		if err == nil || !strings.Contains(err.Error(), "notify: cannot create the outbox "+dir) || !strings.Contains(err.Error(), "not a directory") {
			t.Fatalf("OpenOutbox(%s) = %v, %v; want an error naming the directory and saying why", dir, o, err)
		}
		if data, err := os.ReadFile(parent); err != nil || string(data) != "not a directory\n" {
			t.Errorf("the file in the outbox's way was changed: %q, %v", data, err)
		}
	})
	for name, broken := range map[string]string{"enqueue, pending a file": pendingDir, "enqueue, outbox a file": "."} {
		t.Run(name, func(t *testing.T) {
			o := newOutbox(t)
			notADir(t, filepath.Join(o.Dir(), broken))
			before := snapshot(t, filepath.Dir(o.Dir()))
			ok, err := o.Enqueue(ev)
			if ok || err == nil {
				t.Fatalf("Enqueue = %v, %v; want an error", ok, err)
			}
			want := "notify: cannot write to the outbox " + filepath.Join(o.Dir(), pendingDir)
			if !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), "not a directory") {
				t.Errorf("Enqueue error = %q; want it to contain %q and the cause", err, want)
			}
			after := snapshot(t, filepath.Dir(o.Dir()))
			if fmt.Sprint(after) != fmt.Sprint(before) {
				t.Errorf("a failed Enqueue changed the outbox:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

func TestPendingSetsAsideCorruptFiles(t *testing.T) {
	o := newOutbox(t)
	key := Key("pg", "1", "DONE")
	path := filepath.Join(o.Dir(), pendingDir, key+".json")
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	envs, errs := o.Pending()
	if len(envs) != 0 || len(errs) != 1 || !strings.Contains(errs[0].Error(), "unreadable") {
		t.Fatalf("pending = %v, %v", envs, errs)
	}
	if _, err := os.Stat(path + ".bad"); err != nil {
		t.Errorf("corrupt file not set aside: %v", err)
	}
	if _, errs := o.Pending(); len(errs) != 0 {
		t.Errorf("corrupt file reported again: %v", errs)
	}
}

func TestWebhookSignatureVerifiable(t *testing.T) {
	var got struct {
		body []byte
		hdr  http.Header
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got.body, _ = io.ReadAll(r.Body)
		got.hdr = r.Header.Clone()
	}))
	defer srv.Close()
	o := newOutbox(t)
	ev := mustEvent(t, testOp("1", "DONE"))
	o.Enqueue(ev)
	d := dispatcher(o, webhookConfig(srv.URL+"/hook"), io.Discard)
	d.DeliverPending(context.Background())

	sig := got.hdr.Get(HeaderSignature)
	if !strings.HasPrefix(sig, "sha256=") || len(sig) != len("sha256=")+64 {
		t.Fatalf("signature header = %q", sig)
	}
	if !Verify(secret, got.body, sig) {
		t.Error("receiver cannot verify the signature with the shared secret")
	}
	if Verify("other", got.body, sig) || Verify(secret, append(got.body, ' '), sig) {
		t.Error("signature verifies with a wrong secret or a changed body")
	}
	// The V1 signature binds the time and the idempotency key too: a
	// receiver refuses a replay, another key, or another secret.
	v1, key, now := got.hdr.Get(HeaderSignatureV1), got.hdr.Get(HeaderIdempotency), time.Now()
	if err := VerifyV1(secret, got.body, key, v1, now, 5*time.Minute); err != nil {
		t.Errorf("receiver cannot verify %s %q: %v", HeaderSignatureV1, v1, err)
	}
	for name, err := range map[string]error{
		"replayed an hour later": VerifyV1(secret, got.body, key, v1, now.Add(time.Hour), 5*time.Minute),
		"another key":            VerifyV1(secret, got.body, key+"x", v1, now, 5*time.Minute),
		"another secret":         VerifyV1("other", got.body, key, v1, now, 5*time.Minute),
		"another body":           VerifyV1(secret, append(got.body, ' '), key, v1, now, 5*time.Minute),
		"the old header":         VerifyV1(secret, got.body, key, sig, now, 5*time.Minute),
	} {
		if err == nil {
			t.Errorf("%s: VerifyV1 accepts it", name)
		}
	}
	if got.hdr.Get("Content-Type") != "application/json" || got.hdr.Get(HeaderIdempotency) != ev.IdempotencyKey ||
		got.hdr.Get(HeaderDelivery) != ev.IdempotencyKey || got.hdr.Get(HeaderEvent) != "done" {
		t.Errorf("headers = %v", got.hdr)
	}
	var doc Event
	if err := json.Unmarshal(got.body, &doc); err != nil || doc.OperationID != "1" {
		t.Errorf("body = %s (%v)", got.body, err)
	}
}

func TestRetriesUntilAcceptedExactlyOnce(t *testing.T) {
	rcv := newReceiver(t, http.StatusInternalServerError, http.StatusServiceUnavailable)
	o := newOutbox(t)
	ev := mustEvent(t, testOp("1", "FAILED"))
	o.Enqueue(ev)
	var log logBuf
	d := dispatcher(o, webhookConfig(rcv.srv.URL), &log)
	runUntil(t, d, func() bool { envs, _ := o.Pending(); return rcv.count(ev.IdempotencyKey) > 0 && len(envs) == 0 })
	// A dispatcher running on must send nothing more.
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	d.Run(ctx)
	if n := rcv.count(ev.IdempotencyKey); n != 1 {
		t.Fatalf("receiver accepted %d deliveries, want exactly 1", n)
	}
	if n := rcv.requests.Load(); n != 3 {
		t.Errorf("receiver got %d requests, want 3 (two failures, one success)", n)
	}
	if envs, _ := o.Pending(); len(envs) != 0 {
		t.Errorf("event still pending after delivery: %+v", envs)
	}
	if _, err := os.Stat(filepath.Join(o.Dir(), deliveredDir, ev.IdempotencyKey+".json")); err != nil {
		t.Errorf("delivered event not remembered: %v", err)
	}
	logs := log.String()
	for _, want := range []string{`"msg":"notify: delivery failed"`, `"attempt":1`, `"attempt":2`, `500 Internal Server Error`, `"msg":"notify: delivered"`, `"attempt":3`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %s:\n%s", want, logs)
		}
	}
}

func TestRestartDeliversPendingAndNeverResendsAcknowledged(t *testing.T) {
	o := newOutbox(t)
	a := mustEvent(t, testOp("a", "DONE"))
	b := mustEvent(t, testOp("b", "DONE"))
	o.Enqueue(a)
	time.Sleep(time.Millisecond) // b enqueued after a
	o.Enqueue(b)

	// The first dispatcher delivers a; b's receiver hangs until the
	// dispatcher is stopped, as when serve is killed mid-delivery.
	var first atomic.Bool
	hang := make(chan struct{})
	defer close(hang)
	rcv := newReceiverIntercept(t, func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get(HeaderIdempotency) != b.IdempotencyKey || first.Swap(true) {
			return false
		}
		select {
		case <-hang:
		case <-r.Context().Done():
		}
		return true
	})
	d1 := dispatcher(o, webhookConfig(rcv.srv.URL), io.Discard)
	runUntil(t, d1, func() bool { return rcv.count(a.IdempotencyKey) == 1 && first.Load() })

	// The stop came mid-pass: a's 2xx is on disk, b's delivery is not.
	id := webhookID(rcv.srv.URL)
	acked := map[string]bool{}
	envs, _ := o.Pending()
	for _, env := range envs {
		acked[env.Key] = env.Targets[id].finished()
	}
	if len(envs) == 2 && (!acked[a.IdempotencyKey] || acked[b.IdempotencyKey]) || len(envs) == 1 && envs[0].Key != b.IdempotencyKey {
		t.Fatalf("after the stop, acknowledged = %v; want a acknowledged (or finished) and b not", acked)
	}

	// A crash right after a 2xx was recorded but before the event was
	// finished: the acknowledgement is on disk, so it is not sent again.
	c := mustEvent(t, testOp("c", "DONE"))
	o.Enqueue(c)
	if _, err := o.Update(c.IdempotencyKey, id, func(s *TargetState) { now := time.Now(); s.Acked = &now }); err != nil {
		t.Fatal(err)
	}

	// A new dispatcher on a new Outbox value over the same directory, as a
	// restarted serve would have.
	o2, err := OpenOutbox(o.Dir())
	if err != nil {
		t.Fatal(err)
	}
	d2 := dispatcher(o2, webhookConfig(rcv.srv.URL), io.Discard)
	runUntil(t, d2, func() bool {
		envs, _ := o2.Pending()
		return rcv.count(b.IdempotencyKey) == 1 && len(envs) == 0
	})
	if n := rcv.count(a.IdempotencyKey); n != 1 {
		t.Errorf("acknowledged event a accepted %d times, want 1", n)
	}
	if n := rcv.count(c.IdempotencyKey); n != 0 {
		t.Errorf("event c, acknowledged before the crash, was sent again (%d)", n)
	}
	if n := rcv.count(b.IdempotencyKey); n != 1 {
		t.Errorf("pending event b accepted %d times, want 1", n)
	}
	// The runner enqueueing a again later (it crashed and retried) is a
	// no-op.
	if ok, _ := o2.Enqueue(a); ok {
		t.Error("re-enqueue of a delivered event was accepted")
	}
}

func TestEventsEnqueuedByAnotherProcessArePickedUp(t *testing.T) {
	rcv := newReceiver(t)
	o := newOutbox(t)
	d := dispatcher(o, webhookConfig(rcv.srv.URL), io.Discard)
	d.PollInterval = 50 * time.Millisecond
	runner, _ := OpenOutbox(o.Dir()) // the runner's own handle
	ev := mustEvent(t, testOp("late", "DONE"))
	go func() {
		time.Sleep(80 * time.Millisecond)
		runner.Enqueue(ev)
	}()
	runUntil(t, d, func() bool { return rcv.count(ev.IdempotencyKey) == 1 })
}

func TestNotifyKicksRunBeforeThePoll(t *testing.T) {
	rcv := newReceiver(t)
	o := newOutbox(t)
	d := dispatcher(o, webhookConfig(rcv.srv.URL), io.Discard)
	d.PollInterval = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	time.Sleep(50 * time.Millisecond) // Run is now waiting for its hour
	ev := mustEvent(t, testOp("kick", "DONE"))
	o.Enqueue(ev)
	d.Notify()
	deadline := time.Now().Add(5 * time.Second)
	for rcv.count(ev.IdempotencyKey) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("Notify did not wake Run")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
}

func TestEventsFilter(t *testing.T) {
	onlyFailed := newReceiver(t)
	both := newReceiver(t)
	o := newOutbox(t)
	done := mustEvent(t, testOp("1", "DONE"))
	failed := mustEvent(t, testOp("2", "FAILED"))
	o.Enqueue(done)
	o.Enqueue(failed)
	cfg := Config{Webhooks: []Webhook{
		{URL: onlyFailed.srv.URL, Secret: secret, Events: []string{"failed"}},
		{URL: both.srv.URL, Secret: secret},
	}}
	d := dispatcher(o, cfg, io.Discard)
	d.DeliverPending(context.Background())
	if onlyFailed.count(done.IdempotencyKey) != 0 || onlyFailed.count(failed.IdempotencyKey) != 1 {
		t.Errorf("failed-only receiver got done=%d failed=%d", onlyFailed.count(done.IdempotencyKey), onlyFailed.count(failed.IdempotencyKey))
	}
	if both.count(done.IdempotencyKey) != 1 || both.count(failed.IdempotencyKey) != 1 {
		t.Errorf("receiver of both got done=%d failed=%d", both.count(done.IdempotencyKey), both.count(failed.IdempotencyKey))
	}
	if envs, _ := o.Pending(); len(envs) != 0 {
		t.Errorf("events left pending: %d", len(envs))
	}
}

func TestWebhookTimeoutIsRetried(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	var slow atomic.Bool
	slow.Store(true)
	rcv := newReceiverIntercept(t, func(w http.ResponseWriter, r *http.Request) bool {
		if !slow.Swap(false) {
			return false
		}
		select {
		case <-hang:
		case <-r.Context().Done():
		}
		return true
	})
	o := newOutbox(t)
	ev := mustEvent(t, testOp("1", "DONE"))
	o.Enqueue(ev)
	cfg := Config{Webhooks: []Webhook{{URL: rcv.srv.URL, Secret: secret, Timeout: Duration{200 * time.Millisecond}}}}
	var log logBuf
	d := dispatcher(o, cfg, &log)
	start := time.Now()
	d.DeliverPending(context.Background())
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("an attempt took %s despite a 200ms timeout", took)
	}
	if !strings.Contains(log.String(), "no answer within 200ms") {
		t.Errorf("timeout not logged:\n%s", log.String())
	}
	runUntil(t, d, func() bool { return rcv.count(ev.IdempotencyKey) == 1 })
}

func TestUnreachableReceiverBacksOffAndGivesUp(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close() // nothing listens there any more
	o := newOutbox(t)
	ev := mustEvent(t, testOp("1", "DONE"))
	o.Enqueue(ev)
	var log logBuf
	d := dispatcher(o, webhookConfig(url), &log)
	now := time.Now()
	d.now = func() time.Time { return now }
	d.init()
	next := d.DeliverPending(context.Background())
	if next.IsZero() || !next.After(now) {
		t.Fatalf("no retry scheduled after a network error: %v", next)
	}
	// Due later: a pass now does not try again.
	d.DeliverPending(context.Background())
	envs, _ := o.Pending()
	if st := envs[0].Targets[webhookID(url)]; st == nil || st.Attempts != 1 || !strings.Contains(st.LastError, "cannot reach") {
		t.Fatalf("state after one failure = %+v", st)
	}
	// Past GiveUpAfter from the first attempt, the next failure abandons it.
	now = now.Add(d.GiveUpAfter + time.Minute)
	d.DeliverPending(context.Background())
	if envs, _ := o.Pending(); len(envs) != 0 {
		t.Fatalf("abandoned event still pending")
	}
	if !strings.Contains(log.String(), "delivery abandoned") {
		t.Errorf("abandon not logged:\n%s", log.String())
	}
}

// The wait before a failed delivery is tried again is on disk: a restarted
// serve keeps to it rather than sending every pending failure at once.
func TestRetryWaitSurvivesRestart(t *testing.T) {
	rcv := newReceiver(t, http.StatusInternalServerError, http.StatusInternalServerError)
	o := newOutbox(t)
	ev := mustEvent(t, testOp("1", "FAILED"))
	o.Enqueue(ev)
	now := time.Now()
	restart := func() *Dispatcher {
		o2, err := OpenOutbox(o.Dir()) // what a new serve opens
		if err != nil {
			t.Fatal(err)
		}
		d := dispatcher(o2, webhookConfig(rcv.srv.URL), io.Discard)
		d.MinBackoff, d.MaxBackoff = time.Hour, time.Hour
		d.init()
		d.now = func() time.Time { return now }
		return d
	}
	next := restart().DeliverPending(context.Background())
	if rcv.requests.Load() != 1 || next.Sub(now) < 30*time.Minute {
		t.Fatalf("after one failure: %d requests, next try in %v; want 1 and at least 30m", rcv.requests.Load(), next.Sub(now))
	}
	envs, _ := o.Pending()
	st := envs[0].Targets[webhookID(rcv.srv.URL)]
	if st == nil || st.NextAttempt == nil || !st.NextAttempt.Equal(next) {
		t.Fatalf("state on disk %+v, want the next attempt at %v", st, next)
	}

	// Restarted within the wait: nothing is sent.
	now = now.Add(10 * time.Minute)
	if again := restart().DeliverPending(context.Background()); !again.Equal(next) || rcv.requests.Load() != 1 {
		t.Fatalf("a restarted dispatcher sent %d requests in all before the wait ended (next %v, want %v)", rcv.requests.Load(), again, next)
	}
	// Restarted after it: tried again.
	now = next.Add(time.Second)
	restart().DeliverPending(context.Background())
	if rcv.requests.Load() != 2 {
		t.Fatalf("%d requests once the wait ended, want 2", rcv.requests.Load())
	}
}

func TestBackoffGrowsAndIsCapped(t *testing.T) {
	d := &Dispatcher{MinBackoff: time.Second, MaxBackoff: time.Minute}
	d.init()
	for attempt, lim := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 4: 8 * time.Second, 30: time.Minute} {
		for range 50 {
			w := d.backoff(attempt)
			if w < lim/2 || w > lim {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", attempt, w, lim/2, lim)
			}
		}
	}
}

func TestCommandGetsJSONOnStdin(t *testing.T) {
	dir := t.TempDir()
	outFile := filepath.Join(dir, "got.json")
	envFile := filepath.Join(dir, "env")
	script := writeScript(t, dir, "hook.sh", fmt.Sprintf("#!/bin/sh\ncat > %s\necho \"$PG_BACKUP_API_EVENT $PG_BACKUP_API_IDEMPOTENCY_KEY $1\" > %s\n", outFile, envFile))
	o := newOutbox(t)
	ev := mustEvent(t, testOp("1", "FAILED"))
	o.Enqueue(ev)
	// The argument would run a command if a shell read it.
	d := dispatcher(o, Config{Commands: []Command{{Argv: []string{script, "; touch " + filepath.Join(dir, "pwned")}}}}, io.Discard)
	d.DeliverPending(context.Background())
	got, err := os.ReadFile(outFile)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := ev.Body()
	if !bytes.Equal(got, want) {
		t.Errorf("stdin = %s\nwant %s", got, want)
	}
	env, _ := os.ReadFile(envFile)
	if string(env) != "failed "+ev.IdempotencyKey+" ; touch "+filepath.Join(dir, "pwned")+"\n" {
		t.Errorf("environment/argv = %q", env)
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Error("an argument was run by a shell")
	}
	if envs, _ := o.Pending(); len(envs) != 0 {
		t.Errorf("event pending after exit 0")
	}
}

func TestCommandFailureAndTimeoutAreRetried(t *testing.T) {
	dir := t.TempDir()
	counter := filepath.Join(dir, "n")
	// Fails with output on the first run, hangs on the second, succeeds on
	// the third.
	script := writeScript(t, dir, "flaky.sh", fmt.Sprintf(`#!/bin/sh
cat >/dev/null
n=$(cat %[1]s 2>/dev/null || echo 0); n=$((n+1)); echo $n > %[1]s
case $n in
1) echo "mail: relay refused password=topsecret" >&2; exit 3;;
2) sleep 30;;
esac
exit 0
`, counter))
	o := newOutbox(t)
	ev := mustEvent(t, testOp("1", "FAILED"))
	o.Enqueue(ev)
	var log logBuf
	d := dispatcher(o, Config{Commands: []Command{{Argv: []string{script}, Timeout: Duration{300 * time.Millisecond}}}}, &log)
	start := time.Now()
	runUntil(t, d, func() bool { envs, _ := o.Pending(); return len(envs) == 0 })
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("took %s: the hanging run was not killed at its timeout", took)
	}
	n, _ := os.ReadFile(counter)
	if strings.TrimSpace(string(n)) != "3" {
		t.Errorf("command ran %s times, want 3", n)
	}
	logs := log.String()
	for _, want := range []string{"exit status 3", "relay refused", "did not finish within 300ms and was killed", `"msg":"notify: delivered"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("log lacks %q:\n%s", want, logs)
		}
	}
	if strings.Contains(logs, "topsecret") {
		t.Error("a password in the command's output reached the log")
	}
}

func TestOneDispatcherPerOutbox(t *testing.T) {
	rcv := newReceiver(t)
	o := newOutbox(t)
	d1 := dispatcher(o, webhookConfig(rcv.srv.URL), io.Discard)
	ctx1, stop1 := context.WithCancel(context.Background())
	done1 := make(chan error, 1)
	go func() { done1 <- d1.Run(ctx1) }()
	time.Sleep(50 * time.Millisecond)

	var log logBuf
	d2 := dispatcher(o, webhookConfig(rcv.srv.URL), &log)
	ctx2, stop2 := context.WithCancel(context.Background())
	done2 := make(chan error, 1)
	go func() { done2 <- d2.Run(ctx2) }()
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(log.String(), "another dispatcher") {
		if time.Now().After(deadline) {
			t.Fatal("second dispatcher did not wait for the first")
		}
		time.Sleep(5 * time.Millisecond)
	}
	// When the first stops, the second takes over and delivers.
	stop1()
	<-done1
	ev := mustEvent(t, testOp("1", "DONE"))
	o.Enqueue(ev)
	for rcv.count(ev.IdempotencyKey) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("second dispatcher never took over")
		}
		time.Sleep(5 * time.Millisecond)
	}
	stop2()
	<-done2
}

func TestPrune(t *testing.T) {
	o := newOutbox(t)
	ev := mustEvent(t, testOp("1", "DONE"))
	o.Enqueue(ev)
	o.Finish(ev.IdempotencyKey)
	path := filepath.Join(o.Dir(), deliveredDir, ev.IdempotencyKey+".json")
	o.Prune(time.Hour)
	if _, err := os.Stat(path); err != nil {
		t.Fatal("a fresh delivered event was pruned")
	}
	old := time.Now().Add(-2 * time.Hour)
	os.Chtimes(path, old, old)
	o.Prune(time.Hour)
	if _, err := os.Stat(path); err == nil {
		t.Fatal("an old delivered event was kept")
	}
}

func writeScript(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestWebhookURLSecretsNeverShown: a webhook URL's user info and query
// values (?token=...) show masked in the log and in the outbox, however
// the error quotes the URL: Go's HTTP client masks only the password.
func TestWebhookURLSecretsNeverShown(t *testing.T) {
	if got, want := redactURL("https://user:pwSecret@hooks.example/x?token=tok3nSecret&b=2&bare#frag"), "https://****@hooks.example/x?token=****&b=****&****"; got != want {
		t.Errorf("redactURL = %q, want %q", got, want)
	}
	srv := httptest.NewServer(http.NotFoundHandler())
	u := strings.Replace(srv.URL, "http://", "http://user:pwSecret@", 1) + "/hook?token=tok3nSecret"
	srv.Close() // nothing listens there any more
	o := newOutbox(t)
	o.Enqueue(mustEvent(t, testOp("1", "DONE")))
	var log logBuf
	d := dispatcher(o, webhookConfig(u), &log)
	d.init()
	d.DeliverPending(context.Background())
	envs, _ := o.Pending()
	st := envs[0].Targets[webhookID(u)]
	if st == nil || !strings.Contains(st.LastError, "cannot reach") || !strings.Contains(st.LastError, "token=****") {
		t.Fatalf("state after one failure = %+v", st)
	}
	var stored strings.Builder
	filepath.WalkDir(o.Dir(), func(path string, e fs.DirEntry, err error) error {
		if err == nil && !e.IsDir() {
			b, _ := os.ReadFile(path)
			stored.Write(b)
		}
		return nil
	})
	for where, text := range map[string]string{"log": log.String(), "outbox": stored.String()} {
		for _, secret := range []string{"pwSecret", "tok3nSecret"} {
			if strings.Contains(text, secret) {
				t.Errorf("the %s shows %q:\n%s", where, secret, text)
			}
		}
	}
	// A URL that does not parse is not quoted either.
	err := (&Config{Webhooks: []Webhook{{URL: "https://u:pwSecret@h:bad/x?token=tok3nSecret", Secret: "k"}}}).Validate()
	if err == nil || strings.Contains(err.Error(), "Secret") || !strings.Contains(err.Error(), "notify.webhooks[0].url") {
		t.Errorf("unparsable URL: err = %v", err)
	}
}

// TestSetConfigWhileRunning: serve's reload (SIGHUP) replaces the targets
// of a running dispatcher: events enqueued afterwards go to the new target
// and no longer to the removed one, without restarting Run.
func TestSetConfigWhileRunning(t *testing.T) {
	o := newOutbox(t)
	oldRecv, newRecv := newReceiver(t), newReceiver(t)
	d := dispatcher(o, webhookConfig(oldRecv.srv.URL), io.Discard)
	first := mustEvent(t, testOp("1", "DONE"))
	second := mustEvent(t, testOp("2", "FAILED"))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: not within 10 s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if _, err := o.Enqueue(first); err != nil {
		t.Fatal(err)
	}
	waitFor("the first event reaches the configured webhook", func() bool { return oldRecv.count(first.IdempotencyKey) == 1 })

	cfg := webhookConfig(newRecv.srv.URL)
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	d.SetConfig(cfg)
	if _, err := o.Enqueue(second); err != nil {
		t.Fatal(err)
	}
	waitFor("the second event reaches the new webhook", func() bool { return newRecv.count(second.IdempotencyKey) == 1 })
	if n := oldRecv.count(second.IdempotencyKey); n != 0 {
		t.Errorf("the removed webhook got the event enqueued after the swap %d times", n)
	}
}

// TestSignV1KnownAnswer pins the V1 signature to the recipe README's
// receiver follows, computed there by Python's hmac module:
// hmac.new(secret, b"<t>.<key>.<body>", hashlib.sha256).hexdigest().
func TestSignV1KnownAnswer(t *testing.T) {
	got := SignV1("s3cret", time.Unix(1700000000, 0), "20261206T183526-key", []byte(`{"status":"DONE"}`))
	want := "t=1700000000,v1=f0df577bb0c20fb95f1f9fcc9dfa6d58a050ec5967b817630a1d1d5dc33d3b8e"
	if got != want {
		t.Errorf("SignV1 = %q, want %q", got, want)
	}
}

// TestWarningsForClearTextWebhooks: serve warns at start (and on reload)
// of a webhook whose events and signatures cross the network in clear.
func TestWarningsForClearTextWebhooks(t *testing.T) {
	cfg := &Config{Webhooks: []Webhook{
		{URL: "https://hooks.example/a", Secret: "k"},
		{URL: "http://127.0.0.1:9/b", Secret: "k"},
		{URL: "http://localhost/c", Secret: "k"},
		{URL: "http://u:pw@hooks.example/d?token=t0ken", Secret: "k"},
		{URL: "HTTP://[::1]/e", Secret: "k"},
	}}
	got := cfg.Warnings()
	if len(got) != 1 || !strings.Contains(got[0], "notify.webhooks[3]") || !strings.Contains(got[0], "https://") {
		t.Fatalf("warnings = %q, want one for notify.webhooks[3]", got)
	}
	if strings.Contains(got[0], "pw") || strings.Contains(got[0], "t0ken") {
		t.Errorf("warning shows the URL's secrets: %q", got[0])
	}
}
