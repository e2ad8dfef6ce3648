package runner

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"syscall"
	"time"
	"unicode/utf8"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/internal/jsonlog"
	"github.com/pg-backup-api/pg-backup-api/internal/pgmask"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// Runner works through the queue of one scope.
type Runner struct {
	Store  *store.Store
	Server string // "" for the instance scope
	// Lane is the lane of the scope's queue the runner works through: ""
	// for the main one, or ops.LaneBackup. It runs that lane's operations
	// only, holding that lane's lock.
	Lane string
	// Barman runs Barman.
	Barman barman.Command
	// BarmanConfig is passed to Barman with -c when a job does not say which
	// configuration it was validated against.
	BarmanConfig string
	// Timeouts limit how long Barman may run, per operation type; zero or
	// absent means no limit.
	Timeouts map[ops.Type]time.Duration
	// KillGrace is how long Barman has to stop after SIGTERM before its
	// process group gets SIGKILL (default 10 s).
	KillGrace time.Duration
	// CancelPoll is how often a running operation's cancel request is
	// looked for (default 250 ms).
	CancelPoll time.Duration
	// Log receives the runner's own messages, a line each.
	Log io.Writer
	// Lines, when set, writes those messages to Log as JSON records
	// (--log-format json) instead of lines of text.
	Lines *jsonlog.Lines
	// Verbatim, when set, logs a message that is masked already (the
	// command line, masked argument by argument by ops.MaskArgv) past
	// Log's own masking. That reads the whole line as text, so a JSON
	// argument's masked password would run to the end of the word and take
	// the quote and comma that close it.
	Verbatim func(msg string)

	// DrillDirectory is where drills restore ([drills] directory).
	DrillDirectory string
	// BarmanUser is Barman's barman_user: whom a drill's PostgreSQL runs
	// as when the runner runs as root.
	BarmanUser string
	// PostgresBin is where PostgreSQL's programs of a major version are,
	// with %s for the version (default DefaultPostgresBin).
	PostgresBin string

	queue *store.PendingQueue // the scope's pending operations, between operations
}

// maxOutput caps the output kept in an output file; the tail is kept, since
// Barman's verdict comes last. A variable only so that tests can use a
// small cap.
var maxOutput int64 = 8 << 20

// Test seams: each is called at a moment of the runner's work that a test
// must act in deterministically (a race it must win or lose on purpose). All
// are no-ops outside tests.
var (
	// beforeClaim runs between finding a queued operation and claiming it.
	beforeClaim = func(server, id string) {}
	// beforeUnlock runs after the queue was found empty, just before the
	// runner lets go of its scope lock.
	beforeUnlock = func(server string) {}
	// barmanStarted runs once Barman's process has started, before its
	// time limit starts counting.
	barmanStarted = func(pid int) {}
)

// MarkerEnv is set in Barman's environment to the operation it runs for;
// every process Barman starts inherits it, so stragglers of a lost or
// stopped operation can be found and killed without trusting reused PIDs.
const MarkerEnv = "PG_BACKUP_API_OPERATION"

// Run holds a scope lock (the inherited one, or one it takes; without it
// another runner is active and Run returns at once), runs the queued
// operations of its lane oldest first, and returns when there are none.
func (r *Runner) Run(ctx context.Context, lock *os.File) error {
	if lock == nil {
		if err := r.Store.EnsureScope(r.Server); err != nil {
			return err
		}
		f, err := os.OpenFile(r.Store.RunnerLaneLockPath(r.Server, r.Lane), os.O_RDWR|os.O_CREATE, store.FileMode)
		if err != nil {
			return err
		}
		defer f.Close()
		ok, err := store.TryLock(f)
		if err != nil || !ok {
			return err
		}
		lock = f
	}
	// Under the lock, so one runner of the scope does it; a power cut may
	// have left the temporary files of interrupted writes.
	r.Store.RemoveStaleTemps(r.Server, func(path string, modified time.Time) {
		r.logf("removed %s, a temporary file left by a write interrupted at %s", path, modified.Format(time.RFC3339))
	})
	for {
		if err := r.drain(ctx); err != nil {
			store.Unlock(lock)
			return err
		}
		// Let go, then look once more: an operation recorded while we held
		// the lock was not given a runner of its own.
		beforeUnlock(r.Server)
		if err := store.Unlock(lock); err != nil {
			return err
		}
		r.pending().Invalidate()
		next, err := r.next()
		if err != nil || next == nil {
			return err
		}
		ok, err := store.TryLock(lock)
		if err != nil || !ok {
			return err
		}
	}
}

