package cli

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// fakeDrills is a store of operations in memory with a clock the test
// moves: what the scheduler reads and creates through.
type fakeDrills struct {
	mu      sync.Mutex
	now     time.Time
	ops     map[string][]*ops.Operation
	refuse  error // Create fails with it when set
	creates int
	who     []string
}

func newFakeDrills() *fakeDrills {
	return &fakeDrills{now: time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC), ops: map[string][]*ops.Operation{}}
}

func (f *fakeDrills) clock() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.now
}

func (f *fakeDrills) advance(d time.Duration) {
	f.mu.Lock()
	f.now = f.now.Add(d)
	f.mu.Unlock()
}

func (f *fakeDrills) List(_ context.Context, server string, _ ops.ListOptions) ([]*ops.Operation, []ops.Skipped, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []*ops.Operation
	for _, op := range f.ops[server] {
		c := *op
		out = append(out, &c)
	}
	return out, nil, nil
}

func (f *fakeDrills) Create(_ context.Context, server string, payload *pyjson.Object, who ops.Requester) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.refuse != nil {
		return "", f.refuse
	}
	if typ, _ := payload.Get("type"); typ != "drill" {
		return "", fmt.Errorf("payload type %v, want drill", typ)
	}
	f.creates++
	f.who = append(f.who, who.Name)
	id := f.now.Format("20060102T150405")
	f.ops[server] = append(f.ops[server], &ops.Operation{ID: id, Server: server, Type: ops.DrillOp, Status: ops.StatusInProgress, Phase: ops.PhaseQueued, StartTime: f.now})
	return id, nil
}

// add records an operation created at the fake clock minus ago.
func (f *fakeDrills) add(server string, typ ops.Type, status ops.Status, ago time.Duration) *ops.Operation {
	f.mu.Lock()
	defer f.mu.Unlock()
	start := f.now.Add(-ago)
	op := &ops.Operation{ID: start.Format("20060102T150405"), Server: server, Type: typ, Status: status, StartTime: start}
	if status != ops.StatusInProgress {
		op.EndTime = start.Add(time.Minute)
	}
	f.ops[server] = append(f.ops[server], op)
	return op
}

// finishAll ends every operation as DONE.
func (f *fakeDrills) finishAll() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, list := range f.ops {
		for _, op := range list {
			op.Status = ops.StatusDone
		}
	}
}

func (f *fakeDrills) createCount() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.creates
}

func newTestScheduler(f *fakeDrills, entries ...DrillScheduleConfig) (*drillScheduler, *bytes.Buffer) {
	var buf bytes.Buffer
	s := newDrillScheduler(f, slog.New(slog.NewTextHandler(&buf, nil)), f.clock, 0)
	s.set(entries)
	return s, &buf
}

func daily(server string) DrillScheduleConfig {
	return DrillScheduleConfig{Server: server, Every: Duration{24 * time.Hour}}
}

// TestDrillScheduleDue: with no drill recorded the first tick creates one,
// logged with its ID and why; it is not due again until a day after it was
// created, and then one more is created.
func TestDrillScheduleDue(t *testing.T) {
	f := newFakeDrills()
	s, log := newTestScheduler(f, daily("db1"))
	ctx := context.Background()
	s.tick(ctx)
	if n := f.createCount(); n != 1 {
		t.Fatalf("first tick created %d drills, want 1", n)
	}
	id := f.ops["db1"][0].ID
	if l := log.String(); !strings.Contains(l, "created a drill") || !strings.Contains(l, "operation_id="+id) || !strings.Contains(l, "no drill of the server is recorded") {
		t.Errorf("the create is not logged with its ID and reason:\n%s", l)
	}
	if f.who[0] != "serve:drills.schedule" {
		t.Errorf("requested by %q", f.who[0])
	}
	f.finishAll()
	f.advance(24*time.Hour - time.Minute)
	s.tick(ctx)
	if n := f.createCount(); n != 1 {
		t.Fatalf("a drill was created %d times within its day", n)
	}
	f.advance(time.Minute)
	s.tick(ctx)
	if n := f.createCount(); n != 2 {
		t.Fatalf("after a day: %d drills created, want 2", n)
	}
}

// TestDrillScheduleMissedSlotsRunOnce: after ten days without serve (the
// newest drill ten days old), one drill is created, not ten, and a new
// scheduler over the same store (a restart) creates none more.
func TestDrillScheduleMissedSlotsRunOnce(t *testing.T) {
	f := newFakeDrills()
	f.add("db1", ops.DrillOp, ops.StatusDone, 240*time.Hour)
	s, _ := newTestScheduler(f, daily("db1"))
	ctx := context.Background()
	for range 5 {
		s.tick(ctx)
		f.advance(time.Minute)
	}
	if n := f.createCount(); n != 1 {
		t.Fatalf("%d drills created after ten missed days, want 1", n)
	}
	f.finishAll()
	restarted, _ := newTestScheduler(f, daily("db1"))
	restarted.tick(ctx)
	if n := f.createCount(); n != 1 {
		t.Fatalf("a restart created another drill (%d in all)", n)
	}
}

