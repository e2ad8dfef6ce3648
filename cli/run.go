package cli

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/runner"
	"github.com/pg-backup-api/pg-backup-api/store"
	"github.com/urfave/cli/v2"
)

// runCommand is the runner process that create and serve start in the
// background. Operators may run it by hand to work through a scope's queue.
func (st *appState) runCommand() *cli.Command {
	return &cli.Command{
		Name:      "run",
		Usage:     "work through the queued operations of one scope (started in the background by create and serve)",
		UsageText: "pg-backup-api run [--server NAME]",
		Hidden:    true,
		Flags: []cli.Flag{
			serverFlag("the scope: server `NAME`; without it, the instance scope"),
			&cli.IntFlag{Name: "lock-fd", Usage: "inherited `FD` holding the scope's runner lock", Value: -1},
			&cli.StringSliceFlag{Name: "timeout", Usage: "`TYPE=DURATION` limit for one operation type (default: the config file's runner.*_timeout)"},
		},
		Action: func(c *cli.Context) error {
			cfg, err := barman.LoadConfig(st.settings.barmanConfig)
			if err != nil {
				return fail(err)
			}
			server := c.String("server")
			if server != "" && !ops.ValidName(server) {
				return usageError("invalid server name %q", server)
			}
			var lock *os.File
			if fd := c.Int("lock-fd"); fd >= 0 {
				// Barman must not inherit the lock: if it outlived us, the
				// scope would look busy with nobody working on it.
				syscall.CloseOnExec(fd)
				lock = os.NewFile(uintptr(fd), "runner.lock")
				if lock == nil {
					return usageError("--lock-fd %d is not an open descriptor", fd)
				}
				defer lock.Close()
			}
			// SIGTERM stops the current Barman and records the operation
			// as FAILED rather than leaving it lost.
			ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			timeouts := st.settings.file.Runner.timeouts()
			for _, spec := range c.StringSlice("timeout") {
				name, value, _ := strings.Cut(spec, "=")
				d, err := time.ParseDuration(value)
				if err != nil || d < 0 || !knownType(name) {
					return usageError("--timeout %q: want TYPE=DURATION with TYPE one of recovery, config_switch, config_update", spec)
				}
				timeouts[ops.Type(name)] = d
			}
			r := &runner.Runner{
				Store:        store.New(cfg.BarmanHome),
				Server:       server,
				Barman:       barman.NewCommand(st.settings.barmanCommand),
				BarmanConfig: cfg.Path,
				Timeouts:     timeouts,
				Log:          c.App.ErrWriter,
			}
			if err := r.Run(ctx, lock); err != nil {
				return fail(fmt.Errorf("runner for %s: %w", scopeLabel(server), err))
			}
			return nil
		},
	}
}

func knownType(name string) bool {
	for _, t := range ops.Types {
		if string(t) == name {
			return true
		}
	}
	return false
}
