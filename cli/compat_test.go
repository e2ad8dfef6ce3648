package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/cli"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// TestCreateEmptyChanges: config_update with no changes is accepted, as
// the reference accepts it; Barman runs, changes nothing and exits 0.
func TestCreateEmptyChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	r := e.exec(t, nil, "", "create", "config-update", "--changes", "[]", "--wait")
	if r.Code != cli.ExitOK {
		t.Fatalf("create config-update --changes []: %v", r)
	}
	id := strings.TrimSpace(strings.SplitN(r.Stdout, "\n", 2)[0])
	if st := opState(t, e, "", id); st.Status != ops.StatusDone {
		t.Errorf("operation %s ended %s, want DONE", id, st.Status)
	}
	argv, err := os.ReadFile(e.ArgvLog)
	if err != nil || !strings.Contains(string(argv), "\nconfig-update\n[]\n") {
		t.Errorf("Barman was not run with the empty array: %q %v", argv, err)
	}
}

// TestMissingStoreFailsReads: every command that reads the store exits 5
// naming the missing barman_home, locally and through a server, instead of
// printing nothing and exiting 0. A fresh barman_home (no jobs/ yet) is an
// empty store.
func TestMissingStoreFailsReads(t *testing.T) {
	t.Parallel()
	reads := [][]string{
		{"list"},
		{"list", "-o", "json"},
		{"list", "--instance"},
		{"list", "-s", "db_server_two"},
		{"list", "--status", "FAILED"},
		{"inspect", "20261125T080805"},
		{"inspect", "-s", "db_server_two", "20261125T080805"},
		{"cancel", "-s", "db_server_two", "20261125T080805"},
		{"wait", "-s", "db_server_two", "20261125T080805"},
		{"logs", "-s", "db_server_two", "20261125T080805"},
	}
	e := newEnv(t, true)
	srv := startServe(t, e, "")
	if r := remote(t, nil, []string{"--url", srv.URL}, "list"); r.Code != cli.ExitOK || r.Stdout == "" {
		t.Fatalf("list through serve before the move: %v", r)
	}
	moveHome(t, e)
	check := func(where string, r result) {
		t.Helper()
		if r.Code != cli.ExitUnavailable {
			t.Errorf("%s: want exit 5, got %v", where, r)
			return
		}
		for _, m := range []string{"barman_home " + e.Home, "does not exist", e.Conf} {
			if !strings.Contains(r.Stderr, m) {
				t.Errorf("%s: stderr does not mention %q:\n%s", where, m, r.Stderr)
			}
		}
		if r.Stdout != "" {
			t.Errorf("%s: printed %q", where, r.Stdout)
		}
	}
	for _, args := range reads {
		check("local "+strings.Join(args, " "), e.exec(t, nil, "", args...))
		check("remote "+strings.Join(args, " "), remote(t, nil, []string{"--url", srv.URL}, args...))
	}
	check("local prune", e.exec(t, nil, "", "prune", "--older-than", "1d", "--dry-run"))
	if _, err := os.Stat(e.Home); err == nil {
		t.Errorf("a read created the missing barman_home")
	}

	// A fresh install: barman_home exists, no operation was ever stored.
	if err := os.Mkdir(e.Home, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"list"}, {"list", "-s", "db_server_two"}} {
		if r := e.exec(t, nil, "", args...); r.Code != cli.ExitOK || r.Stdout != "" {
			t.Errorf("%q on a fresh barman_home: %v, want exit 0 and nothing", args, r)
		}
		if r := remote(t, nil, []string{"--url", srv.URL}, args...); r.Code != cli.ExitOK || r.Stdout != "" {
			t.Errorf("%q through serve on a fresh barman_home: %v, want exit 0 and nothing", args, r)
		}
	}
	if r := e.exec(t, nil, "", "inspect", "20261125T080805"); r.Code != cli.ExitNotFound {
		t.Errorf("inspect on a fresh barman_home: %v, want exit 3", r)
	}
	if _, err := os.Stat(filepath.Join(e.Home, "jobs")); err == nil {
		t.Errorf("a read created jobs/")
	}
}
