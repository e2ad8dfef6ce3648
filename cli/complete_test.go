package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/pg-backup-api/pg-backup-api/cli/iostreams"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
)

// The repository root, relative to this package.
const docsRepoRoot = ".."

func docsRunComplete(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	ios, _, out, errb := iostreams.Test()
	app := NewApp(BuildInfo{Version: "test"}, ios)
	code, msg := ExitCode(Run(app, append([]string{"pg-backup-api"}, args...)))
	return code, out.String(), errb.String() + msg
}

func TestCompleteLists(t *testing.T) {
	conf := testenv.BarmanConf(t, "barman-3.17", true)
	empty := testenv.EmptyConfig(t)
	for _, tc := range []struct{ kind, want string }{
		{"servers", "db_server_two\n"},
		{"models", "my-model\n"},
		{"operations", "20261125T080447\n20261125T080500\n20261125T080805\n20261125T080915\n20261125T080916\n20261125T080918\n20261125T080919\n"},
	} {
		code, out, errs := docsRunComplete(t, "--config", empty, "--barman-config", conf, "__complete", tc.kind)
		if code != 0 || out != tc.want || errs != "" {
			t.Errorf("__complete %s: exit %d, stdout %q, stderr %q; want exit 0, %q", tc.kind, code, out, errs, tc.want)
		}
	}
}

// TestCompleteNeverFails: completion must never print an error.
func TestCompleteNeverFails(t *testing.T) {
	conf := testenv.BarmanConf(t, "barman-3.17", false)
	empty := testenv.EmptyConfig(t)
	missing := filepath.Join(t.TempDir(), "no-such-barman.conf")
	notBarman := filepath.Join(t.TempDir(), "barman.conf")
	if err := os.WriteFile(notBarman, []byte("[db1]\nconninfo = x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"--barman-config", missing, "__complete", "servers"},
		{"--barman-config", missing, "__complete", "models"},
		{"--barman-config", missing, "__complete", "operations"},
		{"--barman-config", notBarman, "__complete", "servers"},
		{"--barman-config", conf, "__complete", "operations"}, // no store yet
		{"--barman-config", conf, "__complete", "no-such-kind"},
		{"--barman-config", conf, "__complete"},
		{"--barman-config", conf, "__complete", "servers", "extra", "--flag"},
	} {
		code, out, errs := docsRunComplete(t, append([]string{"--config", empty}, args...)...)
		if code != 0 || out != "" || errs != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 0 and nothing", args, code, out, errs)
		}
	}
	// The environment variable works as the flag does.
	t.Setenv(EnvBarmanConfig, missing)
	if code, out, errs := docsRunComplete(t, "--config", empty, "__complete", "servers"); code != 0 || out != "" || errs != "" {
		t.Errorf("%s=%s: exit %d, stdout %q, stderr %q", EnvBarmanConfig, missing, code, out, errs)
	}
	t.Setenv(EnvBarmanConfig, conf)
	if code, out, _ := docsRunComplete(t, "--config", empty, "__complete", "servers"); code != 0 || out != "db_server_two\n" {
		t.Errorf("%s=%s: exit %d, stdout %q; want db_server_two", EnvBarmanConfig, conf, code, out)
	}
}

// TestDocsPackagedConfig checks packaging/pg-backup-api.toml: it loads as it
// is, shows every key of FileConfig commented out, and with those lines
// uncommented it still loads and says the real defaults.
func TestDocsPackagedConfig(t *testing.T) {
	path := filepath.Join(docsRepoRoot, "packaging", "pg-backup-api.toml")
	if _, err := LoadFileConfig(path, true); err != nil {
		t.Fatalf("the packaged config does not load: %v", err)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	keys := ConfigKeys()
	if len(keys) < 4 {
		t.Fatalf("found only keys %v in FileConfig", keys)
	}
	uncommented := docsUncomment(string(data))
	var values map[string]any
	if _, err := toml.Decode(uncommented, &values); err != nil {
		t.Fatalf("the packaged config with its values uncommented: %v\n%s", err, uncommented)
	}
	lookup := func(key string) (any, bool) {
		var v any = values
		for _, part := range strings.Split(key, ".") {
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[part]; !ok {
				return nil, false
			}
		}
		return v, true
	}
	for _, k := range keys {
		if _, ok := lookup(k); !ok {
			t.Errorf("packaged config lacks a commented-out %s = <default>", k)
		}
	}
	uncommentedPath := filepath.Join(t.TempDir(), "uncommented.toml")
	if err := os.WriteFile(uncommentedPath, []byte(uncommented), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadFileConfig(uncommentedPath, true); err != nil {
		t.Errorf("the packaged config with its values uncommented does not load: %v", err)
	}
	// The defaults the code applies when a key is not set.
	defaults := map[string]any{
		"barman_config":        "/etc/barman.conf",
		"barman_command":       "barman",
		"serve.listen":         DefaultListen,
		"serve.max_body_bytes": int64(1 << 20),
		"runner.parallel":      int64(1),
	}
	for k, want := range defaults {
		if got, ok := lookup(k); ok && got != want {
			t.Errorf("packaged config says %s = %#v; the default is %#v", k, got, want)
		}
	}
}

// docsUncomment turns "#key = value" lines into settings.
func docsUncomment(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "#") && len(l) > 1 && l[1] != ' ' && strings.Contains(l, " = ") {
			lines[i] = l[1:]
		}
	}
	return strings.Join(lines, "\n")
}
