package runner

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// TestBackupLaneDoesNotHoldUpRecovery: while a backup runs in its lane, a
// recovery queued after it runs to the end in the main lane; the main
// lane's runner never runs the backup, and the backup can still be
// cancelled.
func TestBackupLaneDoesNotHoldUpRecovery(t *testing.T) {
	e := newEnv(t)
	fake := fakeBarman(t)
	const srv = "db_server_two"
	pidFile := filepath.Join(t.TempDir(), "backup.pid")
	t.Setenv("FAKE_BARMAN_BACKUP_SLEEP", "60")
	backupID := e.create(t, srv, `{"type": "backup", "backup_name": "before-migration", "immediate_checkpoint": true}`, "08:00:00")
	recoveryID := e.create(t, srv, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`, "08:00:01")

	backupLane := &Runner{Store: e.Store, Server: srv, Lane: ops.LaneBackup, Barman: barman.NewCommand(fake), BarmanConfig: e.Conf,
		CancelPoll: 20 * time.Millisecond, KillGrace: time.Second, Log: &testenv.SyncBuffer{}}
	t.Setenv("FAKE_BARMAN_PIDFILE", pidFile)
	done := make(chan error, 1)
	go func() { done <- backupLane.Run(context.Background(), nil) }()
	testenv.WaitFor(t, 10*time.Second, "the backup to run", func() bool {
		return testenv.ReadPid(pidFile) != 0 && e.get(t, srv, backupID).Phase == ops.PhaseRunning
	})
	if locked, _ := store.IsLocked(e.Store.RunnerLaneLockPath(srv, ops.LaneBackup)); !locked {
		t.Error("the backup lane's runner does not hold runner-backup.lock")
	}

	// The main lane: free, and it runs the recovery only.
	os.Unsetenv("FAKE_BARMAN_PIDFILE")
	e.run(t, srv, fake)
	if op := e.get(t, srv, recoveryID); op.Status != ops.StatusDone {
		t.Fatalf("recovery %s: %s %s, output %q; want DONE while the backup runs", recoveryID, op.Status, op.Phase, op.Output)
	}
	if op := e.get(t, srv, backupID); op.Phase != ops.PhaseRunning {
		t.Fatalf("backup %s is %s after the recovery ended; want still running", backupID, op.Phase)
	}
	want := [][]string{
		{"-c", e.Conf, "backup", srv, "--name=before-migration", "--immediate-checkpoint", "--wait"},
		{"-c", e.Conf, "recover", srv, "20261125T080758", "/d", "--remote-ssh-command=ssh x"},
	}
	if got := testenv.ArgvCalls(t, e.ArgvLog); !reflect.DeepEqual(got, want) {
		t.Errorf("barman calls =\n %q\nwant\n %q", got, want)
	}

	// Cancel works for a backup as for the others.
	if err := e.Store.RequestCancel(srv, backupID, "test"); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("backup lane Run: %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the backup lane's runner did not end after the cancel")
	}
	if op := e.get(t, srv, backupID); op.Status != ops.StatusFailed || op.Phase != ops.PhaseCancelled {
		t.Errorf("cancelled backup: %s %s, want FAILED cancelled", op.Status, op.Phase)
	}
	if locked, _ := store.IsLocked(e.Store.RunnerLaneLockPath(srv, ops.LaneBackup)); locked {
		t.Error("runner-backup.lock still held")
	}
}

// TestBackupsNeverOverlap: runners started for the same scope with backups
// queued, more main-lane slots than operations included, run the backups
// one after the other, and the main lane runs none of them.
func TestBackupsNeverOverlap(t *testing.T) {
	bin := testenv.Binary(t)
	e := newEnv(t)
	const srv = "db_server_two"
	trace := filepath.Join(t.TempDir(), "trace")
	t.Setenv("FAKE_BARMAN_BACKUP_TRACE", trace)
	t.Setenv("FAKE_BARMAN_BACKUP_SLEEP", "0.5")
	ids := []string{
		e.create(t, srv, `{"type": "backup"}`, "08:00:00"),
		e.create(t, srv, `{"type": "backup", "backup_name": "second"}`, "08:00:01"),
		e.create(t, srv, `{"type": "config_switch", "reset": true}`, "08:00:02"),
	}
	l := &Launcher{Executable: bin, BarmanCommand: fakeBarman(t), Parallel: 3}
	for i := 0; i < 3; i++ {
		if err := l.EnsureRunnerFor(e.Cfg, srv, ops.BackupOp); err != nil {
			t.Fatal(err)
		}
		if err := l.EnsureRunner(e.Cfg, srv); err != nil {
			t.Fatal(err)
		}
	}
	testenv.WaitFor(t, 30*time.Second, "every operation to end", func() bool {
		for _, id := range ids {
			if op, err := e.Store.Get(srv, id); err != nil || op.Status == ops.StatusInProgress {
				return false
			}
		}
		return true
	})
	for _, id := range ids {
		if op := e.get(t, srv, id); op.Status != ops.StatusDone {
			t.Errorf("%s (%s): %s %s, output %q; runner stderr:\n%s", id, op.Type, op.Status, op.Phase, op.Output, e.runnerErr(srv))
		}
	}
	data, err := os.ReadFile(trace)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Fields(strings.ReplaceAll(string(data), "\n", " "))
	// start P1 end P1 start P2 end P2: each backup ends before the next starts.
	if len(lines) != 8 || lines[0] != "start" || lines[2] != "end" || lines[1] != lines[3] || lines[4] != "start" || lines[6] != "end" || lines[5] != lines[7] {
		t.Errorf("backups overlapped or did not both run; trace:\n%s", data)
	}
	if calls := testenv.ArgvCalls(t, e.ArgvLog); len(calls) != 3 {
		t.Errorf("barman calls = %q, want 3 (each operation once)", calls)
	}
}

// TestBackupTimeout: runner.backup_timeout stops a backup like the other
// types' timeouts.
func TestBackupTimeout(t *testing.T) {
	e := newEnv(t)
	const srv = "db_server_two"
	t.Setenv("FAKE_BARMAN_BACKUP_SLEEP", "60")
	id := e.create(t, srv, `{"type": "backup"}`, "08:00:00")
	r := &Runner{Store: e.Store, Server: srv, Lane: ops.LaneBackup, Barman: barman.NewCommand(fakeBarman(t)), BarmanConfig: e.Conf,
		Timeouts: map[ops.Type]time.Duration{ops.BackupOp: 300 * time.Millisecond, ops.Recovery: time.Hour}, KillGrace: time.Second, Log: &testenv.SyncBuffer{}}
	start := time.Now()
	if err := r.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took > 20*time.Second {
		t.Errorf("the backup ran for %v despite its 300ms limit", took)
	}
	op := e.get(t, srv, id)
	if op.Status != ops.StatusFailed || op.Phase != ops.PhaseTimeout || !strings.Contains(op.Reason, "config: runner.backup_timeout") {
		t.Errorf("backup: %s %s, reason %q; want FAILED timeout naming runner.backup_timeout", op.Status, op.Phase, op.Reason)
	}
}
