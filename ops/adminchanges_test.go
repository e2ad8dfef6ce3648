package ops_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson/pyjsontest"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/ops/opstest"
)

// TestAdminChanges: the config_update changes that move where Barman
// connects or what it keeps, or add a server section, are reported as
// needing admin; allow_keys and allow_new_servers lift them; nothing else
// (a plain option, a known server, another type) is reported.
func TestAdminChanges(t *testing.T) {
	_, cfg := validateEnv(t)
	if _, ok := cfg.Servers["db_server_two"]; !ok {
		t.Fatalf("the fixture has no db_server_two: %v", cfg.ServerNames())
	}
	update := func(changes string) string { return `{"type": "config_update", "changes": ` + changes + `}` }
	tests := []struct {
		name    string
		policy  ops.Policy
		payload string
		want    []string
	}{
		{"a plain option", ops.Policy{}, update(`[{"scope": "server", "server_name": "db_server_two", "archiver": "on"}]`), nil},
		{"conninfo", ops.Policy{}, update(`[{"scope": "server", "server_name": "db_server_two", "conninfo": "host=evil passfile=/tmp/x"}]`),
			[]string{`option "conninfo" of server "db_server_two"`}},
		{"every kind, server and model", ops.Policy{}, update(`[{"scope": "server", "server_name": "db_server_two", "streaming_conninfo": "host=x", "retention_policy": "REDUNDANCY 1", "backup_method": "rsync", "archiver": "on"},
			{"scope": "model", "model_name": "my-model", "wal_retention_policy": "main", "primary_conninfo": "host=y"}]`),
			[]string{`option "streaming_conninfo" of server "db_server_two"`, `option "retention_policy" of server "db_server_two"`, `option "backup_method" of server "db_server_two"`,
				`option "wal_retention_policy" of model "my-model"`, `option "primary_conninfo" of model "my-model"`}},
		{"minimum_redundancy, the floor of what Barman keeps", ops.Policy{}, update(`[{"scope": "server", "server_name": "db_server_two", "minimum_redundancy": "0"}]`),
			[]string{`option "minimum_redundancy" of server "db_server_two"`}},
		{"a new server", ops.Policy{}, update(`[{"scope": "server", "server_name": "db9", "archiver": "on"}]`),
			[]string{`new server section "db9" (not in ` + cfg.Path + `)`}},
		{"a model is not a new server", ops.Policy{}, update(`[{"scope": "server", "server_name": "my-model", "archiver": "on"}]`), nil},
		{"a new model is not a new server", ops.Policy{}, update(`[{"scope": "model", "model_name": "m9", "archiver": "on"}]`), nil},
		{"allow_keys lifts by name", ops.Policy{AllowConfigKeys: []string{"retention_policy"}},
			update(`[{"scope": "server", "server_name": "db_server_two", "retention_policy": "REDUNDANCY 1", "conninfo": "host=x"}]`),
			[]string{`option "conninfo" of server "db_server_two"`}},
		{"allow_keys lifts by pattern", ops.Policy{AllowConfigKeys: []string{"*conninfo"}},
			update(`[{"scope": "server", "server_name": "db_server_two", "conninfo": "host=x"}]`), nil},
		{"allow_new_servers", ops.Policy{AllowNewServers: true}, update(`[{"scope": "server", "server_name": "db9", "archiver": "on"}]`), nil},
		{"allow_new_servers leaves keys", ops.Policy{AllowNewServers: true}, update(`[{"scope": "server", "server_name": "db9", "conninfo": "host=x"}]`),
			[]string{`option "conninfo" of server "db9"`}},
		{"another type", ops.Policy{}, `{"type": "config_switch", "model_name": "my-model", "conninfo": "x"}`, nil},
		{"malformed changes are validation's", ops.Policy{}, update(`[1, {"scope": "cluster", "conninfo": "x"}]`), nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.policy.AdminChanges(cfg, pyjsontest.MustDecode(t, tc.payload))
			if !slices.Equal(got, tc.want) {
				t.Errorf("AdminChanges = %q, want %q", got, tc.want)
			}
		})
	}
}

// TestExtraKeysBounded: keys no operation reads are kept in the job file,
// so together they are bounded (MaxExtraKeyBytes); the keys validation
// reads and the option table's are not counted.
func TestExtraKeysBounded(t *testing.T) {
	_, cfg := validateEnv(t)
	big := strings.Repeat("x", ops.MaxExtraKeyBytes/2)
	update := `{"type": "config_update", "changes": [{"scope": "server", "server_name": "db_server_two", "description": "` + strings.Repeat("d", ops.MaxExtraKeyBytes) + `"}]`
	if _, err := validate(cfg, barman.Catalog{}, "", pyjsontest.MustDecode(t, update+`, "ticket": "`+big+`"}`)); err != nil {
		t.Fatalf("a large change and one large extra key under the bound: %v", err)
	}
	_, err := validate(cfg, barman.Catalog{}, "", pyjsontest.MustDecode(t, update+`, "ticket": "`+big+`", "note": "`+big+`"}`))
	opstest.WantError(t, err, ops.EINVALID, `take 65562 bytes, more than the 65536 allowed; the largest is "ticket"`)
}

// TestExtraKeysOfAnotherType: a key that another operation type reads is an
// extra key of this one: nothing checks it, and the job file keeps it. It
// was left out of the bound, so a recovery could store a "changes" (or a
// keep a "backup_name") as large as the request body limit.
func TestExtraKeysOfAnotherType(t *testing.T) {
	_, cfg := validateEnv(t)
	big := `"` + strings.Repeat("x", ops.MaxExtraKeyBytes) + `"`
	for _, tc := range []struct{ name, server, payload, key string }{
		{"changes in a recovery", srv2, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh postgres@db", "destination_directory": "/d", "changes": ` + big + `}`, "changes"},
		{"release in a recovery without type", srv2, `{"backup_id": "latest", "remote_ssh_command": "ssh postgres@db", "destination_directory": "/d", "release": ` + big + `}`, "release"},
		{"model_name in a config_update", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "db_server_two", "description": "d"}], "model_name": ` + big + `}`, "model_name"},
		{"backup_id in a config_update", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "db_server_two", "description": "d"}], "backup_id": ` + big + `}`, "backup_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := validate(cfg, barman.Catalog{}, tc.server, pyjsontest.MustDecode(t, tc.payload))
			opstest.WantError(t, err, ops.EINVALID, "does not read", `the largest is "`+tc.key+`"`)
		})
	}
}
