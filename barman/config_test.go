package barman

import (
	"github.com/pg-backup-api/pg-backup-api/ops/opstest"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

func TestLoadBarmanConfigFixtures(t *testing.T) {
	tests := []struct {
		fixture string
		files   []string // relative to ConfDir, after barman.conf
		servers map[string]ops.BarmanServer
		models  map[string]ops.BarmanModel
	}{
		{
			fixture: "barman-3.17",
			files:   []string{"db_server_two.conf", "my-model.conf"},
			servers: map[string]ops.BarmanServer{
				"db_server_two": {Name: "db_server_two", Cluster: "db_server_two", BackupDirectory: "db_server_two"},
			},
			models: map[string]ops.BarmanModel{
				"my-model": {Name: "my-model", Cluster: "db_server_two"},
			},
		},
		{
			fixture: "barman-3.4",
			files:   []string{"pg.conf"},
			servers: map[string]ops.BarmanServer{
				"pg": {Name: "pg", Cluster: "pg", BackupDirectory: "pg"},
			},
			models: map[string]ops.BarmanModel{},
		},
	}
	for _, tc := range tests {
		t.Run(tc.fixture, func(t *testing.T) {
			env := testenv.NewBarman(t, tc.fixture)
			cfg, err := LoadConfig(env.Conf)
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			if cfg.Path != env.Conf {
				t.Errorf("Path = %q, want %q", cfg.Path, env.Conf)
			}
			if cfg.BarmanHome != env.Home {
				t.Errorf("BarmanHome = %q, want %q", cfg.BarmanHome, env.Home)
			}
			if cfg.BarmanUser != "barman" {
				t.Errorf("BarmanUser = %q, want barman", cfg.BarmanUser)
			}
			wantFiles := []string{env.Conf}
			for _, f := range tc.files {
				wantFiles = append(wantFiles, filepath.Join(env.ConfDir, f))
			}
			if !reflect.DeepEqual(cfg.Files, wantFiles) {
				t.Errorf("Files = %q, want %q", cfg.Files, wantFiles)
			}
			gotServers := map[string]ops.BarmanServer{}
			for name, s := range cfg.Servers {
				c := *s
				c.Values = nil
				gotServers[name] = c
			}
			for name, s := range tc.servers {
				s.BackupDirectory = filepath.Join(env.Home, s.BackupDirectory)
				// Barman's defaults: none of the fixtures moves them.
				s.BaseBackupsDirectory = filepath.Join(s.BackupDirectory, "base")
				s.WALsDirectory = filepath.Join(s.BackupDirectory, "wals")
				s.XLogDBDirectory = s.WALsDirectory
				tc.servers[name] = s
			}
			if !reflect.DeepEqual(gotServers, tc.servers) {
				t.Errorf("Servers = %+v, want %+v", gotServers, tc.servers)
			}
			gotModels := map[string]ops.BarmanModel{}
			for name, m := range cfg.Models {
				c := *m
				c.Values = nil
				gotModels[name] = c
			}
			if !reflect.DeepEqual(gotModels, tc.models) {
				t.Errorf("Models = %+v, want %+v", gotModels, tc.models)
			}
			var names []string
			for n := range tc.servers {
				names = append(names, n)
			}
			sort.Strings(names)
			if got := cfg.ServerNames(); !reflect.DeepEqual(got, names) {
				t.Errorf("ServerNames = %q, want %q", got, names)
			}
		})
	}
}

// TestLoadBarmanConfigAutoConf checks that .barman.auto.conf, which
// config-update writes, is read last and wins.
func TestLoadBarmanConfigAutoConf(t *testing.T) {
	env := testenv.NewBarman(t, "barman-3.17")
	auto := filepath.Join(env.Home, ".barman.auto.conf")
	testenv.WriteFile(t, auto, `[db_server_two]
backup_directory = /srv/backups/db_server_two
cluster = renamed

[new-server]
conninfo = host=x

[new-model]
model = true
cluster = renamed

[my-model]
cluster = renamed
`)
	cfg, err := LoadConfig(env.Conf)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Files[len(cfg.Files)-1]; got != auto {
		t.Errorf("last file read = %q, want %q (all: %q)", got, auto, cfg.Files)
	}
	if len(cfg.Files) != 4 {
		t.Errorf("Files = %q, want barman.conf, 2 files of barman.d and the auto conf", cfg.Files)
	}
	want := map[string]ops.BarmanServer{
		"db_server_two": {Name: "db_server_two", Cluster: "renamed", BackupDirectory: "/srv/backups/db_server_two"},
		"new-server":    {Name: "new-server", Cluster: "new-server", BackupDirectory: filepath.Join(env.Home, "new-server")},
	}
	for name, w := range want {
		s, err := cfg.Server(name)
		if err != nil {
			t.Errorf("Server(%s): %v", name, err)
			continue
		}
		if s.Name != w.Name || s.Cluster != w.Cluster || s.BackupDirectory != w.BackupDirectory {
			t.Errorf("Server(%s) = %+v, want %+v", name, *s, w)
		}
	}
	for _, name := range []string{"my-model", "new-model"} {
		m, err := cfg.Model(name)
		if err != nil {
			t.Errorf("Model(%s): %v", name, err)
			continue
		}
		if m.Cluster != "renamed" {
			t.Errorf("Model(%s).Cluster = %q, want renamed", name, m.Cluster)
		}
	}
	if len(cfg.Servers) != 2 || len(cfg.Models) != 2 {
		t.Errorf("got %d servers and %d models, want 2 and 2", len(cfg.Servers), len(cfg.Models))
	}
}

// confCase writes a barman.conf (and barman.d files) into a temporary
// directory; "@HOME@" and "@DIR@" in the texts stand for barman_home and the
// configuration directory.
type confCase struct {
	main  string
	extra map[string]string // file name in @DIR@ -> content
	auto  string            // .barman.auto.conf, when not empty
}

func (c confCase) write(t *testing.T) (conf, home, dir string) {
	t.Helper()
	tmp := t.TempDir()
	home = filepath.Join(tmp, "home")
	dir = filepath.Join(tmp, "barman.d")
	if err := os.MkdirAll(home, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	expand := strings.NewReplacer("@HOME@", home, "@DIR@", dir).Replace
	conf = filepath.Join(tmp, "barman.conf")
	testenv.WriteFile(t, conf, expand(c.main))
	for name, content := range c.extra {
		testenv.WriteFile(t, filepath.Join(dir, name), expand(content))
	}
	if c.auto != "" {
		testenv.WriteFile(t, filepath.Join(home, ".barman.auto.conf"), expand(c.auto))
	}
	return conf, home, dir
}

const mainConf = "[barman]\nbarman_home = @HOME@\nconfiguration_files_directory = @DIR@\n"

func TestLoadBarmanConfigSynthetic(t *testing.T) {
	type srv struct{ cluster, backupDir string }
	tests := []struct {
		name    string
		conf    confCase
		servers map[string]srv    // backupDir: "@HOME@" is expanded
		models  map[string]string // model -> cluster
		user    string
	}{
		{
			name:    "backup_directory defaults to <home>/<server>, cluster to the name",
			conf:    confCase{main: mainConf + "[pg]\nconninfo = x\n"},
			servers: map[string]srv{"pg": {"pg", "@HOME@/pg"}},
		},
		{
			name:    "interpolation from the section and from the file's [DEFAULT]; quotes stripped after it",
			conf:    confCase{main: "[DEFAULT]\nroot = /r\n" + mainConf + "[pg]\nsub = custom\nbackup_directory = \"%(root)s/%(sub)s\"\ncluster = 'c-%(sub)s'\n"},
			servers: map[string]srv{"pg": {"c-custom", "/r/custom"}},
		},
		{
			name: "a [DEFAULT] value reaches every section of its file",
			conf: confCase{main: "[DEFAULT]\ncluster = shared\n" + mainConf + "[a]\nbackup_directory = /dflt/a\n[b]\ncluster = own\nbackup_directory = /dflt/b\n"},
			servers: map[string]srv{
				"a": {"shared", "/dflt/a"},
				"b": {"own", "/dflt/b"},
			},
		},
		{
			name:    "a [DEFAULT] of barman.conf does not reach barman.d",
			conf:    confCase{main: "[DEFAULT]\ncluster = shared\n" + mainConf, extra: map[string]string{"pg.conf": "[pg]\nconninfo = x\n"}},
			servers: map[string]srv{"pg": {"pg", "@HOME@/pg"}},
		},
		{
			name:    "a section or key given twice merges, the later winning",
			conf:    confCase{main: mainConf + "[pg]\ncluster = a\nbackup_directory = /one\n[other]\n[pg]\ncluster = b\n"},
			servers: map[string]srv{"pg": {"b", "/one"}, "other": {"other", "@HOME@/other"}},
		},
		{
			name:    "None and empty: no cluster; a blank line inside a continued value",
			conf:    confCase{main: mainConf + "[pg]\ncluster = None\nconninfo = host=a\n\n  user=b\n[q]\ncluster =\n"},
			servers: map[string]srv{"pg": {"", "@HOME@/pg"}, "q": {"", "@HOME@/q"}},
		},
		{
			name:    "a directory named *.conf and hidden files in barman.d are skipped",
			conf:    confCase{main: mainConf, extra: map[string]string{"dir.conf/inner": "x", ".hidden.conf": "garbage", "pg.conf": "[pg]\n"}},
			servers: map[string]srv{"pg": {"pg", "@HOME@/pg"}},
		},
		{
			name: "keys are case-insensitive; continuation lines are read",
			conf: confCase{main: mainConf + "[pg]\nConnInfo = host=a\n   user=b\n   dbname=c\nBACKUP_DIRECTORY = /x\n"},
			servers: map[string]srv{
				"pg": {"pg", "/x"},
			},
		},
		{
			name: "model flag spellings",
			conf: confCase{main: mainConf + `[pg]
[m1]
model = true
cluster = pg
[m2]
model = Yes
cluster = pg
[m3]
model = on
cluster = pg
[m4]
model = 1
cluster = pg
[not-model]
model = false
`},
			servers: map[string]srv{"pg": {"pg", "@HOME@/pg"}, "not-model": {"not-model", "@HOME@/not-model"}},
			models:  map[string]string{"m1": "pg", "m2": "pg", "m3": "pg", "m4": "pg"},
		},
		{
			name: "barman.d: only *.conf, in name order, later files override",
			conf: confCase{main: mainConf, extra: map[string]string{
				"b.conf":     "[pg]\ncluster = from-b\n",
				"a.conf":     "[pg]\ncluster = from-a\nbackup_directory = /a\n",
				"README":     "this is not configuration [[[",
				"c.conf.bak": "garbage without a section",
			}},
			servers: map[string]srv{"pg": {"from-b", "/a"}},
		},
		{
			name: ".barman.auto.conf overrides barman.d",
			conf: confCase{main: mainConf, extra: map[string]string{"pg.conf": "[pg]\nbackup_directory = /d\n"},
				auto: "[pg]\nbackup_directory = /auto\n"},
			servers: map[string]srv{"pg": {"pg", "/auto"}},
		},
		{
			name:    "barman_user is read; the barman section is not a server",
			conf:    confCase{main: mainConf + "barman_user = postgres\n"},
			servers: map[string]srv{},
			user:    "postgres",
		},
		{
			name:    "no configuration_files_directory",
			conf:    confCase{main: "[barman]\nbarman_home = @HOME@/\n[pg]\n"},
			servers: map[string]srv{"pg": {"pg", "@HOME@/pg"}},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conf, home, _ := tc.conf.write(t)
			cfg, err := LoadConfig(conf)
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			if cfg.BarmanHome != home {
				t.Errorf("BarmanHome = %q, want %q", cfg.BarmanHome, home)
			}
			got := map[string]srv{}
			for name, s := range cfg.Servers {
				if s.Name != name {
					t.Errorf("server %q has Name %q", name, s.Name)
				}
				got[name] = srv{s.Cluster, s.BackupDirectory}
			}
			want := map[string]srv{}
			for name, s := range tc.servers {
				want[name] = srv{s.cluster, strings.ReplaceAll(s.backupDir, "@HOME@", home)}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("servers = %+v, want %+v", got, want)
			}
			gotModels := map[string]string{}
			for name, m := range cfg.Models {
				gotModels[name] = m.Cluster
			}
			if tc.models == nil {
				tc.models = map[string]string{}
			}
			if !reflect.DeepEqual(gotModels, tc.models) {
				t.Errorf("models = %v, want %v", gotModels, tc.models)
			}
			wantUser := tc.user
			if wantUser == "" {
				wantUser = "barman"
			}
			if cfg.BarmanUser != wantUser {
				t.Errorf("BarmanUser = %q, want %q", cfg.BarmanUser, wantUser)
			}
		})
	}
}

// Barman expands "~" in configuration_files_directory but not in
// barman_home, so neither do we.
func TestLoadBarmanConfigHomeTilde(t *testing.T) {
	fake := t.TempDir()
	t.Setenv("HOME", fake)
	testenv.WriteFile(t, filepath.Join(fake, "d", "pg.conf"), "[pg]\n")
	conf := filepath.Join(t.TempDir(), "barman.conf")
	testenv.WriteFile(t, conf, "[barman]\nbarman_home = ~/bh\nconfiguration_files_directory = ~/d\n")
	cfg, err := LoadConfig(conf)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.BarmanHome != "~/bh" {
		t.Errorf("BarmanHome = %q, want ~/bh as written", cfg.BarmanHome)
	}
	if s, err := cfg.Server("pg"); err != nil || s.BackupDirectory != "~/bh/pg" {
		t.Errorf("Server(pg) = %+v, %v; want backup directory ~/bh/pg from %s", s, err, filepath.Join(fake, "d"))
	}
}

func TestLoadBarmanConfigErrors(t *testing.T) {
	tests := []struct {
		name string
		conf confCase
		// want holds substrings of the message; "@CONF@", "@DIR@" and
		// "@HOME@" are expanded.
		want []string
	}{
		{"no [barman] section", confCase{main: "[pg]\nconninfo = x\n"}, []string{"@CONF@ has no [barman] section"}},
		{"no barman_home", confCase{main: "[barman]\nbarman_user = barman\n"}, []string{"@CONF@: [barman] has no barman_home"}},
		{"empty barman_home", confCase{main: "[barman]\nbarman_home =\n"}, []string{"has no barman_home"}},
		{"key outside section", confCase{main: "barman_home = /x\n" + mainConf}, []string{"@CONF@:1:", "comes before any [section] header"}},
		{"key outside section in barman.d", confCase{main: mainConf, extra: map[string]string{"x.conf": "cluster = a\n"}},
			[]string{"@DIR@/x.conf:1:", "comes before any [section]"}},
		{"bad interpolation in a server", confCase{main: mainConf + "[pg]\nbackup_directory = /x/%(name\n"},
			[]string{"@CONF@:5:", "[pg] backup_directory", "bad interpolation reference"}},
		{"bad interpolation in barman.d", confCase{main: mainConf, extra: map[string]string{"pg.conf": "[pg]\n\ncluster = 5%\n"}},
			[]string{"@DIR@/pg.conf:3:", "[pg] cluster", "'%' must be followed"}},
		{"interpolation loop", confCase{main: mainConf + "[pg]\nbackup_directory = %(a)s\na = %(b)s\nb = %(a)s\n"},
			[]string{"@CONF@:5:", "nested more than 10 deep"}},
		{"bad interpolation in DEFAULT names the DEFAULT line", confCase{main: mainConf + "[pg]\n[DEFAULT]\ncluster = %(nope)s\n"},
			[]string{"@CONF@:6:", "cluster refers to %(nope)s, which is not set"}},
		{"a name reference is not set for Barman section reading", confCase{main: mainConf + "[pg]\nbackup_directory = /b/%(name)s\n"},
			[]string{"@CONF@:5:", "[pg] backup_directory refers to %(name)s"}},
		{"a barman_home reference is not set in a server section", confCase{main: mainConf + "[pg]\nbackup_directory = %(barman_home)s/x\n"},
			[]string{"@CONF@:5:", "[pg] backup_directory refers to %(barman_home)s"}},
		{"a double percent leaves a lone percent when files merge", confCase{main: mainConf + "[pg]\ndescription = 100%%\n"},
			[]string{"@CONF@:5:", "lone '%'"}},
		{"a model without cluster", confCase{main: mainConf + "[m]\nmodel = true\n"}, []string{"model [m] has no cluster"}},
		{"a quoted model flag", confCase{main: mainConf + "[m]\nmodel = \"true\"\ncluster = c\n"}, []string{"@CONF@:5:", "not a boolean"}},
		{"backup_directory None", confCase{main: mainConf + "[pg]\nbackup_directory = None\n"}, []string{"@CONF@:5:", "backup_directory is empty or None"}},
		{"a server named all", confCase{main: mainConf + "[all]\n"}, []string{"[all] is reserved"}},
		{"barman.d changes [barman]", confCase{main: mainConf, extra: map[string]string{"x.conf": "[barman]\nlog_level = DEBUG\n"}},
			[]string{"@DIR@/x.conf changes the [barman] section"}},
		{"unset reference", confCase{main: mainConf + "[pg]\ncluster = %(nothing)s\n"},
			[]string{"@CONF@:5:", "%(nothing)s, which is not set"}},
		{"bad interpolation in barman_home", confCase{main: "[barman]\nbarman_home = /x/%(oops)s\n"},
			[]string{"@CONF@:2:", "[barman] barman_home", "not set"}},
		{"bad interpolation in configuration_files_directory", confCase{main: "[barman]\nbarman_home = /x\nconfiguration_files_directory = %\n"},
			[]string{"@CONF@:3:", "configuration_files_directory"}},
		{"bad interpolation in a model", confCase{main: mainConf + "[m]\nmodel = %(x\n"},
			[]string{"@CONF@:5:", "[m] model"}},
		{"syntax error in .barman.auto.conf", confCase{main: mainConf, auto: "[pg]\noops\n"},
			[]string{"@HOME@/.barman.auto.conf:2:", "is neither a [section] header"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conf, home, dir := tc.conf.write(t)
			cfg, err := LoadConfig(conf)
			if err == nil {
				// A fault of one section breaks that section alone: the
				// error reaches whoever asks for it.
				if len(cfg.Broken) != 1 {
					t.Fatalf("no error and broken sections %v", cfg.Broken)
				}
				for name := range cfg.Broken {
					_, err = cfg.Server(name)
				}
			}
			expand := strings.NewReplacer("@CONF@", conf, "@DIR@", dir, "@HOME@", home).Replace
			parts := make([]string, len(tc.want))
			for i, w := range tc.want {
				parts[i] = expand(w)
			}
			opstest.WantError(t, err, ops.EUNAVAILABLE, parts...)
		})
	}
}

func TestLoadBarmanConfigMissingFile(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nope", "barman.conf")
	cfg, err := LoadConfig(missing)
	if cfg != nil {
		t.Errorf("got a config for a missing file: %+v", cfg)
	}
	opstest.WantError(t, err, ops.EUNAVAILABLE, "cannot read Barman configuration", missing, "no such file", "--barman-config", "PG_BACKUP_API_BARMAN_CONF")
}

func TestBarmanConfigLookups(t *testing.T) {
	env := testenv.NewBarman(t, "barman-3.17")
	cfg, err := LoadConfig(env.Conf)
	if err != nil {
		t.Fatal(err)
	}
	s, err := cfg.Server("db_server_two")
	if err != nil || s.Name != "db_server_two" {
		t.Errorf("Server(db_server_two) = %+v, %v", s, err)
	}
	m, err := cfg.Model("my-model")
	if err != nil || m.Name != "my-model" || m.Cluster != "db_server_two" {
		t.Errorf("Model(my-model) = %+v, %v", m, err)
	}

	tests := []struct {
		name   string
		lookup func() error
		want   string
	}{
		{"unknown server", func() error { _, err := cfg.Server("db2"); return err },
			`server "db2" is not in ` + env.Conf + ` (known: db_server_two)`},
		{"a model is not a server", func() error { _, err := cfg.Server("my-model"); return err },
			`"my-model" is a model, not a server, in ` + env.Conf + ` (servers: db_server_two)`},
		{"unknown model", func() error { _, err := cfg.Model("nope"); return err },
			`model "nope" is not in ` + env.Conf + ` (known: my-model)`},
		{"a server is not a model", func() error { _, err := cfg.Model("db_server_two"); return err },
			`model "db_server_two" is not in`},
		{"server names are case-sensitive", func() error { _, err := cfg.Server("DB_SERVER_TWO"); return err },
			`server "DB_SERVER_TWO" is not in`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			opstest.WantError(t, tc.lookup(), ops.ENOTFOUND, tc.want)
		})
	}

	// With no models or servers, the lists say so.
	env34 := testenv.NewBarman(t, "barman-3.4")
	cfg34, err := LoadConfig(env34.Conf)
	if err != nil {
		t.Fatal(err)
	}
	_, err = cfg34.Model("my-model")
	opstest.WantError(t, err, ops.ENOTFOUND, "(known: none)")
	empty := &ops.BarmanConfig{Path: "/x.conf"}
	_, err = empty.Server("pg")
	opstest.WantError(t, err, ops.ENOTFOUND, `server "pg" is not in /x.conf (known: none)`)
}

