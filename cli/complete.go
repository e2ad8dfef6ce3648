package cli

import (
	"fmt"
	"sort"
	"time"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
	"github.com/urfave/cli/v2"
)

// completeKinds are the lists __complete prints.
var completeKinds = []string{"servers", "models", "operations"}

// CompleteKinds are the lists __complete prints, for the generated
// completions (cmd/gen-docs) to ask for.
func CompleteKinds() []string { return append([]string(nil), completeKinds...) }

// completeCommand prints candidates for the shell completions, one a line.
// Completion must never show an error, so every failure prints nothing and
// exits 0.
func (st *appState) completeCommand() *cli.Command {
	return &cli.Command{
		Name:            "__complete",
		Usage:           "print server names, model names or operation IDs, one a line, for the shell completions",
		UsageText:       "pg-backup-api __complete servers|models|operations",
		Hidden:          true,
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return nil
			}
			for _, item := range st.completions(c.Args().First()) {
				fmt.Fprintln(ioOf(c).Out, item)
			}
			return nil
		},
	}
}

// completions lists what kind names, sorted, or nothing on any error.
func (st *appState) completions(kind string) []string {
	svc := &ops.Service{Barman: barman.NewReader(st.settings.barmanConfig), OpenStore: store.Opener()}
	cfg, err := svc.Config()
	if err != nil {
		return nil
	}
	switch kind {
	case "servers":
		return cfg.ServerNames()
	case "models":
		names := make([]string, 0, len(cfg.Models))
		for name := range cfg.Models {
			names = append(names, name)
		}
		sort.Strings(names)
		return names
	case "operations":
		// Bounded: a completion that hangs is worse than none.
		type result struct{ ids []string }
		done := make(chan result, 1)
		go func() {
			list, _, err := svc.ListAll(ops.ListOptions{})
			if err != nil {
				done <- result{}
				return
			}
			seen := map[string]bool{}
			var ids []string
			for _, op := range list {
				if !seen[op.ID] {
					seen[op.ID] = true
					ids = append(ids, op.ID)
				}
			}
			sort.Strings(ids)
			done <- result{ids}
		}()
		select {
		case r := <-done:
			return r.ids
		case <-time.After(5 * time.Second):
			return nil
		}
	}
	return nil
}
