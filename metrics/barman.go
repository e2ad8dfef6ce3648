package metrics

import (
	"context"
	"errors"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// ServerWAL is when Barman last filed a WAL segment of a server.
type ServerWAL struct {
	Server string
	// LastArchived is the time xlog.db records for the newest segment;
	// zero when none is archived, reported as 0.
	LastArchived time.Time
}

// WALSource reads Barman's WAL databases (xlog.db) from disk, for every
// configured server. Like the catalog, it is read at most once per
// CatalogTTL and must never start Barman.
type WALSource interface {
	LastArchivedWAL() ([]ServerWAL, error)
}

// WatchWAL adds the time of each server's newest archived WAL segment to
// the scrapes, so that an alert fires when archiving (or `barman cron`)
// stalls. Call it before serving /metrics.
func (m *Metrics) WatchWAL(src WALSource) {
	m.sources.mu.Lock()
	defer m.sources.mu.Unlock()
	m.sources.wal = src
}

// collectWAL reports the newest archived segment of every server, cached
// as the catalog is.
func (c *sourceCollector) collectWAL(ch chan<- prometheus.Metric, configured []string, known bool) bool {
	c.mu.Lock()
	now := c.now()
	w := &c.walCache
	if w.readAt.IsZero() || now.Sub(w.readAt) >= c.ttl || now.Before(w.readAt) || (known && !sameServers(w.configured, configured)) {
		list, err := c.wal.LastArchivedWAL()
		w.readAt, w.configured = now, configured
		if err != nil {
			c.log.Warn("metrics: cannot read Barman's WAL database", "error", err)
			w.ok = false
		} else {
			w.list, w.ok = list, true
		}
	}
	list, ok := w.list, w.ok
	c.mu.Unlock()

	last := map[string]time.Time{}
	var names []string
	for _, s := range list {
		if _, seen := last[s.Server]; !seen && s.Server != "" {
			names = append(names, s.Server)
			last[s.Server] = s.LastArchived
		}
	}
	if known {
		names = configured
	}
	for _, name := range names {
		ch <- prometheus.MustNewConstMetric(c.lastWAL, prometheus.GaugeValue, epoch(last[name]), name)
	}
	return ok
}

type walCache struct {
	readAt     time.Time
	configured []string
	list       []ServerWAL
	ok         bool
}

// CheckResult is one check of `barman check SERVER`.
type CheckResult struct {
	Name string // Barman's name for it: "WAL archive", "PostgreSQL", ...
	OK   bool
}

// Checker runs `barman check`: Servers lists the configured servers (read
// again at every round, so added servers are checked), Check runs Barman
// for one and must stop when ctx ends. An error means the run itself
// failed (Barman could not run, or was killed at its timeout).
type Checker interface {
	Servers() ([]string, error)
	Check(ctx context.Context, server string) ([]CheckResult, error)
}

// RunCheck is the check label of a run that produced no result: Barman
// could not run or was killed at its timeout. Barman's own checks have
// other names.
const RunCheck = "barman check"

// DefaultCheckInterval is how often `barman check` runs when the caller
// says nothing.
const DefaultCheckInterval = 5 * time.Minute

// StartChecks runs `barman check` for each server in turn, one Barman at a
// time, now and then every interval until ctx ends, and reports the results
// on the next scrapes. A scrape never starts Barman: it reads the last
// results. A check still running after timeout (interval when 0) is killed
// and reported as failed. Call it once, before serving /metrics.
func (m *Metrics) StartChecks(ctx context.Context, c Checker, interval, timeout time.Duration) error {
	if interval <= 0 {
		interval = DefaultCheckInterval
	}
	if timeout <= 0 {
		timeout = interval
	}
	cc := newCheckCollector(m.servers)
	m.checksMu.Lock()
	defer m.checksMu.Unlock()
	if m.checks != nil {
		return errors.New("metrics: StartChecks was called twice")
	}
	if err := m.reg.Register(cc); err != nil {
		return err
	}
	m.checks = cc
	go cc.loop(ctx, c, interval, timeout, m.log)
	return nil
}

type checkRun struct {
	at       time.Time
	duration time.Duration
	checks   []CheckResult
}

// failed counts the failing checks of a run.
func (r checkRun) failed() int {
	n := 0
	for _, c := range r.checks {
		if !c.OK {
			n++
		}
	}
	return n
}

type checkCollector struct {
	servers                       func() ([]string, bool)
	ok, failed, lastRun, duration *prometheus.Desc
	mu                            sync.Mutex
	runs                          map[string]checkRun
	checked                       []string // the servers of the last round
	roundDone                     chan struct{}
	roundDoneOnce                 sync.Once
}

func newCheckCollector(servers func() ([]string, bool)) *checkCollector {
	name := func(n string) string { return prometheus.BuildFQName(Namespace, "", n) }
	return &checkCollector{
		servers: servers, runs: map[string]checkRun{}, roundDone: make(chan struct{}),
		ok: prometheus.NewDesc(name("barman_check_ok"),
			"1 when the check passed in the server's last `barman check`, 0 when it failed; check=\""+RunCheck+"\" is 0 when the run itself failed or was killed at its timeout.",
			[]string{"server", "check"}, nil),
		failed: prometheus.NewDesc(name("barman_checks_failed"),
			"Checks that failed in the server's last `barman check` (a run that failed or timed out counts 1); 0 before the first run.",
			[]string{"server"}, nil),
		lastRun: prometheus.NewDesc(name("barman_check_last_run_timestamp_seconds"),
			"When the server's last `barman check` ended, in seconds since the epoch; 0 before the first run.",
			[]string{"server"}, nil),
		duration: prometheus.NewDesc(name("barman_check_duration_seconds"),
			"How long the server's last `barman check` took.",
			[]string{"server"}, nil),
	}
}

func (cc *checkCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- cc.ok
	ch <- cc.failed
	ch <- cc.lastRun
	ch <- cc.duration
}

func (cc *checkCollector) Collect(ch chan<- prometheus.Metric) {
	configured, known := cc.servers()
	cc.mu.Lock()
	defer cc.mu.Unlock()
	names := configured
	if !known {
		names = cc.checked
	}
	for _, s := range names {
		r := cc.runs[s]
		ch <- prometheus.MustNewConstMetric(cc.failed, prometheus.GaugeValue, float64(r.failed()), s)
		ch <- prometheus.MustNewConstMetric(cc.lastRun, prometheus.GaugeValue, epoch(r.at), s)
		ch <- prometheus.MustNewConstMetric(cc.duration, prometheus.GaugeValue, r.duration.Seconds(), s)
		seen := map[string]bool{}
		for _, c := range r.checks {
			if seen[c.Name] { // the same labels twice would fail the scrape
				continue
			}
			seen[c.Name] = true
			ch <- prometheus.MustNewConstMetric(cc.ok, prometheus.GaugeValue, up(c.OK), s, c.Name)
		}
	}
}

func (cc *checkCollector) loop(ctx context.Context, c Checker, interval, timeout time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		servers, err := c.Servers()
		if err != nil {
			log.Warn("barman check: cannot list the servers", "error", err)
		}
		sort.Strings(servers)
		cc.mu.Lock()
		cc.checked = servers
		cc.mu.Unlock()
		for _, s := range servers {
			if ctx.Err() != nil {
				return
			}
			start := time.Now()
			cctx, cancel := context.WithTimeout(ctx, timeout)
			results, err := c.Check(cctx, s)
			cancel()
			if ctx.Err() != nil {
				return // shutting down: an interrupted run says nothing
			}
			if err != nil {
				log.Warn("barman check failed to run", "server", s, "error", err)
				results = []CheckResult{{Name: RunCheck, OK: false}}
			}
			end := time.Now()
			cc.mu.Lock()
			cc.runs[s] = checkRun{at: end, duration: end.Sub(start), checks: results}
			cc.mu.Unlock()
		}
		cc.roundDoneOnce.Do(func() { close(cc.roundDone) })
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
