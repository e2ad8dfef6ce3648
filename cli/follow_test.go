package cli_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/cli"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// Tests of the commands that follow an operation to its end: wait, logs -f,
// inspect --follow, and cancel, driving the real binary so that runners and
// Barman run for real.

// instanceChanges is a config-update the fixture Barman accepts.
const instanceChanges = `[{"scope":"server","server_name":"db_server_two","archiver":"on"}]`

// background is the real binary running while the test goes on.
type background struct {
	args           []string
	cmd            *exec.Cmd
	stdout, stderr *testenv.SyncBuffer
	done           chan struct{}
	err            error // set before done closes
}

// startBinary starts the real binary with extra environment variables and
// args; it is killed at the end of the test if it still runs.
func startBinary(t *testing.T, extraEnv []string, args ...string) *background {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b := &background{args: args, stdout: &testenv.SyncBuffer{}, stderr: &testenv.SyncBuffer{}, done: make(chan struct{})}
	b.cmd = exec.CommandContext(ctx, binary, args...)
	b.cmd.Env = append(os.Environ(), extraEnv...)
	b.cmd.Stdout, b.cmd.Stderr = b.stdout, b.stderr
	b.cmd.WaitDelay = 10 * time.Second // even if a child it started holds its pipes
	if err := b.cmd.Start(); err != nil {
		cancel()
		t.Fatalf("starting %q: %v", args, err)
	}
	go func() {
		b.err = b.cmd.Wait()
		close(b.done)
	}()
	t.Cleanup(func() {
		cancel()
		<-b.done
	})
	return b
}

// wait returns the exit status once the process ends, failing the test if
// it runs longer than timeout.
func (b *background) wait(t *testing.T, timeout time.Duration) int {
	t.Helper()
	select {
	case <-b.done:
	case <-time.After(timeout):
		t.Fatalf("%q still runs after %s\nstdout:\n%s\nstderr:\n%s", b.args, timeout, b.stdout, b.stderr)
	}
	var ee *exec.ExitError
	switch {
	case b.err == nil:
		return 0
	case errors.As(b.err, &ee) && ee.Exited():
		return ee.ExitCode()
	}
	t.Fatalf("%q: %v\nstderr:\n%s", b.args, b.err, b.stderr)
	return -1
}

// exited reports whether the process has ended.
func (b *background) exited() bool {
	select {
	case <-b.done:
		return true
	default:
		return false
	}
}

// opState reads an operation straight from e's store, as a second process
// would.
func opState(t testing.TB, e *env, server, id string) *ops.Operation {
	t.Helper()
	op, err := store.Open(&ops.BarmanConfig{BarmanHome: e.Home}).Get(server, id)
	if err != nil {
		t.Fatalf("reading operation %s: %v", id, err)
	}
	return op
}

// waitPhase waits until the operation reaches phase.
func waitPhase(t *testing.T, e *env, server, id string, phase ops.Phase) {
	t.Helper()
	var last *ops.Operation
	testenv.Eventually(t, 15*time.Second, func() bool {
		last = opState(t, e, server, id)
		return last.Phase == phase
	}, func() string { return "operation " + id + " is " + string(last.Phase) + ", not " + string(phase) })
}

