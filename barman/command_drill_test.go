package barman

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// TestArgsDrill pins a drill's argv: without a target exactly what it was
// before drills took targets; with one, the target as a recovery spells
// it, then --target-action=promote, which PostgreSQL 12 and later need
// to end recovery at a target rather than pause there (the drill waits
// for recovery to end); a job whose target_action is not promote (edited
// by hand, or another implementation's) is refused.
func TestArgsDrill(t *testing.T) {
	at := time.Date(2026, 11, 26, 8, 30, 0, 0, time.UTC).Local().Format("2006-01-02 15:04:05.999999-07:00")
	base := []string{"barman", "-c", "/c", "recover", "pg", "20261125T080758", "/drills/pg/20261126T000000/data"}
	tests := []struct {
		name, job string
		want      []string // after base
		wantErr   string
	}{
		{"no option", `{"type": "drill"}`, nil, ""},
		{"no target, jobs and queries", `{"type": "drill", "jobs": 2, "sql": ["select 1"], "timeout": "5m"}`, []string{"--jobs=2"}, ""},
		{"target_time", `{"type": "drill", "target_time": "2026-11-26T08:30:00Z"}`, []string{"--target-time=" + at, "--target-action=promote"}, ""},
		{"target_lsn and exclusive", `{"type": "drill", "target_lsn": "0/6000000", "exclusive": true, "jobs": 4}`,
			[]string{"--target-lsn=0/6000000", "--target-action=promote", "--exclusive", "--jobs=4"}, ""},
		{"target_xid on a timeline", `{"type": "drill", "target_xid": 800, "target_tli": "latest"}`,
			[]string{"--target-xid=800", "--target-tli=latest", "--target-action=promote"}, ""},
		{"target_name", `{"type": "drill", "target_name": "before upgrade"}`, []string{"--target-name=before upgrade", "--target-action=promote"}, ""},
		{"target_immediate, promote given", `{"type": "drill", "target_immediate": true, "target_action": "promote"}`,
			[]string{"--target-immediate", "--target-action=promote"}, ""},
		{"a timeline alone is no target", `{"type": "drill", "target_tli": 2}`, []string{"--target-tli=2"}, ""},
		{"pause in an edited job", `{"type": "drill", "target_xid": 800, "target_action": "pause"}`, nil, `drill: "target_action" must be "promote"`},
		{"two targets in an edited job", `{"type": "drill", "target_xid": 800, "target_name": "x"}`, nil, `drill: "target_xid" and "target_name" are both recovery targets`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			job, err := pyjson.DecodeObject([]byte(tc.job), pyjson.DecodeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			op := &ops.Operation{ID: "20261126T000000", Server: "pg", Type: ops.DrillOp, Job: job, Recorded: &ops.Extension{BackupID: "20261125T080758"}}
			got, err := NewCommand("barman").WithPolicy(ops.Policy{DrillDirectory: "/drills"}).Args("/c", op)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Args = %q, %v; want error %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if want := append(append([]string{}, base...), tc.want...); !reflect.DeepEqual(got, want) {
				t.Errorf("Args =\n %q\nwant\n %q", got, want)
			}
		})
	}
}

// TestDrillRowsAreRecoveryRows: a drill's option rows are its recovery
// rows but for the type and target_action's one value, so a drill's
// target is checked, gated by version and spelled as a recovery's.
func TestDrillRowsAreRecoveryRows(t *testing.T) {
	recovery := map[string]ops.OptionSpec{}
	for _, s := range Options.For(ops.Recovery) {
		recovery[s.Key] = s
	}
	var keys []string
	for _, d := range Options.For(ops.DrillOp) {
		keys = append(keys, d.Key)
		r, ok := recovery[d.Key]
		if !ok {
			t.Errorf("drill row %q has no recovery row", d.Key)
			continue
		}
		if d.Key == "target_action" {
			if !reflect.DeepEqual(d.Values, []string{"promote"}) || d.Since != r.Since || d.Flag != r.Flag {
				t.Errorf("drill target_action = %+v, want recovery's flag and version with the one value promote", d)
			}
			continue
		}
		r.Type = ops.DrillOp
		if !reflect.DeepEqual(d, r) {
			t.Errorf("drill row %+v\n differs from its recovery row %+v", d, r)
		}
	}
	want := "target_time target_lsn target_xid target_name target_immediate target_tli target_action exclusive jobs"
	if got := strings.Join(keys, " "); got != want {
		t.Errorf("drill rows %q, want %q", got, want)
	}
}
