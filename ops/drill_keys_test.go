package ops_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson/pyjsontest"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/ops/opstest"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// TestCheckDrillKeysRefusesWhatADrillCannotDo: a query psql would run as
// its own meta-command (\! runs a program on the Barman host) is refused
// when the drill is created, not only when it runs.
func TestCheckDrillKeysRefusesWhatADrillCannotDo(t *testing.T) {
	for _, tc := range []struct{ name, payload, want string }{
		{"meta-command", `{"type": "drill", "sql": ["select 1", "\\! id > /tmp/x"]}`, `drill: sql[1]: "query" starts with a backslash, which psql runs as its own meta-command`},
		{"meta-command in an object", `{"type": "drill", "sql": [{"query": "\\copy t to '/tmp/x'"}]}`, `drill: sql[0]: "query" starts with a backslash`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opstest.WantError(t, ops.CheckDrillKeys(pyjsontest.MustDecode(t, tc.payload)), ops.EINVALID, tc.want)
		})
	}
	// A backslash inside SQL is SQL (psql -c looks only at the first byte).
	if err := ops.CheckDrillKeys(pyjsontest.MustDecode(t, `{"type": "drill", "sql": [{"query": "select E'a\\\\b'", "expect": "a\\\\b"}]}`)); err != nil {
		t.Errorf("a query with a backslash inside: %v", err)
	}
}

// walCatalog is a catalog of three DONE backups, oldest first, with the
// WAL archived after each up to the next (the last: up to the end).
type walCatalog struct{}

var walBackups = []ops.CatalogBackup{
	{ID: "20261120T100000", Status: ops.BackupDone, Size: 100 << 20, WALSize: 10 << 20, BeginTime: time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)},
	{ID: "20261125T100000", Status: ops.BackupDone, Size: 100 << 20, WALSize: 20 << 20, BeginTime: time.Date(2026, 11, 25, 10, 0, 0, 0, time.UTC)},
	{ID: "20261127T100000", Status: ops.BackupDone, Size: 100 << 20, WALSize: 40 << 20, BeginTime: time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)},
}

func (walCatalog) ResolveBackup(_ *ops.BarmanServer, id string) (ops.CatalogBackup, error) {
	switch id {
	case "latest":
		return walBackups[2], nil
	case "oldest":
		return walBackups[0], nil
	}
	return ops.CatalogBackup{}, ops.Errorf(ops.ENOTFOUND, "no backup %s", id)
}

func (walCatalog) ReadCatalog(server *ops.BarmanServer) (*ops.ServerCatalog, error) {
	return &ops.ServerCatalog{Server: server.Name, Backups: walBackups, WALKnown: true}, nil
}

// TestDrillRoomCountsWALToTheEnd: without a target Barman copies every WAL
// segment from the backup to the end of the archive, so a drill of an
// older backup needs the WAL archived after each newer backup too (seen in
// the drill trial: a drill of the oldest backup passed the check, then
// ran out of room copying WAL).
func TestDrillRoomCountsWALToTheEnd(t *testing.T) {
	_, cfg := validateEnv(t)
	old := ops.FreeBytes
	ops.FreeBytes = func(string) (uint64, error) { return 165 << 20, nil }
	t.Cleanup(func() { ops.FreeBytes = old })
	drills, err := os.MkdirTemp("", "drill")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(drills) })
	p := withOptions(ops.Policy{DrillDirectory: drills})
	// The newest: 100 MiB and 40 MiB of WAL fit in 165 MiB.
	if _, err := p.Validate(cfg, walCatalog{}, srv2, pyjsontest.MustDecode(t, `{"type": "drill"}`)); err != nil {
		t.Fatalf("a drill of the newest backup: %v", err)
	}
	// The oldest: 100 MiB and 10+20+40 MiB of WAL do not.
	_, err = p.Validate(cfg, walCatalog{}, srv2, pyjsontest.MustDecode(t, `{"type": "drill", "backup_id": "oldest"}`))
	opstest.WantError(t, err, ops.ECONFLICT, "not enough room for a drill of backup 20261120T100000", "it needs 170.0 MiB (the backup and its WAL), the file system has 165.0 MiB free")
	// With a target_time Barman copies the WAL only up to it: before the
	// third backup began, 100 MiB and 10+20 MiB.
	ops.SetNow(t, time.Date(2026, 11, 28, 0, 0, 0, 0, time.UTC))
	if _, err := p.Validate(cfg, walCatalog{}, srv2, pyjsontest.MustDecode(t, `{"type": "drill", "backup_id": "oldest", "target_time": "2026-11-26T00:00:00Z"}`)); err != nil {
		t.Errorf("a drill of the oldest backup to before the newest began: %v", err)
	}
	_, err = p.Validate(cfg, walCatalog{}, srv2, pyjsontest.MustDecode(t, `{"type": "drill", "backup_id": "oldest", "target_time": "2026-11-27T10:00:01Z"}`))
	opstest.WantError(t, err, ops.ECONFLICT, "it needs 170.0 MiB")
}