// holdRunnerLock takes the runner lock of a scope of e's store, as an active
// runner would, so operations created there stay queued until the test
// ends. It waits for a runner that is finishing to let go.
func holdRunnerLock(t *testing.T, e *env, server string) {
	t.Helper()
	st := store.Open(&ops.BarmanConfig{BarmanHome: e.Home})
	if err := os.MkdirAll(st.StateDir(server), 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.OpenFile(st.RunnerLockPath(server), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	testenv.Eventually(t, 15*time.Second, func() bool {
		ok, err := store.TryLock(f)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}, func() string { return "a runner still holds " + f.Name() })
}

// queueOp creates an operation in process with args (after the global
// flags) and returns its ID; it stays queued while the test holds the
// scope's runner lock, and is cancelled when the test ends.
func queueOp(t *testing.T, e *env, server string, args ...string) string {
	t.Helper()
	r := e.run(t, args...)
	if r.Code != 0 {
		t.Fatalf("create: %v", r)
	}
	id := strings.TrimSpace(r.Stdout)
	t.Cleanup(func() { e.run(t, cancelArgs(server, id)...) })
	if op := opState(t, e, server, id); op.Phase != ops.PhaseQueued {
		t.Fatalf("operation %s is %s, want queued: is the runner lock not held?", id, op.Phase)
	}
	return id
}

func cancelArgs(server, id string) []string {
	if server == "" {
		return []string{"cancel", "--instance", id}
	}
	return []string{"cancel", "--server", server, id}
}

// createOp runs `create` with the real binary, so that a runner starts with
// extraEnv, and returns the new operation's ID. A still running operation is
// cancelled when the test ends, so the store is left quiet.
func createOp(t *testing.T, e *env, extraEnv []string, server string, args ...string) string {
	t.Helper()
	r := e.exec(t, extraEnv, "", args...)
	if r.Code != 0 {
		t.Fatalf("create: %v", r)
	}
	id := strings.TrimSpace(r.Stdout)
	if !regexp.MustCompile(`^\d{8}T\d{6}`).MatchString(id) {
		t.Fatalf("create printed %q, not an operation ID", r.Stdout)
	}
	t.Cleanup(func() {
		if opState(t, e, server, id).Status == ops.StatusInProgress {
			e.run(t, cancelArgs(server, id)...)
		}
	})
	return id
}

// scriptBarman writes a Barman stand-in that reports version 3.17.0 to -v
// and otherwise runs body, ignoring its arguments.
func scriptBarman(t *testing.T, body string) string {
	t.Helper()
	return writeFile(t, t.TempDir(), "barman",
		"#!/bin/sh\nif [ \"$1\" = -v ]; then echo '3.17.0 Barman by EnterpriseDB (www.enterprisedb.com)'; exit 0; fi\n"+body, 0o755)
}

// twoLines is a Barman that prints a line, works a while, prints another.
const twoLines = "echo line1\nsleep 2\necho line2\n"

func TestWaitExitCodes(t *testing.T) {
	t.Parallel()
	wantEnd := func(t *testing.T, stderr, id, status string) {
		t.Helper()
		if !regexp.MustCompile(`(?m)^operation ` + regexp.QuoteMeta(id) + ` ` + status + ` after \d`).MatchString(stderr) {
			t.Errorf("stderr does not end the wait with \"operation %s %s after ...\":\n%s", id, status, stderr)
		}
	}

	t.Run("DONE", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, false)
		id := createOp(t, e, []string{"FAKE_BARMAN_SLEEP=1"}, "", "create", "config-update", "--changes", instanceChanges)
		r := e.exec(t, nil, "", "wait", id)
		if r.Code != cli.ExitOK {
			t.Fatalf("wait: want exit 0, got %v", r)
		}
		wantEnd(t, r.Stderr, id, "DONE")
		if op := opState(t, e, "", id); op.Status != ops.StatusDone {
			t.Errorf("wait returned while the operation is %s", op.Status)
		}
		// Waiting for an operation that already ended returns at once.
		r = e.exec(t, nil, "", "wait", "--instance", id)
		if r.Code != cli.ExitOK {
			t.Errorf("wait on an ended operation: want exit 0, got %v", r)
		}
		wantEnd(t, r.Stderr, id, "DONE")
	})

	t.Run("FAILED", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, false)
		id := createOp(t, e, []string{"FAKE_BARMAN_SLEEP=1", "FAKE_BARMAN_EXIT=1"}, "", "create", "config-update", "--changes", instanceChanges)
		logs := startBinary(t, nil, "--barman-config", e.Conf, "--barman-command", fakeBarman, "logs", "-f", id)
		r := e.exec(t, nil, "", "wait", id)
		if r.Code != cli.ExitFailed {
			t.Fatalf("wait: want exit %d, got %v", cli.ExitFailed, r)
		}
		wantEnd(t, r.Stderr, id, "FAILED")
		if !strings.Contains(r.Stderr, "ERROR: fake failure") {
			t.Errorf("wait does not show the end of Barman's output:\n%s", r.Stderr)
		}
		if code := logs.wait(t, 10*time.Second); code != cli.ExitFailed {
			t.Errorf("logs -f: want exit %d, got %d\n%s", cli.ExitFailed, code, logs.stderr)
		}
		if !strings.Contains(logs.stdout.String(), "ERROR: fake failure") {
			t.Errorf("logs -f did not print Barman's output:\n%s", logs.stdout)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, false)
		id := createOp(t, e, []string{"FAKE_BARMAN_SLEEP=30"}, "db_server_two", "create", "config-switch", "-s", "db_server_two", "--reset")
		global := []string{"--barman-config", e.Conf, "--barman-command", fakeBarman}
		wait := startBinary(t, nil, append(global, "wait", id)...)
		logs := startBinary(t, nil, append(global, "logs", "-f", id)...)
		waitPhase(t, e, "db_server_two", id, ops.PhaseRunning)
		if wait.exited() || logs.exited() {
			t.Fatalf("wait or logs -f ended while the operation runs:\nwait: %s\nlogs: %s", wait.stderr, logs.stderr)
		}
		// From another process, as an operator would.
		r := e.exec(t, nil, "", "cancel", id)
		if r.Code != cli.ExitOK || !strings.HasPrefix(r.Stdout, id+" ") {
			t.Fatalf("cancel: %v", r)
		}
		if code := wait.wait(t, 15*time.Second); code != cli.ExitStopped {
			t.Errorf("wait: want exit %d, got %d\n%s", cli.ExitStopped, code, wait.stderr)
		}
		wantEnd(t, wait.stderr.String(), id, "FAILED")
		if !strings.Contains(wait.stderr.String(), "reason: cancelled by cli:") {
			t.Errorf("wait does not say who cancelled:\n%s", wait.stderr)
		}
		if code := logs.wait(t, 15*time.Second); code != cli.ExitStopped {
			t.Errorf("logs -f: want exit %d, got %d\n%s", cli.ExitStopped, code, logs.stderr)
		}
		if op := opState(t, e, "db_server_two", id); op.Status != ops.StatusFailed || op.Phase != ops.PhaseCancelled {
			t.Errorf("operation is %s (%s), want FAILED (cancelled)", op.Status, op.Phase)
		}
		// It ended: waiting again says so at once, cancelling again clashes.
		if r := e.exec(t, nil, "", "wait", id); r.Code != cli.ExitStopped {
			t.Errorf("wait on a cancelled operation: want exit %d, got %v", cli.ExitStopped, r)
		}
		r = e.exec(t, nil, "", "cancel", id)
		if r.Code != cli.ExitConflict || !strings.Contains(r.Stderr, "already ended FAILED") {
			t.Errorf("cancel of a cancelled operation: want exit %d, got %v", cli.ExitConflict, r)
		}
	})

	t.Run("timed out", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, false)
		config := writeFile(t, e.Root, "pg-backup-api.toml", "[runner]\nconfig_switch_timeout = \"1s\"\n", 0o644)
		id := createOp(t, e, []string{"FAKE_BARMAN_SLEEP=30"}, "db_server_two",
			"--config", config, "create", "config-switch", "-s", "db_server_two", "--reset")
		start := time.Now()
		r := e.exec(t, nil, "", "wait", id)
		if r.Code != cli.ExitStopped {
			t.Fatalf("wait: want exit %d, got %v", cli.ExitStopped, r)
		}
		if d := time.Since(start); d > 15*time.Second {
			t.Errorf("the 1s timeout took %s to stop Barman", d)
		}
		wantEnd(t, r.Stderr, id, "FAILED")
		if !strings.Contains(r.Stderr, "reason: timed out") {
			t.Errorf("wait does not say the operation timed out:\n%s", r.Stderr)
		}
		if op := opState(t, e, "db_server_two", id); op.Phase != ops.PhaseTimeout {
			t.Errorf("operation is %s (%s), want FAILED (timeout)", op.Status, op.Phase)
		}
	})

	t.Run("ended and unknown operations", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, true)
		tests := []struct {
			args     []string
			wantCode int
			wantMsg  string
		}{
			{[]string{"wait", "20261125T080805"}, cli.ExitOK, "operation 20261125T080805 DONE after 8.2s"},
			{[]string{"wait", "20261125T080916"}, cli.ExitFailed, "ERROR: Unable to connect to the target host"},
			{[]string{"wait", "-s", "db_server_two", "20261125T080915"}, cli.ExitFailed, "operation 20261125T080915 FAILED"},
			{[]string{"logs", "-f", "20261125T080916"}, cli.ExitFailed, ""},
			{[]string{"logs", "20261125T080916"}, cli.ExitOK, ""}, // no -f: it only prints
			{[]string{"cancel", "20261125T080805"}, cli.ExitConflict, "already ended DONE"},
			{[]string{"cancel", "--instance", "20261125T080919"}, cli.ExitConflict, "already ended DONE"},
			{[]string{"cancel", "20261125T080916"}, cli.ExitConflict, "already ended FAILED"},
			{[]string{"wait", "20991231T000000"}, cli.ExitNotFound, "20991231T000000"},
			{[]string{"logs", "-f", "20991231T000000"}, cli.ExitNotFound, "20991231T000000"},
			{[]string{"inspect", "--follow", "20991231T000000"}, cli.ExitNotFound, "20991231T000000"},
			{[]string{"cancel", "20991231T000000"}, cli.ExitNotFound, "20991231T000000"},
			{[]string{"wait", "--instance", "20261125T080805"}, cli.ExitNotFound, "20261125T080805"},
			{[]string{"wait", "--server", "db9", "20261125T080805"}, cli.ExitNotFound, `"db9"`},
			{[]string{"cancel", "--server", "db9", "20261125T080805"}, cli.ExitNotFound, `"db9"`},
			{[]string{"wait"}, cli.ExitUsage, "one operation ID"},
			{[]string{"wait", "a", "b"}, cli.ExitUsage, "one operation ID"},
			{[]string{"logs"}, cli.ExitUsage, "one operation ID"},
			{[]string{"wait", "--server", "db_server_two", "--instance", "20261125T080805"}, cli.ExitUsage, "not both"},
		}
		for _, tt := range tests {
			r := e.run(t, tt.args...)
			if r.Code != tt.wantCode {
				t.Errorf("%q: want exit %d, got %v", tt.args, tt.wantCode, r)
				continue
			}
			if !strings.Contains(r.allErr(), tt.wantMsg) {
				t.Errorf("%q: stderr does not mention %q: %v", tt.args, tt.wantMsg, r)
			}
		}
	})
}

