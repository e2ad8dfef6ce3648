package barman

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// TestArgsPinEachOption pins the argv of every option, one at a time, so
// that the argv stays byte for byte what it was whatever builds it: what
// follows the fixed arguments of `recover` and `backup`.
func TestArgsPinEachOption(t *testing.T) {
	local := func(s string) string {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm.Local().Format("2006-01-02 15:04:05.999999-07:00")
	}
	recovery := []struct {
		payload string // the option keys, as JSON members
		want    []string
	}{
		{`"target_time": "2026-01-02T13:02:03.25Z"`, []string{"--target-time=" + local("2026-01-02T13:02:03.25Z")}},
		{`"target_time": "2026-01-02 14:02:03+01"`, []string{"--target-time=" + local("2026-01-02T13:02:03Z")}},
		{`"target_time": "2026-01-02T13:02:03.123456789Z"`, []string{"--target-time=" + local("2026-01-02T13:02:03.123456Z")}},
		{`"target_lsn": "1A/FF00AB"`, []string{"--target-lsn=1A/FF00AB"}},
		{`"target_xid": 742`, []string{"--target-xid=742"}},
		{`"target_xid": "0742"`, []string{"--target-xid=742"}},
		{`"target_name": "before migration"`, []string{"--target-name=before migration"}},
		{`"target_immediate": true`, []string{"--target-immediate"}},
		{`"target_immediate": false`, nil},
		{`"target_tli": 2`, []string{"--target-tli=2"}},
		{`"target_tli": "03"`, []string{"--target-tli=3"}},
		{`"target_tli": "current"`, []string{"--target-tli=current"}},
		{`"target_tli": "latest"`, []string{"--target-tli=latest"}},
		{`"target_action": "pause", "target_xid": 1`, []string{"--target-xid=1", "--target-action=pause"}},
		{`"target_action": "shutdown", "target_immediate": true`, []string{"--target-immediate", "--target-action=shutdown"}},
		{`"exclusive": true, "target_lsn": "0/1"`, []string{"--target-lsn=0/1", "--exclusive"}},
		{`"exclusive": false`, nil},
		{`"standby_mode": true`, []string{"--standby-mode"}},
		{`"standby_mode": false`, nil},
		{`"get_wal": true`, []string{"--get-wal"}},
		{`"get_wal": false`, []string{"--no-get-wal"}},
		{`"jobs": 1`, []string{"--jobs=1"}},
		{`"jobs": 64`, []string{"--jobs=64"}},
		{`"bwlimit": 0`, []string{"--bwlimit=0"}},
		{`"bwlimit": 2048`, []string{"--bwlimit=2048"}},
	}
	fixed := []string{"barman", "-c", "/c", "recover", "pg", "b", "/d", "--remote-ssh-command=ssh x"}
	for _, tc := range recovery {
		t.Run(tc.payload, func(t *testing.T) {
			job, err := pyjson.DecodeObject([]byte(`{"type": "recovery", "backup_id": "b", "remote_ssh_command": "ssh x", "destination_directory": "/d", `+tc.payload+`}`), pyjson.DecodeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := NewCommand("barman").Args("/c", &ops.Operation{ID: "1", Server: "pg", Type: ops.Recovery, Job: job, Recorded: store.RecordOf(job)})
			if err != nil {
				t.Fatal(err)
			}
			if want := append(slices.Clone(fixed), tc.want...); !slices.Equal(got, want) {
				t.Errorf("Args =\n %q\nwant\n %q", got, want)
			}
		})
	}
	backup := []struct {
		payload string
		want    []string
	}{
		{`"backup_name": "nightly"`, []string{"--name=nightly"}},
		{`"backup_name": "with spaces é"`, []string{"--name=with spaces é"}},
		{`"immediate_checkpoint": true`, []string{"--immediate-checkpoint"}},
		{`"immediate_checkpoint": false`, nil},
		{`"backup_name": "n", "immediate_checkpoint": true`, []string{"--name=n", "--immediate-checkpoint"}},
	}
	for _, tc := range backup {
		t.Run(tc.payload, func(t *testing.T) {
			job, err := pyjson.DecodeObject([]byte(`{"type": "backup", `+tc.payload+`}`), pyjson.DecodeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := NewCommand("barman").Args("/c", &ops.Operation{ID: "1", Server: "pg", Type: ops.BackupOp, Job: job, Recorded: store.RecordOf(job)})
			if err != nil {
				t.Fatal(err)
			}
			want := append(append([]string{"barman", "-c", "/c", "backup", "pg"}, tc.want...), "--wait")
			if !slices.Equal(got, want) {
				t.Errorf("Args =\n %q\nwant\n %q", got, want)
			}
		})
	}
}

// TestArgsPinKeepDelete pins the argv of keep and delete: the backup is the
// one backup_id resolved to when the operation was created (recorded as
// resolved_backup_id), and keep gives --target=TARGET or --release, as
// `barman keep SERVER BACKUP --target full|standalone` and `barman keep
// SERVER BACKUP --release` take them.
func TestArgsPinKeepDelete(t *testing.T) {
	tests := []struct {
		typ  ops.Type
		job  string
		want []string
	}{
		{ops.KeepOp, `{"type": "keep", "backup_id": "latest", "target": "full", "pg_backup_api": {"resolved_backup_id": "20260102T030405"}}`,
			[]string{"keep", "pg", "20260102T030405", "--target=full"}},
		{ops.KeepOp, `{"type": "keep", "backup_id": "20260102T030405", "target": "standalone"}`,
			[]string{"keep", "pg", "20260102T030405", "--target=standalone"}},
		{ops.KeepOp, `{"type": "keep", "backup_id": "nightly", "release": true, "pg_backup_api": {"resolved_backup_id": "20260102T030405"}}`,
			[]string{"keep", "pg", "20260102T030405", "--release"}},
		{ops.DeleteOp, `{"type": "delete", "backup_id": "oldest", "pg_backup_api": {"resolved_backup_id": "20250101T000000"}}`,
			[]string{"delete", "pg", "20250101T000000"}},
		{ops.DeleteOp, `{"type": "delete", "backup_id": "20250101T000000"}`,
			[]string{"delete", "pg", "20250101T000000"}},
	}
	for _, tc := range tests {
		t.Run(tc.job, func(t *testing.T) {
			job, err := pyjson.DecodeObject([]byte(tc.job), pyjson.DecodeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := NewCommand("barman").Args("/c", &ops.Operation{ID: "1", Server: "pg", Type: tc.typ, Job: job, Recorded: store.RecordOf(job)})
			if err != nil {
				t.Fatal(err)
			}
			if want := append([]string{"barman", "-c", "/c"}, tc.want...); !slices.Equal(got, want) {
				t.Errorf("Args =\n %q\nwant\n %q", got, want)
			}
		})
	}
	// A job that another implementation or a hand wrote is read again as
	// validation reads a request: nothing unchecked reaches Barman.
	bad := []struct {
		typ       ops.Type
		job, want string
	}{
		{ops.KeepOp, `{"type": "keep", "backup_id": "b"}`, `"target"`},
		{ops.KeepOp, `{"type": "keep", "backup_id": "b", "target": "forever"}`, `"target" must be "full" or "standalone"`},
		{ops.KeepOp, `{"type": "keep", "backup_id": "b", "target": "full", "release": true}`, "not both"},
		{ops.KeepOp, `{"type": "keep", "backup_id": "-b", "target": "full"}`, `starts with "-"`},
		{ops.KeepOp, `{"type": "keep", "backup_id": "b", "target": "full", "pg_backup_api": {"resolved_backup_id": "--x"}}`, `starts with "-"`},
		{ops.DeleteOp, `{"type": "delete"}`, `"backup_id"`},
		{ops.DeleteOp, `{"type": "delete", "backup_id": "--all"}`, `starts with "-"`},
	}
	for _, tc := range bad {
		job, err := pyjson.DecodeObject([]byte(tc.job), pyjson.DecodeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		got, err := NewCommand("barman").Args("/c", &ops.Operation{ID: "1", Server: "pg", Type: tc.typ, Job: job, Recorded: store.RecordOf(job)})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Args = %q, %v; want an error saying %s", tc.job, got, err, tc.want)
		}
	}
}

// TestOptionsTable: every row can be read, spelled and turned into a CLI
// flag: a known type, a subcommand, a flag joined to its value, one row per
// payload key and per flag of a type.
func TestOptionsTable(t *testing.T) {
	keys, flags := map[string]bool{}, map[string]bool{}
	for _, s := range Options {
		where := string(s.Type) + " " + s.Key + " " + s.Flag
		switch {
		case !s.Type.Known():
			t.Errorf("%s: unknown type", where)
		case s.Command != recoverCmd && s.Command != backupCmd && s.Command != keepCmd:
			t.Errorf("%s: command %q", where, s.Command)
		case len(s.Flag) < 3 || s.Flag[:2] != "--" || s.Flag[2] == '-':
			t.Errorf("%s: flag %q is not --name", where, s.Flag)
		case s.Kind == "":
			t.Errorf("%s: no kind", where)
		case (s.Key == "") != (s.Kind == ops.KindAlways):
			t.Errorf("%s: only a KindAlways row has no key", where)
		case s.Key != "" && s.Usage == "":
			t.Errorf("%s: no usage for the CLI flag", where)
		}
		if k := string(s.Type) + "." + s.Key; keys[k] {
			t.Errorf("%s: key given twice", where)
		} else {
			keys[k] = true
		}
		if f := string(s.Type) + "." + s.Flag; flags[f] {
			t.Errorf("%s: flag given twice", where)
		} else {
			flags[f] = true
		}
	}
}