// TestServiceDrillBarmanLacksOption: a drill's options are gated by the
// installed Barman's version as a recovery's are, the target_action
// promote a target adds included.
func TestServiceDrillBarmanLacksOption(t *testing.T) {
	env, _ := pitrEnv(t)
	env.WithStore(t)
	old := ops.FreeBytes
	ops.FreeBytes = func(string) (uint64, error) { return 1 << 50, nil }
	t.Cleanup(func() { ops.FreeBytes = old })
	drills := t.TempDir()
	svcFor := func(v ops.Version) *ops.Service {
		return &ops.Service{Barman: barman.NewReader(env.Conf), OpenStore: store.Opener(), Version: "test", Policy: ops.Policy{DrillDirectory: drills},
			BarmanVersion: func() (ops.Version, error) { return v, nil }}
	}
	for _, tc := range []struct {
		v             ops.Version
		payload, want string
	}{
		{ops.Version{2, 8, 0}, `{"type": "drill", "backup_id": "` + pitrOld + `", "target_lsn": "0/6000000"}`, "drill: \"target_lsn\" needs `barman recover --target-lsn`, which Barman added in 2.9.0"},
		{ops.Version{2, 3, 0}, `{"type": "drill", "target_xid": 800}`, "drill: \"target_action\" needs `barman recover --target-action`, which Barman added in 2.4.0"},
		{ops.Version{2, 1, 0}, `{"type": "drill", "jobs": 2}`, "drill: \"jobs\" needs `barman recover --jobs`, which Barman added in 2.2.0"},
	} {
		_, err := svcFor(tc.v).Create(context.Background(), srv2, pyjsontest.MustDecode(t, tc.payload), ops.Requester{Name: "test"})
		opstest.WantError(t, err, ops.EINVALID, tc.want)
	}
	if _, err := svcFor(ops.Version{2, 4, 0}).Create(context.Background(), srv2, pyjsontest.MustDecode(t, `{"type": "drill", "target_xid": 800}`), ops.Requester{Name: "test"}); err != nil {
		t.Errorf("Barman 2.4 refused a drill with a target: %v", err)
	}
}

// drillTargetEnv is pitrEnv with WAL archived up to segment 7, the newest
// at 2026-11-27 18:00:00Z, and a drills directory with room to spare.
func drillTargetEnv(t *testing.T) (*testenv.Barman, *ops.BarmanConfig, ops.Policy) {
	t.Helper()
	env, cfg := pitrEnv(t)
	last := time.Date(2026, 11, 27, 18, 0, 0, 0, time.UTC)
	testenv.WriteFile(t, filepath.Join(env.Home, srv2, "wals", "xlog.db"), fmt.Sprintf(
		"000000010000000000000006\t16777216\t%d\tNone\n000000010000000000000007\t16777216\t%d\tNone\n",
		last.Add(-time.Hour).Unix(), last.Unix()))
	old := ops.FreeBytes
	ops.FreeBytes = func(string) (uint64, error) { return 1 << 50, nil }
	t.Cleanup(func() { ops.FreeBytes = old })
	return env, cfg, withOptions(ops.Policy{DrillDirectory: t.TempDir()})
}

