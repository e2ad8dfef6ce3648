package runner

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// runnerErr returns what the launched runners wrote to their stderr.
func (e *env) runnerErr(server string) string {
	data, _ := os.ReadFile(filepath.Join(e.Store.StateDir(server), "runner.err"))
	return string(data)
}

func TestLauncherEnsureRunner(t *testing.T) {
	bin := testenv.Binary(t)
	fake := fakeBarman(t)
	for _, server := range []string{"db_server_two", ""} {
		t.Run("scope "+server, func(t *testing.T) {
			e := newEnv(t)
			payload := `{"type": "config_switch", "reset": true}`
			want := []string{"-c", e.Conf, "config-switch", server, "--reset"}
			if server == "" {
				payload = `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "archiver": "on"}]}`
				want = []string{"-c", e.Conf, "config-update", `[{"scope": "server", "server_name": "s", "archiver": "on"}]`}
			}
			id := e.create(t, server, payload, "08:00:00")
			l := &Launcher{Executable: bin, BarmanCommand: fake}
			if err := l.EnsureRunner(e.Cfg, server); err != nil {
				t.Fatal(err)
			}
			testenv.WaitFor(t, 20*time.Second, "the operation to finish", func() bool {
				op, err := e.Store.Get(server, id)
				return err == nil && op.Status != ops.StatusInProgress
			})
			op := e.get(t, server, id)
			if op.Status != ops.StatusDone {
				t.Errorf("operation %s: %s, output %q; runner stderr:\n%s", id, op.Status, op.Output, e.runnerErr(server))
			}
			if got := testenv.ArgvCalls(t, e.ArgvLog); !reflect.DeepEqual(got, [][]string{want}) {
				t.Errorf("calls = %q, want %q", got, want)
			}
			// The runner lets go of the scope once its queue is empty.
			testenv.WaitFor(t, 10*time.Second, "the runner lock to be released", func() bool {
				locked, err := store.IsLocked(e.Store.RunnerLockPath(server))
				return err == nil && !locked
			})
		})
	}
}

