package metrics

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestFirstFailureIsAnIncrease: the counter an alert watches with
// increase() exists at 0 for every configured server, type and final
// status before anything ends, so the first FAILED after a start is a step
// from 0 to 1. Servers added to the configuration join on the next scrape.
// On the old code the FAILED series was born at 1.
func TestFirstFailureIsAnIncrease(t *testing.T) {
	src := &fakeOps{queues: []Queue{{Scope: ""}, {Scope: "pg"}}}
	m := newTest(t, Options{Operations: src})
	body, _ := scrape(t, m)
	for _, line := range []string{
		`pg_backup_api_operations_finished_total{scope="pg",status="FAILED",type="recovery"} 0`,
		`pg_backup_api_operations_finished_total{scope="pg",status="DONE",type="backup"} 0`,
		`pg_backup_api_operations_finished_total{scope="pg",status="FAILED",type="config_switch"} 0`,
		`pg_backup_api_operations_finished_total{scope="barman",status="FAILED",type="config_update"} 0`,
		`pg_backup_api_operation_duration_seconds_count{type="recovery"} 0`,
	} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("before any event, the scrape lacks %s:\n%s", line, grep(body, "finished_total|duration_seconds_count"))
		}
	}
	if strings.Contains(body, `scope="barman",status="FAILED",type="recovery"`) {
		t.Errorf("the instance reports a type it never runs:\n%s", grep(body, `scope="barman"`))
	}
	m.ObserveFinished("pg", "recovery", "FAILED", time.Minute)
	src.queues = append(src.queues, Queue{Scope: "db2"})
	body, _ = scrape(t, m)
	for _, line := range []string{
		`pg_backup_api_operations_finished_total{scope="pg",status="FAILED",type="recovery"} 1`,
		`pg_backup_api_operations_finished_total{scope="db2",status="FAILED",type="recovery"} 0`,
		`pg_backup_api_operations{scope="db2",status="FAILED",type="recovery"} 0`,
	} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("scrape lacks %s:\n%s", line, grep(body, "finished_total|operations{"))
		}
	}
}

// TestCatalogFollowsTheConfiguredServers: a server added to Barman's
// configuration is read at the next scrape rather than after the TTL, and
// reports zeros until it has backups; a removed one goes.
func TestCatalogFollowsTheConfiguredServers(t *testing.T) {
	src := &fakeOps{queues: []Queue{{Scope: ""}, {Scope: "pg"}}}
	cat := &fakeCatalog{servers: []ServerCatalog{{Server: "pg", Backups: map[string]int{"DONE": 1}, LastBackupEnd: t0}}}
	c := &clock{t0}
	m := newTest(t, Options{Operations: src, Catalog: cat, Now: c.now})
	scrape(t, m)
	src.queues = []Queue{{Scope: ""}, {Scope: "db2"}}
	c.t = c.t.Add(time.Second)
	body, _ := scrape(t, m)
	if cat.reads != 2 {
		t.Errorf("catalog read %d times; a change of servers must re-read it at once", cat.reads)
	}
	for _, line := range []string{
		`pg_backup_api_barman_backups{server="db2",status="FAILED"} 0`,
		`pg_backup_api_barman_last_backup_end_timestamp_seconds{server="db2"} 0`,
		`pg_backup_api_barman_recovery_window_start_timestamp_seconds{server="db2"} 0`,
	} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("scrape lacks %s:\n%s", line, grep(body, "barman_"))
		}
	}
	if strings.Contains(body, `server="pg"`) {
		t.Errorf("a server removed from the configuration is still reported:\n%s", grep(body, `server="pg"`))
	}
}

type fakeWAL struct {
	list  []ServerWAL
	err   error
	reads int
}

func (f *fakeWAL) LastArchivedWAL() ([]ServerWAL, error) { f.reads++; return f.list, f.err }

func TestLastArchivedWAL(t *testing.T) {
	src := &fakeOps{queues: []Queue{{Scope: ""}, {Scope: "pg"}, {Scope: "quiet"}}}
	wal := &fakeWAL{list: []ServerWAL{{Server: "pg", LastArchived: t0.Add(-time.Minute)}, {Server: "quiet"}}}
	c := &clock{t0}
	m := newTest(t, Options{Operations: src, Now: c.now})
	m.WatchWAL(wal)
	body, _ := scrape(t, m)
	for _, line := range []string{
		`pg_backup_api_barman_last_wal_archived_timestamp_seconds{server="pg"} 1.74083034e+09`,
		`pg_backup_api_barman_last_wal_archived_timestamp_seconds{server="quiet"} 0`,
		`pg_backup_api_metrics_source_up{source="wal"} 1`,
	} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("scrape lacks %s:\n%s", line, grep(body, "wal"))
		}
	}
	c.t = c.t.Add(5 * time.Second)
	scrape(t, m)
	if wal.reads != 1 {
		t.Errorf("WAL databases read %d times within the TTL, want 1", wal.reads)
	}
	wal.err = errors.New("permission denied")
	c.t = c.t.Add(time.Minute)
	body, _ = scrape(t, m)
	if !strings.Contains(body, `pg_backup_api_metrics_source_up{source="wal"} 0`) ||
		!strings.Contains(body, `pg_backup_api_barman_last_wal_archived_timestamp_seconds{server="pg"} 1.74083034e+09`) {
		t.Errorf("a failed read must say so and keep the last values:\n%s", grep(body, "wal"))
	}
}