// TestDrillScheduleNeverTwoAtOnce: a due drill is not created while one of
// the server is still queued or running, however old; the hold-up is
// logged once, not every tick; once it ends, the drill is created.
func TestDrillScheduleNeverTwoAtOnce(t *testing.T) {
	f := newFakeDrills()
	stuck := f.add("db1", ops.DrillOp, ops.StatusInProgress, 30*time.Hour)
	s, log := newTestScheduler(f, daily("db1"))
	ctx := context.Background()
	for range 3 {
		s.tick(ctx)
		f.advance(time.Minute)
	}
	if n := f.createCount(); n != 0 {
		t.Fatalf("%d drills created while %s has not ended", n, stuck.ID)
	}
	if c := strings.Count(log.String(), "previous drill has not ended"); c != 1 {
		t.Errorf("the hold-up is logged %d times over three ticks, want once:\n%s", c, log)
	}
	if !strings.Contains(log.String(), "operation_id="+stuck.ID) {
		t.Errorf("the log does not name the drill that holds it up:\n%s", log)
	}
	f.finishAll()
	s.tick(ctx)
	if n := f.createCount(); n != 1 {
		t.Fatalf("%d drills created once the old one ended, want 1", n)
	}
}

// TestDrillScheduleCountsHandMadeDrills: a drill created by hand an hour
// ago (any status: this one failed) makes the next one due a day after it;
// other operations of the server do not count.
func TestDrillScheduleCountsHandMadeDrills(t *testing.T) {
	f := newFakeDrills()
	f.add("db1", ops.DrillOp, ops.StatusFailed, time.Hour)
	f.add("db1", ops.Recovery, ops.StatusDone, 5*time.Minute)
	f.add("db2", ops.BackupOp, ops.StatusDone, 5*time.Minute)
	s, _ := newTestScheduler(f, daily("db1"), daily("db2"))
	ctx := context.Background()
	s.tick(ctx)
	if got := len(f.ops["db1"]); got != 2 {
		t.Errorf("db1, drilled by hand an hour ago: %d operations, want no new one", got)
	}
	if f.createCount() != 1 || f.ops["db2"][len(f.ops["db2"])-1].Type != ops.DrillOp {
		t.Errorf("db2, never drilled (a backup is no drill): want one drill created, have %d creates", f.createCount())
	}
	f.advance(23 * time.Hour)
	s.tick(ctx)
	if f.createCount() != 2 {
		t.Errorf("db1 a day after its hand-made drill: %d creates in all, want 2", f.createCount())
	}
}

// TestDrillScheduleRefusedRetries: a refused create (no DONE backup, say)
// is logged with the reason and tried again after drillRetryAfter, not at
// every tick.
func TestDrillScheduleRefusedRetries(t *testing.T) {
	f := newFakeDrills()
	f.refuse = ops.Errorf(ops.ENOTFOUND, "server %q has no DONE backup", "db1")
	s, log := newTestScheduler(f, daily("db1"))
	ctx := context.Background()
	for range 5 {
		s.tick(ctx)
		f.advance(time.Minute)
	}
	if c := strings.Count(log.String(), "was refused"); c != 1 {
		t.Fatalf("the refusal is logged %d times in 5 minutes, want once:\n%s", c, log)
	}
	if !strings.Contains(log.String(), "has no DONE backup") {
		t.Errorf("the refusal's reason is not logged:\n%s", log)
	}
	f.mu.Lock()
	f.refuse = nil
	f.mu.Unlock()
	s.tick(ctx)
	if f.createCount() != 0 {
		t.Fatal("retried before drillRetryAfter")
	}
	f.advance(drillRetryAfter)
	s.tick(ctx)
	if f.createCount() != 1 {
		t.Fatal("not retried after drillRetryAfter")
	}
}

// TestDrillScheduleRunStopsAndReloads: run ticks at once, ticks again on
// a reload (set) without waiting for its interval, and returns when its
// context ends; a server kept by the reload keeps when its schedule began.
func TestDrillScheduleRunStopsAndReloads(t *testing.T) {
	f := newFakeDrills()
	s, _ := newTestScheduler(f, daily("db1"))
	began := s.scheduled()[0].Since
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.run(ctx, time.Hour); close(done) }()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("%s within 10 s", what)
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	waitFor("no drill created at start", func() bool { return f.createCount() == 1 })
	f.advance(time.Hour)
	s.set([]DrillScheduleConfig{daily("db1"), daily("db2")})
	waitFor("no drill of db2 created on reload", func() bool { return f.createCount() == 2 })
	sched := s.scheduled()
	if len(sched) != 2 || !sched[0].Since.Equal(began) || !sched[1].Since.Equal(began.Add(time.Hour)) {
		t.Errorf("schedule after the reload: %+v; db1 began at %s", sched, began)
	}
	if sched[0].Timeout != ops.DefaultDrillTimeout {
		t.Errorf("timeout of a drill that gives none: %s", sched[0].Timeout)
	}
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("run did not return within 10 s of its context's end")
	}
}

