package cli

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// DrillScheduleConfig is one [[drills.schedule]] entry: serve creates a
// drill of Server whenever none has been created for Every.
type DrillScheduleConfig struct {
	Server string   `toml:"server"`
	Every  Duration `toml:"every"`
	// SQL are queries as `create drill --sql` takes them: "QUERY", or
	// "QUERY => EXPECTED".
	SQL      []string `toml:"sql"`
	BackupID string   `toml:"backup_id"`
	Timeout  Duration `toml:"timeout"`
}

// minDrillEvery is the shortest schedule: a drill restores a whole
// backup, and a schedule tighter than this is a typo ("24m" for "24h")
// more likely than a wish.
const minDrillEvery = time.Hour

// drillScheduleTick is how often serve looks whether a scheduled drill is
// due; a drill is late by at most this.
const drillScheduleTick = time.Minute

// drillRetryAfter is how long serve waits before it tries again a
// scheduled drill whose create was refused (no DONE backup yet, no room),
// so that the refusal is logged a few times an hour, not every tick.
const drillRetryAfter = 15 * time.Minute

// drillScheduleRequester is who the operations record as having asked for
// a scheduled drill.
var drillScheduleRequester = ops.Requester{Name: "serve:drills.schedule"}

// payload is the drill the entry creates, as `create drill` would send it.
func (e DrillScheduleConfig) payload() *pyjson.Object {
	p := pyjson.NewObject()
	p.Set("type", string(ops.DrillOp))
	if e.BackupID != "" {
		p.Set("backup_id", e.BackupID)
	}
	if len(e.SQL) > 0 {
		p.Set("sql", drillQueries(e.SQL))
	}
	if e.Timeout.Duration > 0 {
		p.Set("timeout", e.Timeout.Duration.String())
	}
	return p
}

// drillQueries turns --sql values ("QUERY" or "QUERY => EXPECTED", split
// at the last " => ") into a drill's "sql".
func drillQueries(qs []string) []any {
	list := make([]any, 0, len(qs))
	for _, q := range qs {
		o := pyjson.NewObject()
		if query, expect, ok := cutLast(q, drillExpectSep); ok {
			o.Set("query", query)
			o.Set("expect", expect)
		} else {
			o.Set("query", q)
		}
		list = append(list, o)
	}
	return list
}

// checkDrillSchedule refuses [[drills.schedule]] entries that could not
// create a drill, whatever Barman's configuration says; whether each
// server exists is checked when serve starts (checkDrillServers).
func checkDrillSchedule(cfg *FileConfig) error {
	seen := map[string]int{}
	for i, e := range cfg.Drills.Schedule {
		where := fmt.Sprintf("drills.schedule[%d]", i)
		if e.Server != "" {
			where += fmt.Sprintf(" (server %q)", e.Server)
		}
		switch {
		case e.Server == "":
			return fmt.Errorf("%s needs server = \"NAME\", a server of Barman's configuration", where)
		case !ops.ValidName(e.Server):
			return fmt.Errorf("%s: %q is not a server name (a letter or digit, then letters, digits, '.', '_' or '-')", where, e.Server)
		}
		if j, dup := seen[e.Server]; dup {
			return fmt.Errorf("%s: drills.schedule[%d] schedules server %q already; give each server one entry", where, j, e.Server)
		}
		seen[e.Server] = i
		switch d := e.Every.Duration; {
		case d == 0:
			return fmt.Errorf("%s needs every = \"24h\" (how often a drill runs, %s or more)", where, minDrillEvery)
		case d < minDrillEvery:
			return fmt.Errorf("%s: every is %s; it must be %s or more (a drill restores a whole backup: \"24h\" or \"168h\" are usual)", where, d, minDrillEvery)
		}
		if strings.HasPrefix(e.BackupID, "-") || strings.ContainsAny(e.BackupID, " \t\r\n") {
			return fmt.Errorf("%s: backup_id %q is not a backup ID or a shortcut such as \"latest\"; leave it out to drill the newest DONE backup", where, e.BackupID)
		}
		if err := ops.CheckDrillKeys(e.payload()); err != nil {
			return fmt.Errorf("%s: %s", where, strings.TrimPrefix(ops.ErrorMessage(err), "drill: "))
		}
	}
	if len(cfg.Drills.Schedule) > 0 && cfg.Drills.Directory == "" {
		return fmt.Errorf("drills.schedule needs drills.directory: the directory on the Barman host where drills restore")
	}
	return nil
}

// checkDrillServers refuses a schedule of a server that Barman's
// configuration does not have, naming those it has.
func checkDrillServers(path string, entries []DrillScheduleConfig, bcfg *ops.BarmanConfig) error {
	for i, e := range entries {
		if _, err := bcfg.Server(e.Server); err != nil {
			return fmt.Errorf("%s: drills.schedule[%d]: %s; fix the entry's server or remove the entry", path, i, ops.ErrorMessage(err))
		}
	}
	return nil
}

// drillService is what the scheduler needs of ops.Service: it creates
// drills through the same path as the HTTP API, so that they are
// validated, recorded, run in the drill lane and notified alike.
type drillService interface {
	List(ctx context.Context, server string, opts ops.ListOptions) ([]*ops.Operation, []ops.Skipped, error)
	Create(ctx context.Context, server string, payload *pyjson.Object, who ops.Requester) (string, error)
}