// fakeChecker answers from results; a server in hang blocks until its
// context ends. It records how many checks ran at once.
type fakeChecker struct {
	servers []string
	results map[string][]CheckResult
	hang    map[string]bool
	calls   atomic.Int64
	running atomic.Int64
	maxRun  atomic.Int64
}

func (f *fakeChecker) Servers() ([]string, error) { return f.servers, nil }

func (f *fakeChecker) Check(ctx context.Context, server string) ([]CheckResult, error) {
	f.calls.Add(1)
	n := f.running.Add(1)
	defer f.running.Add(-1)
	for {
		if old := f.maxRun.Load(); n <= old || f.maxRun.CompareAndSwap(old, n) {
			break
		}
	}
	if f.hang[server] {
		<-ctx.Done()
		return nil, errors.New("barman check " + server + " did not finish and was killed")
	}
	time.Sleep(10 * time.Millisecond)
	return f.results[server], nil
}

// TestChecksRunInTheBackground: `barman check` runs for each server in
// turn, never two at once and never because of a scrape; every server
// reports 0 failing checks before its first run; a hung check is killed at
// the timeout and counted as failed.
func TestChecksRunInTheBackground(t *testing.T) {
	src := &fakeOps{queues: []Queue{{Scope: ""}, {Scope: "bad"}, {Scope: "good"}, {Scope: "hung"}, {Scope: "new"}}}
	m := newTest(t, Options{Operations: src})
	checker := &fakeChecker{
		servers: []string{"good", "bad", "hung"},
		results: map[string][]CheckResult{
			"good": {{Name: "PostgreSQL", OK: true}, {Name: "WAL archive", OK: true}},
			"bad":  {{Name: "PostgreSQL", OK: true}, {Name: "WAL archive", OK: false}, {Name: "backup maximum age", OK: false}},
		},
		hang: map[string]bool{"hung": true},
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if err := m.StartChecks(ctx, checker, time.Hour, 200*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	body, _ := scrape(t, m)
	if !strings.Contains(body, `pg_backup_api_barman_checks_failed{server="new"} 0`+"\n") {
		t.Errorf("a server not checked yet has no checks_failed series:\n%s", grep(body, "checks_failed"))
	}
	cc := checkCollectorOf(t, m)
	select {
	case <-cc.roundDone:
	case <-time.After(10 * time.Second):
		t.Fatal("the first round of checks did not end; the hung check was not stopped")
	}
	calls := checker.calls.Load()
	for range 5 {
		scrape(t, m)
	}
	if got := checker.calls.Load(); got != calls || calls != 3 {
		t.Errorf("checks ran %d times, then %d after 5 scrapes; want 3 and no more", calls, got)
	}
	if checker.maxRun.Load() != 1 {
		t.Errorf("%d checks ran at once, want one Barman at a time", checker.maxRun.Load())
	}
	body, _ = scrape(t, m)
	for _, line := range []string{
		`pg_backup_api_barman_check_ok{check="PostgreSQL",server="good"} 1`,
		`pg_backup_api_barman_check_ok{check="WAL archive",server="bad"} 0`,
		`pg_backup_api_barman_check_ok{check="barman check",server="hung"} 0`,
		`pg_backup_api_barman_checks_failed{server="good"} 0`,
		`pg_backup_api_barman_checks_failed{server="bad"} 2`,
		`pg_backup_api_barman_checks_failed{server="hung"} 1`,
		`pg_backup_api_barman_checks_failed{server="new"} 0`,
		`pg_backup_api_barman_check_last_run_timestamp_seconds{server="new"} 0`,
	} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("scrape lacks %s:\n%s", line, grep(body, "barman_check"))
		}
	}
	if strings.Contains(body, `pg_backup_api_barman_check_last_run_timestamp_seconds{server="good"} 0`) ||
		strings.Contains(body, `pg_backup_api_barman_check_duration_seconds{server="hung"} 0`+"\n") {
		t.Errorf("a server checked has no time or duration:\n%s", grep(body, "last_run|check_duration"))
	}
}

func checkCollectorOf(t *testing.T, m *Metrics) *checkCollector {
	t.Helper()
	m.checksMu.Lock()
	defer m.checksMu.Unlock()
	if m.checks == nil {
		t.Fatal("StartChecks registered no collector")
	}
	return m.checks
}
