package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/cli"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
)

// addServer adds a server to e's Barman configuration, a copy of
// db_server_two under another name.
func (e *env) addServer(t *testing.T, name string) {
	t.Helper()
	dir := filepath.Join(filepath.Dir(e.Conf), "barman.d")
	data, err := os.ReadFile(filepath.Join(dir, "db_server_two.conf"))
	if err != nil {
		t.Fatal(err)
	}
	conf := strings.Replace(string(data), "[db_server_two]", "["+name+"]", 1)
	writeFile(t, dir, name+".conf", conf, 0o644)
}

// TestCreateSameSecondTwoServersEachFound: the cron case. Two `create
// backup` processes for two servers in the same second print different IDs,
// and `wait ID`, `wait SERVER/ID` and `inspect ID` each find the operation
// of their own server.
func TestCreateSameSecondTwoServersEachFound(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	e.addServer(t, "db_server_three")
	servers := []string{"db_server_two", "db_server_three"}

	// Both processes start together; they are tried again until they
	// create in the same second, which is nearly always the first time.
	var ids []string
	for attempt := 0; attempt < 10; attempt++ {
		got := make([]string, len(servers))
		var wg sync.WaitGroup
		for i, server := range servers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				r := e.exec(t, nil, "", "create", "backup", "-s", server)
				if r.Code != cli.ExitOK || !idPattern.MatchString(strings.TrimSpace(r.Stdout)) {
					t.Errorf("create backup -s %s: %v", server, r)
				}
				got[i] = strings.TrimSpace(r.Stdout)
			}()
		}
		wg.Wait()
		if t.Failed() {
			t.FailNow()
		}
		if got[0][:15] == got[1][:15] {
			ids = got
			break
		}
	}
	if ids == nil {
		t.Fatal("no two creates ran in the same second in 10 tries")
	}
	if ids[0] == ids[1] {
		t.Fatalf("the creates for %s and %s both printed %s", servers[0], servers[1], ids[0])
	}
	for i, id := range ids {
		server := servers[i]
		if r := e.exec(t, nil, "", "wait", id); r.Code != cli.ExitOK {
			t.Errorf("wait %s (created for %s): %v", id, server, r)
		}
		if r := e.exec(t, nil, "", "wait", server+"/"+id); r.Code != cli.ExitOK {
			t.Errorf("wait %s/%s: %v", server, id, r)
		}
		r := e.exec(t, nil, "", "inspect", id, "-o", "json")
		if r.Code != cli.ExitOK {
			t.Fatalf("inspect %s: %v", id, r)
		}
		var op listedOp
		decodeJSON(t, r.Stdout, &op)
		if op.ID != id || op.server() != server || op.Type != "backup" || op.Status != "DONE" {
			t.Errorf("inspect %s found %s of %q (%s, %s); want the backup of %s", id, op.ID, op.server(), op.Type, op.Status, server)
		}
	}
}

