package ops_test

import (
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
