package cli_test

import (
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/cli"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// cancel prints the state it left the operation in, on standard output,
// locally and through a server alike: a queued one ended, a running one is
// being stopped, which the store alone (IN_PROGRESS, running) does not say.
func TestCancelPrintsTheStateItLeft(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	srv := startServe(t, e, "")
	const server = "db_server_two"
	for _, via := range []struct {
		name string
		run  func(args ...string) result
	}{
		{"local", func(args ...string) result { return e.exec(t, nil, "", args...) }},
		{"remote", func(args ...string) result { return remote(t, nil, []string{"--url", srv.URL}, args...) }},
	} {
		t.Run(via.name+", running", func(t *testing.T) {
			id := createOp(t, e, []string{"FAKE_BARMAN_SLEEP=30"}, server, "create", "config-switch", "-s", server, "--reset")
			waitPhase(t, e, server, id, ops.PhaseRunning)
			r := via.run("cancel", "-s", server, id)
			// The runner may have stopped Barman already, within the second
			// it polls in; the old output, IN_PROGRESS (running), is neither.
			pending, ended := id+" IN_PROGRESS (running, cancel requested)\n", id+" FAILED (cancelled)\n"
			if r.Code != cli.ExitOK || (r.Stdout != pending && r.Stdout != ended) {
				t.Errorf("want exit 0 and %q (or, already stopped, %q), got %v", pending, ended, r)
			}
			r = via.run("cancel", "-s", server, id, "--wait")
			if r.Code != cli.ExitOK && r.Code != cli.ExitConflict {
				t.Fatalf("cancel --wait: %v", r)
			}
			if r.Code == cli.ExitOK && r.Stdout != ended {
				t.Errorf("cancel --wait: want %q, got %v", ended, r)
			}
		})
		t.Run(via.name+", queued", func(t *testing.T) {
			holdRunnerLock(t, e, "")
			id := queueOp(t, e, "", "create", "config-update", "--changes", instanceChanges)
			r := via.run("cancel", "--instance", id)
			if want := id + " FAILED (cancelled)\n"; r.Code != cli.ExitOK || r.Stdout != want {
				t.Errorf("want exit 0 and %q, got %v", want, r)
			}
		})
	}
	// Scripts are told what to read.
	if r := runApp(t, "", "cancel", "--help"); !strings.Contains(r.Stdout, "IN_PROGRESS (running, cancel requested)") {
		t.Errorf("cancel --help does not say what cancel prints:\n%s", r.Stdout)
	}
}
