//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDrill: a drill of the newest backup, on the first Barman, restores it
// on this host, starts PostgreSQL on it, finds the marker row written
// before the backup, ends DONE and leaves nothing in the drills directory.
func TestDrill(t *testing.T) {
	b := barmans[0]
	server := sandbox["SANDBOX_SERVER"]
	drills := filepath.Join(sandbox["SANDBOX_DIR"], "drills-"+run)
	if err := os.Mkdir(drills, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(drills) })
	// Barman restores, and the drill's PostgreSQL runs, as Barman's user.
	u, err := user.Lookup("barman")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(drills, uid, gid); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(t.TempDir(), "pg-backup-api.toml")
	if err := os.WriteFile(config, []byte(fmt.Sprintf("[drills]\ndirectory = %q\n", drills)), 0o600); err != nil {
		t.Fatal(err)
	}

	stdout, stderr, code := b.cli(t, "--config", config, "create", "drill", "--server", server,
		"--sql", "select note from sandbox_check where id = 2 => "+marker, "--sql", "select count(*) > 0 from sandbox_check => t",
		"--timeout", "5m", "--wait")
	id := lastID(t, stdout)
	op := b.inspect(t, id)
	if code != 0 || op["status"] != "DONE" {
		t.Fatalf("create drill --wait: exit %d, status %v\nstderr: %s\nreason: %v\noutput:\n%v", code, op["status"], stderr, op["reason"], op["output"])
	}
	out := fmt.Sprint(op["output"])
	for _, want := range []string{"step restore: ok in", "step consistency: ok in", "query 1: ok in", fmt.Sprintf("first value %q", marker), "step queries: ok in", "stopped PostgreSQL", "removed "} {
		if !strings.Contains(out, want) {
			t.Errorf("the drill's output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, b.newer.id) {
		t.Errorf("the drill did not restore the newest backup %s:\n%s", b.newer.id, out)
	}
	entries, _ := os.ReadDir(filepath.Join(drills, server))
	if len(entries) != 0 {
		t.Errorf("the drill left %v in %s", entries, filepath.Join(drills, server))
	}
}