// TestOperationArgServerSlashID: every command that takes an operation ID
// takes SERVER/ID too, and a wrong one says what to give instead.
func TestOperationArgServerSlashID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	const serverOp, instanceOp = "20261125T080805", "20261125T080447"
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantMsg  []string
	}{
		{"inspect SERVER/ID", []string{"inspect", "db_server_two/" + serverOp}, cli.ExitOK, nil},
		{"inspect SERVER/ID, same --server", []string{"inspect", "db_server_two/" + serverOp, "--server", "db_server_two"}, cli.ExitOK, nil},
		{"wait SERVER/ID", []string{"wait", "db_server_two/" + serverOp}, cli.ExitOK, nil},
		{"logs SERVER/ID", []string{"logs", "db_server_two/" + serverOp}, cli.ExitOK, nil},
		{"failed operation by SERVER/ID", []string{"wait", "db_server_two/20261125T080916"}, cli.ExitFailed, nil},
		{"cancel of an ended one by SERVER/ID", []string{"cancel", "db_server_two/" + serverOp}, cli.ExitConflict, []string{"already ended"}},

		{"instance operation named with a server", []string{"wait", "db_server_two/" + instanceOp}, cli.ExitNotFound,
			[]string{"operation " + instanceOp + " does not exist", "it is an instance operation: use " + instanceOp + " --instance"}},
		{"in no scope", []string{"inspect", "db_server_two/20991231T235959"}, cli.ExitNotFound,
			[]string{"does not exist", "no other scope has operation 20991231T235959 either", "pg-backup-api list"}},
		{"in no scope, --server", []string{"logs", "20991231T235959", "--server", "db_server_two"}, cli.ExitNotFound,
			[]string{"no other scope has operation 20991231T235959 either"}},
		{"server operation with --instance", []string{"inspect", serverOp, "--instance"}, cli.ExitNotFound,
			[]string{"it is an operation of server db_server_two: use db_server_two/" + serverOp}},
		{"unknown server", []string{"inspect", "db9/" + serverOp}, cli.ExitNotFound,
			[]string{`server "db9" is not in`, "known: db_server_two", "use db_server_two/" + serverOp}},

		{"SERVER/ID and another --server", []string{"wait", "db_server_two/" + serverOp, "--server", "db9"}, cli.ExitUsage,
			[]string{"names server db_server_two but --server says db9"}},
		{"SERVER/ID and --instance", []string{"logs", "db_server_two/" + serverOp, "--instance"}, cli.ExitUsage,
			[]string{"drop --instance"}},
		{"no server before the slash", []string{"inspect", "/" + serverOp}, cli.ExitNotFound, []string{"not a valid operation ID, nor SERVER/ID (e.g. db1/"}},
		{"no ID after the slash", []string{"wait", "db_server_two/"}, cli.ExitNotFound, []string{"not a valid operation ID, nor SERVER/ID"}},
		{"two slashes", []string{"logs", "a/b/" + serverOp}, cli.ExitNotFound, []string{"not a valid operation ID, nor SERVER/ID"}},
		{"a path", []string{"cancel", "db_server_two/../jobs/" + serverOp}, cli.ExitNotFound, []string{"not a valid operation ID, nor SERVER/ID"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := testenv.Snapshot(t, e.Root)
			r := e.run(t, tt.args...)
			if r.Code != tt.wantCode {
				t.Fatalf("want exit %d, got %v", tt.wantCode, r)
			}
			for _, m := range tt.wantMsg {
				if !strings.Contains(r.allErr(), m) {
					t.Errorf("message %q does not say %q", r.allErr(), m)
				}
			}
			if tt.wantCode == cli.ExitUsage || tt.wantCode == cli.ExitNotFound {
				if d := testenv.DiffSnapshots(before, testenv.Snapshot(t, e.Root)); d != "" {
					t.Errorf("a refused %q wrote:\n%s", tt.args, d)
				}
			}
		})
	}

	t.Run("ID in two scopes", func(t *testing.T) {
		e := newEnv(t, true)
		data, err := os.ReadFile(filepath.Join(e.Home, "jobs", instanceOp+".json"))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, e.Home, "db_server_two/jobs/"+instanceOp+".json", string(data), 0o644)
		r := e.run(t, "wait", instanceOp)
		if r.Code != cli.ExitUsage || !strings.Contains(r.Msg, "name one as SERVER/"+instanceOp) {
			t.Errorf("want exit 2 suggesting SERVER/ID, got %v", r)
		}
		r = e.run(t, "inspect", "db_server_two/"+instanceOp, "-o", "json")
		if r.Code != cli.ExitOK {
			t.Fatalf("SERVER/ID chooses: %v", r)
		}
		var op listedOp
		decodeJSON(t, r.Stdout, &op)
		if op.server() != "db_server_two" {
			t.Errorf("inspect db_server_two/%s found the operation of %q", instanceOp, op.server())
		}
	})
}

// TestRemoteServerSlashID: SERVER/ID reads the same through serve.
func TestRemoteServerSlashID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	srv := startServe(t, e, "")
	url := []string{"--url", srv.URL}
	sameAsLocal(t, e, url, nil, cli.ExitOK, "inspect", "db_server_two/20261125T080805", "-o", "json")
	sameAsLocal(t, e, url, nil, cli.ExitOK, "wait", "db_server_two/20261125T080805")
	sameAsLocal(t, e, url, nil, cli.ExitOK, "logs", "db_server_two/20261125T080805")
	sameAsLocal(t, e, url, nil, cli.ExitFailed, "wait", "db_server_two/20261125T080916")
	r := sameAsLocal(t, e, url, nil, cli.ExitNotFound, "inspect", "db_server_two/20261125T080447")
	if !strings.Contains(r.Stderr, "use 20261125T080447 --instance") {
		t.Errorf("remote not-found does not say where the operation is: %v", r)
	}
	sameAsLocal(t, e, url, nil, cli.ExitNotFound, "wait", "db_server_two/20991231T235959")
}
