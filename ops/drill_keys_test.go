package ops_test

import (
	"os"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson/pyjsontest"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/ops/opstest"
)

// TestCheckDrillKeysRefusesWhatADrillCannotDo: a recovery target (the
// drill's Barman command passes none, so a DONE would claim a point in
// time never reached) and a query psql would run as its own meta-command
// (\! runs a program on the Barman host) are refused when the drill is
// created, not only when it runs.
func TestCheckDrillKeysRefusesWhatADrillCannotDo(t *testing.T) {
	for _, tc := range []struct{ name, payload, want string }{
		{"target_time", `{"type": "drill", "target_time": "2026-12-01T10:00:00Z"}`, `drill: "target_time" is not taken: a drill restores its backup to the end of the WAL archived`},
		{"target_lsn", `{"type": "drill", "target_lsn": "0/3000000"}`, `drill: "target_lsn" is not taken`},
		{"target_immediate", `{"type": "drill", "target_immediate": true}`, `drill: "target_immediate" is not taken`},
		{"exclusive", `{"type": "drill", "exclusive": true}`, `drill: "exclusive" is not taken`},
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
	{ID: "20261120T100000", Status: ops.BackupDone, Size: 100 << 20, WALSize: 10 << 20},
	{ID: "20261125T100000", Status: ops.BackupDone, Size: 100 << 20, WALSize: 20 << 20},
	{ID: "20261127T100000", Status: ops.BackupDone, Size: 100 << 20, WALSize: 40 << 20},
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
}
