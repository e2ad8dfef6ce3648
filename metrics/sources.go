package metrics

import (
	"log/slog"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/pg-backup-api/pg-backup-api/ops"
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
	lastWAL                                           *prometheus.Desc

	mu             sync.Mutex
	readAt         time.Time // when the catalog was last read, successfully or not
	configured     []string  // the configured servers at that read
	catalogServers []ServerCatalog
	catalogOK      bool
	wal            WALSource // set by WatchWAL
	walCache       walCache
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
			"End time of the server's newest DONE backup, in seconds since the epoch; 0 when it has none.",
			[]string{"server"}, nil),
		lastSize: prometheus.NewDesc(name("barman_last_backup_size_bytes"),
			"Size of the server's newest DONE backup; 0 when it has none.",
			[]string{"server"}, nil),
		windowStart: prometheus.NewDesc(name("barman_recovery_window_start_timestamp_seconds"),
			"Earliest time the server can be recovered to, in seconds since the epoch; 0 when it has no DONE backup.",
			[]string{"server"}, nil),
		lastWAL: prometheus.NewDesc(name("barman_last_wal_archived_timestamp_seconds"),
			"When Barman filed the server's newest WAL segment (its time in xlog.db), in seconds since the epoch; 0 when none is archived.",
			[]string{"server"}, nil),
		sourceUp: prometheus.NewDesc(name("metrics_source_up"),
			"1 when the last read of a source (operations, catalog, wal) succeeded, 0 when it failed and its series are missing or stale.",
			[]string{"source"}, nil),
	}
}

func (c *sourceCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.operations, c.queueDepth, c.queueAge, c.backups, c.lastEnd, c.lastSize, c.windowStart, c.lastWAL, c.sourceUp} {
		ch <- d
	}
}

func (c *sourceCollector) Collect(ch chan<- prometheus.Metric) {
	servers, known := c.servers()
	if c.ops != nil {
		ch <- prometheus.MustNewConstMetric(c.sourceUp, prometheus.GaugeValue, up(c.collectOperations(ch, servers)), "operations")
	}
	if c.catalog != nil {
		ch <- prometheus.MustNewConstMetric(c.sourceUp, prometheus.GaugeValue, up(c.collectCatalog(ch, servers, known)), "catalog")
	}
	c.mu.Lock()
	wal := c.wal
	c.mu.Unlock()
	if wal != nil {
		ch <- prometheus.MustNewConstMetric(c.sourceUp, prometheus.GaugeValue, up(c.collectWAL(ch, servers, known)), "wal")
	}
}

// servers are the configured servers, as the operation source's queues
// list them; known is false when there is no such source or it failed.
func (c *sourceCollector) servers() (servers []string, known bool) {
	if c.ops == nil {
		return nil, false
	}
	queues, err := c.ops.Queues()
	if err != nil {
		return nil, false
	}
	seen := map[string]bool{}
	for _, q := range queues {
		if q.Scope != "" && q.Scope != InstanceScope && !seen[q.Scope] {
			seen[q.Scope] = true
			servers = append(servers, q.Scope)
		}
	}
	sort.Strings(servers)
	return servers, true
}

func up(ok bool) float64 {
	if ok {
		return 1
	}
	return 0
}

type countKey struct{ scope, typ, status string }

// collectOperations reports the operations by state, with 0 for every
// type and status a scope may have and has not: an alert on a rate or an
// increase needs the series before the first event.
func (c *sourceCollector) collectOperations(ch chan<- prometheus.Metric, servers []string) bool {
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
	for _, k := range zeroOperationKeys(servers) {
		if _, seen := sums[k]; !seen {
			sums[k] = 0
			order = append(order, k)
		}
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
// has passed or the configured servers changed. A failed read keeps the
// last good values (a backup does not vanish because a directory was
// briefly unreadable) and is not retried before the TTL passes, so a broken
// catalog costs one read per TTL. Every server reports every series, 0 when
// it has no backup: an alert on a stale backup fires for a server that has
// none at all.
func (c *sourceCollector) collectCatalog(ch chan<- prometheus.Metric, configured []string, known bool) bool {
	c.mu.Lock()
	now := c.now()
	if c.readAt.IsZero() || now.Sub(c.readAt) >= c.ttl || now.Before(c.readAt) || (known && !sameServers(c.configured, configured)) {
		servers, err := c.catalog.CatalogStats()
		c.readAt = now
		if err != nil {
			c.log.Warn("metrics: cannot read Barman's catalog", "error", err)
			c.catalogOK = false
		} else {
			c.catalogServers, c.catalogOK = servers, true
		}
		c.configured = configured
	}
	servers, ok := c.catalogServers, c.catalogOK
	c.mu.Unlock()

	byName := make(map[string]ServerCatalog, len(servers))
	var names []string
	for _, s := range servers {
		if s.Server == "" {
			continue
		}
		if _, seen := byName[s.Server]; !seen {
			names = append(names, s.Server)
			byName[s.Server] = s
		}
	}
	if known {
		// Servers removed from the configuration go; servers added
		// report zeros until the catalog has them.
		names = configured
	}
	for _, name := range names {
		s := byName[name]
		for _, status := range BarmanBackupStatuses {
			if _, ok := s.Backups[status]; !ok {
				ch <- prometheus.MustNewConstMetric(c.backups, prometheus.GaugeValue, 0, name, status)
			}
		}
		for status, n := range s.Backups {
			ch <- prometheus.MustNewConstMetric(c.backups, prometheus.GaugeValue, float64(n), name, status)
		}
		ch <- prometheus.MustNewConstMetric(c.lastEnd, prometheus.GaugeValue, epoch(s.LastBackupEnd), name)
		ch <- prometheus.MustNewConstMetric(c.lastSize, prometheus.GaugeValue, float64(s.LastBackupSize), name)
		ch <- prometheus.MustNewConstMetric(c.windowStart, prometheus.GaugeValue, epoch(s.RecoveryWindowStart), name)
	}
	return ok
}

func sameServers(a, b []string) bool { return slices.Equal(a, b) }

// BarmanBackupStatuses are the statuses of a Barman backup (barman/infofile.py),
// each reported for every server, 0 when it has none.
var BarmanBackupStatuses = []string{"DONE", "FAILED", "STARTED", "WAITING_FOR_WALS", "SYNCING", "EMPTY"}

// zeroOperationKeys are the labels every scope reports from the start:
// each type its scope runs (ops.Type.ServerScoped), in each status.
func zeroOperationKeys(servers []string) []countKey {
	var keys []countKey
	for _, typ := range ops.Types {
		for _, status := range []ops.Status{ops.StatusDone, ops.StatusFailed, ops.StatusInProgress} {
			if !typ.ServerScoped() {
				keys = append(keys, countKey{InstanceScope, string(typ), string(status)})
				continue
			}
			for _, s := range servers {
				keys = append(keys, countKey{s, string(typ), string(status)})
			}
		}
	}
	return keys
}

// epoch is t in seconds since the epoch; 0 for the zero time, which means
// "never" (no backup, no WAL, no check yet).
func epoch(t time.Time) float64 {
	if t.IsZero() {
		return 0
	}
	return float64(t.UnixNano()) / 1e9
}
