package cli

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/metrics"
	"github.com/pg-backup-api/pg-backup-api/notify"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// serveWiring is what serve connects around its Service, apart from the
// HTTP API: the stores (their end-of-operation hook and kernel watch), the
// metrics and the notification dispatcher. serve builds it; a reload
// (SIGHUP) changes its notification settings through setNotify.
type serveWiring struct {
	st  *appState
	svc *ops.Service
	log *slog.Logger
	// notifying tells serve's own end-of-operation hook whether to queue
	// notifications; a reload may change it.
	notifying atomic.Bool

	// Set by start.
	ctx        context.Context // how long the dispatcher runs
	metrics    *metrics.Metrics
	dispatcher *notify.Dispatcher // nil until some notification is configured
	drills     *drillScheduler    // [[drills.schedule]]; a reload sets its entries
}

// wireServe makes svc open its stores the way a long-lived process needs
// (see openStore); start does the rest once serve is ready to listen.
func (st *appState) wireServe(svc *ops.Service, log *slog.Logger) *serveWiring {
	w := &serveWiring{st: st, svc: svc, log: log}
	w.notifying.Store(!st.settings.file.Notify.Empty())
	svc.OpenStore = w.openStore()
	return w
}

// openStore is the store opener for serve, a long-lived process: each store
// follows its directories' changes as the kernel reports them, so cached
// answers cost no stat, and hands back the memory of a large first index
// load. The watch lasts as long as the process, as the Service's stores do.
// Serve's own ends (a queued operation cancelled, say) are queued for
// notification while notifying holds, which a reload (SIGHUP) may change.
func (w *serveWiring) openStore() func(cfg *ops.BarmanConfig) ops.Store {
	return openStoreWith(func(s *store.Store, server, id string) {
		if !w.notifying.Load() {
			return
		}
		if err := enqueueEnd(s, server, id); err != nil {
			// The operation's result stands; only its notification is lost.
			w.log.Error("cannot queue the notification of an operation that ended", "server", server, "operation_id", id, "error", err)
		}
	}, func(s *store.Store) {
		s.ReleaseLoadMemory = true
		if _, err := s.WatchChanges(); err != nil {
			w.log.Warn(err.Error())
		}
	})
}

// start builds serve's metrics and starts delivering notifications until
// ctx ends.
func (w *serveWiring) start(ctx context.Context) error {
	w.ctx = ctx
	barmanVersion := ""
	if v, err := w.svc.InstalledBarmanVersion(ctx); err == nil {
		barmanVersion = v.String()
	}
	file := w.st.settings.file
	w.drills = newDrillScheduler(w.svc, w.log, time.Now, file.Runner.DrillTimeout.Duration)
	w.drills.set(file.Drills.Schedule)
	source := &operationSource{svc: w.svc, start: time.Now(), schedule: w.drills.scheduled}
	m, err := metrics.New(metrics.Options{
		Version:       w.st.build.Version,
		BarmanVersion: barmanVersion,
		Operations:    source,
		Catalog:       catalogSource{svc: w.svc},
		Drills:        source,
		Routes:        httpd.RoutePatterns(),
		Log:           w.log,
	})
	if err != nil {
		return err
	}
	source.observe = m.ObserveFinished
	if err := w.st.watchBarman(ctx, w.svc, m, w.log); err != nil {
		return err
	}
	w.metrics = m
	go w.drills.run(ctx, drillScheduleTick)
	if cfg := w.st.settings.file.Notify; !cfg.Empty() {
		if w.dispatcher, err = w.startDispatcher(cfg); err != nil {
			return err
		}
	}
	return nil
}

// setNotify applies a reloaded [notify] configuration: serve's own ends are
// queued or not, a running dispatcher takes the new targets, and one starts
// if this is the first configuration with some. An error leaves the events
// in the outbox for a later reload or restart.
func (w *serveWiring) setNotify(cfg notify.Config) error {
	w.notifying.Store(!cfg.Empty())
	switch {
	case w.dispatcher != nil:
		w.dispatcher.SetConfig(cfg)
	case !cfg.Empty():
		d, err := w.startDispatcher(cfg)
		if err != nil {
			return err
		}
		w.dispatcher = d
	}
	return nil
}

// startDispatcher delivers notifications to cfg's targets until start's ctx
// ends: from the start, or from the reload that first configures some.
func (w *serveWiring) startDispatcher(cfg notify.Config) (*notify.Dispatcher, error) {
	bcfg, err := w.svc.Config(w.ctx)
	if err != nil {
		return nil, err
	}
	outbox, err := outboxOf(store.Open(bcfg))
	if err != nil {
		return nil, err
	}
	d := &notify.Dispatcher{Outbox: outbox, Config: cfg, Log: w.log,
		UserAgent: "pg-backup-api/" + w.st.build.Version}
	ctx := w.ctx
	go func() {
		if err := d.Run(ctx); err != nil && ctx.Err() == nil {
			w.log.Error("notification delivery stopped", "error", err)
		}
	}()
	return d, nil
}

// setDrills applies a reloaded [[drills.schedule]]; the scheduler looks at
// once whether a drill is due under it.
func (w *serveWiring) setDrills(entries []DrillScheduleConfig) {
	w.drills.set(entries)
}
