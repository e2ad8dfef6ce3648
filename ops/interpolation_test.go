package ops_test

import (
	"encoding/json"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson/pyjsontest"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/ops/opstest"
)

// TestConfigUpdatePercent: a value Barman's interpolation rejects, once it
// is written to .barman.auto.conf, breaks every later read of Barman's
// configuration (every request then answered 503); it is refused before
// anything runs. The refused cases were all accepted before.
func TestConfigUpdatePercent(t *testing.T) {
	_, cfg := validateEnv(t)
	tests := []struct {
		name  string
		extra string // more options of the same change, JSON
		value string
		msg   []string // nil: accepted
	}{
		{"no percent", "", "backups at 100 percent", nil},
		{"a literal percent written for two reads", "", "backups at 100%%%%", nil},
		{"a reference to an option of the same change", `"conninfo": "host=db"`, "%(conninfo)s", nil},
		{"a lone percent", "", "backups at 100%", []string{`the value of "description" ("backups at 100%")`, "would break Barman's configuration", "'%' must be followed by '%' or '('", "%%%%"}},
		{"a doubled percent leaves a lone one", "", "100%%", []string{`"100%%" reads as "100%", which holds a lone '%'`}},
		{"an unknown reference", "", "%(nope)s", []string{"%(nope)s, which is not set", "same change"}},
		{"a reference to a value with a lone percent", `"conninfo": "a%b"`, "%(conninfo)s", []string{"would break Barman's configuration"}},
		{"a bad reference", "", "%(x", []string{"bad interpolation reference"}},
		{"percent at the end", "", "x %", []string{"'%' must be followed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			v, _ := json.Marshal(tc.value)
			extra := ""
			if tc.extra != "" {
				extra = ", " + tc.extra
			}
			payload := `{"type": "config_update", "changes": [{"scope": "server", "server_name": "db_server_two", "description": ` + string(v) + extra + `}]}`
			_, err := validate(cfg, barman.Catalog{}, "", pyjsontest.MustDecode(t, payload))
			if tc.msg == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			opstest.WantError(t, err, ops.EINVALID, append([]string{"config_update: changes[0]"}, tc.msg...)...)
		})
	}
}
