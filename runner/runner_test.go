package runner

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// run runs a runner for the scope to the end and fails on error.
func (e *env) run(t *testing.T, server, command string) string {
	t.Helper()
	var log testenv.SyncBuffer
	r := &Runner{Store: e.Store, Server: server, Barman: barman.NewCommand(command), BarmanConfig: e.Conf, Log: &log}
	if err := r.Run(context.Background(), nil); err != nil {
		t.Fatalf("Run: %v\nlog:\n%s", err, log.String())
	}
	return log.String()
}

// assertIdle checks that no log or temporary file is left in a scope's
// state directory, and that the runner lock is free. The store-wide ID lock
// stays, as runner.lock does.
func (e *env) assertIdle(t *testing.T, server string) {
	t.Helper()
	entries, err := os.ReadDir(e.Store.StateDir(server))
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		if en.Name() != "runner.lock" && en.Name() != store.IDLockName {
			t.Errorf("left in %s: %s", e.Store.StateDir(server), en.Name())
		}
	}
	if locked, err := store.IsLocked(e.Store.RunnerLockPath(server)); locked || err != nil {
		t.Errorf("runner lock still held (%v, %v)", locked, err)
	}
}

// TestRecoveryRunsTheBackupResolvedAtCreation: a backup taken between
// accepting a recovery of "latest" and running it must not change what is
// restored; Barman gets the backup recorded at creation.
func TestRecoveryRunsTheBackupResolvedAtCreation(t *testing.T) {
	e := newEnv(t)
	const srv, recorded, newer = "db_server_two", "20261125T080758", "20261126T010203"
	id := e.create(t, srv, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`, "08:00:00")
	if got := e.get(t, srv, id).ResolvedBackupID(); got != recorded {
		t.Fatalf("recorded resolved_backup_id = %q, want %q", got, recorded)
	}
	info := filepath.Join(e.Cfg.Servers[srv].BackupDirectory, "meta", newer+"-backup.info")
	if err := os.WriteFile(info, []byte("backup_id="+newer+"\nstatus=DONE\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if b, err := barman.ResolveBackup(e.Cfg.Servers[srv], "latest"); err != nil || b.ID != newer {
		t.Fatalf("latest now names %q (%v), want the new backup %s", b.ID, err, newer)
	}
	e.run(t, srv, fakeBarman(t))
	want := [][]string{{"-c", e.Conf, "recover", srv, recorded, "/d", "--remote-ssh-command=ssh x"}}
	if got := testenv.ArgvCalls(t, e.ArgvLog); !reflect.DeepEqual(got, want) {
		t.Errorf("barman calls =\n %q\nwant\n %q", got, want)
	}
	if op := e.get(t, srv, id); op.Status != ops.StatusDone || !strings.Contains(op.Output, "using backup "+recorded+"\n") {
		t.Errorf("operation %s: %s, output %q; want DONE restoring %s", id, op.Status, op.Output, recorded)
	}
}

func TestRunnerRunsQueueOldestFirst(t *testing.T) {
	e := newEnv(t)
	fake := fakeBarman(t)
	const srv = "db_server_two"
	// Created out of order: the oldest must run first.
	idC := e.create(t, srv, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh -p 22 postgres@h", "destination_directory": "/c"}`, "08:00:02")
	idA := e.create(t, srv, `{"type": "config_switch", "model_name": "my-model"}`, "08:00:00")
	idB := e.create(t, srv, `{"type": "config_switch", "reset": true}`, "08:00:01")
	idD := e.create(t, srv, `{"backup_id": "oldest", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`, "08:00:02")
	if idD != idC+"-0001" {
		t.Fatalf("second ID in 08:00:02 = %s, want %s-0001", idD, idC)
	}
	log := e.run(t, srv, fake)

	want := [][]string{
		{"-c", e.Conf, "config-switch", srv, "my-model"},
		{"-c", e.Conf, "config-switch", srv, "--reset"},
		{"-c", e.Conf, "recover", srv, "20261125T080758", "/c", "--remote-ssh-command=ssh -p 22 postgres@h"},
		{"-c", e.Conf, "recover", srv, "20261125T080758", "/d", "--remote-ssh-command=ssh x"},
	}
	if got := testenv.ArgvCalls(t, e.ArgvLog); !reflect.DeepEqual(got, want) {
		t.Errorf("barman calls =\n %q\nwant\n %q", got, want)
	}
	outputs := map[string]string{
		idA: "Applying model 'my-model' to server 'db_server_two'\n",
		idB: "Resetting the active model for the server db_server_two\n",
		idC: "Starting remote restore for server db_server_two using backup 20261125T080758\nDestination directory: /c\nRemote command: ssh -p 22 postgres@h\n",
		idD: "Starting remote restore for server db_server_two using backup 20261125T080758\nDestination directory: /d\nRemote command: ssh x\n",
	}
	for id, out := range outputs {
		op := e.get(t, srv, id)
		if op.Status != ops.StatusDone || op.Phase != ops.PhaseDone || op.Output != out || op.ExitCode == nil || *op.ExitCode != 0 || op.Reason != "" {
			t.Errorf("%s: status %s phase %s exit %v reason %q output %q; want DONE, exit 0, output %q", id, op.Status, op.Phase, op.ExitCode, op.Reason, op.Output, out)
		}
		if op.EndTime.IsZero() || op.EndTime.Before(op.StartTime) {
			t.Errorf("%s: end time %v, start %v", id, op.EndTime, op.StartTime)
		}
		// The output file is the job file plus the result.
		job, err := os.ReadFile(e.Store.JobPath(srv, id))
		if err != nil {
			t.Fatal(err)
		}
		outFile, err := os.ReadFile(e.Store.OutputPath(srv, id))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(string(outFile), strings.TrimSuffix(string(job), "}")+`, "success": true, "end_time": "`) ||
			!strings.HasSuffix(string(outFile), `, "exit_code": 0}`) {
			t.Errorf("%s: output file %s does not extend the job %s", id, outFile, job)
		}
	}
	for _, id := range []string{idA, idB, idC, idD} {
		if !strings.Contains(log, "operation "+id+": running "+fake+" -c "+e.Conf) {
			t.Errorf("runner log does not mention %s:\n%s", id, log)
		}
	}
	e.assertIdle(t, srv)

	// Nothing is run twice.
	e.run(t, srv, fake)
	if got := len(testenv.ArgvCalls(t, e.ArgvLog)); got != len(want) {
		t.Errorf("a second run made %d calls in all, want still %d", got, len(want))
	}
}

