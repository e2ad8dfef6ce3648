package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

// Runner works through the queue of one scope.
type Runner struct {
	Store  *ops.Store
	Server string // "" for the instance scope
	// BarmanCommand is the program (and leading arguments, split on spaces;
	// no shell is involved) that runs Barman.
	BarmanCommand string
	// BarmanConfig is passed to Barman with -c when a job does not say which
	// configuration it was validated against.
	BarmanConfig string
	// Log receives the runner's own messages.
	Log io.Writer
}

// maxOutput caps the output kept in an output file; the tail is kept, since
// Barman's verdict comes last.
const maxOutput = 8 << 20

// Run holds the scope lock (the inherited one, or one it takes; without it
// another runner is active and Run returns at once), runs every queued
// operation oldest first, and returns when the queue is empty.
func (r *Runner) Run(ctx context.Context, lock *os.File) error {
	if lock == nil {
		if err := r.Store.EnsureScope(r.Server); err != nil {
			return err
		}
		f, err := os.OpenFile(r.Store.RunnerLockPath(r.Server), os.O_RDWR|os.O_CREATE, ops.FileMode)
		if err != nil {
			return err
		}
		defer f.Close()
		ok, err := ops.TryLock(f)
		if err != nil || !ok {
			return err
		}
		lock = f
	}
	for {
		if err := r.drain(ctx); err != nil {
			ops.Unlock(lock)
			return err
		}
		// Let go, then look once more: an operation recorded while we held
		// the lock was not given a runner of its own.
		if err := ops.Unlock(lock); err != nil {
			return err
		}
		next, err := r.next()
		if err != nil || next == nil {
			return err
		}
		ok, err := ops.TryLock(lock)
		if err != nil || !ok {
			return err
		}
	}
}

// next returns the oldest queued operation of ours, after recording a
// result for any whose runner was lost.
func (r *Runner) next() (*ops.Operation, error) {
	list, _, err := r.Store.List(r.Server, ops.ListOptions{Status: true})
	if err != nil {
		return nil, err
	}
	for _, op := range list {
		if op.Phase == ops.PhaseQueued {
			return op, nil
		}
	}
	return nil, nil
}

func (r *Runner) finalizeLost() error {
	list, _, err := r.Store.List(r.Server, ops.ListOptions{Status: true})
	if err != nil {
		return err
	}
	for _, op := range list {
		if op.Phase != ops.PhaseLost {
			continue
		}
		err := r.Store.Finish(r.Server, op.ID, ops.Result{
			Success: false, ExitCode: -1, Output: op.Output, Reason: ops.LostReason,
		})
		if err != nil {
			return err
		}
		os.Remove(r.Store.LogPath(r.Server, op.ID))
		r.logf("operation %s: runner lost; recorded as FAILED", op.ID)
	}
	return nil
}

func (r *Runner) drain(ctx context.Context) error {
	if err := r.finalizeLost(); err != nil {
		return err
	}
	for ctx.Err() == nil {
		op, err := r.next()
		if err != nil || op == nil {
			return err
		}
		if err := r.execute(ctx, op); err != nil {
			return err
		}
	}
	return ctx.Err()
}

func (r *Runner) logf(format string, args ...any) {
	if r.Log != nil {
		fmt.Fprintf(r.Log, format+"\n", args...)
	}
}

