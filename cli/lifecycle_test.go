package cli_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/cli"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
)

// TestBackupLifecycle runs the lifecycle end to end through the real binary
// and the fake barman, which writes and removes the keep annotation and the
// backup.info as Barman does: keep the latest backup (DONE; the catalog
// shows the keep), delete it (refused before anything is recorded, in
// Barman's words, Barman never run), release the keep, delete it (DONE; the
// catalog no longer has it).
func TestBackupLifecycle(t *testing.T) {
	e := newEnv(t, false)
	const id = "20261125T080758"
	meta := filepath.Join(e.Home, "db_server_two", "meta")
	env := []string{"FAKE_BARMAN_META_DIR=" + meta}
	annotation := filepath.Join(meta, id+"-keep")

	r := e.exec(t, env, "", "create", "keep", "-s", "db_server_two", "-b", "latest", "--target", "standalone", "--wait")
	if r.Code != cli.ExitOK || !strings.Contains(r.Stderr, " DONE") {
		t.Fatalf("create keep: %v", r)
	}
	if data, err := os.ReadFile(annotation); err != nil || string(data) != "standalone" {
		t.Fatalf("the keep annotation holds %q, %v; want standalone", data, err)
	}
	if r := e.run(t, "backups", "-s", "db_server_two"); !strings.HasPrefix(r.Stdout, id+"\t") || !strings.HasSuffix(r.Stdout, "\tstandalone\n") {
		t.Errorf("backups does not show the keep:\n%s", r)
	}

	before := testenv.Snapshot(t, e.Root)
	r = e.exec(t, env, "", "create", "delete", "-s", "db_server_two", "-b", "latest", "--wait")
	want := "Skipping delete of backup " + id + " for server db_server_two as it has a current keep request. If you really want to delete this backup please remove the keep and try again."
	if r.Code != cli.ExitConflict || !strings.Contains(r.Stderr, want) || r.Stdout != "" {
		t.Errorf("delete of a kept backup: %v\nwant exit %d saying %q", r, cli.ExitConflict, want)
	}
	if d := testenv.DiffSnapshots(before, testenv.Snapshot(t, e.Root)); d != "" {
		t.Errorf("the refused delete wrote:\n%s", d)
	}

	r = e.exec(t, env, "", "create", "keep", "-s", "db_server_two", "-b", id, "--release", "--wait")
	if r.Code != cli.ExitOK {
		t.Fatalf("create keep --release: %v", r)
	}
	if _, err := os.Stat(annotation); !os.IsNotExist(err) {
		t.Fatalf("the keep annotation is still there after --release: %v", err)
	}
	r = e.exec(t, env, "", "create", "delete", "-s", "db_server_two", "-b", "latest", "--wait")
	if r.Code != cli.ExitOK {
		t.Fatalf("create delete: %v", r)
	}
	if r := e.run(t, "backups", "-s", "db_server_two", "-o", "table"); r.Code != cli.ExitOK || r.Stdout != "no backups of server db_server_two\n" {
		t.Errorf("after the delete, backups shows:\n%s", r)
	}

	conf := []string{"-c", e.Conf}
	wantCalls := [][]string{
		append(conf, "keep", "db_server_two", id, "--target=standalone"),
		append(conf, "keep", "db_server_two", id, "--release"),
		append(conf, "delete", "db_server_two", id),
	}
	if calls := testenv.ArgvCalls(t, e.ArgvLog); !reflect.DeepEqual(calls, wantCalls) {
		t.Errorf("Barman calls:\n%q\nwant\n%q", calls, wantCalls)
	}
}
