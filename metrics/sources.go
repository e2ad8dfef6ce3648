package metrics

import (
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// sourceCollector turns the operation and catalog sources into series at
// scrape time. The operation source is asked on every scrape (it answers
// from memory); the catalog is read at most once per TTL.
type sourceCollector struct {
	ops     OperationSource
	catalog CatalogSource
	ttl     time.Duration
	now     func() time.Time
	log     *slog.Logger

	operations, queueDepth, queueAge                  *prometheus.Desc
	backups, lastEnd, lastSize, windowStart, sourceUp *prometheus.Desc

	mu        sync.Mutex
	readAt    time.Time // when the catalog was last read, successfully or not
	servers   []ServerCatalog
	catalogOK bool
}

func newSourceCollector(ops OperationSource, catalog CatalogSource, ttl time.Duration, now func() time.Time, log *slog.Logger) *sourceCollector {
	name := func(n string) string { return prometheus.BuildFQName(Namespace, "", n) }
	return &sourceCollector{
		ops: ops, catalog: catalog, ttl: ttl, now: now, log: log,
		operations: prometheus.NewDesc(name("operations"),
			"Operations in the store, by scope (server name, or \"barman\" for the instance), type and status.",
			[]string{"scope", "type", "status"}, nil),
		queueDepth: prometheus.NewDesc(name("queue_depth"),
			"Operations registered and waiting for their runner, by scope.",
			[]string{"scope"}, nil),
		queueAge: prometheus.NewDesc(name("queue_oldest_age_seconds"),
			"How long the longest-waiting queued operation of a scope has waited; 0 when none waits.",
			[]string{"scope"}, nil),
		backups: prometheus.NewDesc(name("barman_backups"),
			"Backups in Barman's catalog, by server and Barman status.",
			[]string{"server", "status"}, nil),
		lastEnd: prometheus.NewDesc(name("barman_last_backup_end_timestamp_seconds"),
			"End time of the server's newest DONE backup, in seconds since the epoch.",
			[]string{"server"}, nil),
		lastSize: prometheus.NewDesc(name("barman_last_backup_size_bytes"),
			"Size of the server's newest DONE backup.",
			[]string{"server"}, nil),
		windowStart: prometheus.NewDesc(name("barman_recovery_window_start_timestamp_seconds"),
			"Earliest time the server can be recovered to, in seconds since the epoch.",
			[]string{"server"}, nil),
		sourceUp: prometheus.NewDesc(name("metrics_source_up"),
			"1 when the last read of a source (operations, catalog) succeeded, 0 when it failed and its series are missing or stale.",
			[]string{"source"}, nil),
	}
}

func (c *sourceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.operations, c.queueDepth, c.queueAge, c.backups, c.lastEnd, c.lastSize, c.windowStart, c.sourceUp} {
		ch <- d
	}
}

func (c *sourceCollector) Collect(ch chan<- prometheus.Metric) {
	if c.ops != nil {
		ch <- prometheus.MustNewConstMetric(c.sourceUp, prometheus.GaugeValue, up(c.collectOperations(ch)), "operations")
	}
	if c.catalog != nil {
		ch <- prometheus.MustNewConstMetric(c.sourceUp, prometheus.GaugeValue, up(c.collectCatalog(ch)), "catalog")
	}
}

func up(ok bool) float64 {
	if ok {
		return 1
	}
	return 0
}

type countKey struct{ scope, typ, status string }

func (c *sourceCollector) collectOperations(ch chan<- prometheus.Metric) bool {
	counts, err := c.ops.OperationCounts()
	if err != nil {
		c.log.Warn("metrics: cannot count operations", "error", err)
		return false
	}
	queues, err := c.ops.Queues()
	if err != nil {
		c.log.Warn("metrics: cannot read queues", "error", err)
		return false
	}
	// The same labels twice would fail the whole scrape; add them up.
	sums := make(map[countKey]int, len(counts))
	order := make([]countKey, 0, len(counts))
	for _, n := range counts {
		k := countKey{scopeLabel(n.Scope), n.Type, n.Status}
		if _, seen := sums[k]; !seen {
			order = append(order, k)
		}
		sums[k] += n.N
	}
	for _, k := range order {
		ch <- prometheus.MustNewConstMetric(c.operations, prometheus.GaugeValue, float64(sums[k]), k.scope, k.typ, k.status)
	}
	now := c.now()
	seen := make(map[string]bool, len(queues))
	for _, q := range queues {
		scope := scopeLabel(q.Scope)
		if seen[scope] {
			continue
		}
		seen[scope] = true
		age := 0.0
		if q.Depth > 0 && !q.OldestQueued.IsZero() {
			age = max(now.Sub(q.OldestQueued).Seconds(), 0)
		}
		ch <- prometheus.MustNewConstMetric(c.queueDepth, prometheus.GaugeValue, float64(q.Depth), scope)
		ch <- prometheus.MustNewConstMetric(c.queueAge, prometheus.GaugeValue, age, scope)
	}
	return true
}

// collectCatalog reports the cached catalog, reading it again once the TTL
// has passed. A failed read keeps the last good values (a backup does not
// vanish because a directory was briefly unreadable) and is not retried
// before the TTL passes, so a broken catalog costs one read per TTL.
func (c *sourceCollector) collectCatalog(ch chan<- prometheus.Metric) bool {
	c.mu.Lock()
	now := c.now()
	if c.readAt.IsZero() || now.Sub(c.readAt) >= c.ttl || now.Before(c.readAt) {
		servers, err := c.catalog.CatalogStats()
		c.readAt = now
		if err != nil {
			c.log.Warn("metrics: cannot read Barman's catalog", "error", err)
			c.catalogOK = false
		} else {
			c.servers, c.catalogOK = servers, true
		}
	}
	servers, ok := c.servers, c.catalogOK
	c.mu.Unlock()

	seen := make(map[string]bool, len(servers))
	for _, s := range servers {
		if s.Server == "" || seen[s.Server] {
			continue
		}
		seen[s.Server] = true
		for status, n := range s.Backups {
			ch <- prometheus.MustNewConstMetric(c.backups, prometheus.GaugeValue, float64(n), s.Server, status)
		}
		if !s.LastBackupEnd.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.lastEnd, prometheus.GaugeValue, epoch(s.LastBackupEnd), s.Server)
			ch <- prometheus.MustNewConstMetric(c.lastSize, prometheus.GaugeValue, float64(s.LastBackupSize), s.Server)
		}
		if !s.RecoveryWindowStart.IsZero() {
			ch <- prometheus.MustNewConstMetric(c.windowStart, prometheus.GaugeValue, epoch(s.RecoveryWindowStart), s.Server)
		}
	}
	return ok
}

func epoch(t time.Time) float64 { return float64(t.UnixNano()) / 1e9 }
