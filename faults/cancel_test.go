package faults

import (
	"bytes"
	"encoding/json"
	"errors"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

// stoppedCleanly fails unless Barman's process group and every process
// marked with the operation are gone.
func stoppedCleanly(t *testing.T, e *env, server, id string, barman int) {
	t.Helper()
	if members := groupMembers(barman); len(members) != 0 {
		t.Errorf("Barman's process group %d still has %v", barman, members)
	}
	if marked := markedProcesses(e.marker(server, id)); len(marked) != 0 {
		t.Errorf("processes %v still carry the operation's marker", marked)
	}
}

// startBarman creates a recovery with a Barman that sleeps 30 s, waits until
// it runs, and returns its ID and Barman's pid (leader of its group, with a
// child sleeping).
func startBarman(t *testing.T, e *env, penv []string, pidFile, dest string) (string, int) {
	t.Helper()
	id := e.createRecovery(t, penv, dest)
	var barman int
	testenv.WaitFor(t, 10*time.Second, "Barman to run", func() bool {
		barman = testenv.ReadPid(pidFile)
		return barman > 0 && e.get(t, srv, id).Phase == ops.PhaseRunning && len(childrenOf(barman)) > 0
	})
	return id, barman
}

// TestRunnerTimeoutEndsFailedTimeout: with [runner] recovery_timeout = "1s",
// a Barman that would take 30 s is stopped, process group and all; the
// operation ends FAILED, phase timeout, with a reason naming the limit, and
// `create --wait` exits 7.
func TestRunnerTimeoutEndsFailedTimeout(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	conf := filepath.Join(e.Dir, "timeout.toml")
	testenv.WriteFile(t, conf, "[runner]\nrecovery_timeout = \"1s\"\n")
	pidFile := filepath.Join(e.Dir, "barman.pid")
	penv := e.procEnv("FAKE_BARMAN_SLEEP=30", "FAKE_BARMAN_PIDFILE="+pidFile)
	start := time.Now()
	r := e.cli(t, penv, "--config", conf, "create", "recovery", "-s", srv, "-b", "latest",
		"--remote-ssh-command", "ssh postgres@target", "-d", "/srv/restore/slow", "--wait", "-o", "json")
	took := time.Since(start)
	t.Logf("create --wait returned after %s", took)
	if r.code != 7 {
		t.Fatalf("create --wait of an operation that timed out: %s; want exit 7", r)
	}
	var v opView
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
		t.Fatalf("create --wait -o json: %v\n%s", err, r.stdout)
	}
	if v.Status != "FAILED" || v.Phase != "timeout" || !strings.Contains(v.Reason, "timed out") ||
		!strings.Contains(v.Reason, "1s") || !strings.Contains(v.Reason, "runner.recovery_timeout") {
		t.Errorf("operation: %s/%s reason %q; want FAILED/timeout naming the 1s runner.recovery_timeout", v.Status, v.Phase, v.Reason)
	}
	if took > 10*time.Second {
		t.Errorf("a 1 s timeout took %s to end the operation", took)
	}
	stoppedCleanly(t, e, srv, v.ID, testenv.ReadPid(pidFile))
	if out := e.outputFile(t, srv, v.ID); out == nil || endReason(out) != "timeout" {
		t.Errorf("output file %v, want end_reason timeout", out)
	}
}