// next returns the oldest queued operation of ours in our lane, if any. It
// reads the pending operations' files, listed again only when the jobs
// directory changed (see store.PendingQueue).
func (r *Runner) next() (*ops.Operation, error) {
	ids, err := r.pending().IDs()
	if err != nil {
		return nil, err
	}
	for _, id := range ids {
		op, err := r.Store.Get(r.Server, id)
		if err != nil {
			r.logf("operation %s: %v; skipping", id, err)
			continue
		}
		if op.Phase == ops.PhaseQueued && op.Type.Lane() == r.Lane {
			return op, nil
		}
		r.pending().Drop(id) // never queued again
	}
	return nil, nil
}

func (r *Runner) pending() *store.PendingQueue {
	if r.queue == nil {
		r.queue = r.Store.NewPendingQueue(r.Server)
	}
	return r.queue
}

// finalizeLost records the result of operations whose runner died, and
// kills what their Barman left behind.
func (r *Runner) finalizeLost() error {
	ids, err := r.Store.PendingIDs(r.Server)
	if err != nil {
		return err
	}
	for _, id := range ids {
		op, err := r.Store.Get(r.Server, id)
		if err != nil || op.Phase != ops.PhaseLost || op.Type.Lane() != r.Lane {
			continue
		}
		killed := killMarked(r.marker(id))
		err = r.Store.End(r.Server, op.ID, nil, ops.Result{
			Success: false, ExitCode: -1, Output: r.storedOutput(op.ID), Reason: ops.LostReason, EndReason: ops.PhaseLost,
		})
		if err != nil {
			return err
		}
		r.logf("operation %s: runner lost; recorded as FAILED (killed %d leftover processes)", op.ID, killed)
	}
	return nil
}

func (r *Runner) drain(ctx context.Context) error {
	if err := r.finalizeLost(); err != nil {
		return err
	}
	r.sweepDrills()
	for ctx.Err() == nil {
		op, err := r.next()
		if err != nil || op == nil {
			return err
		}
		if err := r.execute(ctx, op); err != nil {
			return err
		}
		r.pending().Drop(op.ID) // ended, or another's to end
	}
	return ctx.Err()
}

func (r *Runner) logf(format string, args ...any) {
	if r.Lines != nil {
		r.Lines.Start(time.Now(), slog.LevelInfo, fmt.Sprintf(format, args...)).End()
		return
	}
	if r.Log != nil {
		fmt.Fprintf(r.Log, format+"\n", args...)
	}
}

// logMasked logs msg, masked already, through Verbatim when there is one.
func (r *Runner) logMasked(msg string) {
	if r.Verbatim != nil {
		r.Verbatim(msg)
		return
	}
	r.logf("%s", msg)
}

func (r *Runner) marker(id string) string {
	return filepath.Join(r.Store.ScopeDir(r.Server), id)
}

// stopped says why we, not Barman, ended an operation.
type stopped struct {
	phase  ops.Phase
	reason string
}

func (e *stopped) Error() string { return e.reason }