// TestLoadBarmanConfigActiveModel: the model named in
// <backup_directory>/.active-model.auto overrides the server's options when
// it exists and shares the server's cluster, as Barman's _apply_models does.
func TestLoadBarmanConfigActiveModel(t *testing.T) {
	conf, home, _ := confCase{main: mainConf + `[pg]
cluster = c
conninfo = host=server
description = 'server'
[other]
cluster = c
conninfo = host=other
[lost]
conninfo = host=lost
[m]
model = true
cluster = c
conninfo = "host=model"
description = None
[wrong]
model = on
cluster = elsewhere
conninfo = host=wrong
`}.write(t)
	testenv.WriteFile(t, filepath.Join(home, "pg", activeModelFile), "  m\n")
	testenv.WriteFile(t, filepath.Join(home, "other", activeModelFile), "wrong")
	testenv.WriteFile(t, filepath.Join(home, "lost", activeModelFile), "gone\n")
	cfg, err := LoadConfig(conf)
	if err != nil {
		t.Fatal(err)
	}
	pg := cfg.Servers["pg"]
	if pg.ActiveModel != "m" || !reflect.DeepEqual(pg.Values, map[string]string{"conninfo": "host=model", "description": "server"}) || pg.Problem != "" {
		t.Errorf("pg = %+v; want model m applied over conninfo only", pg)
	}
	other := cfg.Servers["other"]
	if other.ActiveModel != "" || other.Values["conninfo"] != "host=other" || !strings.Contains(other.Problem, `cluster "elsewhere"`) {
		t.Errorf("other = %+v; want the model of another cluster not applied, and said", other)
	}
	lost := cfg.Servers["lost"]
	if lost.ActiveModel != "" || !strings.Contains(lost.Problem, `model "gone"`) || !strings.Contains(lost.Problem, "does not exist") {
		t.Errorf("lost = %+v; want the missing model reported", lost)
	}
	want := []string{filepath.Join(home, "pg", activeModelFile), filepath.Join(home, "other", activeModelFile), filepath.Join(home, "lost", activeModelFile)}
	if !reflect.DeepEqual(cfg.ActiveModelFiles, want) {
		t.Errorf("ActiveModelFiles = %q, want %q", cfg.ActiveModelFiles, want)
	}
}

