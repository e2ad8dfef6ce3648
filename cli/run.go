package cli

import (
	"context"
	"errors"
	"flag"
	"os/signal"
	"syscall"

	"github.com/pg-backup-api/pg-backup-api/runner"
	"github.com/urfave/cli/v2"
)

// runCommand is the runner process that create and serve start in the
// background. Operators may run it by hand to work through a scope's queue.
// Its flags are the runner's process contract and belong to the runner
// package (runner.Invocation): the arguments are handed over unparsed.
func (st *appState) runCommand() *cli.Command {
	return &cli.Command{
		Name:            "run",
		Usage:           "work through the queued operations of one scope (started in the background by create and serve)",
		UsageText:       "pg-backup-api run [--server NAME]",
		Hidden:          true,
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			inv, err := runner.ParseRunArgs(c.Args().Slice(), runner.Invocation{
				BarmanConfig:  st.settings.barmanConfig,
				BarmanCommand: st.settings.barmanCommand,
				Timeouts:      st.settings.file.Runner.timeouts(),
				LogFormat:     st.settings.file.Serve.LogFormat,
			})
			if errors.Is(err, flag.ErrHelp) {
				runner.PrintRunUsage(ioOf(c).Out)
				return nil
			}
			if err != nil {
				return usageError("%v", err)
			}
			inv.OnEnd = st.endHook
			inv.Policy = st.settings.file.policy()
			lock, err := inv.Lock()
			if err != nil {
				return usageError("%v", err)
			}
			if lock != nil {
				defer lock.Close()
			}
			// SIGTERM stops the current Barman and records the operation
			// as FAILED rather than leaving it lost.
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			return runner.Main(ctx, inv, lock, ioOf(c).ErrOut)
		},
	}
}
