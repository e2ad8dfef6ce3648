package cli

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/BurntSushi/toml"
	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/cli/iostreams"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
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

// TestCompleteBackupsAndRemotes: __complete backups lists the catalog's
// IDs and names (one server's with a SERVER argument, else every server's)
// and the shortcuts; __complete remotes, the config file's [remotes.*].
func TestCompleteBackupsAndRemotes(t *testing.T) {
	b := testenv.NewBarman(t, "barman-3.17")
	// A second, named backup, as Barman 3.3+ writes backup_name.
	testenv.WriteFile(t, filepath.Join(b.Home, "db_server_two", "meta", "20261126T010000-backup.info"),
		"backup_id=20261126T010000\nbackup_name=nightly\nstatus=FAILED\nserver_name=db_server_two\n")
	config := filepath.Join(t.TempDir(), "config.toml")
	testenv.WriteFile(t, config, "[remotes.barman2]\nurl = \"https://barman2:7480\"\n\n[remotes.alpha]\nurl = \"https://alpha:7480\"\n")
	backups := "20261125T080758\n20261126T010000\nnightly\nlatest\nlast\noldest\nfirst\nlast-failed\n"
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"backups"}, backups},
		{[]string{"backups", "db_server_two"}, backups},
		{[]string{"backups", ""}, backups},               // no --server yet: every server's
		{[]string{"backups", "no-such-server"}, backups}, // a typo'd --server: every server's
		{[]string{"remotes"}, "alpha\nbarman2\n"},
	} {
		code, out, errs := docsRunComplete(t, append([]string{"--config", config, "--barman-config", b.Conf, "__complete"}, tc.args...)...)
		if code != 0 || out != tc.want || errs != "" {
			t.Errorf("__complete %q: exit %d, stdout %q, stderr %q; want exit 0, %q", tc.args, code, out, errs, tc.want)
		}
	}
	// The remotes need no Barman configuration.
	missing := filepath.Join(t.TempDir(), "no-such-barman.conf")
	if code, out, errs := docsRunComplete(t, "--config", config, "--barman-config", missing, "__complete", "remotes"); code != 0 || out != "alpha\nbarman2\n" || errs != "" {
		t.Errorf("__complete remotes without barman.conf: exit %d, stdout %q, stderr %q", code, out, errs)
	}
}

// TestCompleteBackupShortcuts: every shortcut the completion offers is one
// that a backup ID resolves.
func TestCompleteBackupShortcuts(t *testing.T) {
	catalog := []ops.CatalogBackup{{ID: "20260101T000000", Status: ops.BackupDone}, {ID: "20260102T000000", Status: ops.BackupFailed}}
	for _, s := range backupShortcuts {
		if _, err := ops.FindBackup("db1", catalog, s); err != nil {
			t.Errorf("completion offers %q, which does not resolve: %v", s, err)
		}
	}
}

// TestCompleteFlagValues: the words completed for a flag are the values the
// command takes, each of them accepted.
func TestCompleteFlagValues(t *testing.T) {
	for _, tc := range []struct{ path, flag, want string }{
		{"create recovery", "target-action", "pause shutdown promote"},
		{"create recovery", "target-tli", "current latest"},
		{"create keep", "target", "full standalone"},
		{"create backup", "reuse-backup", "off copy link"},
		{"list", "output", "table plain json"},
		{"serve", "log-format", "text json"},
		{"list", "status", "DONE FAILED IN_PROGRESS queued running lost cancelled timeout"},
		{"list", "type", "recovery config_switch config_update backup keep delete drill"},
	} {
		kind, words := CompleteFlag(tc.path, tc.flag)
		if kind != "" || strings.Join(words, " ") != tc.want {
			t.Errorf("CompleteFlag(%q, %q) = %q, %q; want %q", tc.path, tc.flag, kind, words, tc.want)
		}
	}
	for _, tc := range []struct{ path, flag, want string }{
		{"create recovery", "backup-id", "backups"},
		{"create delete", "backup-id", "backups"},
		{"list", "remote", "remotes"},
		{"", "remote", "remotes"},
		{"create recovery", "server", "servers"},
	} {
		if kind, words := CompleteFlag(tc.path, tc.flag); kind != tc.want || words != nil {
			t.Errorf("CompleteFlag(%q, %q) = %q, %q; want kind %q", tc.path, tc.flag, kind, words, tc.want)
		}
	}
	// A flag with free values completes nothing; the same name in another
	// command does not borrow another's values.
	for _, tc := range [][2]string{{"create recovery", "target-time"}, {"create keep", "target-action"}, {"inspect", "status"}} {
		if kind, words := CompleteFlag(tc[0], tc[1]); kind != "" || words != nil {
			t.Errorf("CompleteFlag(%q, %q) = %q, %q; want nothing", tc[0], tc[1], kind, words)
		}
	}
	// Every option enum is barman.Options' values, not a copy.
	for _, spec := range barman.Options {
		if spec.Key == "" || len(spec.Values) == 0 {
			continue
		}
		path := "create " + strings.ReplaceAll(string(spec.Type), "_", "-")
		if _, words := CompleteFlag(path, optionFlagName(spec)); !slices.Equal(words, spec.Values) {
			t.Errorf("%s --%s completes %q; barman.Options says %q", path, optionFlagName(spec), words, spec.Values)
		}
	}
	// list takes every --status and --type word it is offered.
	conf := testenv.BarmanConf(t, "barman-3.17", true)
	empty := testenv.EmptyConfig(t)
	for _, flag := range []string{"status", "type"} {
		_, words := CompleteFlag("list", flag)
		for _, w := range words {
			if code, _, errs := docsRunComplete(t, "--config", empty, "--barman-config", conf, "list", "--"+flag, w); code != 0 {
				t.Errorf("list --%s %s: exit %d: %s", flag, w, code, errs)
			}
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
		{"--barman-config", conf, "__complete", "servers", "db_server_two"}, // only backups takes a server
		{"--barman-config", missing, "__complete", "backups"},
		{"--barman-config", missing, "__complete", "backups", "db1"},
		{"--barman-config", notBarman, "__complete", "backups"},
		{"--barman-config", conf, "__complete", "backups", "db_server_two", "extra"},
		{"--barman-config", conf, "__complete", "remotes"}, // no [remotes.*]
	} {
		code, out, errs := docsRunComplete(t, append([]string{"--config", empty}, args...)...)
		if code != 0 || out != "" || errs != "" {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want exit 0 and nothing", args, code, out, errs)
		}
	}
	// A config file that does not load: nothing, not its error.
	broken := filepath.Join(t.TempDir(), "broken.toml")
	if err := os.WriteFile(broken, []byte("[remotes.x\nurl = 1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, kind := range CompleteKinds() {
		code, out, errs := docsRunComplete(t, "--config", broken, "--barman-config", conf, "__complete", kind)
		if code != 0 || out != "" || errs != "" {
			t.Errorf("--config %s __complete %s: exit %d, stdout %q, stderr %q; want exit 0 and nothing", broken, kind, code, out, errs)
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