// TestCancelQueuedOperationNeverRunsBarman: `cancel ID` on a queued
// operation ends it FAILED, phase cancelled, at once, and Barman never runs
// for it.
func TestCancelQueuedOperationNeverRunsBarman(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	pidFile := filepath.Join(e.Dir, "barman.pid")
	penv := e.procEnv("FAKE_BARMAN_SLEEP=30", "FAKE_BARMAN_PIDFILE="+pidFile)
	running, _ := startBarman(t, e, penv, pidFile, "/srv/restore/running")
	queued := e.createRecovery(t, penv, "/srv/restore/queued")
	if op := e.get(t, srv, queued); op.Phase != ops.PhaseQueued {
		t.Fatalf("%s is %s, want queued", queued, op.Phase)
	}
	if out := e.mustCLI(t, penv, "cancel", queued); out != queued+" FAILED (cancelled)" {
		t.Errorf("cancel printed %q", out)
	}
	op := e.get(t, srv, queued)
	if op.Status != ops.StatusFailed || op.Phase != ops.PhaseCancelled || !strings.Contains(op.Reason, "before it started") {
		t.Errorf("cancelled queued operation: %s/%s reason %q", op.Status, op.Phase, op.Reason)
	}

	// Let the runner go on: stop the running one too.
	e.mustCLI(t, penv, "cancel", running)
	testenv.WaitFor(t, 5*time.Second, "the running operation to end", func() bool { return e.get(t, srv, running).Status == ops.StatusFailed })
	waitIdle(t, e, 10*time.Second)
	if got := e.recoverDests(t); !slices.Equal(got, []string{"/srv/restore/running"}) {
		t.Errorf("Barman recovered %q; the cancelled queued operation must never run", got)
	}
	if op := e.get(t, srv, queued); op.Phase != ops.PhaseCancelled {
		t.Errorf("%s is %s after the runner finished, want still cancelled", queued, op.Phase)
	}
}

// TestCancelRunningOperationStopsBarman: `cancel ID` on a running operation
// stops Barman and its child within 2 s; the operation ends FAILED, phase
// cancelled.
func TestCancelRunningOperationStopsBarman(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	pidFile := filepath.Join(e.Dir, "barman.pid")
	penv := e.procEnv("FAKE_BARMAN_SLEEP=30", "FAKE_BARMAN_PIDFILE="+pidFile)
	id, barman := startBarman(t, e, penv, pidFile, "/srv/restore/running")
	child := childrenOf(barman)[0]

	start := time.Now()
	e.mustCLI(t, penv, "cancel", id)
	testenv.WaitFor(t, 3*time.Second, "the operation to end cancelled", func() bool {
		op := e.get(t, srv, id)
		return op.Status == ops.StatusFailed && op.Phase == ops.PhaseCancelled
	})
	took := time.Since(start)
	t.Logf("cancelled %s in %s", id, took)
	if took > 2*time.Second {
		t.Errorf("cancelling a running operation took %s, want at most 2 s", took)
	}
	// A SIGKILLed process dies when the kernel next schedules it, which on
	// a loaded machine may be just after the runner recorded the end: give
	// both what is left of the 2 s.
	for deadline := start.Add(2 * time.Second); (testenv.Alive(barman) || testenv.Alive(child)) && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if testenv.Alive(barman) || testenv.Alive(child) {
		t.Errorf("Barman (%d, alive %t) or its child (%d, alive %t) survived the cancel by 2 s", barman, testenv.Alive(barman), child, testenv.Alive(child))
	}
	stoppedCleanly(t, e, srv, id, barman)
	op := e.get(t, srv, id)
	if !strings.Contains(op.Reason, "cancelled by cli:") || !strings.Contains(op.Reason, "while Barman ran") {
		t.Errorf("reason %q", op.Reason)
	}
	if out := e.outputFile(t, srv, id); out == nil || endReason(out) != "cancelled" {
		t.Errorf("output file %v, want end_reason cancelled", out)
	}
}

