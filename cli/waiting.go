package cli

// What the commands that follow one operation share (wait, logs, inspect -f,
// cancel --wait, create --wait): finding the operation, polling it until it
// ends, the live progress line, and the exit status its end gives.

import (
	"fmt"
	"strings"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/termsafe"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/urfave/cli/v2"
)

// target reads the one operation ID a command takes and finds its scope.
func (st *appState) target(c *cli.Context, command string) (engine, string, string, error) {
	if c.NArg() != 1 {
		return nil, "", "", usageError("%s takes one operation ID (see pg-backup-api list)", command)
	}
	id := c.Args().First()
	eng, err := st.engine(c)
	if err != nil {
		return nil, "", "", err
	}
	server, err := st.locate(c, eng, id)
	return eng, server, id, err
}

// locate finds which scope an operation is in, from --server/--instance or
// by looking in every scope.
func (st *appState) locate(c *cli.Context, eng engine, id string) (string, error) {
	switch {
	case c.IsSet("server") && c.Bool("instance"):
		return "", usageError("give --server or --instance, not both")
	case c.IsSet("server"):
		return c.String("server"), nil
	case c.Bool("instance"):
		return "", nil
	}
	op, err := eng.Find(id)
	if err != nil {
		return "", fail(err)
	}
	return op.Server, nil
}

// waitFor polls until the operation ends. A queued operation with no active
// runner gets one, so waiting never hangs on a runner that failed to start.
// p is the command's printer: its format says whether to draw progress.
func (st *appState) waitFor(c *cli.Context, p *printer, eng engine, server, id string) (*ops.Operation, error) {
	const poll = 200 * time.Millisecond
	lastKick := time.Now()
	live := newProgress(c, p)
	defer live.done()
	for {
		op, err := eng.Get(server, id)
		if err != nil {
			return nil, err
		}
		if op.Status != ops.StatusInProgress {
			return op, nil
		}
		live.update(op)
		if op.Phase == ops.PhaseQueued && time.Since(lastKick) > 5*time.Second {
			eng.Nudge(server)
			lastKick = time.Now()
		}
		select {
		case <-c.Context.Done():
			return nil, cli.Exit(fmt.Sprintf("pg-backup-api: stopped waiting; operation %s goes on (pg-backup-api inspect %s)", id, id), ExitError)
		case <-time.After(poll):
		}
	}
}

// reportEnd prints a finished operation and sets the exit code from it.
func (st *appState) reportEnd(c *cli.Context, p *printer, op *ops.Operation) error {
	if p.format == formatJSON {
		if err := p.json(toJSON(op, time.Now(), true)); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(c.App.ErrWriter, "operation %s %s after %s\n", termsafe.Line(op.ID), termsafe.Line(string(op.Status)), humanDuration(op.Duration(time.Now())))
	}
	if op.Status == ops.StatusFailed && p.format != formatJSON {
		s := ioOf(c)
		fmt.Fprint(s.errOut, indent(lastLines(s.safeErr(ops.MaskSecrets(op.Output)), 20)))
		if op.Reason != "" {
			fmt.Fprintf(s.errOut, "  reason: %s\n", s.safeErr(op.Reason))
		}
	}
	return failedExit(op)
}

// failedExit is the exit of a command that waited for an operation that
// ended FAILED: 7 when a cancel or timeout stopped it, 4 otherwise; nil when
// it did not fail.
func failedExit(op *ops.Operation) error {
	switch {
	case op.Status != ops.StatusFailed:
		return nil
	case op.Phase == ops.PhaseCancelled || op.Phase == ops.PhaseTimeout:
		return cli.Exit("", ExitStopped)
	}
	return cli.Exit("", ExitFailed)
}

// follow prints an operation's output, and with follow, what Barman adds
// until the operation ends.
func (st *appState) follow(c *cli.Context, eng engine, server, id string, follow bool) (*ops.Operation, error) {
	s := ioOf(c)
	printed := ""
	for {
		op, err := eng.Get(server, id)
		if err != nil {
			return nil, err
		}
		out := ops.MaskSecrets(op.Output)
		if strings.HasPrefix(out, printed) {
			fmt.Fprint(s.out, s.safeOut(out[len(printed):]))
		} else if len(out) > 0 {
			// The output was cut to its tail when it was recorded: say so
			// rather than print it twice.
			fmt.Fprintf(s.out, "\n[pg-backup-api: output was truncated; its last part follows]\n%s", s.safeOut(out))
		}
		printed = out
		if !follow || op.Status != ops.StatusInProgress {
			return op, nil
		}
		select {
		case <-c.Context.Done():
			return op, nil
		case <-time.After(250 * time.Millisecond):
		}
	}
}
