package runner

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/internal/jsonlog"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// Invocation is the runner process contract: Launcher writes it on the
// command line of `pg-backup-api run` (Argv), the run subcommand reads it
// back (ParseRunArgs) and hands it to Main. Nothing else knows the run
// subcommand's flags.
type Invocation struct {
	// Config is our configuration file, passed as the binary's global
	// --config ("" passes none). The run subcommand reads it like every
	// command, not through ParseRunArgs.
	Config string
	// BarmanConfig and BarmanCommand travel as the binary's global
	// --barman-config and --barman-command ("" leaves the default).
	BarmanConfig  string
	BarmanCommand string
	Server        string // "" for the instance scope
	// Lane is the lane of the scope's queue to work through ("" for the
	// main one, ops.LaneBackup for backups).
	Lane string
	// LockFD is the inherited descriptor holding the scope's runner lock;
	// -1 when there is none (an operator running `run` by hand).
	LockFD   int
	Timeouts map[ops.Type]time.Duration
	// LogFormat is how runner.err is written: "text" (or "") as lines of
	// text, "json" as one JSON object a line like serve's --log-format json.
	LogFormat string
	// OnEnd makes the store's end-of-operation hook (notifications), given
	// the runner's log, so that what the hook logs is masked, rotated and
	// formatted with the rest of runner.err. Not part of the command line:
	// the run subcommand sets it from the config file it reads like every
	// command. nil means no hook.
	OnEnd func(log *slog.Logger) func(s *store.Store, server, id string)
	// Policy is what the configuration file adds to validation (the ssh
	// destinations and programs a recovery may use): each job is checked
	// against it again before Barman runs. Not part of the command line:
	// the run subcommand reads it from the configuration file.
	Policy ops.Policy
}

// LockFD is the descriptor on which a runner inherits its scope lock.
const LockFD = 3

// Argv returns the arguments after the binary's name that start the runner
// inv describes: the global flags, then run and its flags.
func (inv Invocation) Argv() []string {
	var args []string
	if inv.Config != "" {
		// Absolute, so that it names the same file whatever the runner's
		// working directory.
		path := inv.Config
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		args = append(args, "--config", path)
	}
	args = append(args, "--barman-config", inv.BarmanConfig)
	if inv.BarmanCommand != "" {
		args = append(args, "--barman-command", inv.BarmanCommand)
	}
	args = append(args, "run")
	// Always, text too: the runner writes as its parent chose, even where
	// the parent's choice (serve --log-format) differs from the file's.
	if inv.LogFormat != "" {
		args = append(args, "--log-format", inv.LogFormat)
	}
	if inv.LockFD >= 0 {
		args = append(args, "--lock-fd", strconv.Itoa(inv.LockFD))
	}
	for _, t := range ops.Types {
		if d := inv.Timeouts[t]; d > 0 {
			args = append(args, "--timeout", string(t)+"="+d.String())
		}
	}
	if inv.Server != "" {
		args = append(args, "--server", inv.Server)
	}
	if inv.Lane != "" {
		args = append(args, "--lane", inv.Lane)
	}
	return args
}

// runFlags declares the run subcommand's flags on fs, bound to inv.
func runFlags(fs *flag.FlagSet, inv *Invocation, timeouts *[]string) {
	fs.StringVar(&inv.Server, "server", inv.Server, "the scope: server `NAME`; without it, the instance scope")
	fs.StringVar(&inv.Server, "s", inv.Server, "short for --server")
	fs.StringVar(&inv.Lane, "lane", inv.Lane, "the lane of the scope's queue: `backup` runs its backups, keeps and deletes, drill its drills; without it, every other operation")
	fs.IntVar(&inv.LockFD, "lock-fd", inv.LockFD, "inherited `FD` holding the scope's runner lock")
	fs.StringVar(&inv.LogFormat, "log-format", inv.LogFormat, "`FORMAT` of the runner's log (runner.err): text or json, one object per line")
	fs.Func("timeout", "`TYPE=DURATION` limit for one operation type (default: the config file's runner.*_timeout)", func(s string) error {
		*timeouts = append(*timeouts, s)
		return nil
	})
}

// ParseRunArgs reads the run subcommand's arguments (those after "run") as
// Argv writes them. inv holds what the global flags and the configuration
// file say (BarmanConfig, BarmanCommand, default Timeouts); the flags
// override it. Every error is the caller's mistake: a usage error. -h or
// --help gives flag.ErrHelp.
func ParseRunArgs(args []string, inv Invocation) (Invocation, error) {
	inv.LockFD = -1
	inv.Timeouts = maps.Clone(inv.Timeouts)
	if inv.Timeouts == nil {
		inv.Timeouts = map[ops.Type]time.Duration{}
	}
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	var timeouts []string
	runFlags(fs, &inv, &timeouts)
	if err := fs.Parse(args); err != nil {
		return inv, err
	}
	if fs.NArg() > 0 {
		return inv, fmt.Errorf("run takes no arguments, got %q", fs.Args())
	}
	if inv.Server != "" && !ops.ValidName(inv.Server) {
		return inv, fmt.Errorf("invalid server name %q", inv.Server)
	}
	if inv.Lane != "" && inv.Lane != ops.LaneBackup && inv.Lane != ops.LaneDrill {
		return inv, fmt.Errorf("--lane %q: the lanes besides the main one are %q and %q", inv.Lane, ops.LaneBackup, ops.LaneDrill)
	}
	format, err := jsonlog.ParseFormat(inv.LogFormat)
	if err != nil {
		return inv, fmt.Errorf("--log-format: %v", err)
	}
	inv.LogFormat = format
	for _, spec := range timeouts {
		name, value, _ := strings.Cut(spec, "=")
		d, err := time.ParseDuration(value)
		if err != nil || d < 0 || !ops.Type(name).Known() {
			return inv, fmt.Errorf("--timeout %q: want TYPE=DURATION with TYPE one of %s", spec, typeNames())
		}
		inv.Timeouts[ops.Type(name)] = d
	}
	return inv, nil
}