// TestDrillScheduleConfigRefused: entries that could not create a drill
// are refused when the file is read, naming the file, the entry and what
// to do.
func TestDrillScheduleConfigRefused(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		toml string
		want string
	}{
		{`[[drills.schedule]]
every = "24h"`, `drills.schedule[0] needs server = "NAME"`},
		{`[[drills.schedule]]
server = "db1"`, `drills.schedule[0] (server "db1") needs every = "24h"`},
		{`[[drills.schedule]]
server = "db1"
every = "24m"`, `every is 24m0s; it must be 1h0m0s or more`},
		{`[[drills.schedule]]
server = "db1"
every = "daily"`, `"daily" is not a duration`},
		{`[[drills.schedule]]
server = "../db1"
every = "24h"`, `"../db1" is not a server name`},
		{`[[drills.schedule]]
server = "db1"
every = "24h"
[[drills.schedule]]
server = "db1"
every = "48h"`, `drills.schedule[1] (server "db1"): drills.schedule[0] schedules server "db1" already`},
		{`[[drills.schedule]]
server = "db1"
every = "24h"
sql = ["  "]`, `sql[0]: "query" must not be empty`},
		{`[[drills.schedule]]
server = "db1"
every = "24h"
timeout = "10ms"`, `"timeout" is 10ms; it must be 1s or more`},
		{`[[drills.schedule]]
server = "db1"
every = "24h"
backup_id = "--force"`, `backup_id "--force" is not a backup ID`},
		{`[[drills.schedule]]
server = "db1"
every = "24h"
colour = "red"`, `unknown key drills.schedule.colour`},
		{`[runner]
drill_timeout = "0.5s"`, `runner.drill_timeout is 500ms; it must be 1s or more`},
	} {
		toml := tc.toml
		if !strings.Contains(toml, "drill_timeout") {
			toml = "[drills]\ndirectory = \"/var/lib/barman/drills\"\n" + toml
		}
		path := filepath.Join(dir, "c.toml")
		if err := os.WriteFile(path, []byte(toml), 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadFileConfig(path, true)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), path) {
			t.Errorf("%s\n  error %v\n  want one with %s and %q", tc.toml, err, path, tc.want)
		}
	}
	// Without [drills] directory there is nowhere to restore.
	path := filepath.Join(dir, "nodir.toml")
	if err := os.WriteFile(path, []byte("[[drills.schedule]]\nserver = \"db1\"\nevery = \"24h\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFileConfig(path, true); err == nil || !strings.Contains(err.Error(), "drills.schedule needs drills.directory") {
		t.Errorf("a schedule without drills.directory: %v", err)
	}
	// A good entry sits beside [drills] directory and reads as written.
	path = filepath.Join(dir, "good.toml")
	if err := os.WriteFile(path, []byte(`[runner]
drill_timeout = "3h"
[drills]
directory = "/var/lib/barman/drills"
[[drills.schedule]]
server = "db1"
every = "168h"
sql = ["select count(*) from t => 3", "select 1"]
backup_id = "latest"
timeout = "90m"
`), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := LoadFileConfig(path, true)
	if err != nil {
		t.Fatal(err)
	}
	e := cfg.Drills.Schedule[0]
	if cfg.Runner.DrillTimeout.Duration != 3*time.Hour || cfg.policy().DrillTimeout != 3*time.Hour || e.Every.Duration != 168*time.Hour || e.Timeout.Duration != 90*time.Minute || e.BackupID != "latest" {
		t.Errorf("read as %+v", cfg)
	}
	got, _ := e.payload().MarshalJSON()
	want := `{"type": "drill", "backup_id": "latest", "sql": [{"query": "select count(*) from t", "expect": "3"}, {"query": "select 1"}], "timeout": "1h30m0s"}`
	if string(got) != want {
		t.Errorf("payload\n  %s\nwant\n  %s", got, want)
	}
}

// TestDrillScheduleUnknownServer: serve refuses a schedule of a server
// Barman's configuration lacks, naming the servers it has.
func TestDrillScheduleUnknownServer(t *testing.T) {
	cfg := &ops.BarmanConfig{Path: "/etc/barman.conf", Servers: map[string]*ops.BarmanServer{"db1": {Name: "db1"}, "db3": {Name: "db3"}}}
	err := checkDrillServers("/etc/pg-backup-api.toml", []DrillScheduleConfig{daily("db1"), daily("db2")}, cfg)
	if err == nil || !strings.Contains(err.Error(), `/etc/pg-backup-api.toml: drills.schedule[1]: server "db2" is not in /etc/barman.conf (known: db1, db3)`) {
		t.Errorf("unknown server: %v", err)
	}
	if err := checkDrillServers("x", []DrillScheduleConfig{daily("db3")}, cfg); err != nil {
		t.Errorf("known server refused: %v", err)
	}
}