// TestFollowStreams checks that logs -f and inspect --follow print Barman's
// lines as Barman writes them, not when the operation ends.
func TestFollowStreams(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name    string
		args    []string
		head    string // printed before Barman's output
		wantErr string // standard error at the end
	}{
		{"logs -f", []string{"logs", "-f"}, "", ""},
		{"inspect --follow", []string{"inspect", "--follow"}, "Output (following):\n", "operation %s DONE (done)\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, false)
			barman := scriptBarman(t, twoLines)
			global := []string{"--barman-config", e.Conf, "--barman-command", barman}
			r := execBinary(t, nil, "", append(global, "create", "config-update", "--changes", instanceChanges)...)
			if r.Code != 0 {
				t.Fatalf("create: %v", r)
			}
			id := strings.TrimSpace(r.Stdout)
			f := startBinary(t, nil, append(append(global, tt.args...), id)...)

			// line1 must show while Barman still sleeps before line2.
			testenv.Eventually(t, 10*time.Second, func() bool { return strings.Contains(f.stdout.String(), "line1\n") || f.exited() },
				func() string { return "nothing followed:\n" + f.stdout.String() })
			op := opState(t, e, "", id)
			if op.Status != ops.StatusInProgress {
				t.Errorf("line1 arrived only once the operation was %s: output is not streamed", op.Status)
			}
			if out := f.stdout.String(); strings.Contains(out, "line2") || !strings.Contains(out, "line1") {
				t.Errorf("while Barman sleeps, want line1 and not line2, got:\n%s", out)
			}
			if code := f.wait(t, 15*time.Second); code != cli.ExitOK {
				t.Fatalf("want exit 0 once the operation is DONE, got %d\n%s", code, f.stderr)
			}
			op = opState(t, e, "", id)
			if op.Status != ops.StatusDone || op.Output != "line1\nline2\n" {
				t.Fatalf("operation ended %s with output %q", op.Status, op.Output)
			}
			// Each line once, in order, and nothing about truncation.
			out := f.stdout.String()
			i := strings.Index(out, tt.head)
			if i < 0 || out[i+len(tt.head):] != op.Output {
				t.Errorf("want %q then exactly Barman's output %q, got:\n%s", tt.head, op.Output, out)
			}
			wantErr := tt.wantErr
			if strings.Contains(wantErr, "%s") {
				wantErr = strings.ReplaceAll(wantErr, "%s", id)
			}
			if got := f.stderr.String(); got != wantErr {
				t.Errorf("stderr: want %q, got %q", wantErr, got)
			}
		})
	}

	t.Run("inspect --follow of an ended operation", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, true)
		follow := e.run(t, "inspect", "--follow", "20261125T080805")
		plain := e.run(t, "inspect", "20261125T080805")
		if follow.Code != 0 || follow.Stdout != plain.Stdout || follow.Stderr != "" {
			t.Errorf("inspect --follow of an ended operation differs from inspect:\n%v\nwant stdout:\n%s", follow, plain.Stdout)
		}
	})
}