// PrintRunUsage writes the run subcommand's flags, for `run --help`.
func PrintRunUsage(w io.Writer) {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(w)
	var inv Invocation
	var timeouts []string
	runFlags(fs, &inv, &timeouts)
	fmt.Fprintln(w, "Usage: pg-backup-api run [--server NAME] [--lane backup]")
	fs.PrintDefaults()
}

func typeNames() string {
	names := make([]string, len(ops.Types))
	for i, t := range ops.Types {
		names[i] = string(t)
	}
	return strings.Join(names, ", ")
}

// Lock returns the inherited scope lock, or nil when inv has none. Barman
// must not inherit it: if Barman outlived the runner, the scope would look
// busy with nobody working on it.
func (inv Invocation) Lock() (*os.File, error) {
	if inv.LockFD < 0 {
		return nil, nil
	}
	syscall.CloseOnExec(inv.LockFD)
	lock := os.NewFile(uintptr(inv.LockFD), "runner.lock")
	if lock == nil {
		return nil, fmt.Errorf("--lock-fd %d is not an open descriptor", inv.LockFD)
	}
	return lock, nil
}

// Main is the runner process: it reads Barman's configuration, then works
// through the scope's queue holding lock (nil: it takes the scope lock
// itself, or returns at once when another runner holds it).
//
// A panic in Main's goroutine is recovered: its message and stack are
// written through the masking log, not raw to standard error (runner.err),
// and Main returns an error, so the process exits non-zero. One during an
// operation is recorded first as the operation's failure (Runner.execute);
// elsewhere, an operation the runner had claimed reads as lost, and the next
// runner records it so. What cannot be recovered still reaches standard
// error unmasked: a fatal runtime error (out of memory, a concurrent map
// write, a deadlock, a stack overflow) and a panic in another goroutine end
// the process in the runtime itself, which writes to descriptor 2 directly.
func Main(ctx context.Context, inv Invocation, lock *os.File, log io.Writer) (err error) {
	scope := inv.Server
	if scope == "" {
		scope = "(instance)"
	}
	// By hand, log goes where the operator said, masked; a launched
	// runner's is replaced below.
	toStderr := log == io.Writer(os.Stderr)
	log = maskWriter{log}
	var lines *jsonlog.Lines // JSON records, when asked for
	defer func() {
		if v := recover(); v != nil {
			p := recovered(v)
			if lines != nil {
				ln := lines.Start(time.Now(), slog.LevelError, fmt.Sprintf("pg-backup-api: runner for %s: panic: %s", scope, p.value))
				ln.String("stack", string(p.stack))
				ln.End()
			} else {
				fmt.Fprintf(log, "pg-backup-api: runner for %s: panic: %s\n%s", scope, p.value, p.stack)
			}
			err = maskedError{fmt.Errorf("runner for %s: %w", scope, p)}
		}
	}()
	cfg, err := barman.LoadConfig(inv.BarmanConfig)
	if err != nil {
		return maskedError{err}
	}
	st := store.Open(cfg)
	// A launched runner's standard error is the scope's runner.err: mask
	// and rotate it.
	if el := newErrLog(os.Stderr, errLogPath(st, inv.Server), ErrLogMax); el != nil && toStderr {
		el.json = inv.LogFormat == jsonlog.JSON
		log = el
	}
	if inv.LogFormat == jsonlog.JSON {
		if lines, err = jsonlog.NewLines(log, inv.LogFormat, slog.LevelInfo); err != nil {
			return err
		}
	}
	raw := verbatim(log)
	logVerbatim := func(msg string) { fmt.Fprintln(raw, msg) }
	if lines != nil {
		rawLines, err := jsonlog.NewLines(raw, inv.LogFormat, slog.LevelInfo)
		if err != nil {
			return err
		}
		logVerbatim = func(msg string) { rawLines.Start(time.Now(), slog.LevelInfo, msg).End() }
	}
	if inv.OnEnd != nil {
		hookLog, err := jsonlog.New(log, inv.LogFormat, slog.LevelInfo)
		if err != nil {
			return err
		}
		st.OnEnd = inv.OnEnd(hookLog)
	}
	r := &Runner{
		Lines:        lines,
		Store:        st,
		Server:       inv.Server,
		Lane:         inv.Lane,
		Barman:       barman.NewCommand(inv.BarmanCommand).WithPolicy(inv.Policy),
		BarmanConfig: cfg.Path,
		Timeouts:     inv.Timeouts,
		Log:          log,
		Verbatim:     logVerbatim,

		DrillDirectory: inv.Policy.DrillDirectory,
		BarmanUser:     cfg.BarmanUser,
	}
	if err := r.Run(ctx, lock); err != nil {
		return maskedError{fmt.Errorf("runner for %s: %w", scope, err)}
	}
	return nil
}
