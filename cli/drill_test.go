package cli_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestCreateDrillDryRun: create drill turns its flags into the documented
// payload ("QUERY => EXPECTED" splits at the last " => "), and the drill's
// Barman command is a local recover into the drills directory.
func TestCreateDrillDryRun(t *testing.T) {
	e := newEnv(t, true)
	drills := t.TempDir()
	config := writeFile(t, t.TempDir(), "pg-backup-api.toml", fmt.Sprintf("barman_config = %q\n[drills]\ndirectory = %q\n", e.Conf, drills), 0o600)
	r := runApp(t, "", "--config", config, "--barman-command", fakeBarman, "create", "drill", "-s", "db_server_two", "--sql", "select count(*) from t => 3",
		"--sql", "select 1 = 1", "--database", "shop", "--timeout", "30m", "--jobs", "2", "--dry-run", "-o", "json")
	if r.Code != 0 {
		t.Fatalf("dry run: %s", r)
	}
	var j struct {
		DryRun    bool `json:"dry_run"`
		Operation struct {
			Type       string         `json:"type"`
			BarmanArgv []string       `json:"barman_argv"`
			Payload    map[string]any `json:"payload"`
		} `json:"operation"`
	}
	decodeJSON(t, r.Stdout, &j)
	if !j.DryRun || j.Operation.Type != "drill" {
		t.Fatalf("dry run -o json: %s", r.Stdout)
	}
	argv := strings.Join(j.Operation.BarmanArgv, " ")
	wantPrefix := " recover db_server_two 20261125T080758 " + filepath.Join(drills, "db_server_two") + "/"
	if !strings.Contains(argv, wantPrefix) || !strings.HasSuffix(argv, "/data --jobs=2") || strings.Contains(argv, "remote-ssh-command") {
		t.Errorf("barman argv %q, want a local recover into %s", argv, drills)
	}
	for _, want := range []string{`"query": "select count(*) from t"`, `"expect": "3"`, `"query": "select 1 = 1"`, `"database": "shop"`, `"timeout": "30m"`} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("dry run lacks %s:\n%s", want, r.Stdout)
		}
	}

	r = e.run(t, "create", "drill", "-s", "db_server_two", "--dry-run")
	if r.Code == 0 || !strings.Contains(r.allErr(), "set [drills] directory") {
		t.Errorf("a drill without [drills] directory: %s", r)
	}
}
