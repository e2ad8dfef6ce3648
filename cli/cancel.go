package cli

import (
	"fmt"

	"github.com/urfave/cli/v2"
)

func (st *appState) cancelCommand() *cli.Command {
	return &cli.Command{
		Name:      "cancel",
		Usage:     "stop a queued or running operation; it ends FAILED (phase cancelled)",
		UsageText: "pg-backup-api cancel ID [--server NAME | --instance] [--wait]",
		Description: "A queued operation ends at once without running Barman. A running one has its Barman " +
			"process group stopped by its runner (SIGTERM, then SIGKILL after 10 s) within a second. " +
			"An operation that already ended cannot be cancelled (exit 6).",
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
				return fail(err)
			}
			if c.Bool("wait") {
				if op, err = st.waitFor(c, p, eng, server, id); err != nil {
					return fail(err)
				}
			}
			if p.format == formatJSON {
				return p.json(toJSON(op, p.now, false))
			}
			fmt.Fprintf(p.w, "%s %s (%s)\n", op.ID, op.Status, op.Phase)
			return nil
		},
	}
}