func TestStripQuotes(t *testing.T) {
	for in, want := range map[string]string{
		`"/x"`: "/x", `'/x'`: "/x", `"/x'`: `"/x'`, `""`: "", `"`: `"`, `"a"b"`: `a"b`, "\"a\nb\"": "\"a\nb\"", `''x''`: `'x'`,
	} {
		if got := stripQuotes(in); got != want {
			t.Errorf("stripQuotes(%q) = %q, want %q", in, got, want)
		}
	}
}

// The directories of a server's catalog are resolved as Barman's
// ServerConfig does (its KEYS in turn, each interpolated with those before
// it; xlogdb_directory alone inherited from [barman]).
func TestLoadBarmanConfigCatalogDirectories(t *testing.T) {
	type dirs struct{ base, wals, xlogdb string }
	tests := []struct {
		name string
		conf string
		want map[string]dirs // "@HOME@" is expanded
	}{
		{
			name: "defaults under backup_directory",
			conf: mainConf + "[pg]\nbackup_directory = /srv/pg\n",
			want: map[string]dirs{"pg": {"/srv/pg/base", "/srv/pg/wals", "/srv/pg/wals"}},
		},
		{
			name: "wals_directory moves the xlog.db with it",
			conf: mainConf + "[pg]\nwals_directory = /archive/pg\n",
			want: map[string]dirs{"pg": {"@HOME@/pg/base", "/archive/pg", "/archive/pg"}},
		},
		{
			name: "interpolated within the section (a reference to an option it does not set is refused, as Barman does)",
			conf: mainConf + "[pg]\nbackup_directory = @HOME@/pg\nbasebackups_directory = %(backup_directory)s/b2\nwals_directory = %(backup_directory)s/w2\n" +
				"[q]\nbackup_directory = /q\nwals_directory = /q/w\nxlogdb_directory = %(wals_directory)s/db\n",
			want: map[string]dirs{
				"pg": {"@HOME@/pg/b2", "@HOME@/pg/w2", "@HOME@/pg/w2"},
				"q":  {"/q/base", "/q/w", "/q/w/db"},
			},
		},
		{
			name: "xlogdb_directory from [barman], not wals_directory; a server's own wins",
			conf: "[barman]\nbarman_home = @HOME@\nconfiguration_files_directory = @DIR@\nxlogdb_directory = /xlogdb\nwals_directory = /not/inherited\n" +
				"[pg]\n[q]\nxlogdb_directory = /own\n",
			want: map[string]dirs{
				"pg": {"@HOME@/pg/base", "@HOME@/pg/wals", "/xlogdb"},
				"q":  {"@HOME@/q/base", "@HOME@/q/wals", "/own"},
			},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			conf, home, _ := confCase{main: tc.conf}.write(t)
			cfg, err := LoadConfig(conf)
			if err != nil {
				t.Fatalf("LoadConfig: %v", err)
			}
			got := map[string]dirs{}
			for name, s := range cfg.Servers {
				got[name] = dirs{s.BaseBackupsDir(), s.WALsDir(), s.XLogDBDir()}
			}
			want := map[string]dirs{}
			for name, d := range tc.want {
				x := func(p string) string { return strings.ReplaceAll(p, "@HOME@", home) }
				want[name] = dirs{x(d.base), x(d.wals), x(d.xlogdb)}
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("directories = %+v, want %+v", got, want)
			}
		})
	}
}
