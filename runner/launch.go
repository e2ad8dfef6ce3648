// Package runner runs Barman for operations: one detached runner process per
// scope works through that scope's queue, so thousands of queued requests
// cost files, not processes.
package runner

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// Launcher starts runner processes: `pg-backup-api run` in a session of its
// own, so it outlives whoever asked for it.
type Launcher struct {
	// Executable is the pg-backup-api binary; empty means this one.
	Executable string
	// Config is our configuration file, which the runner reads as its
	// parent did: its notifications, timeouts and log format. Empty: the
	// parent found none, and the runner looks where its parent looked.
	Config string
	// BarmanCommand is passed on to the runner.
	BarmanCommand string
	// Parallel is how many operations of one scope may run at once, each
	// in a runner of its own (default 1: one at a time, oldest first).
	Parallel int
	// Timeouts are passed on to the runner.
	Timeouts map[ops.Type]time.Duration
	// LogFormat is passed on to the runner: how it writes runner.err.
	LogFormat string
}

// EnsureRunner starts a runner for each lane of the scope that has none: the
// main lane's (unless one is active), and the backup lane's when backups are
// waiting. The scope lock is taken here and handed to the runner as an
// inherited descriptor, so there is no moment between start-up and work when
// another runner could also start. When the lock is taken, the active runner
// will see the new operation: it looks for more work after it lets go of the
// lock.
func (l *Launcher) EnsureRunner(cfg *ops.BarmanConfig, server string) error {
	if err := l.EnsureLaneRunner(cfg, server, ""); err != nil {
		return err
	}
	st := store.Open(cfg)
	for _, lane := range []string{ops.LaneBackup, ops.LaneDrill} {
		work, err := st.HasLaneWork(server, lane)
		if err != nil {
			return err
		}
		if work {
			if err := l.EnsureLaneRunner(cfg, server, lane); err != nil {
				return err
			}
		}
	}
	return nil
}

// EnsureRunnerFor starts the runner of the lane where an operation of type t
// runs, unless one is active (ops.TypeLauncher): a new operation needs no
// other.
func (l *Launcher) EnsureRunnerFor(cfg *ops.BarmanConfig, server string, t ops.Type) error {
	return l.EnsureLaneRunner(cfg, server, t.Lane())
}

// EnsureLaneRunner starts a runner for one lane of the scope unless one is
// active: the main lane has runner.parallel slots, another lane one.
func (l *Launcher) EnsureLaneRunner(cfg *ops.BarmanConfig, server, lane string) error {
	st := store.Open(cfg)
	// A runner is ensured after the job file is recorded, so the scope
	// exists; only our state directory may be missing (a scope the reference created).
	// Mkdir, not MkdirAll: a missing barman_home must never be created.
	if err := os.Mkdir(st.StateDir(server), store.DirMode); err != nil && !errors.Is(err, os.ErrExist) {
		return ops.Errorf(ops.EUNAVAILABLE, "cannot prepare the runner lock: %v", err)
	}
	if lane != "" {
		_, err := l.ensureRunnerHolding(st, server, cfg.Path, lane, st.RunnerLaneLockPath(server, lane))
		return err
	}
	slots := l.Parallel
	if slots < 1 {
		slots = 1
	}
	for slot := 0; slot < slots; slot++ {
		started, err := l.ensureRunnerHolding(st, server, cfg.Path, "", st.RunnerSlotLockPath(server, slot))
		if err != nil || started {
			return err
		}
	}
	return nil
}

// ensureRunnerHolding starts a runner of a lane holding one lock (a slot's, or a
// lane's), unless another holds it.
func (l *Launcher) ensureRunnerHolding(st *store.Store, server, barmanConfig, lane, lockPath string) (bool, error) {
	lock, err := os.OpenFile(lockPath, os.O_RDWR|os.O_CREATE, store.FileMode)
	if err != nil {
		return false, err
	}
	defer lock.Close()
	ok, err := store.TryLock(lock)
	if err != nil {
		return false, fmt.Errorf("locking %s: %w", lock.Name(), err)
	}
	if !ok {
		return false, nil
	}

	exe := l.Executable
	if exe == "" {
		if exe, err = os.Executable(); err != nil {
			store.Unlock(lock)
			return false, err
		}
	}
	inv := Invocation{Config: l.Config, BarmanConfig: barmanConfig, BarmanCommand: l.BarmanCommand, Server: server, Lane: lane, LockFD: LockFD, Timeouts: l.Timeouts, LogFormat: l.LogFormat}
	cmd := exec.Command(exe, inv.Argv()...)
	cmd.ExtraFiles = []*os.File{lock}
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	// The runner masks and rotates what it writes (errLog); rotating here
	// too bounds a file that runners that crash at start-up keep growing.
	errPath := errLogPath(st, server)
	if err := rotateIfFull(errPath, ErrLogMax); err != nil {
		store.Unlock(lock)
		return false, fmt.Errorf("rotating %s: %w", errPath, err)
	}
	errLog, err := os.OpenFile(errPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, store.FileMode)
	if err == nil {
		defer errLog.Close()
		cmd.Stderr = errLog
	}
	if err := cmd.Start(); err != nil {
		store.Unlock(lock)
		return false, fmt.Errorf("starting runner %s: %w", exe, err)
	}
	// The child shares the lock's open file description; closing our
	// descriptor (deferred) leaves the lock with the child.
	// Reap it while we live, so a long-lived parent gathers no zombies; if
	// we exit first, init adopts it.
	go cmd.Wait()
	return true, nil
}