// drillOptionKeys are the keys of the Barman options a validated drill
// gives, in order, with their values.
func drillOptionKeys(req *ops.Request) string {
	var s []string
	for _, o := range req.Drill.Options {
		s = append(s, fmt.Sprintf("%s=%v", o.Spec.Key, o.Value))
	}
	return strings.Join(s, " ")
}

// TestValidateDrillTargets: a drill takes a recovery's targets, checked
// as a recovery's are (at most one, exclusive only with a time, an LSN or
// an XID, the recovery window, the backup's end), and "backup_id" "auto"
// or left out with a target_time or a target_lsn chooses the backup as a
// recovery's does; a target adds target_action promote, since the drill
// waits for PostgreSQL to promote, and any other target_action is refused.
func TestValidateDrillTargets(t *testing.T) {
	_, cfg, p := drillTargetEnv(t)
	tests := []struct {
		name, payload string
		code, msg     string // the error, or the backup chosen
		opts          string // the options given to Barman, when accepted
	}{
		{"no target: newest DONE, no option", `{"type": "drill"}`, "", pitrNewest, ""},
		{"time, backup left out: the backup before it",
			`{"type": "drill", "target_time": "2026-11-26T00:00:00Z"}`, "", pitrMid,
			"target_time=2026-11-26 00:00:00 +0000 UTC target_action=promote"},
		{"time after the newest backup", `{"type": "drill", "target_time": "2026-11-27T17:00:00Z", "exclusive": true}`, "", pitrNewest,
			"target_time=2026-11-27 17:00:00 +0000 UTC target_action=promote exclusive=true"},
		{"time with auto", `{"type": "drill", "backup_id": "auto", "target_time": "2026-11-21T00:00:00Z"}`, "", pitrOld, ""},
		{"time with a named backup", `{"type": "drill", "backup_id": "` + pitrOld + `", "target_time": "2026-11-26T00:00:00Z"}`, "", pitrOld, ""},
		{"promote given", `{"type": "drill", "target_lsn": "0/6000000", "target_action": "promote"}`, "", pitrMid,
			"target_lsn=0/6000000 target_action=promote"},
		{"xid, backup left out: the newest DONE", `{"type": "drill", "target_xid": 800, "target_tli": 2}`, "", pitrNewest,
			"target_xid=800 target_tli=2 target_action=promote"},
		{"immediate", `{"type": "drill", "backup_id": "oldest", "target_immediate": true, "jobs": 2}`, "", pitrOld,
			"target_immediate=true target_action=promote jobs=2"},
		{"a false target_immediate is no target", `{"type": "drill", "target_immediate": false}`, "", pitrNewest, "target_immediate=false"},
		{"time before latest ended", `{"type": "drill", "backup_id": "latest", "target_time": "2026-11-26T00:00:00Z"}`, ops.EINVALID,
			`drill: "target_time" 2026-11-26T00:00:00Z is before backup 20261127T120000 of server "db_server_two" ended (2026-11-27T12:10:00Z); Barman cannot recover a backup to a time before its end: choose an older backup, or send "backup_id": "auto" to have one chosen`, ""},
		{"two targets", `{"type": "drill", "target_time": "2026-11-26T00:00:00Z", "target_lsn": "0/6000000"}`, ops.EINVALID,
			`drill: "target_time" and "target_lsn" are both recovery targets; give at most one of target_time, target_lsn, target_xid, target_name, target_immediate`, ""},
		{"exclusive with a name", `{"type": "drill", "target_name": "before", "exclusive": true}`, ops.EINVALID,
			`drill: "exclusive" stops recovery just before its target, so it needs one of target_time, target_lsn, target_xid`, ""},
		{"exclusive alone", `{"type": "drill", "exclusive": true}`, ops.EINVALID, `drill: "exclusive" stops recovery just before its target`, ""},
		{"pause", `{"type": "drill", "target_xid": 800, "target_action": "pause"}`, ops.EINVALID,
			`drill: "target_action" must be "promote" (a drill waits for PostgreSQL to end recovery and take its queries, which "pause" and "shutdown" never let it do; leave target_action out: a drill with a target promotes), got "pause"`, ""},
		{"shutdown", `{"type": "drill", "target_xid": 800, "target_action": "shutdown"}`, ops.EINVALID, `drill: "target_action" must be "promote"`, ""},
		{"promote without a target", `{"type": "drill", "target_action": "promote"}`, ops.EINVALID,
			`drill: "target_action" says what PostgreSQL does once it reaches the recovery target, so it needs one of target_time`, ""},
		{"in the future", `{"type": "drill", "target_time": "2026-11-28T00:00:01Z"}`, ops.EINVALID, `drill: "target_time" 2026-11-28T00:00:01Z is in the future`, ""},
		{"after the newest WAL", `{"type": "drill", "target_time": "2026-11-27T18:00:01Z"}`, ops.EINVALID,
			`drill: "target_time" 2026-11-27T18:00:01Z is after the recovery window of server "db_server_two", which ends 2026-11-27T18:00:00Z`, ""},
		{"before the window", `{"type": "drill", "target_time": "2026-11-01T00:00:00Z"}`, ops.EINVALID, `drill: "target_time" 2026-11-01T00:00:00Z is before the recovery window of server "db_server_two", which begins 2026-11-20T10:05:00Z`, ""},
		{"lsn before the named backup ended", `{"type": "drill", "backup_id": "` + pitrMid + `", "target_lsn": "0/5000000"}`, ops.EINVALID,
			`drill: "target_lsn" 0/5000000 is before backup 20261125T080758 of server "db_server_two" ended (at WAL location 0/6000000)`, ""},
		{"lsn past the archive", `{"type": "drill", "backup_id": "` + pitrMid + `", "target_lsn": "0/8000001"}`, ops.EINVALID,
			`drill: "target_lsn" 0/8000001 is after the WAL archived for server "db_server_two", which ends at 0/8000000`, ""},
		{"auto with an xid", `{"type": "drill", "backup_id": "auto", "target_xid": 800}`, ops.EINVALID,
			`drill: "backup_id" "auto" chooses the backup from a "target_time" or a "target_lsn", or the newest without a target, as Barman does; it cannot choose one for "target_xid"`, ""},
		{"auto before every backup", `{"type": "drill", "target_lsn": "0/1"}`, ops.EINVALID,
			`drill: "backup_id" "auto" finds no backup of server "db_server_two" that ended at or before "target_lsn" 0/1`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := p.Validate(cfg, barman.Catalog{}, srv2, pyjsontest.MustDecode(t, tc.payload))
			if tc.code != "" {
				opstest.WantError(t, err, tc.code, tc.msg)
				return
			}
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if req.BackupID != tc.msg {
				t.Errorf("resolved backup = %q, want %q", req.BackupID, tc.msg)
			}
			if got := drillOptionKeys(req); tc.opts != "" && got != tc.opts {
				t.Errorf("options %q, want %q", got, tc.opts)
			}
			if tc.opts == "" && !strings.Contains(tc.payload, "target_") && len(req.Drill.Options) != 0 {
				t.Errorf("a drill without a target gives Barman %q", drillOptionKeys(req))
			}
			// The runner reads the job back as validation read it.
			op := &ops.Operation{ID: "x", Type: ops.DrillOp, Server: srv2, Job: req.Payload, Recorded: &ops.Extension{BackupID: req.BackupID}}
			backupID, do, err := p.DrillJob(op)
			if err != nil || backupID != req.BackupID || len(do.Options) != len(req.Drill.Options) {
				t.Errorf("DrillJob: %s, %v, %v; want %s and the options validation read", backupID, do, err, req.BackupID)
			}
		})
	}
	// A drill written down ahead of time (a schedule's) may name a target.
	if err := ops.CheckDrillKeys(pyjsontest.MustDecode(t, `{"type": "drill", "target_time": "2026-11-26T00:00:00Z"}`)); err != nil {
		t.Errorf("CheckDrillKeys refused a target_time: %v", err)
	}
}
