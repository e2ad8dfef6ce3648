package cli

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/pg-backup-api/pg-backup-api/internal/termsafe"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/urfave/cli/v2"
)

func scopeFlags() []cli.Flag {
	return []cli.Flag{
		serverFlag("the operation belongs to server `NAME`"),
		&cli.BoolFlag{Name: "instance", Usage: "the operation is an instance operation"},
	}
}

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

func (st *appState) waitCommand() *cli.Command {
	return &cli.Command{
		Name:      "wait",
		Usage:     "block until an operation ends; exit 0 if DONE, 4 if FAILED, 7 if cancelled or timed out",
		UsageText: "pg-backup-api wait ID [--server NAME | --instance]",
		Description: "On a terminal a live line shows the elapsed time and Barman's latest output line; " +
			"in a script nothing is printed until the end.",
		Flags: append(scopeFlags(), outputFlag()),
		Action: func(c *cli.Context) error {
			p, err := newPrinter(c)
			if err != nil {
				return err
			}
			eng, server, id, err := st.target(c, "wait")
			if err != nil {
				return err
			}
			op, err := st.waitFor(c, eng, server, id)
			if err != nil {
				return fail(err)
			}
			return st.reportEnd(c, p, op)
		},
	}
}

func (st *appState) logsCommand() *cli.Command {
	return &cli.Command{
		Name:      "logs",
		Usage:     "print Barman's output for an operation; -f follows it until the operation ends",
		UsageText: "pg-backup-api logs ID [-f] [--server NAME | --instance]",
		Flags: append(scopeFlags(),
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "stream the output as Barman writes it, until the operation ends"}),
		Action: func(c *cli.Context) error {
			eng, server, id, err := st.target(c, "logs")
			if err != nil {
				return err
			}
			op, err := st.follow(c, eng, server, id, c.Bool("follow"))
			if err != nil {
				return fail(err)
			}
			if c.Bool("follow") {
				return failedExit(op)
			}
			return nil
		},
	}
}

// follow prints an operation's output, and with follow, what Barman adds
// until the operation ends.
func (st *appState) follow(c *cli.Context, eng engine, server, id string, follow bool) (*ops.Operation, error) {
	printed := ""
	for {
		op, err := eng.Get(server, id)
		if err != nil {
			return nil, err
		}
		out := ops.MaskSecrets(op.Output)
		if strings.HasPrefix(out, printed) {
			fmt.Fprint(c.App.Writer, termsafe.For(c.App.Writer, out[len(printed):]))
		} else if len(out) > 0 {
			// The output was cut to its tail when it was recorded: say so
			// rather than print it twice.
			fmt.Fprintf(c.App.Writer, "\n[pg-backup-api: output was truncated; its last part follows]\n%s", termsafe.For(c.App.Writer, out))
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

// progress draws a one-line status on a terminal while waiting.
type progress struct {
	on    bool
	w     *os.File
	start time.Time
}

func newProgress(c *cli.Context, p *printer) *progress {
	f, ok := c.App.ErrWriter.(*os.File)
	on := ok && isatty.IsTerminal(f.Fd()) && p.format != formatJSON
	return &progress{on: on, w: f, start: time.Now()}
}

func (pr *progress) update(op *ops.Operation) {
	if !pr.on {
		return
	}
	line := lastLines(op.Output, 1)
	if i := strings.LastIndexByte(line, '\n'); i >= 0 {
		line = line[i+1:]
	}
	msg := fmt.Sprintf("%s %s %s", op.ID, op.Phase, humanDuration(time.Since(pr.start)))
	if line != "" {
		msg += " | " + termsafe.Strip(ops.MaskSecrets(line)) // pr.on: a terminal
	}
	if len(msg) > 100 {
		msg = msg[:97] + "..."
	}
	fmt.Fprintf(pr.w, "\r\x1b[K%s", msg)
}

func (pr *progress) done() {
	if pr.on {
		fmt.Fprint(pr.w, "\r\x1b[K")
	}
}
