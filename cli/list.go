package cli

import (
	"sort"

	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/urfave/cli/v2"
)

func (st *appState) listCommand() *cli.Command {
	return &cli.Command{
		Name:      "list",
		Aliases:   []string{"ls"},
		Usage:     "list operations, newest first",
		UsageText: "pg-backup-api list [--server NAME | --instance | --all] [-o json]",
		Description: "Without a scope flag, every scope is listed: the instance's operations and each configured server's. " +
			"Files in the store that are not valid operations are skipped with a warning on standard error.",
		Flags: []cli.Flag{
			serverFlag("only the operations of server `NAME`"),
			&cli.BoolFlag{Name: "instance", Usage: "only instance operations (config_update)"},
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "every scope (the default)"},
			outputFlag(),
		},
		Action: func(c *cli.Context) error {
			p, err := newPrinter(c)
			if err != nil {
				return err
			}
			scopes := 0
			for _, f := range []string{"server", "instance", "all"} {
				if c.IsSet(f) {
					scopes++
				}
			}
			if scopes > 1 {
				return usageError("give one of --server, --instance and --all")
			}
			if c.Args().Present() {
				return usageError("list takes no arguments (got %q); to list one server use --server NAME", c.Args().First())
			}
			svc := st.service()
			opts := ops.ListOptions{Status: true}
			var list []*ops.Operation
			var skipped []ops.Skipped
			switch {
			case c.IsSet("server"):
				list, skipped, err = svc.List(c.String("server"), opts)
			case c.Bool("instance"):
				list, skipped, err = svc.List("", opts)
			default:
				list, skipped, err = svc.ListAll(opts)
			}
			if err != nil {
				return fail(err)
			}
			warnSkipped(c, skipped)
			sort.SliceStable(list, func(i, j int) bool { return list[i].ID > list[j].ID })
			return p.operations(list)
		},
	}
}

func (p *printer) operations(list []*ops.Operation) error {
	if p.format == formatJSON {
		items := make([]operationJSON, len(list))
		for i, op := range list {
			items[i] = toJSON(op, p.now, false)
		}
		return p.json(map[string]any{"operations": items})
	}
	rows := make([][]string, len(list))
	for i, op := range list {
		duration := "-"
		if !op.StartTime.IsZero() {
			duration = humanDuration(op.Duration(p.now))
		}
		rows[i] = []string{op.ID, scopeLabel(op.Server), string(op.Type), p.statusText(op), p.whenShort(op.StartTime), duration}
	}
	if len(rows) == 0 && p.format == formatTable {
		_, err := p.w.Write([]byte("no operations\n"))
		return err
	}
	return p.table([]string{"ID", "SCOPE", "TYPE", "STATUS", "STARTED", "DURATION"}, rows)
}