func TestRunnerInstanceScope(t *testing.T) {
	e := newEnv(t)
	id := e.create(t, "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "db_server_two", "archiver": "off"}, {"scope": "model", "model_name": "my-model", "description": "\u00e9t\u00e9"}]}`, "08:04:47")
	e.run(t, "", fakeBarman(t))
	arg := `[{"scope": "server", "server_name": "db_server_two", "archiver": "off"}, {"scope": "model", "model_name": "my-model", "description": "\u00e9t\u00e9"}]`
	if got, want := testenv.ArgvCalls(t, e.ArgvLog), [][]string{{"-c", e.Conf, "config-update", arg}}; !reflect.DeepEqual(got, want) {
		t.Errorf("calls = %q, want %q", got, want)
	}
	op := e.get(t, "", id)
	if op.Status != ops.StatusDone || op.Output != "config-update "+arg+"\n" {
		t.Errorf("status %s output %q", op.Status, op.Output)
	}
	// A server's runner does not touch the instance scope's queue, nor
	// the other way round.
	id2 := e.create(t, "db_server_two", `{"type": "config_switch", "reset": true}`, "08:05:00")
	e.run(t, "", fakeBarman(t))
	if op := e.get(t, "db_server_two", id2); op.Phase != ops.PhaseQueued {
		t.Errorf("the instance runner ran a server operation: %s", op.Phase)
	}
	e.assertIdle(t, "")
}

func TestRunnerRecordsFailures(t *testing.T) {
	const srv = "db_server_two"
	tests := []struct {
		name     string
		exit     string
		command  func(t *testing.T) string
		status   ops.Status
		exitCode int
		output   []string // parts of the output, in order
		reason   string
	}{
		{
			name: "barman exits 3", exit: "3", command: fakeBarman,
			status: ops.StatusFailed, exitCode: 3,
			output: []string{"Applying model 'my-model' to server 'db_server_two'\n", "ERROR: fake failure (FAKE_BARMAN_EXIT=3)\n"},
		},
		{
			name: "barman exits 1", exit: "1", command: fakeBarman,
			status: ops.StatusFailed, exitCode: 1,
			output: []string{"ERROR: fake failure (FAKE_BARMAN_EXIT=1)\n"},
		},
		{
			name: "barman does not exist", command: func(t *testing.T) string { return filepath.Join(t.TempDir(), "no-barman") },
			status: ops.StatusFailed, exitCode: -1,
			output: []string{"pg-backup-api: cannot start Barman (", "no-barman", "check --barman-command\n"},
			reason: "cannot start Barman (",
		},
		{
			name: "barman is not executable", command: func(t *testing.T) string {
				p := filepath.Join(t.TempDir(), "barman")
				if err := os.WriteFile(p, []byte("#!/bin/sh\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				return p
			},
			status: ops.StatusFailed, exitCode: -1,
			output: []string{"pg-backup-api: cannot start Barman ("},
			reason: "permission denied",
		},
		{
			name: "barman not in PATH", command: func(t *testing.T) string { return "no-such-barman-command-xyz" },
			status: ops.StatusFailed, exitCode: -1,
			output: []string{"cannot start Barman (no-such-barman-command-xyz)"},
			reason: "executable file not found",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			t.Setenv("FAKE_BARMAN_EXIT", tc.exit)
			id1 := e.create(t, srv, `{"type": "config_switch", "model_name": "my-model"}`, "08:00:00")
			id2 := e.create(t, srv, `{"type": "config_switch", "reset": true}`, "08:00:01")
			e.run(t, srv, tc.command(t))
			// Both ran and failed: one failure does not stop the queue.
			for _, id := range []string{id1, id2} {
				op := e.get(t, srv, id)
				if op.Status != tc.status || op.Phase != ops.PhaseFailed {
					t.Errorf("%s: %s/%s, want %s/failed", id, op.Status, op.Phase, tc.status)
				}
				if op.ExitCode == nil || *op.ExitCode != tc.exitCode {
					t.Errorf("%s: exit code %v, want %d", id, op.ExitCode, tc.exitCode)
				}
				if !strings.Contains(op.Reason, tc.reason) || (tc.reason == "") != (op.Reason == "") {
					t.Errorf("%s: reason %q, want %q", id, op.Reason, tc.reason)
				}
				if success, _ := op.Job.Get("success"); success != false {
					t.Errorf("%s: success = %v", id, success)
				}
			}
			out := e.get(t, srv, id1).Output
			rest := out
			for _, part := range tc.output {
				i := strings.Index(rest, part)
				if i < 0 {
					t.Errorf("output %q lacks %q (in order)", out, part)
					break
				}
				rest = rest[i+len(part):]
			}
			e.assertIdle(t, srv)
		})
	}
}

func TestRunnerUsesTheJobsBarmanConfig(t *testing.T) {
	e := newEnv(t)
	const srv = "db_server_two"
	id := e.create(t, srv, `{"type": "config_switch", "reset": true}`, "08:00:00")
	// A job without a recorded configuration gets the runner's.
	writeJob := func(id, ext string) {
		data := `{"type": "config_switch", "model_name": "my-model", "operation_type": "config_switch", "start_time": "2026-11-25T08:00:01.000000", "pg_backup_api": ` + ext + `}`
		if err := os.WriteFile(e.Store.JobPath(srv, id), []byte(data), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeJob("20261125T080001", `{"version": "old"}`)
	var log testenv.SyncBuffer
	r := &Runner{Store: e.Store, Server: srv, Barman: barman.NewCommand(fakeBarman(t)), BarmanConfig: "/runner/barman.conf", Log: &log}
	if err := r.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	calls := testenv.ArgvCalls(t, e.ArgvLog)
	if len(calls) != 2 || calls[0][1] != e.Conf || calls[1][1] != "/runner/barman.conf" {
		t.Fatalf("calls = %q; want -c %s, then -c /runner/barman.conf", calls, e.Conf)
	}
	if op := e.get(t, srv, id); op.Status != ops.StatusDone {
		t.Errorf("%s: %s", id, op.Status)
	}
	// The fake refuses a -c file that does not exist: that run failed.
	if op := e.get(t, srv, "20261125T080001"); op.Status != ops.StatusFailed || op.ExitCode == nil || *op.ExitCode != 64 ||
		!strings.Contains(op.Output, "config file '/runner/barman.conf' does not exist") {
		t.Errorf("20261125T080001: %s exit %v output %q", op.Status, op.ExitCode, op.Output)
	}
}

func TestRunnerNeverRunsForeignOrFinishedOperations(t *testing.T) {
	e := newEnv(t)
	const srv = "db_server_two"
	// The reference's job without its output: registered by another
	// implementation and not finished.
	ref, err := os.ReadFile(testenv.Fixture(t, "pg-backup-api-2.2", "barman_home", "db_server_two", "jobs", "20261125T080500.json"))
	if err != nil {
		t.Fatalf("fixture missing: %v", err)
	}
	if err := e.Store.EnsureScope(srv); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(e.Store.JobPath(srv, "20261125T080500"), ref, 0o600); err != nil {
		t.Fatal(err)
	}
	// One of ours that is already finished.
	done := e.create(t, srv, `{"type": "config_switch", "model_name": "my-model"}`, "08:00:00")
	if err := e.Store.End(srv, done, nil, ops.Result{Success: true, Output: "earlier\n"}); err != nil {
		t.Fatal(err)
	}
	queued := e.create(t, srv, `{"type": "config_switch", "reset": true}`, "08:10:00")

	e.run(t, srv, fakeBarman(t))
	if got, want := testenv.ArgvCalls(t, e.ArgvLog), [][]string{{"-c", e.Conf, "config-switch", srv, "--reset"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("calls = %q, want only the queued operation: %q", got, want)
	}
	if op := e.get(t, srv, "20261125T080500"); op.Status != ops.StatusInProgress || op.Phase != ops.PhaseForeign {
		t.Errorf("foreign operation: %s/%s", op.Status, op.Phase)
	}
	if _, err := os.Stat(e.Store.OutputPath(srv, "20261125T080500")); !os.IsNotExist(err) {
		t.Errorf("the runner wrote an output file for a foreign operation: %v", err)
	}
	if op := e.get(t, srv, done); op.Output != "earlier\n" {
		t.Errorf("finished operation rewritten: output %q", op.Output)
	}
	if op := e.get(t, srv, queued); op.Status != ops.StatusDone {
		t.Errorf("queued operation: %s", op.Status)
	}
}

func TestRunnerFinalizesLostOperations(t *testing.T) {
	e := newEnv(t)
	const srv = "db_server_two"
	lost := e.create(t, srv, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`, "08:00:00")
	queued := e.create(t, srv, `{"type": "config_switch", "reset": true}`, "08:00:01")
	// A log without a live runner: whoever ran it died.
	if err := os.WriteFile(e.Store.LogPath(srv, lost), []byte("Starting remote restore\nCopying the base backup."), 0o600); err != nil {
		t.Fatal(err)
	}
	if op := e.get(t, srv, lost); op.Phase != ops.PhaseLost || op.Status != ops.StatusFailed {
		t.Fatalf("before the runner: %s/%s, want FAILED/lost", op.Status, op.Phase)
	}
	log := e.run(t, srv, fakeBarman(t))
	if got, want := testenv.ArgvCalls(t, e.ArgvLog), [][]string{{"-c", e.Conf, "config-switch", srv, "--reset"}}; !reflect.DeepEqual(got, want) {
		t.Errorf("calls = %q, want only %q (a lost operation is never rerun)", got, want)
	}
	op := e.get(t, srv, lost)
	if op.Status != ops.StatusFailed || op.Phase != ops.PhaseLost || op.Reason != ops.LostReason ||
		op.Output != "Starting remote restore\nCopying the base backup." || op.ExitCode == nil || *op.ExitCode != -1 {
		t.Errorf("lost operation: %s/%s reason %q exit %v output %q", op.Status, op.Phase, op.Reason, op.ExitCode, op.Output)
	}
	if _, err := os.Stat(e.Store.OutputPath(srv, lost)); err != nil {
		t.Errorf("no output file recorded for the lost operation: %v", err)
	}
	if !strings.Contains(log, "operation "+lost+": runner lost; recorded as FAILED") {
		t.Errorf("runner log:\n%s", log)
	}
	if op := e.get(t, srv, queued); op.Status != ops.StatusDone {
		t.Errorf("queued operation after the lost one: %s", op.Status)
	}
	e.assertIdle(t, srv)
}

func TestRunnerLockHeld(t *testing.T) {
	e := newEnv(t)
	const srv = "db_server_two"
	id := e.create(t, srv, `{"type": "config_switch", "reset": true}`, "08:00:00")
	lock, err := os.OpenFile(e.Store.RunnerLockPath(srv), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if ok, err := store.TryLock(lock); !ok || err != nil {
		t.Fatalf("TryLock = %v, %v", ok, err)
	}
	// Barman would take 30 s: Run must not even start it.
	t.Setenv("FAKE_BARMAN_SLEEP", "30")
	start := time.Now()
	r := &Runner{Store: e.Store, Server: srv, Barman: barman.NewCommand(fakeBarman(t)), BarmanConfig: e.Conf}
	if err := r.Run(context.Background(), nil); err != nil {
		t.Fatalf("Run with the lock held elsewhere: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Run took %v with the lock held elsewhere", d)
	}
	if calls := testenv.ArgvCalls(t, e.ArgvLog); len(calls) != 0 {
		t.Errorf("barman ran: %q", calls)
	}
	if op := e.get(t, srv, id); op.Phase != ops.PhaseQueued {
		t.Errorf("operation is %s, want still queued", op.Phase)
	}
	if locked, _ := store.IsLocked(e.Store.RunnerLockPath(srv)); !locked {
		t.Error("Run released a lock it did not hold")
	}

	// Handed the lock (as a launched runner is), Run works and lets go.
	t.Setenv("FAKE_BARMAN_SLEEP", "0")
	if err := r.Run(context.Background(), lock); err != nil {
		t.Fatal(err)
	}
	if op := e.get(t, srv, id); op.Status != ops.StatusDone {
		t.Errorf("operation is %s after Run with the lock, want DONE", op.Status)
	}
	if locked, _ := store.IsLocked(e.Store.RunnerLockPath(srv)); locked {
		t.Error("the lock is still held after Run returned")
	}
}

func TestRunnerContextCancel(t *testing.T) {
	e := newEnv(t)
	const srv = "db_server_two"
	pidFile := filepath.Join(t.TempDir(), "barman.pid")
	t.Setenv("FAKE_BARMAN_SLEEP", "30")
	t.Setenv("FAKE_BARMAN_PIDFILE", pidFile)
	id := e.create(t, srv, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`, "08:00:00")
	next := e.create(t, srv, `{"type": "config_switch", "reset": true}`, "08:00:01")

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r := &Runner{Store: e.Store, Server: srv, Barman: barman.NewCommand(fakeBarman(t)), BarmanConfig: e.Conf, Log: &testenv.SyncBuffer{}}
	errc := make(chan error, 1)
	go func() { errc <- r.Run(ctx, nil) }()

	var pid int
	testenv.WaitFor(t, 10*time.Second, "the fake barman to start", func() bool { pid = testenv.ReadPid(pidFile); return pid > 0 })
	testenv.WaitFor(t, 10*time.Second, "the operation to read running", func() bool {
		op, err := e.Store.Get(srv, id)
		return err == nil && op.Phase == ops.PhaseRunning
	})
	if op := e.get(t, srv, id); !strings.Contains(op.Output, "Starting remote restore") {
		t.Errorf("running operation shows output %q, want Barman's output so far", op.Output)
	}
	// A second runner for the scope returns at once and runs nothing.
	second := time.Now()
	r2 := &Runner{Store: e.Store, Server: srv, Barman: barman.NewCommand(fakeBarman(t)), BarmanConfig: e.Conf}
	if err := r2.Run(context.Background(), nil); err != nil {
		t.Errorf("second Run: %v", err)
	}
	if d := time.Since(second); d > 5*time.Second {
		t.Errorf("the second Run took %v", d)
	}
	if calls := testenv.ArgvCalls(t, e.ArgvLog); len(calls) != 1 {
		t.Errorf("calls while the first runner is busy = %q, want only its own", calls)
	}
	if op := e.get(t, srv, next); op.Phase != ops.PhaseQueued {
		t.Errorf("the second runner touched the queue: %s", op.Phase)
	}
	start := time.Now()
	cancel()
	select {
	case err := <-errc:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10 s of the cancel")
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("stopping took %v", d)
	}
	testenv.WaitFor(t, 5*time.Second, "the fake barman to exit", func() bool { return gone(pid) })

	op := e.get(t, srv, id)
	if op.Status != ops.StatusFailed || op.Phase != ops.PhaseFailed || op.Reason != "the runner was stopped (context canceled) while Barman ran; Barman was stopped" ||
		op.ExitCode == nil || *op.ExitCode != -1 {
		t.Errorf("cancelled operation: %s/%s reason %q exit %v", op.Status, op.Phase, op.Reason, op.ExitCode)
	}
	if !strings.HasPrefix(op.Output, "Starting remote restore for server db_server_two") || !strings.HasSuffix(op.Output, "\npg-backup-api: the runner was stopped (context canceled) while Barman ran; Barman was stopped\n") {
		t.Errorf("cancelled operation output %q", op.Output)
	}
	if op := e.get(t, srv, next); op.Phase != ops.PhaseQueued {
		t.Errorf("the next operation is %s; after a cancel nothing more starts", op.Phase)
	}
	if calls := testenv.ArgvCalls(t, e.ArgvLog); len(calls) != 1 {
		t.Errorf("calls = %q, want only the cancelled one", calls)
	}
	e.assertIdle(t, srv)
}

func TestRunnerBarmanKilledBySignal(t *testing.T) {
	e := newEnv(t)
	const srv = "db_server_two"
	pidFile := filepath.Join(t.TempDir(), "barman.pid")
	t.Setenv("FAKE_BARMAN_SLEEP", "30")
	t.Setenv("FAKE_BARMAN_PIDFILE", pidFile)
	id := e.create(t, srv, `{"type": "config_switch", "reset": true}`, "08:00:00")
	r := &Runner{Store: e.Store, Server: srv, Barman: barman.NewCommand(fakeBarman(t)), BarmanConfig: e.Conf}
	errc := make(chan error, 1)
	go func() { errc <- r.Run(context.Background(), nil) }()
	var pid int
	testenv.WaitFor(t, 10*time.Second, "the fake barman to start", func() bool { pid = testenv.ReadPid(pidFile); return pid > 0 })
	// Kill Barman's whole process group (its sleep too), as an OOM killer
	// or an operator might.
	if err := syscall.Kill(-pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-errc:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after Barman was killed")
	}
	op := e.get(t, srv, id)
	if op.Status != ops.StatusFailed || op.Reason != "Barman was killed by signal killed" || op.ExitCode == nil || *op.ExitCode != -1 {
		t.Errorf("operation: %s reason %q exit %v", op.Status, op.Reason, op.ExitCode)
	}
}

// TestRunnerChecksTheJobAgainstThePolicy: a recovery recorded while any ssh
// destination was allowed, run after the operator limited them, fails
// without Barman being run, saying why.
func TestRunnerChecksTheJobAgainstThePolicy(t *testing.T) {
	e := newEnv(t)
	const srv = "db_server_two"
	id := e.create(t, srv, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh postgres@db9", "destination_directory": "/d"}`, "08:00:00")
	var log testenv.SyncBuffer
	policy := ops.Policy{SSHDestinations: []string{"postgres@db1"}}
	r := &Runner{Store: e.Store, Server: srv, Barman: barman.NewCommand(fakeBarman(t)).WithPolicy(policy), BarmanConfig: e.Conf, Log: &log}
	if err := r.Run(context.Background(), nil); err != nil {
		t.Fatalf("Run: %v\nlog:\n%s", err, log.String())
	}
	if got := testenv.ArgvCalls(t, e.ArgvLog); len(got) != 0 {
		t.Errorf("Barman was run: %q", got)
	}
	op := e.get(t, srv, id)
	if op.Status != ops.StatusFailed || !strings.Contains(op.Output, `the destination "postgres@db9" is not allowed by [recovery] ssh_destinations`) {
		t.Errorf("operation %s: %s, output %q; want FAILED naming the policy", id, op.Status, op.Output)
	}
}

// TestRunnerRemovesStaleTemps: a runner starting removes, and logs, the
// temporary files a power cut left in its scope, but not a young one that a
// concurrent create may still be writing.
func TestRunnerRemovesStaleTemps(t *testing.T) {
	e := newEnv(t)
	if err := e.Store.EnsureScope("db_server_two"); err != nil {
		t.Fatal(err)
	}
	jobs := filepath.Join(e.Home, "db_server_two", "jobs")
	stale := filepath.Join(jobs, ".20261125T080500.json.tmp-2846201")
	live := filepath.Join(jobs, ".20261125T080501.json.tmp-99")
	for _, p := range []string{stale, live} {
		if err := os.WriteFile(p, nil, store.FileMode); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-store.StaleTempAge - time.Minute)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	log := e.run(t, "db_server_two", fakeBarman(t))
	if _, err := os.Lstat(stale); !os.IsNotExist(err) {
		t.Errorf("stale %s still there (%v)", stale, err)
	}
	if _, err := os.Lstat(live); err != nil {
		t.Errorf("live %s removed: %v", live, err)
	}
	if !strings.Contains(log, "removed "+stale+", a temporary file left by a write interrupted at") {
		t.Errorf("log does not report the removal of %s:\n%s", stale, log)
	}
}
