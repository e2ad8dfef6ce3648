package cli

import (
	"context"
	"sync"
	"time"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/metrics"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// operationSource answers the metrics' questions about operations from the
// store's index (ops.Service.ListAll), once for both questions of a scrape.
// It also sees operations end: a runner is a separate process, so serve
// learns of an end when a listing first shows it finished.
type operationSource struct {
	svc     *ops.Service
	start   time.Time // ends before it are not this process's to count
	observe func(scope, typ, status string, d time.Duration)

	mu      sync.Mutex
	at      time.Time
	list    []*ops.Operation
	err     error
	counted map[string]bool // scope/ID of finished operations observed

	drillSteps map[string]map[string]time.Duration // scope/ID → its steps, read once
	// schedule is [[drills.schedule]] as serve runs it; nil: none.
	schedule func() []scheduledDrill
}

// snapshotFor is how long one listing answers both questions of a scrape.
const snapshotFor = 500 * time.Millisecond

func (o *operationSource) snapshot() ([]*ops.Operation, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.at.IsZero() && time.Since(o.at) < snapshotFor {
		return o.list, o.err
	}
	list, _, err := o.svc.ListAll(context.Background(), ops.ListOptions{Status: true})
	o.list, o.err, o.at = list, err, time.Now()
	if err == nil {
		o.observeEnds(list)
	}
	return list, err
}

func (o *operationSource) observeEnds(list []*ops.Operation) {
	if o.counted == nil {
		o.counted = map[string]bool{}
	}
	for _, op := range list {
		if op.Status == ops.StatusInProgress || !op.EndTime.After(o.start) {
			continue
		}
		key := op.Server + "/" + op.ID
		if o.counted[key] {
			continue
		}
		o.counted[key] = true
		if o.observe != nil {
			o.observe(op.Server, string(op.Type), string(op.Status), op.EndTime.Sub(op.StartTime))
		}
	}
}

func (o *operationSource) OperationCounts() ([]metrics.Count, error) {
	list, err := o.snapshot()
	if err != nil {
		return nil, err
	}
	type key struct{ scope, typ, status string }
	counts := map[key]int{}
	for _, op := range list {
		counts[key{op.Server, string(op.Type), string(op.Status)}]++
	}
	out := make([]metrics.Count, 0, len(counts))
	for k, n := range counts {
		out = append(out, metrics.Count{Scope: k.scope, Type: k.typ, Status: k.status, N: n})
	}
	return out, nil
}

func (o *operationSource) Queues() ([]metrics.Queue, error) {
	list, err := o.snapshot()
	if err != nil {
		return nil, err
	}
	queues := map[string]*metrics.Queue{"": {Scope: ""}}
	if cfg, err := o.svc.Config(context.Background()); err == nil {
		for _, name := range cfg.ServerNames() {
			queues[name] = &metrics.Queue{Scope: name}
		}
	}
	for _, op := range list {
		if op.Phase != ops.PhaseQueued {
			continue
		}
		q := queues[op.Server]
		if q == nil {
			q = &metrics.Queue{Scope: op.Server}
			queues[op.Server] = q
		}
		q.Depth++
		if q.OldestQueued.IsZero() || op.StartTime.Before(q.OldestQueued) {
			q.OldestQueued = op.StartTime
		}
	}
	out := make([]metrics.Queue, 0, len(queues))
	for _, q := range queues {
		out = append(out, *q)
	}
	return out, nil
}

// catalogSource reads every server's backup catalog from disk, never
// starting Barman.
type catalogSource struct{ svc *ops.Service }

func (c catalogSource) CatalogStats() ([]metrics.ServerCatalog, error) {
	cfg, err := c.svc.Config(context.Background())
	if err != nil {
		return nil, err
	}
	var out []metrics.ServerCatalog
	for _, name := range cfg.ServerNames() {
		backups, err := barman.ListBackups(cfg.Servers[name])
		if err != nil {
			return nil, err
		}
		out = append(out, summarizeCatalog(name, backups))
	}
	return out, nil
}

// summarizeCatalog counts a server's backups by status and finds its newest
// and oldest DONE backups: the last backup and the start of the window a
// recovery can reach.
func summarizeCatalog(server string, backups []ops.CatalogBackup) metrics.ServerCatalog {
	sc := metrics.ServerCatalog{Server: server, Backups: map[string]int{}}
	for _, b := range backups {
		sc.Backups[b.Status]++
		if b.Status != ops.BackupDone || b.EndTime.IsZero() {
			continue
		}
		if b.EndTime.After(sc.LastBackupEnd) {
			sc.LastBackupEnd, sc.LastBackupSize = b.EndTime, b.Size
		}
		if sc.RecoveryWindowStart.IsZero() || b.EndTime.Before(sc.RecoveryWindowStart) {
			sc.RecoveryWindowStart = b.EndTime
		}
	}
	return sc
}

// Drills reports, per server, when its newest DONE drill ended and the
// steps of its newest finished drill, from the listing; each drill's
// output is read once, for its steps. A scheduled server is reported from
// serve's start, with its schedule, drilled yet or not.
func (o *operationSource) Drills() ([]metrics.Drill, error) {
	list, err := o.snapshot()
	if err != nil {
		return nil, err
	}
	last := map[string]*ops.Operation{}
	oldest := map[string]time.Time{}
	drills := map[string]*metrics.Drill{}
	var schedule []scheduledDrill
	if o.schedule != nil {
		schedule = o.schedule()
	}
	for _, sd := range schedule {
		drills[sd.Server] = &metrics.Drill{Server: sd.Server}
	}
	for _, op := range list {
		if op.Type != ops.DrillOp {
			continue
		}
		if t, ok := oldest[op.Server]; !ok || op.StartTime.Before(t) {
			oldest[op.Server] = op.StartTime
		}
		if op.Status == ops.StatusInProgress {
			continue
		}
		d := drills[op.Server]
		if d == nil {
			d = &metrics.Drill{Server: op.Server}
			drills[op.Server] = d
		}
		if op.Status == ops.StatusDone && op.EndTime.After(d.LastSuccess) {
			d.LastSuccess = op.EndTime
		}
		if l := last[op.Server]; l == nil || op.EndTime.After(l.EndTime) {
			last[op.Server] = op
		}
	}
	for _, sd := range schedule {
		d := drills[sd.Server]
		d.Every, d.Timeout, d.ScheduleStart = sd.Every, sd.Timeout, sd.Since
		if t, ok := oldest[sd.Server]; ok && !t.IsZero() && t.Before(sd.Since) {
			d.ScheduleStart = t
		}
	}
	out := make([]metrics.Drill, 0, len(drills))
	for server, d := range drills {
		if l := last[server]; l != nil {
			d.Steps = o.stepsOf(l)
		}
		out = append(out, *d)
	}
	return out, nil
}

func (o *operationSource) stepsOf(op *ops.Operation) map[string]time.Duration {
	o.mu.Lock()
	defer o.mu.Unlock()
	key := op.Server + "/" + op.ID
	if steps, ok := o.drillSteps[key]; ok {
		return steps
	}
	full, err := o.svc.Get(context.Background(), op.Server, op.ID)
	if err != nil {
		return nil
	}
	if o.drillSteps == nil || len(o.drillSteps) > 1000 {
		o.drillSteps = map[string]map[string]time.Duration{}
	}
	steps := ops.DrillSteps(full.Output)
	o.drillSteps[key] = steps
	return steps
}
