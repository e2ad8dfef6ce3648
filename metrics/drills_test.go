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