// drillScheduler creates the drills of [[drills.schedule]]. Whether a
// drill is due is read from the store each time (the newest drill of the
// server, whoever created it), never kept in memory, so a restart neither
// loses a slot nor adds one, and a long downtime is made up by one drill.
type drillScheduler struct {
	svc drillService
	log *slog.Logger
	now func() time.Time
	// defaultTimeout is the timeout of a drill that gives none, for the
	// metrics' deadline.
	defaultTimeout time.Duration
	wake           chan struct{}

	mu      sync.Mutex
	entries []DrillScheduleConfig
	since   map[string]time.Time // server → when this serve took up its schedule
	retryAt map[string]time.Time // server → when a refused create may be tried again
	blocked map[string]string    // server → the unfinished drill last logged as holding it up
	told    map[string]bool      // server → when its next drill is due has been logged since set
}

func newDrillScheduler(svc drillService, log *slog.Logger, now func() time.Time, defaultTimeout time.Duration) *drillScheduler {
	if defaultTimeout <= 0 {
		defaultTimeout = ops.DefaultDrillTimeout
	}
	return &drillScheduler{svc: svc, log: log, now: now, defaultTimeout: defaultTimeout, wake: make(chan struct{}, 1),
		since: map[string]time.Time{}, retryAt: map[string]time.Time{}, blocked: map[string]string{}, told: map[string]bool{}}
}

// set takes up entries, at start or on a reload: a server kept keeps when
// its schedule began; the next tick comes at once.
func (s *drillScheduler) set(entries []DrillScheduleConfig) {
	s.mu.Lock()
	now := s.now()
	since := map[string]time.Time{}
	for _, e := range entries {
		if t, ok := s.since[e.Server]; ok {
			since[e.Server] = t
		} else {
			since[e.Server] = now
		}
	}
	s.entries, s.since = append([]DrillScheduleConfig(nil), entries...), since
	clear(s.retryAt)
	clear(s.told)
	s.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// scheduledDrill is one server's schedule as the metrics report it.
type scheduledDrill struct {
	Server  string
	Every   time.Duration
	Timeout time.Duration // the drill's own, else the default
	Since   time.Time     // when this serve took up the schedule
}

func (s *drillScheduler) scheduled() []scheduledDrill {
	if s == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]scheduledDrill, 0, len(s.entries))
	for _, e := range s.entries {
		timeout := e.Timeout.Duration
		if timeout == 0 {
			timeout = s.defaultTimeout
		}
		out = append(out, scheduledDrill{Server: e.Server, Every: e.Every.Duration, Timeout: timeout, Since: s.since[e.Server]})
	}
	return out
}

// run ticks every interval, and once at once, until ctx ends.
func (s *drillScheduler) run(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		s.tick(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-s.wake:
		}
	}
}

// tick creates the drills that are due.
func (s *drillScheduler) tick(ctx context.Context) {
	s.mu.Lock()
	entries := s.entries
	s.mu.Unlock()
	for _, e := range entries {
		if ctx.Err() != nil {
			return
		}
		s.consider(ctx, e)
	}
}

// consider creates a drill of e's server if none was created within
// e.Every and none is unfinished.
func (s *drillScheduler) consider(ctx context.Context, e DrillScheduleConfig) {
	server := e.Server
	list, _, err := s.svc.List(ctx, server, ops.ListOptions{Status: true})
	if err != nil {
		s.log.Warn("drill schedule: cannot read the server's operations; trying again at the next tick", "server", server, "error", ops.ErrorMessage(err))
		return
	}
	var newest, unfinished *ops.Operation
	for _, op := range list {
		if op.Type != ops.DrillOp {
			continue
		}
		if op.Status == ops.StatusInProgress {
			unfinished = op
		}
		if newest == nil || op.StartTime.After(newest.StartTime) {
			newest = op
		}
	}
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if newest != nil && now.Sub(newest.StartTime) < e.Every.Duration {
		// Not due: said once when the schedule is taken up (start,
		// reload), so that the log shows the schedule was read.
		if !s.told[server] {
			s.told[server] = true
			s.log.Info("drill schedule: not due yet", "server", server, "every", e.Every.Duration.String(),
				"newest_drill", newest.ID, "due_at", newest.StartTime.Add(e.Every.Duration).Format(time.RFC3339))
		}
		return
	}
	if unfinished != nil {
		// Due, but never two drills of a server at once. Said once per
		// drill that holds it up, not every tick.
		if s.blocked[server] != unfinished.ID {
			s.blocked[server] = unfinished.ID
			s.log.Info("drill schedule: a drill is due but not created: the server's previous drill has not ended",
				"server", server, "every", e.Every.Duration.String(), "operation_id", unfinished.ID, "phase", string(unfinished.Phase))
		}
		return
	}
	if at, ok := s.retryAt[server]; ok && now.Before(at) {
		return
	}
	reason := "no drill of the server is recorded"
	if newest != nil {
		reason = fmt.Sprintf("the newest drill, %s, was created %s ago", newest.ID, now.Sub(newest.StartTime).Round(time.Second))
	}
	id, err := s.svc.Create(ctx, server, e.payload(), drillScheduleRequester)
	if id == "" && err != nil {
		s.retryAt[server] = now.Add(drillRetryAfter)
		s.log.Warn("drill schedule: the due drill was refused; trying again in "+drillRetryAfter.String(),
			"server", server, "every", e.Every.Duration.String(), "reason", reason, "error", ops.ErrorMessage(err))
		return
	}
	delete(s.retryAt, server)
	delete(s.blocked, server)
	s.log.Info("drill schedule: created a drill", "server", server, "operation_id", id, "every", e.Every.Duration.String(), "reason", reason)
	if err != nil {
		// Recorded, but its runner did not start: serve's sweep starts it.
		s.log.Warn("drill schedule: the drill is recorded but its runner did not start", "server", server, "operation_id", id, "error", ops.ErrorMessage(err))
	}
}