// TestCancelOverHTTP: POST .../operations/{id}/cancel answers 202 for a
// queued or running operation, which then ends FAILED, phase cancelled;
// cancelling an operation that ended answers 409, and the CLI exits 6.
func TestCancelOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	penv := e.procEnv("FAKE_BARMAN_SLEEP=30")
	s := e.startServe(t, penv)
	running := postCreate(t, s.URL+srvOps, recoveryBody("/srv/restore/running"))
	queued := postCreate(t, s.URL+srvOps, recoveryBody("/srv/restore/queued"))
	instance := postCreate(t, s.URL+"/operations", configUpdateBody("cancel-me"))
	testenv.WaitFor(t, 10*time.Second, "Barman to run for both scopes", func() bool {
		return getDetail(t, s.URL+srvOps+"/"+running).Phase == "running" && getDetail(t, s.URL+"/operations/"+instance).Phase == "running"
	})

	cancel := func(url, id string) opView {
		t.Helper()
		code, hdr, body := testenv.HTTPDo(t, client, "POST", url+"/"+id+"/cancel", "")
		var v opView
		if code != 202 || hdr.Get("Content-Type") != "application/json" || json.Unmarshal(body, &v) != nil || v.OperationID != id {
			t.Fatalf("POST %s/%s/cancel: %d %s, want 202 naming the operation", url, id, code, body)
		}
		return v
	}
	if v := cancel(s.URL+srvOps, queued); v.Status != "FAILED" || v.Phase != "cancelled" {
		t.Errorf("cancelling a queued operation answered %+v, want FAILED/cancelled at once", v)
	}
	cancel(s.URL+srvOps, running)
	cancel(s.URL+"/operations", instance)
	testenv.WaitFor(t, 3*time.Second, "both running operations to end cancelled", func() bool {
		a, b := getDetail(t, s.URL+srvOps+"/"+running), getDetail(t, s.URL+"/operations/"+instance)
		return a.Status == "FAILED" && a.Phase == "cancelled" && b.Status == "FAILED" && b.Phase == "cancelled"
	})

	for _, id := range []string{running, queued} {
		code, hdr, body := testenv.HTTPDo(t, client, "POST", s.URL+srvOps+"/"+id+"/cancel", "")
		apiError(t, "cancelling an ended operation", code, hdr, body, 409)
		if r := e.cli(t, penv, "cancel", id); r.code != 6 || !strings.Contains(r.stderr, "already ended") {
			t.Errorf("CLI cancel of an ended operation: %s; want exit 6", r)
		}
	}
	waitIdle(t, e, 10*time.Second, s.Cmd.Process.Pid)
	if got := e.recoverDests(t); !slices.Equal(got, []string{"/srv/restore/running"}) {
		t.Errorf("Barman recovered %q; the cancelled queued operation must never run", got)
	}
}

// TestCreateWaitExitsSevenWhenCancelled: `create --wait` of an operation
// that someone cancels exits 7.
func TestCreateWaitExitsSevenWhenCancelled(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	penv := e.procEnv("FAKE_BARMAN_SLEEP=30")
	cmd := exec.Command(binPath, e.globalArgs("create", "recovery", "-s", srv, "-b", "latest",
		"--remote-ssh-command", "ssh postgres@target", "-d", "/srv/restore/waited", "--wait")...)
	cmd.Env = penv
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	var id string
	testenv.WaitFor(t, 10*time.Second, "the waited-for operation to run", func() bool {
		ids, err := e.store().PendingIDs(srv)
		if err != nil || len(ids) != 1 {
			return false
		}
		id = ids[0]
		return e.get(t, srv, id).Phase == ops.PhaseRunning
	})
	e.mustCLI(t, penv, "cancel", id)
	select {
	case err := <-done:
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.ExitCode() != 7 {
			t.Errorf("create --wait of a cancelled operation: %v; want exit 7\nstdout: %s\nstderr: %s", err, stdout.String(), stderr.String())
		}
	case <-time.After(10 * time.Second):
		cmd.Process.Kill()
		<-done
		t.Fatal("create --wait did not return within 10 s of the cancel")
	}
	if !strings.Contains(stdout.String(), id) || !strings.Contains(stderr.String(), "FAILED") {
		t.Errorf("create --wait printed\nstdout: %s\nstderr: %s", stdout.String(), stderr.String())
	}
}