// execute runs Barman for one operation and records the result. A panic
// while the operation runs is recorded as its failure, then stops the
// runner: execute returns it (a *panicked) once the result is stored.
func (r *Runner) execute(ctx context.Context, op *ops.Operation) error {
	beforeClaim(r.Server, op.ID)
	claim, err := r.Store.Claim(r.Server, op.ID)
	if err != nil {
		if errors.Is(err, os.ErrExist) {
			r.logf("operation %s: already claimed; skipping", op.ID)
			return nil
		}
		return fmt.Errorf("claiming operation %s: %w", op.ID, err)
	}
	if _, err := os.Stat(r.Store.OutputPath(r.Server, op.ID)); err == nil {
		// Finished by someone else after we listed it: never run twice.
		r.Store.Release(r.Server, op.ID, claim)
		return nil
	}

	res := ops.Result{ExitCode: -1}
	var blog *barmanLog
	res.ExitCode, blog, err = r.attempt(ctx, op)
	defer blog.close()
	var crash *panicked
	if errors.As(err, &crash) {
		r.logf("operation %s: %s\n%s", op.ID, crash.Error(), crash.stack)
		// Barman may have been started: stop it, as for a lost runner.
		killMarked(r.marker(op.ID))
	}
	out := r.storedOutput(op.ID)
	if (err != nil || res.ExitCode != 0) && blog != nil {
		// After Barman's output, so that what `logs -f` printed while it
		// ran stays the start of the output.
		out = endLine(out) + blog.report()
	}
	if err != nil {
		res.Reason = err.Error()
		var st *stopped
		if errors.As(err, &st) {
			res.EndReason = st.phase
		}
		out = endLine(out) + "pg-backup-api: " + err.Error() + "\n"
	}
	res.Output = out
	res.Success = err == nil && res.ExitCode == 0
	if err := r.Store.End(r.Server, op.ID, claim, res); err != nil {
		return fmt.Errorf("recording the result of operation %s: %w", op.ID, err)
	}
	if crash != nil {
		return crash
	}
	return nil
}

// endLine ends out with a newline, unless it is empty.
func endLine(out string) string {
	if out != "" && !strings.HasSuffix(out, "\n") {
		return out + "\n"
	}
	return out
}

// attempt runs Barman for op, unless it was cancelled first, and returns
// Barman's exit code, and Barman's log file as it was when Barman started
// (nil when Barman did not start or logs to its standard error). A panic in
// our code on the way is returned as a *panicked error, so that the
// operation's result can still be recorded.
func (r *Runner) attempt(ctx context.Context, op *ops.Operation) (code int, blog *barmanLog, err error) {
	defer func() {
		if v := recover(); v != nil {
			code, err = -1, recovered(v)
		}
	}()
	if who, ok := r.Store.CancelRequested(r.Server, op.ID); ok {
		return -1, nil, &stopped{ops.PhaseCancelled, "cancelled by " + who + " before it started"}
	}
	conf := op.BarmanConfigPath()
	if conf == "" {
		conf = r.BarmanConfig
	}
	argv, err := r.Barman.Args(conf, op)
	if err != nil {
		return -1, nil, err
	}
	r.logMasked(fmt.Sprintf("operation %s: running %s", op.ID, strings.Join(ops.MaskArgv(argv), " ")))
	blog = watchBarmanLog(conf, argv[0])
	if op.Type == ops.DrillOp {
		code, err = r.drill(ctx, op, argv, blog)
	} else {
		code, err = r.runBarman(ctx, op, argv, blog, r.Timeouts[op.Type], fmt.Sprintf("config: runner.%s_timeout", op.Type))
	}
	if blog != nil && blog.pid == 0 {
		blog.close() // Barman did not start
		blog = nil
	}
	return code, blog, err
}

// panicked is a panic recovered in the runner's own code: a bug. Its value
// is kept masked, since it is recorded as an operation's reason and logged.
type panicked struct {
	value string
	stack []byte
}

// recovered makes a *panicked of what recover returned. Called from the
// deferred function, while the panicking frames are still on the stack, so
// the stack shows where the panic happened.
func recovered(v any) *panicked {
	return &panicked{value: pgmask.Text(fmt.Sprint(v)), stack: debug.Stack()}
}

func (p *panicked) Error() string {
	return "internal error in pg-backup-api's runner (panic: " + p.value + "); this is a bug: the runner stopped, and its log (runner.err) has the details"
}

