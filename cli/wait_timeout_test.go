package cli_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/cli"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// wait --timeout gives up as timeout(1) does, exit 124, and leaves the
// operation running, locally and through a server.
func TestWaitTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	id := createOp(t, e, []string{"FAKE_BARMAN_SLEEP=30"}, "db_server_two", "create", "config-switch", "-s", "db_server_two", "--reset")
	// hint is how the message tells the operator to go on waiting: through
	// the same server as this wait, since the local store of the machine
	// that asked a remote has no such operation.
	check := func(t *testing.T, r result, start time.Time, hint string) {
		t.Helper()
		if r.Code != 124 {
			t.Fatalf("wait --timeout 1s: want exit 124, got %v", r)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("wait --timeout 1s took %s", d)
		}
		want := "gave up waiting after 1s (--timeout); operation " + id + " goes on (pg-backup-api " + hint + id
		if !strings.Contains(r.Stderr, want) {
			t.Errorf("stderr does not say wait gave up and the operation goes on (want %q):\n%s", want, r.Stderr)
		}
		if r.Stdout != "" {
			t.Errorf("wait --timeout printed on stdout: %q", r.Stdout)
		}
		if op := opState(t, e, "db_server_two", id); op.Status != ops.StatusInProgress {
			t.Errorf("the operation is %s (%s) after wait gave up; it must go on", op.Status, op.Phase)
		}
	}

	t.Run("local", func(t *testing.T) {
		start := time.Now()
		check(t, e.exec(t, nil, "", "wait", "--timeout", "1s", id), start, "wait db_server_two/")
	})
	srv := startServe(t, e, "")
	t.Run("remote", func(t *testing.T) {
		start := time.Now()
		check(t, remote(t, nil, []string{"--url", srv.URL}, "wait", id, "--timeout", "1s"), start, "--url "+srv.URL+" wait db_server_two/")
	})
	t.Run("named remote", func(t *testing.T) {
		config := writeFile(t, t.TempDir(), "c.toml", "[remotes.b2]\nurl = \""+srv.URL+"\"\n", 0o600)
		for _, args := range [][]string{{"-r", "b2", "wait", id}, {"wait", "b2:" + id}} {
			start := time.Now()
			r := remote(t, nil, append([]string{"--config", config}, args...), "--timeout", "1s")
			check(t, r, start, "wait b2:db_server_two/")
			if !strings.Contains(r.Stderr, "pg-backup-api cancel b2:db_server_two/"+id) {
				t.Errorf("%q: the cancel hint does not name remote b2: %s", args, r.Stderr)
			}
		}
	})
	t.Run("an operation that ends in time", func(t *testing.T) {
		done := createOp(t, e, []string{"FAKE_BARMAN_SLEEP=0"}, "", "create", "config-update", "--changes", instanceChanges)
		if r := e.exec(t, nil, "", "wait", "--timeout", "30s", done); r.Code != cli.ExitOK {
			t.Errorf("wait --timeout 30s on an operation that ends: want exit 0, got %v", r)
		}
	})
	t.Run("not a positive duration", func(t *testing.T) {
		for _, d := range []string{"0s", "-1s", "soon"} {
			r := e.run(t, "wait", "--timeout="+d, id)
			if r.Code != cli.ExitUsage || !strings.Contains(r.allErr(), "timeout") {
				t.Errorf("wait --timeout=%s: want exit %d naming --timeout, got %v", d, cli.ExitUsage, r)
			}
		}
	})
}
