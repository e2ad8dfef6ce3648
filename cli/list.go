package cli

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/internal/termsafe"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/urfave/cli/v2"
)

func (st *appState) listCommand() *cli.Command {
	return &cli.Command{
		Name:      "list",
		Aliases:   []string{"ls"},
		Usage:     "list operations, newest first",
		UsageText: "pg-backup-api list [--server NAME | --instance | --all] [-r NAME,NAME... | -r all] [-o json]",
		Description: "Without a scope flag, every scope is listed: the instance's operations and each configured server's. " +
			"Files in the store that are not valid operations are skipped with a warning on standard error. " + fleetHelp,
		Flags: []cli.Flag{
			serverFlag("only the operations of server `NAME`"),
			&cli.BoolFlag{Name: "instance", Usage: "only instance operations (config_update)"},
			&cli.BoolFlag{Name: "all", Aliases: []string{"a"}, Usage: "every scope (the default)"},
			&cli.StringSliceFlag{Name: "type", Aliases: []string{"t"}, Usage: "only operations of `TYPE` (recovery, config_switch, config_update, backup, keep, delete, drill; repeatable)"},
			&cli.StringSliceFlag{Name: "status", Usage: "only operations in `STATUS` (DONE, FAILED, IN_PROGRESS, or a phase such as queued, running, lost, cancelled, timeout; repeatable)"},
			&cli.StringFlag{Name: "since", Usage: "only operations started within `AGE` (e.g. 90m, 24h, 7d) or since a date (2026-11-25, 2026-11-25T08:00)"},
			&cli.IntFlag{Name: "limit", Aliases: []string{"n"}, Usage: "at most `N` operations, the newest"},
			&cli.StringFlag{Name: "before", Usage: "only operations older than operation `ID` (the oldest one of the previous page, to walk a long list in pages with --limit)"},
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
			if n := c.Int("limit"); n < 0 {
				return usageError("--limit %d: give a positive number", n)
			}
			page := ops.ListOptions{Before: c.String("before")}
			if page.Before != "" && !ops.ValidName(page.Before) {
				return usageError("--before %q: give an operation ID, such as the oldest one listed by the page before", page.Before)
			}
			// The store cuts the page unless a filter must see more than
			// the newest N first.
			if !c.IsSet("type") && !c.IsSet("status") && !c.IsSet("since") {
				page.Limit = c.Int("limit")
			}
			members, err := st.fleet(c)
			if err != nil {
				return err
			}
			if members != nil {
				keep, err := listFilter(c, p.now)
				if err != nil {
					return err
				}
				server, instance := c.String("server"), c.Bool("instance")
				limit := c.Int("limit")
				answers := askFleet(c, members, 0, func(client *httpd.Client) (any, error) {
					list, skipped, err := listPage(client, server, instance, page)
					if err != nil {
						return nil, err
					}
					return fleetList{ops: cutList(list, keep, limit), skipped: skipped}, nil
				})
				return p.fleetOperations(c, answers)
			}
			eng, err := st.engine(c)
			if err != nil {
				return err
			}
			list, skipped, err := listPage(eng, c.String("server"), c.Bool("instance"), page)
			if err != nil {
				return err
			}
			warnSkipped(c, skipped)
			keep, err := listFilter(c, p.now)
			if err != nil {
				return err
			}
			list = cutList(list, keep, c.Int("limit"))
			return p.operations(list)
		},
	}
}

// listPage reads one page of the scope list's flags name: server's, the
// instance's, or every scope's.
func listPage(eng engine, server string, instance bool, page ops.ListOptions) ([]*ops.Operation, []ops.Skipped, error) {
	switch {
	case server != "":
		return eng.ListPage(server, page)
	case instance:
		return eng.ListPage("", page)
	}
	return eng.ListAllPage(page)
}

