package cli

import (
	"reflect"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// TestOperationSourceDrills: the metrics see the end of the newest DONE
// drill, and the steps of the newest finished one, read from its output.
func TestOperationSourceDrills(t *testing.T) {
	b := testenv.NewBarman(t, "barman-3.17")
	cfg, err := barman.LoadConfig(b.Conf)
	if err != nil {
		t.Fatal(err)
	}
	st := store.Open(cfg)
	const srv = "db_server_two"
	day := time.Date(2026, 11, 25, 0, 0, 0, 0, time.Local)
	drill := func(at time.Duration, ok bool, out string) {
		t.Helper()
		st.Now = func() time.Time { return day.Add(at) }
		p := pyjson.NewObject()
		p.Set("type", "drill")
		id, err := st.Create(&ops.Request{Server: srv, Type: ops.DrillOp, Payload: p, BackupID: "20261125T080758"}, ops.Extension{Version: "test"})
		if err != nil {
			t.Fatal(err)
		}
		st.Now = func() time.Time { return day.Add(at + time.Minute) }
		if err := st.End(srv, id, nil, ops.Result{Success: ok, Output: out, EndTime: day.Add(at + time.Minute)}); err != nil {
			t.Fatal(err)
		}
	}
	line := func(step string, d time.Duration) string {
		return ops.DrillLinePrefix + ops.DrillStepLine(step, d, "") + "\n"
	}
	drill(8*time.Hour, true, line("restore", 3*time.Second)+line("consistency", time.Second)+line("queries", time.Millisecond))
	drill(9*time.Hour, false, line("restore", 4*time.Second)+ops.DrillLinePrefix+"failed\n")

	svc := &ops.Service{Barman: barman.NewReader(b.Conf), OpenStore: store.Opener(), Version: "test"}
	source := &operationSource{svc: svc}
	got, err := source.Drills()
	if err != nil {
		t.Fatal(err)
	}
	want := []struct {
		server string
		last   time.Time
		steps  map[string]time.Duration
	}{{srv, day.Add(8*time.Hour + time.Minute), map[string]time.Duration{"restore": 4 * time.Second}}}
	if len(got) != 1 || got[0].Server != want[0].server || !got[0].LastSuccess.Equal(want[0].last) || !reflect.DeepEqual(got[0].Steps, want[0].steps) {
		t.Errorf("Drills() = %+v, want %+v", got, want)
	}
}

// TestOperationSourceDrillSchedule: a scheduled server is reported before
// it has any drill (last success zero, its schedule from serve's take-up),
// and once it has drills its schedule starts at the oldest, if earlier:
// a restart does not move the start of a server that never succeeded.
func TestOperationSourceDrillSchedule(t *testing.T) {
	b := testenv.NewBarman(t, "barman-3.17")
	cfg, err := barman.LoadConfig(b.Conf)
	if err != nil {
		t.Fatal(err)
	}
	st := store.Open(cfg)
	day := time.Date(2026, 11, 25, 0, 0, 0, 0, time.Local)
	taken := day.Add(30 * time.Hour)
	sched := []scheduledDrill{{Server: "db_server_two", Every: 24 * time.Hour, Timeout: time.Hour, Since: taken}, {Server: "main", Every: 48 * time.Hour, Timeout: time.Hour, Since: taken}}
	svc := &ops.Service{Barman: barman.NewReader(b.Conf), OpenStore: store.Opener(), Version: "test"}
	source := &operationSource{svc: svc, schedule: func() []scheduledDrill { return sched }}
	got, err := source.Drills()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("Drills() = %+v, want both scheduled servers", got)
	}
	for _, d := range got {
		if !d.LastSuccess.IsZero() || !d.ScheduleStart.Equal(taken) || d.Every == 0 || d.Timeout != time.Hour {
			t.Errorf("before any drill: %+v", d)
		}
	}
	// A drill of db_server_two that failed a day before the schedule was
	// taken up (serve restarted since).
	st.Now = func() time.Time { return day.Add(6 * time.Hour) }
	p := pyjson.NewObject()
	p.Set("type", "drill")
	id, err := st.Create(&ops.Request{Server: "db_server_two", Type: ops.DrillOp, Payload: p, BackupID: "20261125T080758"}, ops.Extension{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.End("db_server_two", id, nil, ops.Result{Success: false, EndTime: day.Add(7 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	source = &operationSource{svc: svc, schedule: func() []scheduledDrill { return sched }}
	if got, err = source.Drills(); err != nil {
		t.Fatal(err)
	}
	for _, d := range got {
		want := taken
		if d.Server == "db_server_two" {
			want = day.Add(6 * time.Hour)
		}
		if !d.ScheduleStart.Equal(want) || !d.LastSuccess.IsZero() {
			t.Errorf("%s: schedule start %s, last success %s; want %s, zero", d.Server, d.ScheduleStart, d.LastSuccess, want)
		}
	}
}
