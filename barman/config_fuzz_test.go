package barman

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

// Fuzz targets: run briefly by scripts/fuzz-smoke, at length with
// go test -run '^$' -fuzz '^FuzzName$' ./barman.

// FuzzLoadBarmanConfig: any bytes as barman.conf are read without
// panicking; a refusal is an *Error saying unavailable, and an accepted
// configuration is consistent.
func FuzzLoadBarmanConfig(f *testing.F) {
	dir := f.TempDir()
	for _, name := range []string{"barman-3.17/etc/barman.conf", "barman-3.17/etc/barman.d/db_server_two.conf", "barman-3.17/etc/barman.d/my-model.conf"} {
		data, err := os.ReadFile(testenv.Fixture(f, name))
		if err != nil {
			f.Fatal(err)
		}
		var kept []string
		for _, line := range strings.Split(string(data), "\n") {
			if !strings.Contains(line, "configuration_files_directory") {
				kept = append(kept, line)
			}
		}
		f.Add([]byte(strings.Join(kept, "\n")))
	}
	for _, s := range []string{
		"[barman]\nbarman_home = " + dir + "\n[pg]\ncluster = c\nbackup_directory = %(barman_home)s/%(name)s\n[m]\nmodel = true\ncluster = c\n",
		"[barman]\nbarman_home = /x\n[DEFAULT]\na = %(b)s\nb = %(a)s\n[pg]\nc = %(a)s\n",
		"[barman]\nbarman_home = /x\nk = v\n  continued\n\tmore\n; comment\n# comment\n[s]\nk: v\n",
		"\ufeff[barman]\r\nbarman_home=/x\r\n",
		"[barman]\nbarman_home = /x\n[a]\n[a]\n",
		"[barman\nbarman_home = /x\n",
		"[barman]\nbarman_home = %%(x)s %(\n",
		"key = value\n",
		"[barman]\nbarman_home = /x\x00\n",
	} {
		f.Add([]byte(s))
	}
	path := filepath.Join(dir, "barman.conf")
	f.Fuzz(func(t *testing.T, data []byte) {
		// Keep the fuzzer from reading the host's files: no include
		// directory, and barman_home stays a plain value.
		if bytes.Contains(bytes.ToLower(data), []byte("configuration_files_directory")) {
			return
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := LoadConfig(path)
		if err != nil {
			var e *ops.Error
			if !errors.As(err, &e) || e.Code != ops.EUNAVAILABLE || e.Message == "" {
				t.Fatalf("LoadBarmanConfig = %#v, want an *ops.Error with code unavailable", err)
			}
			return
		}
		if cfg.Path != path || cfg.BarmanHome == "" || len(cfg.Files) == 0 || cfg.Files[0] != path {
			t.Fatalf("configuration %+v", cfg)
		}
		for name, s := range cfg.Servers {
			if s.Name != name || s.BackupDirectory == "" || name == "barman" {
				t.Fatalf("server %q: %+v", name, s)
			}
			if _, isModel := cfg.Models[name]; isModel {
				t.Fatalf("%q is both a server and a model", name)
			}
		}
		// A model's cluster may be empty: Barman requires the key, not a
		// value ("cluster =" reads as None), and then applies the model to
		// no server, as ActivateModel does.
		for name, m := range cfg.Models {
			if m.Name != name {
				t.Fatalf("model %q: %+v", name, m)
			}
		}
	})
}

// FuzzParseBackupInfo: any bytes as backup.info parse without panicking
// into trimmed keys and values.
func FuzzParseBackupInfo(f *testing.F) {
	for _, name := range []string{"barman-3.17/barman_home/db_server_two/meta/20261125T080758-backup.info", "barman-3.4/barman_home/pg/base/20261125T080951/backup.info"} {
		data, err := os.ReadFile(testenv.Fixture(f, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("status=DONE\nbackup_name=None\n=x\nno equals\n  spaced  =  value = more  \r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info := ParseBackupInfo(data)
		for k, v := range info {
			if k != strings.TrimSpace(k) || v != strings.TrimSpace(v) {
				t.Fatalf("untrimmed %q=%q", k, v)
			}
			if strings.Contains(k, "=") || strings.ContainsAny(k+v, "\n") {
				t.Fatalf("key %q or value %q spans what should be separate", k, v)
			}
			if !bytes.Contains(data, []byte(k)) || !bytes.Contains(data, []byte(v)) {
				t.Fatalf("%q=%q is not in the input", k, v)
			}
		}
	})
}
