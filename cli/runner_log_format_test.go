package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The runners started for the operations a process records write
// runner.err as serve logs: one JSON object a line under
// serve.log_format = "json".
func TestRunnerLogFollowsLogFormat(t *testing.T) {
	e := newEnv(t, false)
	config := writeConfig(t, e, "pg-backup-api.toml", "[serve]\nlog_format = \"json\"\n")
	r := e.exec(t, nil, "", "--config", config, "create", "config-switch", "--server", "db_server_two", "--model-name", "my-model", "--wait")
	if r.Code != 0 {
		t.Fatalf("create exited %d: %s%s", r.Code, r.Stderr, r.Msg)
	}
	matches, _ := filepath.Glob(filepath.Join(e.Home, "db_server_two", "*", "runner.err"))
	if len(matches) != 1 {
		t.Fatalf("runner.err files: %q, want one in db_server_two's state directory", matches)
	}
	data, err := os.ReadFile(matches[0])
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	for _, line := range lines {
		var rec struct{ Level, Msg string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Level == "" || rec.Msg == "" {
			t.Fatalf("runner.err line %q is not a JSON record (%v):\n%s", line, err, data)
		}
	}
	if !strings.Contains(string(data), "config-switch") {
		t.Errorf("runner.err does not show what the runner ran:\n%s", data)
	}
}
