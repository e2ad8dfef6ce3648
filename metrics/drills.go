package metrics

import (
	"log/slog"
	"sort"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Drill is what the metrics report of one server's restore drills.
type Drill struct {
	Server string
	// LastSuccess is when the server's newest DONE drill ended; zero when
	// none has succeeded, and then the series reads 0.
	LastSuccess time.Time
	// Steps are the durations of the steps the server's newest finished
	// drill completed (restore, consistency, queries); a failed drill has
	// only those before the one that failed.
	Steps map[string]time.Duration
	// Every is the period of the server's drill schedule
	// ([[drills.schedule]]); 0 when it has none, and then the schedule
	// series are absent.
	Every time.Duration
	// Timeout is the timeout of the scheduled drills.
	Timeout time.Duration
	// ScheduleStart is since when the server's drills are expected: the
	// creation of its oldest recorded drill, or when serve took up its
	// schedule if that is earlier. A server that never had a successful
	// drill is overdue from it.
	ScheduleStart time.Time
}

// DrillSource reports the servers' drills. It is asked on every scrape and
// must answer from memory or a cache.
type DrillSource interface {
	Drills() ([]Drill, error)
}

// drillCollector turns a DrillSource into series at scrape time. Drills by
// result are pg_backup_api_operations{type="drill"} and
// pg_backup_api_operations_finished_total{type="drill"}.
type drillCollector struct {
	src                            DrillSource
	log                            *slog.Logger
	lastSuccess, stepDur           *prometheus.Desc
	period, timeout, scheduleStart *prometheus.Desc
}

func newDrillCollector(src DrillSource, log *slog.Logger) *drillCollector {
	name := func(n string) string { return prometheus.BuildFQName(Namespace, "", n) }
	return &drillCollector{src: src, log: log,
		lastSuccess: prometheus.NewDesc(name("drill_last_success_timestamp_seconds"),
			"When the server's newest successful restore drill ended, in seconds since the epoch; 0 when none has succeeded.",
			[]string{"server"}, nil),
		stepDur: prometheus.NewDesc(name("drill_last_step_duration_seconds"),
			"How long each step of the server's newest finished restore drill took (restore, consistency, queries); a failed drill reports the steps before the one that failed.",
			[]string{"server", "step"}, nil),
		period: prometheus.NewDesc(name("drill_schedule_period_seconds"),
			"How often serve creates a restore drill of the server ([[drills.schedule]] every); absent for a server without a schedule.",
			[]string{"server"}, nil),
		timeout: prometheus.NewDesc(name("drill_schedule_timeout_seconds"),
			"The timeout of the server's scheduled restore drills: how long one may take before it fails.",
			[]string{"server"}, nil),
		scheduleStart: prometheus.NewDesc(name("drill_schedule_start_timestamp_seconds"),
			"Since when the server's drills are expected, in seconds since the epoch: the creation of its oldest recorded drill, or when serve took up its schedule if earlier.",
			[]string{"server"}, nil),
	}
}

func (c *drillCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.lastSuccess
	ch <- c.stepDur
	ch <- c.period
	ch <- c.timeout
	ch <- c.scheduleStart
}

func (c *drillCollector) Collect(ch chan<- prometheus.Metric) {
	drills, err := c.src.Drills()
	if err != nil {
		c.log.Warn("metrics: reading the drills", "error", err)
		return
	}
	for _, d := range drills {
		var ts float64
		if !d.LastSuccess.IsZero() {
			ts = float64(d.LastSuccess.UnixNano()) / 1e9
		}
		ch <- prometheus.MustNewConstMetric(c.lastSuccess, prometheus.GaugeValue, ts, d.Server)
		if d.Every > 0 {
			ch <- prometheus.MustNewConstMetric(c.period, prometheus.GaugeValue, d.Every.Seconds(), d.Server)
			ch <- prometheus.MustNewConstMetric(c.timeout, prometheus.GaugeValue, d.Timeout.Seconds(), d.Server)
			ch <- prometheus.MustNewConstMetric(c.scheduleStart, prometheus.GaugeValue, float64(d.ScheduleStart.UnixNano())/1e9, d.Server)
		}
		steps := make([]string, 0, len(d.Steps))
		for s := range d.Steps {
			steps = append(steps, s)
		}
		sort.Strings(steps)
		for _, s := range steps {
			ch <- prometheus.MustNewConstMetric(c.stepDur, prometheus.GaugeValue, d.Steps[s].Seconds(), d.Server, s)
		}
	}
}
