package metrics

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

type fakeDrills struct {
	drills []Drill
	err    error
}

func (f *fakeDrills) Drills() ([]Drill, error) { return f.drills, f.err }

func TestDrillSeries(t *testing.T) {
	src := &fakeDrills{drills: []Drill{
		{Server: "db1", LastSuccess: time.Unix(1795594078, 500e6), Steps: map[string]time.Duration{
			"restore": 90 * time.Second, "consistency": 2500 * time.Millisecond, "queries": 120 * time.Millisecond}},
		// Failed at consistency, never succeeded.
		{Server: "db2", Steps: map[string]time.Duration{"restore": time.Second}},
	}}
	m := newTest(t, Options{Drills: src})
	want := `
# HELP pg_backup_api_drill_last_step_duration_seconds How long each step of the server's newest finished restore drill took (restore, consistency, queries); a failed drill reports the steps before the one that failed.
# TYPE pg_backup_api_drill_last_step_duration_seconds gauge
pg_backup_api_drill_last_step_duration_seconds{server="db1",step="consistency"} 2.5
pg_backup_api_drill_last_step_duration_seconds{server="db1",step="queries"} 0.12
pg_backup_api_drill_last_step_duration_seconds{server="db1",step="restore"} 90
pg_backup_api_drill_last_step_duration_seconds{server="db2",step="restore"} 1
# HELP pg_backup_api_drill_last_success_timestamp_seconds When the server's newest successful restore drill ended, in seconds since the epoch; 0 when none has succeeded.
# TYPE pg_backup_api_drill_last_success_timestamp_seconds gauge
pg_backup_api_drill_last_success_timestamp_seconds{server="db1"} 1.7955940785e+09
pg_backup_api_drill_last_success_timestamp_seconds{server="db2"} 0
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want),
		"pg_backup_api_drill_last_step_duration_seconds", "pg_backup_api_drill_last_success_timestamp_seconds"); err != nil {
		t.Error(err)
	}

	// A source that fails leaves the scrape alive, without drill series.
	src.err = errors.New("boom")
	if n, err := testutil.GatherAndCount(m.Registry(), "pg_backup_api_drill_last_success_timestamp_seconds"); err != nil || n != 0 {
		t.Errorf("with a failing source: %d series, %v", n, err)
	}
	// Without a source, no drill series at all.
	if n, _ := testutil.GatherAndCount(newTest(t, Options{}).Registry(), "pg_backup_api_drill_last_success_timestamp_seconds"); n != 0 {
		t.Errorf("without a source: %d series", n)
	}
}

// TestDrillScheduleSeries: a scheduled server has its period, timeout and
// schedule start, and a last success of 0 before any drill ended; a server
// without a schedule has none of the schedule series.
func TestDrillScheduleSeries(t *testing.T) {
	src := &fakeDrills{drills: []Drill{
		{Server: "db1", Every: 24 * time.Hour, Timeout: 2 * time.Hour, ScheduleStart: time.Unix(1795594078, 0)},
		{Server: "db2", LastSuccess: time.Unix(1795594000, 0)},
	}}
	m := newTest(t, Options{Drills: src})
	want := `
# HELP pg_backup_api_drill_last_success_timestamp_seconds When the server's newest successful restore drill ended, in seconds since the epoch; 0 when none has succeeded.
# TYPE pg_backup_api_drill_last_success_timestamp_seconds gauge
pg_backup_api_drill_last_success_timestamp_seconds{server="db1"} 0
pg_backup_api_drill_last_success_timestamp_seconds{server="db2"} 1.795594e+09
# HELP pg_backup_api_drill_schedule_period_seconds How often serve creates a restore drill of the server ([[drills.schedule]] every); absent for a server without a schedule.
# TYPE pg_backup_api_drill_schedule_period_seconds gauge
pg_backup_api_drill_schedule_period_seconds{server="db1"} 86400
# HELP pg_backup_api_drill_schedule_start_timestamp_seconds Since when the server's drills are expected, in seconds since the epoch: the creation of its oldest recorded drill, or when serve took up its schedule if earlier.
# TYPE pg_backup_api_drill_schedule_start_timestamp_seconds gauge
pg_backup_api_drill_schedule_start_timestamp_seconds{server="db1"} 1.795594078e+09
# HELP pg_backup_api_drill_schedule_timeout_seconds The timeout of the server's scheduled restore drills: how long one may take before it fails.
# TYPE pg_backup_api_drill_schedule_timeout_seconds gauge
pg_backup_api_drill_schedule_timeout_seconds{server="db1"} 7200
`
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want),
		"pg_backup_api_drill_last_success_timestamp_seconds", "pg_backup_api_drill_schedule_period_seconds",
		"pg_backup_api_drill_schedule_timeout_seconds", "pg_backup_api_drill_schedule_start_timestamp_seconds"); err != nil {
		t.Error(err)
	}
}
