package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/urfave/cli/v2"
)

func (st *appState) waitCommand() *cli.Command {
	return &cli.Command{
		Name:      "wait",
		Usage:     "block until an operation ends; exit 0 if DONE, 4 if FAILED, 7 if cancelled or timed out, 124 if --timeout passed first",
		UsageText: "pg-backup-api wait ID [--server NAME | --instance] [--timeout DURATION]",
		Description: idArgHelp + " " + remoteArgHelp + " On a terminal a live line shows the elapsed time and Barman's latest output line; " +
			"in a script nothing is printed until the end. With --timeout, wait gives up after DURATION " +
			"(e.g. 30m) and exits 124, as timeout(1) does; the operation goes on.",
		Flags: append(scopeFlags(), outputFlag(),
			&cli.DurationFlag{Name: "timeout", Usage: "give up waiting after `DURATION` (e.g. 90s, 30m) and exit 124; the operation goes on (default: wait as long as it runs)"}),
		Action: func(c *cli.Context) error {
			p, err := newPrinter(c)
			if err != nil {
				return err
			}
			timeout := c.Duration("timeout")
			if c.IsSet("timeout") && timeout <= 0 {
				return usageError("--timeout %s is not a positive duration (e.g. 90s, 30m)", timeout)
			}
			eng, server, id, err := st.target(c, "wait")
			if err != nil {
				return err
			}
			if timeout > 0 {
				// waitFor stops when the context ends; a deadline that
				// ended it is ours to report, an interrupt is not.
				ctx, cancel := context.WithTimeout(c.Context, timeout)
				defer cancel()
				parent := c.Context
				c.Context = ctx
				defer func() { c.Context = parent }()
				op, err := st.waitFor(c, p, eng, server, id)
				if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) && parent.Err() == nil {
					return cli.Exit(fmt.Sprintf("pg-backup-api: gave up waiting after %s (--timeout); operation %s goes on (%s, or %s)",
						timeout, id, followUp(c, "wait", server, id), followUp(c, "cancel", server, id)), ExitWaitTimeout)
				}
				if err != nil {
					return err
				}
				return st.reportEnd(c, p, op)
			}
			op, err := st.waitFor(c, p, eng, server, id)
			if err != nil {
				return err
			}
			return st.reportEnd(c, p, op)
		},
	}
}
