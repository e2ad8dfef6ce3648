package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/cli"
)

// TestConfigUpdateKeysSetting: [config_update] allow_keys and deny_keys in
// our configuration file reach validation (issue 14, defect 3), and a
// refused option names the setting that would allow it and writes nothing.
func TestConfigUpdateKeysSetting(t *testing.T) {
	e := newEnv(t, false)
	dir := t.TempDir()
	hook := `[{"scope": "server", "server_name": "db_server_two", "post_backup_script": "true"}]`
	conninfo := `[{"scope": "server", "server_name": "db_server_two", "conninfo": "host=x"}]`
	jobs := func() int {
		entries, _ := os.ReadDir(filepath.Join(e.Home, "jobs"))
		return len(entries)
	}
	tests := []struct {
		name    string
		config  string
		changes string
		code    int
		msg     []string
	}{
		{"default refuses a hook", "", hook, cli.ExitUsage, []string{`"post_backup_script"`, "[config_update] allow_keys"}},
		{"default refuses DEFAULT", "", `[{"scope": "server", "server_name": "DEFAULT", "archiver": "on"}]`, cli.ExitUsage, []string{`"DEFAULT"`, "every server"}},
		{"allow_keys lets it through", "[config_update]\nallow_keys = [\"post_backup_script\"]\n", hook, cli.ExitOK, nil},
		{"deny_keys refuses more", "[config_update]\ndeny_keys = [\"conninfo\"]\n", conninfo, cli.ExitUsage, []string{`"conninfo"`, "deny_keys"}},
		{"a bad pattern stops the command", "[config_update]\nallow_keys = [\"Post Backup\"]\n", conninfo, cli.ExitUsage, []string{"config_update.allow_keys", `"Post Backup"`}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			config := writeFile(t, dir, "c"+string(rune('0'+i))+".toml", tc.config, 0o644)
			before := jobs()
			r := e.exec(t, nil, "", "--config", config, "create", "config-update", "--changes", tc.changes)
			if r.Code != tc.code {
				t.Fatalf("exit %d, want %d: %v", r.Code, tc.code, r)
			}
			for _, m := range tc.msg {
				if !strings.Contains(r.allErr(), m) {
					t.Errorf("message lacks %q: %v", m, r)
				}
			}
			if after := jobs(); tc.code != cli.ExitOK && after != before {
				t.Errorf("a refused request wrote %d job files", after-before)
			}
		})
	}
}
