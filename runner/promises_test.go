package runner

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// These tests each pin one promise of the runner that no other test would
// miss if it were dropped. They act inside the runner's races through the
// seams in runner.go rather than by timing.

// setSeam replaces a seam for the rest of the test.
func setSeam[T any](t *testing.T, seam *T, v T) {
	t.Helper()
	old := *seam
	*seam = v
	t.Cleanup(func() { *seam = old })
}

// markedPids returns the live processes that carry an operation's marker:
// Barman and everything it started.
func markedPids(marker string) []int {
	want := []byte(MarkerEnv + "=" + marker + "\x00")
	var pids []int
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, dir := range dirs {
		var pid int
		if _, err := fmt.Sscan(filepath.Base(dir), &pid); err != nil || gone(pid) {
			continue
		}
		env, err := os.ReadFile(filepath.Join(dir, "environ"))
		if err == nil && (bytes.HasPrefix(env, want) || bytes.Contains(env, append([]byte{0}, want...))) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// TestRunnerKillsBarmanThatIgnoresSIGTERM: a Barman that ignores SIGTERM,
// when it times out or is cancelled, gets SIGKILL once the grace period has
// passed, not before and not never; the operation ends FAILED with the
// phase saying why.
func TestRunnerKillsBarmanThatIgnoresSIGTERM(t *testing.T) {
	const (
		srv    = "db_server_two"
		grace  = 300 * time.Millisecond
		margin = 5 * time.Second
	)
	tests := []struct {
		name   string
		limit  time.Duration // the recovery time limit; 0: cancelled instead
		phase  ops.Phase
		reason string
	}{
		{"timed out", 200 * time.Millisecond, ops.PhaseTimeout, "timed out: recovery may run for 200ms (config: runner.recovery_timeout); Barman was stopped"},
		{"cancelled", 0, ops.PhaseCancelled, "cancelled by tester while Barman ran; Barman was stopped"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			pidFile := filepath.Join(t.TempDir(), "barman.pid")
			t.Setenv("FAKE_BARMAN_SLEEP", "60")
			t.Setenv("FAKE_BARMAN_IGNORE_TERM", "1")
			t.Setenv("FAKE_BARMAN_PIDFILE", pidFile)
			id := e.create(t, srv, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`, "08:00:00")

			// The time limit starts counting only once the fake has written
			// its pid, by when it ignores SIGTERM: a SIGTERM that came
			// sooner would end it and prove nothing.
			started := make(chan time.Time, 1)
			setSeam(t, &barmanStarted, func(pid int) {
				deadline := time.Now().Add(10 * time.Second)
				for testenv.ReadPid(pidFile) != pid && time.Now().Before(deadline) {
					time.Sleep(5 * time.Millisecond)
				}
				started <- time.Now()
			})
			r := &Runner{
				Store: e.Store, Server: srv, Barman: barman.NewCommand(fakeBarman(t)), BarmanConfig: e.Conf,
				KillGrace: grace, CancelPoll: 20 * time.Millisecond, Log: &testenv.SyncBuffer{},
			}
			if tc.limit > 0 {
				r.Timeouts = map[ops.Type]time.Duration{ops.Recovery: tc.limit}
			}
			errc := make(chan error, 1)
			ended := make(chan struct{})
			go func() { errc <- r.Run(context.Background(), nil); close(ended) }()
			// Should the runner hang on a Barman it never kills, kill it
			// here so the runner can end before the test's files go.
			t.Cleanup(func() {
				if pid := testenv.ReadPid(pidFile); pid > 0 {
					syscall.Kill(-pid, syscall.SIGKILL)
				}
				select {
				case <-ended:
				case <-time.After(10 * time.Second):
				}
			})

			var from time.Time
			select {
			case from = <-started:
			case <-time.After(15 * time.Second):
				t.Fatal("the fake barman did not start within 15 s")
			}
			pid := testenv.ReadPid(pidFile)
			if pid <= 0 {
				t.Fatalf("the fake barman wrote no pid to %s", pidFile)
			}
			if tc.limit == 0 {
				from = time.Now()
				if err := os.WriteFile(e.Store.CancelPath(srv, id), []byte("tester\n"), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			select {
			case err := <-errc:
				if err != nil {
					t.Fatalf("Run: %v", err)
				}
			case <-time.After(tc.limit + grace + margin):
				t.Fatalf("Barman ignoring SIGTERM was still not killed %v after it was stopped with a %v grace period", tc.limit+grace+margin, grace)
			}
			if took := time.Since(from); took < tc.limit+grace {
				t.Errorf("Barman was killed %v after it was started or cancelled; want no sooner than the %v limit plus the %v grace period (the fake survives SIGTERM)", took, tc.limit, grace)
			}
			if !gone(pid) {
				t.Errorf("the fake barman (pid %d) is still alive", pid)
			}
			if left := markedPids(r.marker(id)); len(left) > 0 {
				t.Errorf("processes Barman started are still alive: %v", left)
			}
			op := e.get(t, srv, id)
			if op.Status != ops.StatusFailed || op.Phase != tc.phase || op.Reason != tc.reason || op.ExitCode == nil || *op.ExitCode != -1 {
				t.Errorf("operation: %s/%s reason %q exit %v; want FAILED/%s reason %q exit -1", op.Status, op.Phase, op.Reason, op.ExitCode, tc.phase, tc.reason)
			}
			e.assertIdle(t, srv)
		})
	}
}

// TestRunnerSkipsOperationFinishedBeforeItsClaim: an operation that ends
// (another runner ran it, a cancel ended it) after this runner listed it as
// queued and before it claimed it is not run a second time.
func TestRunnerSkipsOperationFinishedBeforeItsClaim(t *testing.T) {
	e := newEnv(t)
	const srv = "db_server_two"
	first := e.create(t, srv, `{"type": "config_switch", "reset": true}`, "08:00:00")
	second := e.create(t, srv, `{"type": "config_switch", "model_name": "my-model"}`, "08:00:01")
	var claimed []string
	setSeam(t, &beforeClaim, func(server, id string) {
		claimed = append(claimed, id)
		if id != first {
			return
		}
		if op := e.get(t, srv, id); op.Phase != ops.PhaseQueued {
			t.Errorf("about to claim %s, which reads %s; want queued (the listing just saw it so)", id, op.Phase)
		}
		if err := e.Store.End(srv, id, nil, ops.Result{Success: true, Output: "finished elsewhere\n"}); err != nil {
			t.Error(err)
		}
	})
	e.run(t, srv, fakeBarman(t))

	if want := []string{first, second}; !reflect.DeepEqual(claimed, want) {
		t.Fatalf("the runner went to claim %q, want %q", claimed, want)
	}
	if got, want := testenv.ArgvCalls(t, e.ArgvLog), [][]string{{"-c", e.Conf, "config-switch", srv, "my-model"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("barman calls = %q; want only %q: %s had finished before it was claimed", got, want, first)
	}
	if op := e.get(t, srv, first); op.Status != ops.StatusDone || op.Output != "finished elsewhere\n" {
		t.Errorf("%s: %s output %q; want the result recorded elsewhere, untouched", first, op.Status, op.Output)
	}
	if op := e.get(t, srv, second); op.Status != ops.StatusDone {
		t.Errorf("%s: %s, want DONE", second, op.Status)
	}
	e.assertIdle(t, srv)
}

// TestRunnerRunsOperationCreatedAsItLetsGo: an operation recorded after the
// runner last found the queue empty, but while it still held the scope
// lock, gets no runner of its own (EnsureRunner finds the lock held), so the runner
// must look again once it has let go.
func TestRunnerRunsOperationCreatedAsItLetsGo(t *testing.T) {
	e := newEnv(t)
	const srv = "db_server_two"
	first := e.create(t, srv, `{"type": "config_switch", "reset": true}`, "08:00:00")
	var late string
	unlocks := 0
	setSeam(t, &beforeUnlock, func(server string) {
		unlocks++
		if unlocks > 1 {
			return
		}
		// What create does: record the job, then ensure a runner. The
		// executable does not exist, so an EnsureRunner that tried to start one
		// would fail; it must find the lock held and leave the operation
		// to this runner.
		late = e.create(t, srv, `{"type": "config_switch", "model_name": "my-model"}`, "08:00:05")
		if locked, err := store.IsLocked(e.Store.RunnerLockPath(srv)); !locked || err != nil {
			t.Errorf("the scope lock is not held just before the runner lets go (%v, %v)", locked, err)
		}
		l := &Launcher{Executable: filepath.Join(t.TempDir(), "no-such-runner")}
		if err := l.EnsureRunner(e.Cfg, srv); err != nil {
			t.Errorf("EnsureRunner while the runner holds the lock: %v", err)
		}
	})
	e.run(t, srv, fakeBarman(t))

	if late == "" {
		t.Fatal("the runner never came to let go of its lock")
	}
	want := [][]string{
		{"-c", e.Conf, "config-switch", srv, "--reset"},
		{"-c", e.Conf, "config-switch", srv, "my-model"},
	}
	if got := testenv.ArgvCalls(t, e.ArgvLog); !reflect.DeepEqual(got, want) {
		t.Errorf("barman calls = %q, want %q", got, want)
	}
	for _, id := range []string{first, late} {
		if op := e.get(t, srv, id); op.Status != ops.StatusDone {
			t.Errorf("%s: %s/%s, want DONE (an operation created as the runner let go was stranded)", id, op.Status, op.Phase)
		}
	}
	if unlocks != 2 {
		t.Errorf("the runner let go of its lock %d times, want 2 (once with the late operation pending, once at the end)", unlocks)
	}
	e.assertIdle(t, srv)
}

// TestRunnerCapsStoredOutput: an output file keeps at most maxOutput bytes
// of Barman's output, its tail, under a line saying how much was dropped;
// output within the cap is kept whole and unmarked.
func TestRunnerCapsStoredOutput(t *testing.T) {
	if maxOutput != 8<<20 {
		t.Errorf("maxOutput = %d, want 8 MiB", maxOutput)
	}
	const srv, lines = "db_server_two", 1000
	var full strings.Builder
	for i := 1; i <= lines; i++ {
		fmt.Fprintf(&full, "fake output line %06d\n", i)
	}
	full.WriteString("Applying model 'my-model' to server 'db_server_two'\n")
	out := full.String()
	truncated := func(limit int) string {
		return fmt.Sprintf("[pg-backup-api: output truncated: the first %d bytes of Barman's output were dropped; its last %d bytes follow]\n%s",
			len(out)-limit, limit, out[len(out)-limit:])
	}
	tests := []struct {
		name  string
		limit int
		want  string
	}{
		{"well over the cap", 4096, truncated(4096)},
		{"one byte over", len(out) - 1, truncated(len(out) - 1)},
		{"exactly the cap", len(out), out},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			setSeam(t, &maxOutput, int64(tc.limit))
			e := newEnv(t)
			t.Setenv("FAKE_BARMAN_OUTPUT_LINES", fmt.Sprint(lines))
			id := e.create(t, srv, `{"type": "config_switch", "model_name": "my-model"}`, "08:00:00")
			e.run(t, srv, fakeBarman(t))
			op := e.get(t, srv, id)
			if op.Status != ops.StatusDone {
				t.Errorf("status %s, want DONE", op.Status)
			}
			if op.Output != tc.want {
				t.Errorf("stored output: %d bytes starting %.120q\nwant %d bytes starting %.120q", len(op.Output), op.Output, len(tc.want), tc.want)
			}
		})
	}

	// A lost operation's log is recorded under the same cap, and the cut
	// never splits a character.
	t.Run("lost operation", func(t *testing.T) {
		const limit = 4095
		setSeam(t, &maxOutput, limit)
		e := newEnv(t)
		id := e.create(t, srv, `{"type": "config_switch", "reset": true}`, "08:00:00")
		// 1 + 2*3000 bytes: the cut at byte 1906 falls inside an "é".
		log := "x" + strings.Repeat("é", 3000)
		if err := os.WriteFile(e.Store.LogPath(srv, id), []byte(log), 0o600); err != nil {
			t.Fatal(err)
		}
		e.run(t, srv, fakeBarman(t))
		op := e.get(t, srv, id)
		want := "[pg-backup-api: output truncated: the first 1907 bytes of Barman's output were dropped; its last 4094 bytes follow]\n" + strings.Repeat("é", 2047)
		if op.Phase != ops.PhaseLost || op.Output != want || !utf8.ValidString(op.Output) {
			t.Errorf("lost operation: %s, output %d bytes starting %.120q; want lost, %d bytes starting %.120q", op.Phase, len(op.Output), op.Output, len(want), want)
		}
	})
}