func TestLauncherEnsureRunnerWhileRunnerActive(t *testing.T) {
	e := newEnv(t)
	const srv = "db_server_two"
	id := e.create(t, srv, `{"type": "config_switch", "reset": true}`, "08:00:00")
	lock, err := os.OpenFile(e.Store.RunnerLockPath(srv), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if ok, err := store.TryLock(lock); !ok || err != nil {
		t.Fatal(ok, err)
	}
	// The executable does not exist: had EnsureRunner tried to start it, it would
	// have failed.
	l := &Launcher{Executable: filepath.Join(t.TempDir(), "missing"), BarmanCommand: fakeBarman(t)}
	if err := l.EnsureRunner(e.Cfg, srv); err != nil {
		t.Fatalf("EnsureRunner with an active runner: %v", err)
	}
	if _, err := os.Stat(filepath.Join(e.Store.StateDir(srv), "runner.err")); !os.IsNotExist(err) {
		t.Errorf("EnsureRunner prepared a runner although one is active: %v", err)
	}
	if op := e.get(t, srv, id); op.Phase != ops.PhaseQueued {
		t.Errorf("operation %s", op.Phase)
	}

	// Without the active runner the same EnsureRunner fails, and leaves the lock
	// free for the next try.
	lock.Close()
	err = l.EnsureRunner(e.Cfg, srv)
	if err == nil || !strings.Contains(err.Error(), "starting runner "+l.Executable) {
		t.Fatalf("EnsureRunner with a missing executable = %v", err)
	}
	if locked, _ := store.IsLocked(e.Store.RunnerLockPath(srv)); locked {
		t.Error("a failed EnsureRunner left the scope locked")
	}

	// A home that is not usable is reported, not created.
	missing := &ops.BarmanConfig{Path: e.Conf, BarmanHome: filepath.Join(t.TempDir(), "no-home")}
	if err := l.EnsureRunner(missing, srv); ops.ErrorCode(err) != ops.EUNAVAILABLE {
		t.Errorf("EnsureRunner on a missing barman_home = %v, want %s", err, ops.EUNAVAILABLE)
	}
}

// TestRunnerKilled kills a real runner process while Barman runs: the
// operation must read FAILED (lost) and Barman must die with its runner.
func TestRunnerKilled(t *testing.T) {
	bin := testenv.Binary(t)
	e := newEnv(t)
	const srv = "db_server_two"
	pidFile := filepath.Join(t.TempDir(), "barman.pid")
	t.Setenv("FAKE_BARMAN_SLEEP", "30")
	t.Setenv("FAKE_BARMAN_PIDFILE", pidFile)
	id := e.create(t, srv, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`, "08:00:00")

	l := &Launcher{Executable: bin, BarmanCommand: fakeBarman(t)}
	if err := l.EnsureRunner(e.Cfg, srv); err != nil {
		t.Fatal(err)
	}
	var barmanPid int
	testenv.WaitFor(t, 20*time.Second, "the fake barman to start", func() bool { barmanPid = testenv.ReadPid(pidFile); return barmanPid > 0 })
	// Whatever happens, leave no sleeping fake barman behind (it runs in a
	// process group of its own).
	t.Cleanup(func() { syscall.Kill(-barmanPid, syscall.SIGKILL) })
	testenv.WaitFor(t, 10*time.Second, "the operation to read running", func() bool {
		op, err := e.Store.Get(srv, id)
		return err == nil && op.Phase == ops.PhaseRunning
	})

	_, runnerPid, _, ok := testenv.ProcStat(barmanPid)
	if !ok {
		t.Fatalf("fake barman %d vanished", barmanPid)
	}
	exe, err := os.Readlink("/proc/" + strconv.Itoa(runnerPid) + "/exe")
	if err != nil || exe != bin {
		t.Fatalf("the parent of the fake barman is %d (%s, %v), not the runner %s", runnerPid, exe, err, bin)
	}
	if err := syscall.Kill(runnerPid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}

	testenv.WaitFor(t, 10*time.Second, "the operation to read lost", func() bool {
		op, err := e.Store.Get(srv, id)
		return err == nil && op.Phase == ops.PhaseLost
	})
	op := e.get(t, srv, id)
	if op.Status != ops.StatusFailed || op.Reason != ops.LostReason || !strings.Contains(op.Output, "Starting remote restore") {
		t.Errorf("after the kill: %s/%s reason %q output %q", op.Status, op.Phase, op.Reason, op.Output)
	}
	testenv.WaitFor(t, 5*time.Second, "the fake barman to die with its runner", func() bool { return gone(barmanPid) })

	// The next runner records the loss for good and the scope works on.
	t.Setenv("FAKE_BARMAN_SLEEP", "0")
	t.Setenv("FAKE_BARMAN_PIDFILE", "")
	next := e.create(t, srv, `{"type": "config_switch", "reset": true}`, "08:00:01")
	r := &Runner{Store: e.Store, Server: srv, Barman: barman.NewCommand(fakeBarman(t)), BarmanConfig: e.Conf}
	if err := r.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(e.Store.OutputPath(srv, id)); err != nil {
		t.Errorf("the lost operation has no output file after the next run: %v", err)
	}
	if op := e.get(t, srv, id); op.Phase != ops.PhaseLost || op.Reason != ops.LostReason {
		t.Errorf("recorded lost operation: %s reason %q", op.Phase, op.Reason)
	}
	if op := e.get(t, srv, next); op.Status != ops.StatusDone {
		t.Errorf("next operation: %s", op.Status)
	}
	if calls := testenv.ArgvCalls(t, e.ArgvLog); len(calls) != 2 {
		t.Errorf("calls = %q, want the killed run and the next one", calls)
	}
}