// claim makes the operation ours: its log file appears under its final name
// already locked, so no reader ever sees it unlocked while we live.
func (r *Runner) claim(id string) (*os.File, error) {
	dir := r.Store.StateDir(r.Server)
	f, err := os.CreateTemp(dir, "."+id+".log.tmp-*")
	if err != nil {
		return nil, err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if ok, err := ops.TryLock(f); err != nil || !ok {
		f.Close()
		return nil, fmt.Errorf("locking new log %s: %v", tmp, err)
	}
	if err := os.Link(tmp, r.Store.LogPath(r.Server, id)); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// execute runs Barman for one operation and records the result.
func (r *Runner) execute(ctx context.Context, op *ops.Operation) error {
	logFile, err := r.claim(op.ID)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			r.logf("operation %s: already claimed by another runner; skipping", op.ID)
			return nil
		}
		return fmt.Errorf("claiming operation %s: %w", op.ID, err)
	}
	defer logFile.Close()
	if _, err := os.Stat(r.Store.OutputPath(r.Server, op.ID)); err == nil {
		// Finished by someone else after we listed it: never run twice.
		// (logFile.Name() is the temporary name claim already removed.)
		os.Remove(r.Store.LogPath(r.Server, op.ID))
		return nil
	}

	conf := op.BarmanConfigPath()
	if conf == "" {
		conf = r.BarmanConfig
	}
	res := ops.Result{ExitCode: -1}
	argv, err := BarmanArgs(r.BarmanCommand, conf, op)
	if err == nil {
		r.logf("operation %s: running %s", op.ID, strings.Join(argv, " "))
		// Barman writes to the log through an open file description of its
		// own. Given ours, it and every child it starts would share our
		// lock on the log, so an operation whose runner was killed would
		// read running, not lost, until the last of them exited.
		var barmanOut *os.File
		barmanOut, err = os.OpenFile(r.Store.LogPath(r.Server, op.ID), os.O_WRONLY|os.O_APPEND, 0)
		if err == nil {
			res.ExitCode, err = runBarman(ctx, argv, barmanOut)
			barmanOut.Close()
		}
	}
	out := readTail(r.Store.LogPath(r.Server, op.ID), maxOutput)
	if err != nil {
		res.Reason = err.Error()
		if out != "" && !strings.HasSuffix(out, "\n") {
			out += "\n"
		}
		out += "pg-backup-api: " + err.Error() + "\n"
	}
	res.Output = out
	res.Success = err == nil && res.ExitCode == 0
	if err := r.Store.Finish(r.Server, op.ID, res); err != nil {
		return fmt.Errorf("recording the result of operation %s: %w", op.ID, err)
	}
	// Only now, with the result durable, does the operation stop looking
	// claimed.
	os.Remove(r.Store.LogPath(r.Server, op.ID))
	return nil
}

// runBarman runs argv with its output going to out, in a process group of its
// own that dies with the runner.
func runBarman(ctx context.Context, argv []string, out *os.File) (int, error) {
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdin = nil
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return -1, fmt.Errorf("cannot start Barman (%s): %v; check --barman-command", argv[0], err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return exitCode(err)
	case <-ctx.Done():
		syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM)
		<-done
		return -1, fmt.Errorf("stopped: %v", context.Cause(ctx))
	}
}

func exitCode(err error) (int, error) {
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			return -1, fmt.Errorf("Barman was killed by signal %s", ws.Signal())
		}
		return ee.ExitCode(), nil
	}
	return -1, err
}

func readTail(path string, max int64) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return ""
	}
	if fi.Size() > max {
		f.Seek(fi.Size()-max, io.SeekStart)
	}
	data, _ := io.ReadAll(f)
	return string(data)
}

// BarmanArgs returns the argv that runs op, as the reference implementation's
// command table says, plus -c so Barman reads the configuration we validated
// against.
func BarmanArgs(barmanCommand, barmanConfig string, op *ops.Operation) ([]string, error) {
	argv := strings.Fields(barmanCommand)
	if len(argv) == 0 {
		argv = []string{"barman"}
	}
	if barmanConfig != "" {
		argv = append(argv, "-c", barmanConfig)
	}
	str := func(key string) string { s, _ := op.Job.String(key); return s }
	switch op.Type {
	case ops.Recovery:
		return append(argv, "recover", op.Server, str("backup_id"), str("destination_directory"),
			"--remote-ssh-command", str("remote_ssh_command")), nil
	case ops.ConfigSwitch:
		if reset, _ := op.Job.Get("reset"); reset == true {
			return append(argv, "config-switch", op.Server, "--reset"), nil
		}
		return append(argv, "config-switch", op.Server, str("model_name")), nil
	case ops.ConfigUpdate:
		changes, _ := op.Job.Get("changes")
		arg, err := ops.EncodePython(changes)
		if err != nil {
			return nil, err
		}
		return append(argv, "config-update", string(arg)), nil
	}
	return nil, fmt.Errorf("operation %s has unknown type %q", op.ID, op.Type)
}
