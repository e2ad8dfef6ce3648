package cli

import (
	"context"
	"log/slog"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/metrics"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// watchBarman adds to serve's metrics what Barman knows and the catalog
// does not say: when each server last archived WAL (from xlog.db, on
// disk) and the result of `barman check`, run in the background every
// metrics.check_interval, never by a scrape.
func (st *appState) watchBarman(ctx context.Context, svc *ops.Service, m *metrics.Metrics, log *slog.Logger) error {
	m.WatchWAL(walSource{svc: svc})
	if on := st.settings.file.Metrics.BarmanCheck; on != nil && !*on {
		log.Info("metrics.barman_check is false: serve runs no barman check")
		return nil
	}
	checker := barmanChecker{svc: svc, cmd: barman.NewCommand(st.settings.barmanCommand), config: st.settings.barmanConfig}
	interval := st.settings.file.Metrics.CheckInterval.Duration
	if interval == 0 {
		interval = metrics.DefaultCheckInterval
	}
	return m.StartChecks(ctx, checker, interval, interval)
}

// walSource reads every configured server's xlog.db as the catalog does.
type walSource struct{ svc *ops.Service }

func (w walSource) LastArchivedWAL() ([]metrics.ServerWAL, error) {
	cfg, err := w.svc.Config(context.Background())
	if err != nil {
		return nil, err
	}
	var out []metrics.ServerWAL
	for _, name := range cfg.ServerNames() {
		_, at, err := barman.LastArchivedWAL(cfg.Servers[name])
		if err != nil {
			return nil, err
		}
		out = append(out, metrics.ServerWAL{Server: name, LastArchived: at})
	}
	return out, nil
}

// barmanChecker runs `barman -c CONFIG check SERVER` for the servers of
// Barman's configuration as it is at each round.
type barmanChecker struct {
	svc    *ops.Service
	cmd    barman.Command
	config string
}

func (b barmanChecker) Servers() ([]string, error) {
	cfg, err := b.svc.Config(context.Background())
	if err != nil {
		return nil, err
	}
	return cfg.ServerNames(), nil
}

func (b barmanChecker) Check(ctx context.Context, server string) ([]metrics.CheckResult, error) {
	results, err := b.cmd.Check(ctx, b.config, server)
	if err != nil {
		return nil, err
	}
	out := make([]metrics.CheckResult, len(results))
	for i, r := range results {
		out[i] = metrics.CheckResult{Name: r.Name, OK: r.OK}
	}
	return out, nil
}
