package cli

import (
	"fmt"
	"strings"

	"github.com/pg-backup-api/pg-backup-api/internal/termsafe"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/urfave/cli/v2"
)

func (st *appState) cancelCommand() *cli.Command {
	return &cli.Command{
		Name:      "cancel",
		Usage:     "stop a queued or running operation; it ends FAILED (phase cancelled)",
		UsageText: "pg-backup-api cancel ID [--server NAME | --instance] [--wait]",
		Description: "A queued operation ends at once without running Barman. A running one has its Barman " +
			"process group stopped by its runner (SIGTERM, then SIGKILL after 10 s) within a second. " +
			"An operation that already ended cannot be cancelled (exit 6).\n\n" +
			"It prints the operation's ID and the state the cancel left it in, on standard output, for scripts " +
			"(`read id status detail`): `ID FAILED (cancelled)` for one that was queued, `ID IN_PROGRESS (running, cancel requested)` " +
			"for one whose Barman is being stopped (`pg-backup-api wait ID` waits for it to end, exit 7), and with --wait, " +
			"the state it ended in. -o json prints the operation as inspect -o json does.",
		Flags: append(scopeFlags(),
			&cli.BoolFlag{Name: "wait", Aliases: []string{"w"}, Usage: "wait until the operation has ended"},
			outputFlag(),
		),
		Action: func(c *cli.Context) error {
			p, err := newPrinter(c)
			if err != nil {
				return err
			}
			eng, server, id, err := st.target(c, "cancel")
			if err != nil {
				return err
			}
			op, err := eng.Cancel(server, id)
			if err != nil {
				return err
			}
			if c.Bool("wait") {
				if op, err = st.waitFor(c, p, eng, server, id); err != nil {
					return err
				}
			}
			if p.format == formatJSON {
				return p.json(toJSON(op, p.now, false))
			}
			fmt.Fprintln(p.w, cancelState(op))
			return nil
		},
	}
}

// cancelState is "ID STATUS (PHASE)" for an operation just cancelled.
// One still in progress says the cancel is pending: the store says
// IN_PROGRESS (running) until its runner has stopped Barman, which alone
// would read as if the cancel had done nothing.
func cancelState(op *ops.Operation) string {
	return termsafe.Line(cancelStateRaw(op))
}

// cancelStateRaw is cancelState before a remote's values are made safe to
// print.
func cancelStateRaw(op *ops.Operation) string {
	phase := string(op.Phase)
	if op.Status == ops.StatusInProgress {
		phase = strings.TrimPrefix(phase+", cancel requested", ", ")
	}
	if phase == "" {
		// A server that does not report phases.
		return fmt.Sprintf("%s %s", op.ID, op.Status)
	}
	return fmt.Sprintf("%s %s (%s)", op.ID, op.Status, phase)
}
