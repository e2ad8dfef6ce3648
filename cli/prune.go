package cli

import (
	"fmt"
	"sort"
	"time"

	"github.com/urfave/cli/v2"
)

func (st *appState) pruneCommand() *cli.Command {
	return &cli.Command{
		Name:      "prune",
		Usage:     "remove the files of operations that finished long ago",
		UsageText: "pg-backup-api prune --older-than AGE [--dry-run] [--server NAME | --instance]",
		Description: "Removes the job and output files of operations that ended (DONE or FAILED) before AGE ago; " +
			"queued and running operations are never removed. serve does the same on its own with serve.retention.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "older-than", Required: true, Usage: "`AGE` such as 30d, 72h or 90m"},
			&cli.BoolFlag{Name: "dry-run", Usage: "list what would be removed, remove nothing"},
			serverFlag("only the operations of server `NAME`"),
			&cli.BoolFlag{Name: "instance", Usage: "only instance operations"},
			outputFlag(),
		},
		Action: func(c *cli.Context) error {
			p, err := newPrinter(c)
			if err != nil {
				return err
			}
			// prune works on this host's store only: with --url or --remote
			// it would remove local files while the operator means a
			// remote host's.
			if c.IsSet("url") || c.IsSet("remote") {
				return usageError("prune works on the local store only, not through --url or --remote; run it on that Barman host, or set serve.retention there")
			}
			age, err := parseAge(c.String("older-than"))
			if err != nil {
				return usageError("--older-than %q: %v", c.String("older-than"), err)
			}
			var scopes []string
			switch {
			case c.IsSet("server") && c.Bool("instance"):
				return usageError("give --server or --instance, not both")
			case c.IsSet("server"):
				scopes = []string{c.String("server")}
			case c.Bool("instance"):
				scopes = []string{""}
			}
			pruned, err := st.service().Prune(c.Context, scopes, time.Now().Add(-age), c.Bool("dry-run"))
			if err != nil {
				return err
			}
			if p.format == formatJSON {
				type item struct {
					ID     string  `json:"id"`
					Server *string `json:"server"`
				}
				items := []item{}
				for scope, ids := range pruned {
					for _, id := range ids {
						items = append(items, item{id, nullableString(scope)})
					}
				}
				sort.Slice(items, func(i, j int) bool { return items[i].ID < items[j].ID })
				return p.json(map[string]any{"dry_run": c.Bool("dry-run"), "pruned": items})
			}
			// Scopes in name order (the instance first), so the plain
			// lines are the same from one run to the next.
			order := make([]string, 0, len(pruned))
			for scope := range pruned {
				order = append(order, scope)
			}
			sort.Strings(order)
			n := 0
			for _, scope := range order {
				for _, id := range pruned[scope] {
					fmt.Fprintf(p.w, "%s\t%s\n", id, scopeLabel(scope))
					n++
				}
			}
			verb := "removed"
			if c.Bool("dry-run") {
				verb = "would remove"
			}
			fmt.Fprintf(ioOf(c).ErrOut, "%s %d operations that ended more than %s ago\n", verb, n, c.String("older-than"))
			return nil
		},
	}
}
