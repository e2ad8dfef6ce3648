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
	check := func(t *testing.T, r result, start time.Time) {
		t.Helper()
		if r.Code != 124 {
			t.Fatalf("wait --timeout 1s: want exit 124, got %v", r)
		}
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("wait --timeout 1s took %s", d)
		}
		want := "gave up waiting after 1s (--timeout); operation " + id + " goes on (pg-backup-api wait db_server_two/" + id
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
		check(t, e.exec(t, nil, "", "wait", "--timeout", "1s", id), start)
	})
	t.Run("remote", func(t *testing.T) {
		srv := startServe(t, e, "")
		start := time.Now()
		check(t, remote(t, nil, []string{"--url", srv.URL}, "wait", id, "--timeout", "1s"), start)
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