// cutList keeps the operations keep keeps, newest first, at most limit
// of them (0: all).
func cutList(list []*ops.Operation, keep func(*ops.Operation) bool, limit int) []*ops.Operation {
	filtered := list[:0]
	for _, op := range list {
		if keep(op) {
			filtered = append(filtered, op)
		}
	}
	list = filtered
	sort.SliceStable(list, func(i, j int) bool { return list[i].ID > list[j].ID })
	if limit > 0 && len(list) > limit {
		list = list[:limit]
	}
	return list
}

// fleetList is one remote's answer to list.
type fleetList struct {
	ops     []*ops.Operation
	skipped []ops.Skipped
}

// fleetOperations prints the operations of several remotes as one table,
// each remote's newest first, in the remotes' order.
func (p *printer) fleetOperations(c *cli.Context, answers []fleetAnswer) error {
	for _, a := range answers {
		if l, ok := a.result.(fleetList); ok {
			for _, s := range l.skipped {
				fmt.Fprintf(ioOf(c).ErrOut, "pg-backup-api: warning: remote %s: %s\n", termsafe.Line(a.remote), termsafe.Line(fmt.Sprint(s)))
			}
		}
	}
	var err error
	if p.format == formatJSON {
		err = p.fleetJSON(answers, func(r any) any {
			list := r.(fleetList).ops
			items := make([]operationJSON, len(list))
			for i, op := range list {
				items[i] = toJSON(op, p.now, false)
			}
			return map[string]any{"operations": items}
		})
	} else {
		var rows [][]string
		for _, a := range answers {
			if l, ok := a.result.(fleetList); ok {
				rows = append(rows, withRemote(a.remote, p.operationRows(l.ops))...)
			} else if row, ok := p.failedRow(a, len(operationsHeader)); ok {
				rows = append(rows, row)
			}
		}
		if len(rows) == 0 && p.format == formatTable {
			_, err = p.w.Write([]byte("no operations\n"))
		} else {
			err = p.table(append([]string{"REMOTE"}, operationsHeader...), rows)
		}
	}
	if err != nil {
		return err
	}
	return fleetFailures(c, p, answers)
}

// listFilter builds the predicate of list's --type, --status and --since.
func listFilter(c *cli.Context, now time.Time) (func(*ops.Operation) bool, error) {
	types := map[ops.Type]bool{}
	for _, t := range c.StringSlice("type") {
		t = strings.ReplaceAll(strings.ToLower(t), "-", "_")
		if !ops.Type(t).Known() {
			return nil, usageError("--type %q: use recovery, config_switch, config_update, backup, keep, delete or drill", t)
		}
		types[ops.Type(t)] = true
	}
	statuses := map[string]bool{}
	for _, s := range c.StringSlice("status") {
		u := strings.ToUpper(strings.ReplaceAll(s, "-", "_"))
		switch ops.Status(u) {
		case ops.StatusDone, ops.StatusFailed, ops.StatusInProgress:
			statuses[u] = true
			continue
		}
		l := strings.ToLower(s)
		switch ops.Phase(l) {
		case ops.PhaseQueued, ops.PhaseRunning, ops.PhaseDone, ops.PhaseFailed, ops.PhaseLost, ops.PhaseCancelled, ops.PhaseTimeout, ops.PhaseForeign:
			statuses[l] = true
			continue
		}
		return nil, usageError("--status %q: use DONE, FAILED, IN_PROGRESS or a phase (queued, running, lost, cancelled, timeout)", s)
	}
	var since time.Time
	if v := c.String("since"); v != "" {
		var err error
		if since, err = parseSince(v, now); err != nil {
			return nil, usageError("--since %q: %v", v, err)
		}
	}
	return func(op *ops.Operation) bool {
		if len(types) > 0 && !types[op.Type] {
			return false
		}
		if len(statuses) > 0 && !statuses[string(op.Status)] && !statuses[string(op.Phase)] {
			return false
		}
		return since.IsZero() || !op.StartTime.Before(since)
	}, nil
}

