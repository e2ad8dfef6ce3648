package cli

import (
	"github.com/urfave/cli/v2"
)

func (st *appState) waitCommand() *cli.Command {
	return &cli.Command{
		Name:      "wait",
		Usage:     "block until an operation ends; exit 0 if DONE, 4 if FAILED, 7 if cancelled or timed out",
		UsageText: "pg-backup-api wait ID [--server NAME | --instance]",
		Description: idArgHelp + " On a terminal a live line shows the elapsed time and Barman's latest output line; " +
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
			op, err := st.waitFor(c, p, eng, server, id)
			if err != nil {
				return err
			}
			return st.reportEnd(c, p, op)
		},
	}
}
