package cli

import (
	"context"
	"log/slog"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/metrics"
	"github.com/pg-backup-api/pg-backup-api/notify"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// NotifyDirName is the outbox of notifications, in the instance scope's
// state directory: <barman_home>/.pg-backup-api/notify/.
const NotifyDirName = "notify"

// outboxOf is the notification outbox of a store.
func outboxOf(s *store.Store) (*notify.Outbox, error) {
	return notify.OpenOutbox(filepath.Join(s.StateDir(""), NotifyDirName))
}

// endHook returns what the store calls when an operation ends: it queues the
// operation's notification in the store's outbox, for serve to deliver. It
// runs in whichever process recorded the end — a runner, which outlives
// serve, or serve itself — so an end is queued even while serve is stopped.
// Nil when no notification is configured.
func (st *appState) endHook(log *slog.Logger) func(s *store.Store, server, id string) {
	if st.settings.file == nil || st.settings.file.Notify.Empty() {
		return nil
	}
	return func(s *store.Store, server, id string) {
		if err := enqueueEnd(s, server, id); err != nil {
			// The operation's result stands; only its notification is lost.
			log.Error("cannot queue the notification of an operation that ended", "server", server, "operation_id", id, "error", err)
		}
	}
}

func enqueueEnd(s *store.Store, server, id string) error {
	op, err := s.Get(server, id)
	if err != nil {
		return err
	}
	ev, err := notify.NewEvent(notify.Operation{
		ID: op.ID, Server: server, Type: string(op.Type), Status: string(op.Status), Phase: string(op.Phase),
		Start: op.StartTime, End: op.EndTime, ExitCode: op.ExitCode, RequestedBy: op.RequestedBy(), Output: op.Output,
	})
	if err != nil {
		return err
	}
	outbox, err := outboxOf(s)
	if err != nil {
		return err
	}
	_, err = outbox.Enqueue(ev)
	return err
}

// openStore is the Service's store opener with the end-of-operation hook
// set.
func (st *appState) openStore(log *slog.Logger) func(cfg *ops.BarmanConfig) ops.Store {
	return openStoreWith(st.endHook(log))
}

// openStoreWith is the Service's store opener with hook, if any, as the
// end-of-operation hook, and configure applied.
func openStoreWith(hook func(s *store.Store, server, id string), configure ...func(*store.Store)) func(cfg *ops.BarmanConfig) ops.Store {
	return store.Opener(append([]func(*store.Store){func(s *store.Store) {
		if hook != nil {
			s.OnEnd = hook
		}
	}}, configure...)...)
}

// serveStore is openStore for serve, a long-lived process: each store
// follows its directories' changes as the kernel reports them, so cached
// answers cost no stat, and hands back the memory of a large first index
// load. The watch lasts as long as the process, as the Service's stores do.
// Serve's own ends (a queued operation cancelled, say) are queued for
// notification while notifying holds, which a reload (SIGHUP) may change.
func (st *appState) serveStore(log *slog.Logger, notifying *atomic.Bool) func(cfg *ops.BarmanConfig) ops.Store {
	notifying.Store(!st.settings.file.Notify.Empty())
	return openStoreWith(func(s *store.Store, server, id string) {
		if !notifying.Load() {
			return
		}
		if err := enqueueEnd(s, server, id); err != nil {
			// The operation's result stands; only its notification is lost.
			log.Error("cannot queue the notification of an operation that ended", "server", server, "operation_id", id, "error", err)
		}
	}, func(s *store.Store) {
		s.ReleaseLoadMemory = true
		if _, err := s.WatchChanges(); err != nil {
			log.Warn(err.Error())
		}
	})
}

// monitoring is serve's metrics and notification delivery.
type monitoring struct {
	metrics    *metrics.Metrics
	dispatcher *notify.Dispatcher // nil when no notification is configured
}

// startMonitoring builds serve's metrics and starts delivering notifications
// until ctx ends.
func (st *appState) startMonitoring(ctx context.Context, svc *ops.Service, log *slog.Logger) (*monitoring, error) {
	barmanVersion := ""
	if v, err := svc.InstalledBarmanVersion(); err == nil {
		barmanVersion = v.String()
	}
	source := &operationSource{svc: svc, start: time.Now()}
	m, err := metrics.New(metrics.Options{
		Version:       st.build.Version,
		BarmanVersion: barmanVersion,
		Operations:    source,
		Catalog:       catalogSource{svc: svc},
		Drills:        source,
		Routes:        httpd.RoutePatterns(),
		Log:           log,
	})
	if err != nil {
		return nil, err
	}
	source.observe = m.ObserveFinished
	if err := st.watchBarman(ctx, svc, m, log); err != nil {
		return nil, err
	}
	mon := &monitoring{metrics: m}
	if st.settings.file.Notify.Empty() {
		return mon, nil
	}
	if mon.dispatcher, err = st.startDispatcher(ctx, svc, log, st.settings.file.Notify); err != nil {
		return nil, err
	}
	return mon, nil
}

// startDispatcher delivers notifications to cfg's targets until ctx ends:
// from the start, or from the reload that first configures some.
func (st *appState) startDispatcher(ctx context.Context, svc *ops.Service, log *slog.Logger, cfg notify.Config) (*notify.Dispatcher, error) {
	bcfg, err := svc.Config()
	if err != nil {
		return nil, err
	}
	outbox, err := outboxOf(store.Open(bcfg))
	if err != nil {
		return nil, err
	}
	d := &notify.Dispatcher{Outbox: outbox, Config: cfg, Log: log,
		UserAgent: "pg-backup-api/" + st.build.Version}
	go func() {
		if err := d.Run(ctx); err != nil && ctx.Err() == nil {
			log.Error("notification delivery stopped", "error", err)
		}
	}()
	return d, nil
}

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
}

// snapshotFor is how long one listing answers both questions of a scrape.
const snapshotFor = 500 * time.Millisecond

func (o *operationSource) snapshot() ([]*ops.Operation, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.at.IsZero() && time.Since(o.at) < snapshotFor {
		return o.list, o.err
	}
	list, _, err := o.svc.ListAll(ops.ListOptions{Status: true})
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
	if cfg, err := o.svc.Config(); err == nil {
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
	cfg, err := c.svc.Config()
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
func summarizeCatalog(server string, backups []ops.Backup) metrics.ServerCatalog {
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
// output is read once, for its steps.
func (o *operationSource) Drills() ([]metrics.Drill, error) {
	list, err := o.snapshot()
	if err != nil {
		return nil, err
	}
	last := map[string]*ops.Operation{}
	drills := map[string]*metrics.Drill{}
	for _, op := range list {
		if op.Type != ops.DrillOp || op.Status == ops.StatusInProgress {
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
	out := make([]metrics.Drill, 0, len(drills))
	for server, d := range drills {
		d.Steps = o.stepsOf(last[server])
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
	full, err := o.svc.Get(op.Server, op.ID)
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