// runBarman runs argv for op with its output going to the operation's log,
// in a process group of its own that dies with the runner, and stops it on
// timeout, on a cancel request, or when ctx ends. Once Barman has started,
// blog (if any) is told its pid.
// limit is its time limit (0: none), and limitWhere says where the limit is
// set.
func (r *Runner) runBarman(ctx context.Context, op *ops.Operation, argv []string, blog *barmanLog, limit time.Duration, limitWhere string) (int, error) {
	// Barman writes to the log through an open file description of its
	// own. Given ours, it and every child it starts would share our lock on
	// the log, so an operation whose runner was killed would read running,
	// not lost, until the last of them exited.
	out, err := os.OpenFile(r.Store.LogPath(r.Server, op.ID), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		return -1, err
	}
	defer out.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout = out
	cmd.Stderr = out
	cmd.Env = append(os.Environ(), MarkerEnv+"="+r.marker(op.ID))
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return -1, fmt.Errorf("cannot start Barman (%s): %v; check --barman-command", argv[0], err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	if blog != nil {
		blog.pid = cmd.Process.Pid
	}
	barmanStarted(cmd.Process.Pid)

	var deadline <-chan time.Time
	if limit > 0 {
		t := time.NewTimer(limit)
		defer t.Stop()
		deadline = t.C
	}
	poll := r.CancelPoll
	if poll <= 0 {
		poll = 250 * time.Millisecond
	}
	tick := time.NewTicker(poll)
	defer tick.Stop()

	var why *stopped
	for why == nil {
		select {
		case err := <-done:
			return exitCode(err)
		case <-deadline:
			why = &stopped{ops.PhaseTimeout, fmt.Sprintf("timed out: %s may run for %s (%s); Barman was stopped", op.Type, limit, limitWhere)}
		case <-tick.C:
			if who, ok := r.Store.CancelRequested(r.Server, op.ID); ok {
				why = &stopped{ops.PhaseCancelled, "cancelled by " + who + " while Barman ran; Barman was stopped"}
			}
		case <-ctx.Done():
			// The runner itself was told to stop (SIGTERM): not a cancel of
			// this operation, so it ends plain FAILED.
			why = &stopped{"", fmt.Sprintf("the runner was stopped (%v) while Barman ran; Barman was stopped", context.Cause(ctx))}
		}
	}
	r.stopGroup(cmd.Process.Pid, done)
	killMarked(r.marker(op.ID))
	return -1, why
}

// stopGroup sends SIGTERM to Barman's process group, then SIGKILL if it has
// not exited within the grace period.
func (r *Runner) stopGroup(pgid int, done <-chan error) {
	grace := r.KillGrace
	if grace <= 0 {
		grace = 10 * time.Second
	}
	syscall.Kill(-pgid, syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(grace):
		syscall.Kill(-pgid, syscall.SIGKILL)
		<-done
	}
	// The leader is reaped; members that outlived it still hold the group.
	syscall.Kill(-pgid, syscall.SIGKILL)
}

func exitCode(err error) (int, error) {
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			//lint:ignore ST1005 Barman is a name, and the message is recorded as the operation's reason
			return -1, fmt.Errorf("Barman was killed by signal %s", ws.Signal())
		}
		return ee.ExitCode(), nil
	}
	return -1, err
}

// storedOutput is what an output file keeps of an operation's log: all of
// it, or, past maxOutput, its tail under a line that says what was dropped.
func (r *Runner) storedOutput(id string) string {
	out, dropped := readTail(r.Store.LogPath(r.Server, id), maxOutput)
	if dropped == 0 {
		return out
	}
	return fmt.Sprintf("[pg-backup-api: output truncated: the first %d bytes of Barman's output were dropped; its last %d bytes follow]\n%s",
		dropped, len(out), out)
}

// readTail returns the last max bytes of a file, less any partial UTF-8
// character at the cut, and how many bytes it left out.
func readTail(path string, max int64) (string, int64) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", 0
	}
	var skip int64
	if fi.Size() > max {
		skip = fi.Size() - max
		f.Seek(skip, io.SeekStart)
	}
	data, _ := io.ReadAll(f)
	if skip > 0 {
		for i := 0; i < utf8.UTFMax-1 && len(data) > 0 && !utf8.RuneStart(data[0]); i++ {
			data = data[1:]
			skip++
		}
	}
	return string(data), skip
}
