package faults

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"

	"github.com/pg-backup-api/pg-backup-api/notify"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// receiver is a webhook endpoint that checks signatures and accepts each
// idempotency key once, as the README tells receivers to.
type receiver struct {
	secret string
	mu     sync.Mutex
	seen   map[string]int // idempotency key -> deliveries received
	events []notify.Event // accepted, in order
	bad    []string       // what was wrong with refused deliveries
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	rc.mu.Lock()
	defer rc.mu.Unlock()
	if !notify.Verify(rc.secret, body, r.Header.Get("X-Pg-Backup-Api-Signature")) {
		rc.bad = append(rc.bad, "bad signature: "+r.Header.Get("X-Pg-Backup-Api-Signature"))
		w.WriteHeader(http.StatusUnauthorized)
		return
	}
	key := r.Header.Get("Idempotency-Key")
	rc.seen[key]++
	if rc.seen[key] == 1 {
		var ev notify.Event
		if err := json.Unmarshal(body, &ev); err != nil {
			rc.bad = append(rc.bad, "body is not an event: "+err.Error())
		}
		rc.events = append(rc.events, ev)
	}
	w.WriteHeader(http.StatusNoContent)
}

func (rc *receiver) snapshot() (events []notify.Event, seen map[string]int, bad []string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	seen = map[string]int{}
	for k, v := range rc.seen {
		seen[k] = v
	}
	return append([]notify.Event(nil), rc.events...), seen, append([]string(nil), rc.bad...)
}

// TestNotificationOfAnEndWhileServeIsDown: serve is killed while an
// operation runs; its runner, a separate process, records the end and
// queues the notification; the next serve delivers it, signed, exactly
// once, and a further restart sends nothing again.
func TestNotificationOfAnEndWhileServeIsDown(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	rc := &receiver{secret: "s3cret-for-hmac", seen: map[string]int{}}
	hook := httptest.NewServer(rc)
	defer hook.Close()
	testenv.WriteFile(t, e.TOML, noBarmanCheck+fmt.Sprintf("[[notify.webhooks]]\nurl = %q\nsecret = %q\ntimeout = \"5s\"\n", hook.URL, rc.secret))
	penv := e.procEnv("FAKE_BARMAN_SLEEP=2")

	s := e.startServe(t, penv)
	id := postCreate(t, s.URL+srvOps, recoveryBody("/srv/restore/notify"))
	testenv.WaitFor(t, 10*time.Second, "the operation to start running", func() bool {
		return e.get(t, srv, id).Phase == ops.PhaseRunning
	})
	s.Cmd.Process.Kill()
	<-s.Done()

	testenv.WaitFor(t, 30*time.Second, "the runner to record the end with serve down", func() bool {
		return e.get(t, srv, id).Status == ops.StatusDone
	})
	time.Sleep(1500 * time.Millisecond) // a dispatcher polls every second: none runs now
	if events, seen, _ := rc.snapshot(); len(events) != 0 || len(seen) != 0 {
		t.Fatalf("a delivery arrived while no serve ran: %v", seen)
	}

	s2 := e.startServe(t, penv)
	testenv.WaitFor(t, 15*time.Second, "the next serve to deliver the queued notification", func() bool {
		events, _, _ := rc.snapshot()
		return len(events) == 1
	})
	events, _, bad := rc.snapshot()
	if len(bad) > 0 {
		t.Errorf("refused deliveries: %q", bad)
	}
	ev := events[0]
	if ev.OperationID != id || ev.Server != srv || ev.Status != "DONE" || ev.Event != "done" || ev.Type != "recovery" {
		t.Errorf("event = %+v; want operation %s of %s, DONE, recovery", ev, id, srv)
	}
	if !strings.HasPrefix(ev.RequestedBy, "http:") {
		t.Errorf("event requested_by = %q; want the HTTP requester", ev.RequestedBy)
	}

	// Nothing is sent twice: not by this serve, nor by the next one.
	time.Sleep(2500 * time.Millisecond)
	s2.Cmd.Process.Kill()
	<-s2.Done()
	e.startServe(t, penv)
	time.Sleep(2500 * time.Millisecond)
	_, seen, _ := rc.snapshot()
	if len(seen) != 1 {
		t.Fatalf("deliveries by key: %v; want one key", seen)
	}
	for key, n := range seen {
		if n != 1 {
			t.Errorf("key %s delivered %d times; an acknowledged delivery must not be sent again", key, n)
		}
	}
}

// TestMetricsCountWhatTheStoreHolds: GET /metrics counts the stored
// operations by scope, type and status as the listing shows them, the
// catalog's last backup, and counts an operation that ends while serve runs.
func TestMetricsCountWhatTheStoreHolds(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{reference: true})
	penv := e.procEnv()
	s := e.startServe(t, penv)
	metricsText := func() string {
		code, _, body := testenv.HTTPDo(t, client, "GET", s.URL+"/metrics", "")
		if code != 200 {
			t.Fatalf("GET /metrics: %d %s", code, body)
		}
		return string(body)
	}
	body := metricsText()
	for _, want := range []string{
		`pg_backup_api_operations{scope="barman",status="DONE",type="config_update"} 2`,
		`pg_backup_api_operations{scope="db_server_two",status="DONE",type="config_switch"} 2`,
		`pg_backup_api_operations{scope="db_server_two",status="FAILED",type="recovery"} 1`,
		`pg_backup_api_queue_depth{scope="db_server_two"} 0`,
		`pg_backup_api_barman_backups{server="db_server_two",status="DONE"} 1`,
		`pg_backup_api_barman_last_backup_end_timestamp_seconds{server="db_server_two"} 1.795594078436364e+09`,
	} {
		if !strings.Contains(body, want+"\n") {
			t.Errorf("/metrics lacks %s", want)
		}
	}
	promtool := exec.Command("promtool", "check", "metrics")
	promtool.Stdin = strings.NewReader(body)
	if out, err := promtool.CombinedOutput(); err != nil {
		t.Errorf("promtool check metrics on serve's /metrics: %v\n%s", err, out)
	}
	// The finished counters exist from the start, at 0 (so that an alert
	// sees the first failure as an increase), and stay 0 for what ended
	// before serve started.
	if !strings.Contains(body, `pg_backup_api_operations_finished_total{scope="db_server_two",status="FAILED",type="recovery"} 0`+"\n") {
		t.Errorf("/metrics lacks the FAILED recovery counter at 0 before any failure")
	}
	for _, line := range strings.Split(body, "\n") {
		if strings.HasPrefix(line, "pg_backup_api_operations_finished_total{") && !strings.HasSuffix(line, "} 0") {
			t.Errorf("operations that ended before serve started were counted as finished while it ran: %s", line)
		}
	}

	id := postCreate(t, s.URL+srvOps, recoveryBody("/srv/restore/metrics"))
	testenv.WaitFor(t, 15*time.Second, "the recovery to end", func() bool { return e.get(t, srv, id).Status == ops.StatusDone })
	testenv.WaitFor(t, 5*time.Second, "the finished counter", func() bool {
		return strings.Contains(metricsText(), `pg_backup_api_operations_finished_total{scope="db_server_two",status="DONE",type="recovery"} 1`+"\n")
	})
	if body := metricsText(); !strings.Contains(body, `pg_backup_api_http_requests_total{code="202",route="POST /servers/{name}/operations"} 1`) {
		t.Errorf("/metrics does not count the POST by its route pattern:\n%s", testenv.GrepLines(body, "http_requests_total"))
	}
}