func (p *printer) operations(list []*ops.Operation) error {
	if p.format == formatJSON {
		return p.operationsJSON(list)
	}
	rows := p.operationRows(list)
	if len(rows) == 0 && p.format == formatTable {
		_, err := p.w.Write([]byte("no operations\n"))
		return err
	}
	return p.table(operationsHeader, rows)
}

var operationsHeader = []string{"ID", "SCOPE", "TYPE", "STATUS", "STARTED", "DURATION"}

func (p *printer) operationRows(list []*ops.Operation) [][]string {
	rows := make([][]string, len(list))
	for i, op := range list {
		duration := "-"
		if !op.StartTime.IsZero() {
			duration = humanDuration(op.Duration(p.now))
		}
		rows[i] = []string{p.field(op.ID), p.field(scopeLabel(op.Server)), p.field(string(op.Type)), p.statusText(op), p.whenShort(op.StartTime), duration}
	}
	return rows
}

// operationsJSON writes {"operations": [...]} exactly as p.json does,
// without reflection and one item at a time. Kept by hand because `list -o
// json` of a whole store is the CLI's largest output: streamed, its memory
// stays flat at 100,000 operations, where p.json would build the document
// whole first (see bench/run's CLI list figures).
func (p *printer) operationsJSON(list []*ops.Operation) error {
	if len(list) == 0 {
		return p.json(map[string]any{"operations": []operationJSON{}})
	}
	bw := bufio.NewWriterSize(p.w, 64<<10)
	b := make([]byte, 0, 1024)
	bw.WriteString("{\n  \"operations\": [\n")
	for i, op := range list {
		j := toJSON(op, p.now, false)
		b = append(b[:0], "    {\n      \"id\": "...)
		b = appendStr(b, j.ID)
		b = append(b, ",\n      \"server\": "...)
		b = appendStrPtr(b, j.Server)
		b = append(b, ",\n      \"type\": "...)
		b = appendStr(b, string(j.Type))
		b = append(b, ",\n      \"status\": "...)
		b = appendStr(b, j.Status)
		b = append(b, ",\n      \"phase\": "...)
		b = appendStr(b, j.Phase)
		b = append(b, ",\n      \"start_time\": "...)
		b = appendStrPtr(b, j.StartTime)
		b = append(b, ",\n      \"end_time\": "...)
		b = appendStrPtr(b, j.EndTime)
		b = append(b, ",\n      \"duration_seconds\": "...)
		if j.DurationSeconds == nil {
			b = append(b, "null"...)
		} else {
			b = appendFloat(b, *j.DurationSeconds)
		}
		b = append(b, ",\n      \"exit_code\": "...)
		if j.ExitCode == nil {
			b = append(b, "null"...)
		} else {
			b = strconv.AppendInt(b, int64(*j.ExitCode), 10)
		}
		if j.Reason != "" {
			b = append(b, ",\n      \"reason\": "...)
			b = appendStr(b, j.Reason)
		}
		b = append(b, "\n    }"...)
		if i < len(list)-1 {
			b = append(b, ',')
		}
		b = append(b, '\n')
		bw.Write(b)
	}
	bw.WriteString("  ]\n}\n")
	return bw.Flush()
}

func appendStrPtr(b []byte, s *string) []byte {
	if s == nil {
		return append(b, "null"...)
	}
	return appendStr(b, *s)
}

// appendStr quotes s as an Encoder with SetEscapeHTML(false) does.
func appendStr(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.Encode(s)
			return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}

// appendFloat formats f as encoding/json does.
func appendFloat(b []byte, f float64) []byte {
	if a := math.Abs(f); a == 0 || (a >= 1e-6 && a < 1e21) {
		return strconv.AppendFloat(b, f, 'f', -1, 64)
	}
	data, _ := json.Marshal(f)
	return append(b, data...)
}
