package metrics

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

type fakeOps struct {
	counts []Count
	queues []Queue
	err    error
	calls  int
}

func (f *fakeOps) OperationCounts() ([]Count, error) {
	f.calls++
	return f.counts, f.err
}
func (f *fakeOps) Queues() ([]Queue, error) { return f.queues, f.err }

type fakeCatalog struct {
	mu      sync.Mutex
	servers []ServerCatalog
	err     error
	reads   int
}

func (f *fakeCatalog) CatalogStats() ([]ServerCatalog, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.reads++
	return f.servers, f.err
}

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

var t0 = time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)

func newTest(t testing.TB, opts Options) *Metrics {
	t.Helper()
	m, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestOperationsAndQueuesReadAtScrape(t *testing.T) {
	src := &fakeOps{
		counts: []Count{
			{Scope: "pg", Type: "recovery", Status: "DONE", N: 3},
			{Scope: "pg", Type: "recovery", Status: "FAILED", N: 1},
			{Scope: "", Type: "config_update", Status: "IN_PROGRESS", N: 2},
			// Twice the same labels must add up, not fail the scrape.
			{Scope: "pg", Type: "recovery", Status: "DONE", N: 2},
		},
		queues: []Queue{
			{Scope: "pg", Depth: 2, OldestQueued: t0.Add(-90 * time.Second)},
			{Scope: "", Depth: 0},
		},
	}
	c := &clock{t0}
	m := newTest(t, Options{Operations: src, Now: c.now})
	want := `
# HELP pg_backup_api_operations Operations in the store, by scope (server name, or "barman" for the instance), type and status.
# TYPE pg_backup_api_operations gauge
pg_backup_api_operations{scope="barman",status="DONE",type="config_update"} 0
pg_backup_api_operations{scope="barman",status="FAILED",type="config_update"} 0
pg_backup_api_operations{scope="barman",status="IN_PROGRESS",type="config_update"} 2
pg_backup_api_operations{scope="pg",status="DONE",type="backup"} 0
pg_backup_api_operations{scope="pg",status="DONE",type="config_switch"} 0
pg_backup_api_operations{scope="pg",status="DONE",type="delete"} 0
pg_backup_api_operations{scope="pg",status="DONE",type="drill"} 0
pg_backup_api_operations{scope="pg",status="DONE",type="keep"} 0
pg_backup_api_operations{scope="pg",status="DONE",type="recovery"} 5
pg_backup_api_operations{scope="pg",status="FAILED",type="backup"} 0
pg_backup_api_operations{scope="pg",status="FAILED",type="config_switch"} 0
pg_backup_api_operations{scope="pg",status="FAILED",type="delete"} 0
pg_backup_api_operations{scope="pg",status="FAILED",type="drill"} 0
pg_backup_api_operations{scope="pg",status="FAILED",type="keep"} 0
pg_backup_api_operations{scope="pg",status="FAILED",type="recovery"} 1
pg_backup_api_operations{scope="pg",status="IN_PROGRESS",type="backup"} 0
pg_backup_api_operations{scope="pg",status="IN_PROGRESS",type="config_switch"} 0
pg_backup_api_operations{scope="pg",status="IN_PROGRESS",type="delete"} 0
pg_backup_api_operations{scope="pg",status="IN_PROGRESS",type="drill"} 0
pg_backup_api_operations{scope="pg",status="IN_PROGRESS",type="keep"} 0
pg_backup_api_operations{scope="pg",status="IN_PROGRESS",type="recovery"} 0
# HELP pg_backup_api_queue_depth Operations registered and waiting for their runner, by scope.
# TYPE pg_backup_api_queue_depth gauge
pg_backup_api_queue_depth{scope="barman"} 0
pg_backup_api_queue_depth{scope="pg"} 2
# HELP pg_backup_api_queue_oldest_age_seconds How long the longest-waiting queued operation of a scope has waited; 0 when none waits.
# TYPE pg_backup_api_queue_oldest_age_seconds gauge
pg_backup_api_queue_oldest_age_seconds{scope="barman"} 0
pg_backup_api_queue_oldest_age_seconds{scope="pg"} 90
# HELP pg_backup_api_metrics_source_up 1 when the last read of a source (operations, catalog, wal) succeeded, 0 when it failed and its series are missing or stale.
# TYPE pg_backup_api_metrics_source_up gauge
pg_backup_api_metrics_source_up{source="operations"} 1
`
	names := []string{"pg_backup_api_operations", "pg_backup_api_queue_depth", "pg_backup_api_queue_oldest_age_seconds", "pg_backup_api_metrics_source_up"}
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}

	// The gauge follows the source at each scrape: nothing is cached.
	src.counts = []Count{{Scope: "pg", Type: "recovery", Status: "DONE", N: 7}}
	c.t = c.t.Add(10 * time.Second)
	want2 := `
# HELP pg_backup_api_queue_oldest_age_seconds How long the longest-waiting queued operation of a scope has waited; 0 when none waits.
# TYPE pg_backup_api_queue_oldest_age_seconds gauge
pg_backup_api_queue_oldest_age_seconds{scope="barman"} 0
pg_backup_api_queue_oldest_age_seconds{scope="pg"} 100
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want2), "pg_backup_api_queue_oldest_age_seconds"); err != nil {
		t.Fatal(err)
	}
	body, _ := scrape(t, m)
	for _, line := range []string{
		`pg_backup_api_operations{scope="pg",status="DONE",type="recovery"} 7`,
		`pg_backup_api_operations{scope="pg",status="FAILED",type="recovery"} 0`, // gone from the store, still there
		`pg_backup_api_operations{scope="barman",status="IN_PROGRESS",type="config_update"} 0`,
	} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("scrape lacks %s:\n%s", line, grep(body, "pg_backup_api_operations{"))
		}
	}
}

func TestOperationSourceErrorKeepsScrapeAlive(t *testing.T) {
	src := &fakeOps{err: errors.New("index is rebuilding")}
	var logs bytes.Buffer
	m := newTest(t, Options{Operations: src, Version: "1.2.3", Log: slogTo(&logs)})
	body, code := scrape(t, m)
	if code != http.StatusOK {
		t.Fatalf("scrape answered %d, want 200 with the other series", code)
	}
	if !strings.Contains(body, `pg_backup_api_metrics_source_up{source="operations"} 0`) {
		t.Errorf("source_up does not report the failure:\n%s", grep(body, "source_up"))
	}
	if strings.Contains(body, "pg_backup_api_operations{") {
		t.Errorf("a failed source still produced series:\n%s", grep(body, "pg_backup_api_operations{"))
	}
	if !strings.Contains(body, `pg_backup_api_build_info{barman_version="",version="1.2.3"} 1`) {
		t.Errorf("build_info missing after a source failure")
	}
	if !strings.Contains(logs.String(), "index is rebuilding") {
		t.Errorf("the source's error was not logged: %q", logs.String())
	}
}

func TestFinishedCounterAndDurationHistogram(t *testing.T) {
	m := newTest(t, Options{})
	scrape(t, m) // ends before the first scrape are held: see TestEndsBeforeTheFirstScrapeAreHeld
	m.ObserveFinished("pg", "recovery", "DONE", 40*time.Minute)
	m.ObserveFinished("pg", "recovery", "FAILED", 3*time.Second)
	m.ObserveFinished("", "config_update", "DONE", 500*time.Millisecond)
	m.ObserveFinished("pg", "recovery", "DONE", 2*time.Hour)

	if got := testutil.ToFloat64(m.finished.WithLabelValues("pg", "recovery", "DONE")); got != 2 {
		t.Errorf("finished{pg,recovery,DONE} = %v, want 2", got)
	}
	if got := testutil.ToFloat64(m.finished.WithLabelValues("barman", "config_update", "DONE")); got != 1 {
		t.Errorf("instance scope is not labelled %q: got %v", InstanceScope, got)
	}
	// The three observed and the instance's config_update FAILED, at 0
	// since the first scrape.
	if n := testutil.CollectAndCount(m.finished); n != 4 {
		t.Errorf("finished has %d series, want 4", n)
	}
	body, _ := scrape(t, m)
	for _, line := range []string{
		`pg_backup_api_operation_duration_seconds_bucket{type="recovery",le="5"} 1`,
		`pg_backup_api_operation_duration_seconds_bucket{type="recovery",le="3600"} 2`,
		`pg_backup_api_operation_duration_seconds_bucket{type="recovery",le="7200"} 3`,
		`pg_backup_api_operation_duration_seconds_bucket{type="recovery",le="+Inf"} 3`,
		`pg_backup_api_operation_duration_seconds_sum{type="recovery"} 9603`,
		`pg_backup_api_operation_duration_seconds_count{type="config_update"} 1`,
		`pg_backup_api_operation_duration_seconds_bucket{type="config_update",le="1"} 1`,
	} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("exposition lacks %q; histogram is:\n%s", line, grep(body, "duration_seconds"))
		}
	}
}

func TestHTTPMetricsUseRoutePatterns(t *testing.T) {
	m := newTest(t, Options{})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /operations/{id}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("id") == "missing" {
			http.Error(w, "no", http.StatusNotFound)
			return
		}
		io.WriteString(w, "{}")
	})
	mux.HandleFunc("POST /operations", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusAccepted) })
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {}) // writes nothing: 200
	h := m.Middleware(mux, nil)

	for _, req := range []struct{ method, path string }{
		{"GET", "/operations/20250301T120000"},
		{"GET", "/operations/20250301T120001"},
		{"GET", "/operations/missing"},
		{"POST", "/operations"},
		{"GET", "/status"},
		{"GET", "/wp-admin/../etc/passwd"},
		{"GET", "/random-scanner-1"},
		{"GET", "/random-scanner-2"},
	} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest(req.method, req.path, nil))
	}
	want := map[[2]string]float64{
		{"GET /operations/{id}", "200"}: 2,
		{"GET /operations/{id}", "404"}: 1,
		{"POST /operations", "202"}:     1,
		{"GET /status", "200"}:          1,
	}
	for k, n := range want {
		if got := testutil.ToFloat64(m.httpRequests.WithLabelValues(k[0], k[1])); got != n {
			t.Errorf("http_requests_total{route=%q,code=%q} = %v, want %v", k[0], k[1], got, n)
		}
	}
	body, _ := scrape(t, m)
	if strings.Contains(body, "scanner") || strings.Contains(body, "passwd") || strings.Contains(body, "20250301") {
		t.Errorf("a raw path leaked into the labels:\n%s", grep(body, "http_request"))
	}
	var unmatched float64
	for _, code := range []string{"404", "301", "307"} {
		unmatched += testutil.ToFloat64(m.httpRequests.WithLabelValues(Unmatched, code))
	}
	if unmatched != 3 {
		t.Errorf("unmatched requests counted %v times, want 3:\n%s", unmatched, grep(body, "http_requests_total"))
	}
	if got := testutil.CollectAndCount(m.httpDuration); got != 4 {
		t.Errorf("duration histogram has %d routes, want 4 (3 patterns + unmatched)", got)
	}
}

func TestRouteLabelsAreBounded(t *testing.T) {
	allowed := newTest(t, Options{Routes: []string{"GET /status"}})
	allowed.ObserveRequest("GET /status", 200, time.Millisecond)
	allowed.ObserveRequest("/operations/abc", 200, time.Millisecond) // a raw path by mistake
	if got := testutil.ToFloat64(allowed.httpRequests.WithLabelValues(Unmatched, "200")); got != 1 {
		t.Errorf("a route outside Options.Routes was not counted as %q", Unmatched)
	}

	open := newTest(t, Options{})
	const distinct = maxObservers + 500 // past the cache of labelled children too
	for i := range distinct {
		open.ObserveRequest(fmt.Sprintf("/raw/%d", i), 200, 0)
	}
	if n := testutil.CollectAndCount(open.httpRequests); n != maxRoutes+1 {
		t.Errorf("%d route series after %d distinct routes, want at most %d", n, distinct, maxRoutes+1)
	}
	total := 0.0
	for _, route := range append(slices.Collect(maps.Keys(open.routes)), Unmatched) {
		total += testutil.ToFloat64(open.httpRequests.WithLabelValues(route, "200"))
	}
	if total != distinct {
		t.Errorf("%v requests counted, want %d: none may be lost beyond the cache bound", total, distinct)
	}
}

// BenchmarkObserveRequest is the per-request cost every API request pays.
func BenchmarkObserveRequest(b *testing.B) {
	m := newTest(b, Options{Routes: []string{"GET /status"}})
	b.ReportAllocs()
	for b.Loop() {
		m.ObserveRequest("GET /status", 200, time.Millisecond)
	}
}

func TestMiddlewareCountsPanics(t *testing.T) {
	m := newTest(t, Options{})
	h := m.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }), func(*http.Request) string { return "GET /boom" })
	func() {
		defer func() {
			if recover() == nil {
				t.Error("the panic was swallowed; the server's own recovery must still see it")
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/boom", nil))
	}()
	if got := testutil.ToFloat64(m.httpRequests.WithLabelValues("GET /boom", "500")); got != 1 {
		t.Errorf("panicking request counted %v times as 500, want 1", got)
	}
}

func TestCatalogIsCachedForTTL(t *testing.T) {
	end := time.Date(2025, 2, 28, 23, 30, 0, 0, time.UTC)
	cat := &fakeCatalog{servers: []ServerCatalog{
		{Server: "pg", Backups: map[string]int{"DONE": 3, "FAILED": 1}, LastBackupEnd: end, LastBackupSize: 123456789, RecoveryWindowStart: end.Add(-72 * time.Hour)},
		{Server: "empty", Backups: map[string]int{}},
	}}
	c := &clock{t0}
	m := newTest(t, Options{Catalog: cat, CatalogTTL: 30 * time.Second, Now: c.now})
	want := fmt.Sprintf(`
# HELP pg_backup_api_barman_backups Backups in Barman's catalog, by server and Barman status.
# TYPE pg_backup_api_barman_backups gauge
pg_backup_api_barman_backups{server="empty",status="DONE"} 0
pg_backup_api_barman_backups{server="empty",status="EMPTY"} 0
pg_backup_api_barman_backups{server="empty",status="FAILED"} 0
pg_backup_api_barman_backups{server="empty",status="STARTED"} 0
pg_backup_api_barman_backups{server="empty",status="SYNCING"} 0
pg_backup_api_barman_backups{server="empty",status="WAITING_FOR_WALS"} 0
pg_backup_api_barman_backups{server="pg",status="DONE"} 3
pg_backup_api_barman_backups{server="pg",status="EMPTY"} 0
pg_backup_api_barman_backups{server="pg",status="FAILED"} 1
pg_backup_api_barman_backups{server="pg",status="STARTED"} 0
pg_backup_api_barman_backups{server="pg",status="SYNCING"} 0
pg_backup_api_barman_backups{server="pg",status="WAITING_FOR_WALS"} 0
# HELP pg_backup_api_barman_last_backup_end_timestamp_seconds End time of the server's newest DONE backup, in seconds since the epoch; 0 when it has none.
# TYPE pg_backup_api_barman_last_backup_end_timestamp_seconds gauge
pg_backup_api_barman_last_backup_end_timestamp_seconds{server="empty"} 0
pg_backup_api_barman_last_backup_end_timestamp_seconds{server="pg"} %d
# HELP pg_backup_api_barman_last_backup_size_bytes Size of the server's newest DONE backup; 0 when it has none.
# TYPE pg_backup_api_barman_last_backup_size_bytes gauge
pg_backup_api_barman_last_backup_size_bytes{server="empty"} 0
pg_backup_api_barman_last_backup_size_bytes{server="pg"} 1.23456789e+08
# HELP pg_backup_api_barman_recovery_window_start_timestamp_seconds Earliest time the server can be recovered to, in seconds since the epoch; 0 when it has no DONE backup.
# TYPE pg_backup_api_barman_recovery_window_start_timestamp_seconds gauge
pg_backup_api_barman_recovery_window_start_timestamp_seconds{server="empty"} 0
pg_backup_api_barman_recovery_window_start_timestamp_seconds{server="pg"} %d
`, end.Unix(), end.Add(-72*time.Hour).Unix())
	names := []string{"pg_backup_api_barman_backups", "pg_backup_api_barman_last_backup_end_timestamp_seconds",
		"pg_backup_api_barman_last_backup_size_bytes", "pg_backup_api_barman_recovery_window_start_timestamp_seconds"}
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), names...); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		c.t = c.t.Add(5 * time.Second)
		scrape(t, m)
	}
	if cat.reads != 1 {
		t.Fatalf("catalog read %d times within its TTL, want 1", cat.reads)
	}

	// After the TTL a failed read keeps the last good values and says so.
	cat.err = errors.New("permission denied")
	c.t = c.t.Add(10 * time.Second)
	body, _ := scrape(t, m)
	if cat.reads != 2 {
		t.Fatalf("catalog read %d times after its TTL, want 2", cat.reads)
	}
	if !strings.Contains(body, `pg_backup_api_metrics_source_up{source="catalog"} 0`) {
		t.Errorf("a failed catalog read is not reported:\n%s", grep(body, "source_up"))
	}
	if !strings.Contains(body, `pg_backup_api_barman_backups{server="pg",status="DONE"} 3`) {
		t.Errorf("a failed catalog read dropped the last good values")
	}
	// ...and is not retried on every scrape.
	scrape(t, m)
	if cat.reads != 2 {
		t.Errorf("a failing catalog was read again before its TTL: %d reads", cat.reads)
	}
	cat.err = nil
	cat.servers[0].Backups["DONE"] = 4
	c.t = c.t.Add(31 * time.Second)
	body, _ = scrape(t, m)
	if !strings.Contains(body, `pg_backup_api_barman_backups{server="pg",status="DONE"} 4`) ||
		!strings.Contains(body, `pg_backup_api_metrics_source_up{source="catalog"} 1`) {
		t.Errorf("the catalog did not recover:\n%s", grep(body, "barman_backups|source_up"))
	}
}

func TestBuildInfoAndRuntimeCollectors(t *testing.T) {
	m := newTest(t, Options{Version: "0.9.0", BarmanVersion: "3.14.0"})
	body, _ := scrape(t, m)
	for _, want := range []string{
		`pg_backup_api_build_info{barman_version="3.14.0",version="0.9.0"} 1`,
		"go_goroutines ",
		"go_memstats_alloc_bytes ",
		"process_cpu_seconds_total ",
		"process_resident_memory_bytes ",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("exposition lacks %q", want)
		}
	}
}

// TestPromtoolAcceptsExposition runs Prometheus's own linter on a full
// scrape. promtool comes with Debian's "prometheus" package; CI installs it,
// so its absence is a failure rather than a reason to skip.
func TestPromtoolAcceptsExposition(t *testing.T) {
	promtool, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: install Debian's prometheus package (apt-get install prometheus)")
	}
	m := full(t, 50, 5)
	m.ObserveFinished("pg1", "recovery", "DONE", time.Hour)
	m.ObserveRequest("GET /status", 200, time.Millisecond)
	body, _ := scrape(t, m)
	cmd := exec.Command(promtool, "check", "metrics")
	cmd.Stdin = strings.NewReader(body)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("promtool check metrics: %v\n%s", err, out)
	}
	// promtool's only negative evidence is its exit code; prove it reads
	// what it is given by feeding it a counter without _total.
	bad := exec.Command(promtool, "check", "metrics")
	bad.Stdin = strings.NewReader("# HELP x_requests a\n# TYPE x_requests counter\nx_requests 1\n")
	if out, err := bad.CombinedOutput(); err == nil {
		t.Fatalf("promtool accepted a counter without _total; the check above proves nothing\n%s", out)
	}
}

// full is a Metrics over n operations spread over servers servers, each with
// a catalog, as a busy Barman host would have.
func full(t testing.TB, n, servers int) *Metrics {
	src := &benchOps{}
	types := []string{"recovery", "config_switch", "config_update"}
	statuses := []string{"DONE", "FAILED", "IN_PROGRESS"}
	for i := range n {
		src.ops = append(src.ops, benchOp{
			scope:  fmt.Sprintf("pg%d", i%servers),
			typ:    types[i%len(types)],
			status: statuses[(i/len(types))%len(statuses)],
			queued: t0.Add(-time.Duration(i) * time.Second),
		})
	}
	cat := &fakeCatalog{}
	for i := range servers {
		cat.servers = append(cat.servers, ServerCatalog{
			Server:              fmt.Sprintf("pg%d", i),
			Backups:             map[string]int{"DONE": 30, "FAILED": 2},
			LastBackupEnd:       t0.Add(-time.Hour),
			LastBackupSize:      1 << 40,
			RecoveryWindowStart: t0.Add(-30 * 24 * time.Hour),
		})
	}
	m, err := New(Options{Operations: src, Catalog: cat, Version: "test", BarmanVersion: "3.14.0", Now: func() time.Time { return t0 }})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

type benchOp struct {
	scope, typ, status string
	queued             time.Time
}

// benchOps aggregates on every call, so the benchmark charges the scrape
// with the work an index that keeps no running totals would do.
type benchOps struct{ ops []benchOp }

func (b *benchOps) OperationCounts() ([]Count, error) {
	sums := map[countKey]int{}
	for _, o := range b.ops {
		sums[countKey{o.scope, o.typ, o.status}]++
	}
	out := make([]Count, 0, len(sums))
	for k, n := range sums {
		out = append(out, Count{Scope: k.scope, Type: k.typ, Status: k.status, N: n})
	}
	return out, nil
}

func (b *benchOps) Queues() ([]Queue, error) {
	qs := map[string]*Queue{}
	for _, o := range b.ops {
		if o.status != "IN_PROGRESS" {
			continue
		}
		q := qs[o.scope]
		if q == nil {
			q = &Queue{Scope: o.scope}
			qs[o.scope] = q
		}
		q.Depth++
		if q.OldestQueued.IsZero() || o.queued.Before(q.OldestQueued) {
			q.OldestQueued = o.queued
		}
	}
	out := make([]Queue, 0, len(qs))
	for _, q := range qs {
		out = append(out, *q)
	}
	return out, nil
}

// BenchmarkScrape is one full /metrics scrape, runtime and process
// collectors included, with 10,000 operations and 20 servers. The target is
// well under 20 ms per scrape.
func BenchmarkScrape(b *testing.B) {
	m := full(b, 10000, 20)
	h := m.Handler()
	for range 20 {
		m.ObserveRequest("GET /status", 200, time.Millisecond)
		m.ObserveFinished("pg1", "recovery", "DONE", time.Minute)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
		if rec.Code != 200 {
			b.Fatalf("scrape answered %d", rec.Code)
		}
	}
}

func scrape(t testing.TB, m *Metrics) (string, int) {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String(), rec.Code
}

func grep(body, pattern string) string {
	var b strings.Builder
	for line := range strings.SplitSeq(body, "\n") {
		for p := range strings.SplitSeq(pattern, "|") {
			if strings.Contains(line, p) {
				b.WriteString(line + "\n")
				break
			}
		}
	}
	return b.String()
}

func slogTo(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// TestEndsBeforeTheFirstScrapeAreHeld: an operation that fails before
// Prometheus first scrapes a fresh serve shows at 0 on that scrape and at 1
// on the next, so increase() sees the first failure after a start; a
// HEAD does not count as that scrape, and later ends count at once.
func TestEndsBeforeTheFirstScrapeAreHeld(t *testing.T) {
	src := &fakeOps{queues: []Queue{{Scope: ""}, {Scope: "pg"}}}
	m := newTest(t, Options{Operations: src})
	const failed = `pg_backup_api_operations_finished_total{scope="pg",status="FAILED",type="recovery"} `
	const count = `pg_backup_api_operation_duration_seconds_count{type="recovery"} `
	m.ObserveFinished("pg", "recovery", "FAILED", time.Minute)

	head := httptest.NewRecorder()
	m.Handler().ServeHTTP(head, httptest.NewRequest("HEAD", "/metrics", nil))
	for i, want := range []string{"0", "1"} {
		body, _ := scrape(t, m)
		if !strings.Contains(body, failed+want+"\n") || !strings.Contains(body, count+want+"\n") {
			t.Errorf("scrape %d: want the failure counted %s:\n%s", i+1, want, grep(body, failed+"|"+count))
		}
	}
	m.ObserveFinished("pg", "recovery", "FAILED", time.Minute)
	if body, _ := scrape(t, m); !strings.Contains(body, failed+"2\n") {
		t.Errorf("an end after the first scrape is not counted at once:\n%s", grep(body, failed))
	}
}

// TestHeldEndsAreBounded: a serve that nobody scrapes holds at most maxHeld
// ends; those beyond are counted at once rather than kept in memory.
func TestHeldEndsAreBounded(t *testing.T) {
	src := &fakeOps{queues: []Queue{{Scope: "pg"}}}
	m := newTest(t, Options{Operations: src})
	for range maxHeld + 3 {
		m.ObserveFinished("pg", "backup", "DONE", time.Second)
	}
	if got := len(m.held); got != maxHeld {
		t.Errorf("%d ends held, want at most %d", got, maxHeld)
	}
	const done = `pg_backup_api_operations_finished_total{scope="pg",status="DONE",type="backup"} `
	body, _ := scrape(t, m)
	if !strings.Contains(body, done+"3\n") {
		t.Errorf("the first scrape shows the ends past the bound, want 3:\n%s", grep(body, done))
	}
	if body, _ := scrape(t, m); !strings.Contains(body, done+fmt.Sprint(maxHeld+3)+"\n") {
		t.Errorf("the second scrape shows every end, want %d:\n%s", maxHeld+3, grep(body, done))
	}
}
