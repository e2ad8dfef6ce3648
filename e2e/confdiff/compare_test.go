package confdiff

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// Barman 3.20's diagnose keeps barman_home only in the global
// configuration, no longer in each server's, and there as written in the
// file, quotes and all: the reading takes it from there and drops the
// quotes as Barman does when it reads the value (it was "", and every
// configuration disagreed on barman_home).
func TestBarmanReadsHomeFromGlobalConfig(t *testing.T) {
	dir := t.TempDir()
	diagnose := filepath.Join(dir, "diagnose.json")
	if err := os.WriteFile(diagnose, []byte(`{"global": {"config": {"barman_home": "'/srv/barman/'"}, "system_info": {"barman_ver": "3.20.1"}},
 "servers": {"pg": {"config": {"backup_directory": "/srv/barman/pg", "basebackups_directory": "/srv/barman/pg/base",
  "wals_directory": "/srv/barman/pg/wals", "xlogdb_directory": "/srv/barman/pg/wals", "cluster": "pg"}, "active_model": null}},
 "models": {}}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// sh -c 'cat FILE' -c MAIN diagnose: what follows the script is $0 and
	// its arguments, which cat never sees.
	r, err := Barman(context.Background(), []string{"sh", "-c", `cat "` + diagnose + `"`}, &Config{Main: filepath.Join(dir, "barman.conf")}, FeaturesFor("3.20.1"))
	if err != nil {
		t.Fatal(err)
	}
	if r.Refused || r.BarmanHome != "/srv/barman" {
		t.Fatalf("reading %+v: want barman_home /srv/barman from the global configuration", r)
	}
	if got := r.Servers["pg"].BackupDirectory; got != "/srv/barman/pg" {
		t.Errorf("backup_directory %q", got)
	}
}
