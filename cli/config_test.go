package cli_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/cli"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// versionScript writes an executable that answers `-v` like Barman version v
// and fails any other call, so no operation can run through it.
func versionScript(t testing.TB, dir, name, v string) string {
	t.Helper()
	return writeFile(t, dir, name, "#!/bin/sh\n[ \"$1\" = -v ] || exit 64\necho \""+v+" Barman by EnterpriseDB (www.enterprisedb.com)\"\n", 0o755)
}

// TestConfigFile: --config (and PG_BACKUP_API_CONFIG) name our TOML file,
// whose keys are honoured.
func TestConfigFile(t *testing.T) {
	e := newEnv(t, true)
	dir := t.TempDir()
	old := versionScript(t, dir, "barman-3.9", "3.9.1")
	file := writeFile(t, dir, "pg-backup-api.toml", "# ours\nbarman_config = \""+e.Conf+"\"\nbarman_command = \""+old+"\"\n\n[serve]\nlisten = \"127.0.0.1:7999\"\nmax_body_bytes = 4096\n", 0o644)

	t.Run("barman_config", func(t *testing.T) {
		r := runApp(t, "", "--config", file, "list", "-o", "json")
		if r.Code != cli.ExitOK || !strings.Contains(r.Stdout, "20261125T080805") {
			t.Errorf("want the fixture store through the file's barman_config, got %v", r)
		}
	})
	t.Run("barman_command", func(t *testing.T) {
		r := runApp(t, "", "--config", file, "create", "config-update", "--changes", `[{"scope":"server","server_name":"a","archiver":"on"}]`)
		if r.Code != cli.ExitUsage || !strings.Contains(r.Msg, "3.9.1") {
			t.Errorf("want the file's barman_command asked for its version (3.9.1) and the request refused, got %v", r)
		}
	})
	t.Run("PG_BACKUP_API_CONFIG", func(t *testing.T) {
		t.Setenv(cli.EnvConfig, file)
		r := runApp(t, "", "list", "--instance", "-o", "json")
		if r.Code != cli.ExitOK || !strings.Contains(r.Stdout, "20261125T080447") {
			t.Errorf("want the store found through $%s, got %v", cli.EnvConfig, r)
		}
	})
	t.Run("flag beats environment", func(t *testing.T) {
		t.Setenv(cli.EnvConfig, filepath.Join(dir, "missing.toml"))
		if r := runApp(t, "", "--config", file, "list"); r.Code != cli.ExitOK {
			t.Errorf("--config must win over $%s: %v", cli.EnvConfig, r)
		}
	})
}

// TestSettingsPrecedence: flag, then environment, then our file, then the
// default -- for Barman's configuration and for the Barman command.
func TestSettingsPrecedence(t *testing.T) {
	e := newEnv(t, false)
	dir := t.TempDir()
	missing := func(who string) string { return filepath.Join(dir, "nowhere", who, "barman.conf") }
	cmd := map[string]string{
		"flag": versionScript(t, dir, "barman-flag", "3.1.0"),
		"env":  versionScript(t, dir, "barman-env", "3.2.0"),
		"file": versionScript(t, dir, "barman-file", "3.3.0"),
	}
	// The default command, "barman", found on PATH.
	pathDir := filepath.Join(dir, "path")
	versionScript(t, pathDir, "barman", "3.0.9")

	tomlFor := func(conf, command string) string {
		var b strings.Builder
		if conf != "" {
			b.WriteString("barman_config = \"" + conf + "\"\n")
		}
		if command != "" {
			b.WriteString("barman_command = \"" + command + "\"\n")
		}
		return writeFile(t, t.TempDir(), "c.toml", b.String(), 0o644)
	}

	type layers struct{ flag, env, file string }
	confTests := []struct {
		name string
		set  layers
		want string // the Barman configuration that must be read
	}{
		{"flag over all", layers{missing("flag"), missing("env"), missing("file")}, missing("flag")},
		{"env over file", layers{"", missing("env"), missing("file")}, missing("env")},
		{"file over default", layers{"", "", missing("file")}, missing("file")},
		{"default", layers{"", "", ""}, ops.DefaultBarmanConfig},
	}
	for _, tt := range confTests {
		t.Run("barman_config "+tt.name, func(t *testing.T) {
			t.Setenv(cli.EnvConfig, tomlFor(tt.set.file, ""))
			t.Setenv(cli.EnvBarmanConfig, tt.set.env)
			if tt.set.env == "" {
				os.Unsetenv(cli.EnvBarmanConfig) // t.Setenv restores it
			}
			args := []string{"list", "--server", "no-such-server"}
			if tt.set.flag != "" {
				args = append([]string{"--barman-config", tt.set.flag}, args...)
			}
			r := runApp(t, "", args...)
			if r.Code == cli.ExitOK || !strings.Contains(r.Msg, tt.want) {
				t.Errorf("want an error about %s, got %v", tt.want, r)
			}
			for _, other := range []string{tt.set.flag, tt.set.env, tt.set.file} {
				if other != "" && other != tt.want && strings.Contains(r.Msg, other) {
					t.Errorf("%s was read although %s has precedence", other, tt.want)
				}
			}
		})
	}

	cmdTests := []struct {
		name    string
		set     layers
		wantVer string
	}{
		{"flag over all", layers{cmd["flag"], cmd["env"], cmd["file"]}, "3.1.0"},
		{"env over file", layers{"", cmd["env"], cmd["file"]}, "3.2.0"},
		{"file over default", layers{"", "", cmd["file"]}, "3.3.0"},
		{"default is barman on PATH", layers{"", "", ""}, "3.0.9"},
	}
	for _, tt := range cmdTests {
		t.Run("barman_command "+tt.name, func(t *testing.T) {
			t.Setenv(cli.EnvConfig, tomlFor(e.Conf, tt.set.file))
			t.Setenv(cli.EnvBarmanCommand, tt.set.env)
			if tt.set.env == "" {
				os.Unsetenv(cli.EnvBarmanCommand)
			}
			t.Setenv("PATH", pathDir+string(os.PathListSeparator)+os.Getenv("PATH"))
			args := []string{"create", "config-switch", "-s", "db_server_two", "--reset"}
			if tt.set.flag != "" {
				args = append([]string{"--barman-command", tt.set.flag}, args...)
			}
			before := testenv.Snapshot(t, e.Root)
			r := runApp(t, "", args...)
			if r.Code != cli.ExitUsage || !strings.Contains(r.Msg, "installed Barman is "+tt.wantVer) {
				t.Errorf("want the request refused by Barman %s, got %v", tt.wantVer, r)
			}
			if d := testenv.DiffSnapshots(before, testenv.Snapshot(t, e.Root)); d != "" {
				t.Errorf("a refused create wrote:\n%s", d)
			}
		})
	}
}

func TestConfigFileErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name     string
		content  *string // nil: the file does not exist
		viaEnv   bool
		wantCode int
		wantMsg  []string
	}{
		{"missing --config", nil, false, cli.ExitUsage, []string{"missing.toml", "cannot read"}},
		{"missing $PG_BACKUP_API_CONFIG", nil, true, cli.ExitUsage, []string{"missing.toml", "cannot read"}},
		{"unknown key", ptr("barman_config = \"/etc/barman.conf\"\nbarman_conf = \"/etc/barman.conf\"\n"), false, cli.ExitUsage, []string{"unknown key barman_conf", "c.toml"}},
		{"unknown key in a table", ptr("[serve]\nport = 7480\n"), false, cli.ExitUsage, []string{"serve.port"}},
		{"unknown table", ptr("[auth]\ntoken = \"x\"\n"), true, cli.ExitUsage, []string{"auth"}},
		{"several unknown keys", ptr("zeta = 1\nalpha = 2\n"), false, cli.ExitUsage, []string{"c.toml:1: unknown key zeta", "c.toml:2: unknown key alpha"}},
		{"invalid TOML", ptr("barman_config = /etc/barman.conf\n"), false, cli.ExitUsage, []string{"c.toml"}},
		{"wrong type", ptr("barman_config = 5\n"), false, cli.ExitUsage, []string{"c.toml"}},
		{"not a file", ptr(""), false, cli.ExitUsage, []string{"cannot read"}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, "missing.toml")
			if tt.content != nil {
				sub := filepath.Join(dir, string(rune('a'+i)))
				path = writeFile(t, sub, "c.toml", *tt.content, 0o644)
				if tt.name == "not a file" {
					path = sub
				}
			}
			args := []string{"version"}
			if tt.viaEnv {
				t.Setenv(cli.EnvConfig, path)
			} else {
				args = append([]string{"--config", path}, args...)
			}
			r := runApp(t, "", args...)
			if r.Code != tt.wantCode {
				t.Fatalf("want exit %d, got %v", tt.wantCode, r)
			}
			for _, m := range tt.wantMsg {
				if !strings.Contains(r.Msg, m) {
					t.Errorf("message %q does not mention %q", r.Msg, m)
				}
			}
		})
	}
}

func ptr(s string) *string { return &s }

// TestLoadFileConfigDefault: the default path is read only when present.
func TestLoadFileConfigDefault(t *testing.T) {
	t.Parallel()
	missing := filepath.Join(t.TempDir(), "pg-backup-api.toml")
	cfg, err := cli.LoadFileConfig(missing, false)
	if err != nil || cfg == nil || !reflect.DeepEqual(*cfg, cli.FileConfig{}) {
		t.Errorf("a missing default config must be empty and fine, got %+v, %v", cfg, err)
	}
	if _, err := cli.LoadFileConfig(missing, true); err == nil {
		t.Errorf("a missing config that was asked for must be an error")
	}
	full := writeFile(t, t.TempDir(), "c.toml", "barman_config = \"/b.conf\"\nbarman_command = \"sudo -u barman barman\"\n[serve]\nlisten = \"0.0.0.0:1\"\nmax_body_bytes = 10\n", 0o644)
	cfg, err = cli.LoadFileConfig(full, true)
	want := cli.FileConfig{BarmanConfig: "/b.conf", BarmanCommand: "sudo -u barman barman", Serve: cli.ServeConfig{Listen: "0.0.0.0:1", MaxBodyBytes: 10}}
	if err != nil || !reflect.DeepEqual(*cfg, want) {
		t.Errorf("want %+v, got %+v, %v", want, cfg, err)
	}
}

// TestConfigServeListenForStatus: status checks serve.listen from the file
// when given no --url or --port.
func TestConfigServeListenForStatus(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/status" {
			http.NotFound(w, r)
			return
		}
		w.Write([]byte(`"OK"`))
	}))
	defer srv.Close()
	file := writeFile(t, t.TempDir(), "c.toml", "[serve]\nlisten = \""+strings.TrimPrefix(srv.URL, "http://")+"\"\n", 0o644)
	if r := runApp(t, "", "--config", file, "status"); r.Code != cli.ExitOK || r.Stdout != "OK\n" {
		t.Errorf("want OK from serve.listen, got %v", r)
	}
}
