package cli

import (
	"fmt"
	"strings"

	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/internal/termsafe"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/urfave/cli/v2"
)

func (st *appState) inspectCommand() *cli.Command {
	return &cli.Command{
		Name:      "inspect",
		Aliases:   []string{"show"},
		Usage:     "show one operation: type, status, payload, times, exit code and Barman's output",
		UsageText: "pg-backup-api inspect ID [--server NAME | --instance] [-r NAME,NAME... | -r all] [-o json]",
		Description: idArgHelp + " " + remoteArgHelp + " While Barman runs, the output shown is what " +
			"it has printed so far. With several remotes (-r NAME,NAME... or -r all) it shows the operation from each remote that has it, " +
			"led by a Remote line (-o json: a list of {\"remote\": NAME, \"result\": ...}); a remote that has no such operation is left out, " +
			"one that fails is named on standard error and the exit status is 8.",
		Flags: append(scopeFlags(),
			&cli.BoolFlag{Name: "follow", Aliases: []string{"f"}, Usage: "then stream Barman's output until the operation ends (like logs -f)"},
			outputFlag(),
		),
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return usageError("inspect takes one operation ID, or SERVER/ID (see pg-backup-api list)")
			}
			p, err := newPrinter(c)
			if err != nil {
				return err
			}
			arg := c.Args().First()
			remote, rest, named := strings.Cut(arg, ":")
			if named {
				arg = rest
			}
			ref, err := parseOperationArg(c, arg)
			if err != nil {
				return err
			}
			var members []fleetMember
			if !named {
				if members, err = st.fleet(c); err != nil {
					return err
				}
			}
			if members != nil {
				if c.Bool("follow") {
					return usageError("inspect -f follows one operation: give -r the remote it runs on, alone")
				}
				return p.fleetOperation(c, c.Args().First(), askFleet(c, members, 0, func(client *httpd.Client) (any, error) {
					return ref.locate(client)
				}))
			}
			var eng engine
			if named {
				eng, err = st.engineAt(c, remote, c.Args().First())
			} else {
				eng, err = st.engine(c)
			}
			if err != nil {
				return err
			}
			op, err := ref.locate(eng)
			if err != nil {
				return err
			}
			withArgv(eng, op)
			if !c.Bool("follow") || p.format == formatJSON || op.Status != ops.StatusInProgress {
				return p.operation(op)
			}
			head := *op
			head.Output = ""
			p.operationHeader(&head)
			fmt.Fprintln(p.w, "Output (following):")
			end, err := st.follow(c, eng, op.Server, op.ID, true)
			if err != nil {
				return err
			}
			fmt.Fprintf(ioOf(c).ErrOut, "operation %s %s (%s)\n", p.field(end.ID), p.field(string(end.Status)), p.field(string(end.Phase)))
			return failedExit(end)
		},
	}
}

// fleetOperation prints the operation arg names from each remote that has
// it. A remote that answers that it has none is not a failure: an ID is
// looked for over the fleet to learn where it ran.
func (p *printer) fleetOperation(c *cli.Context, arg string, answers []fleetAnswer) error {
	var kept []fleetAnswer
	var asked []string
	for _, a := range answers {
		asked = append(asked, termsafe.Line(a.remote))
		if ops.ErrorCode(a.err) != ops.ENOTFOUND {
			kept = append(kept, a)
		}
	}
	if len(kept) == 0 {
		return ops.Errorf(ops.ENOTFOUND, "operation %s is on none of the remotes %s (pg-backup-api list -r %s shows their operations)",
			arg, strings.Join(asked, ", "), strings.Join(asked, ","))
	}
	return p.fleetBlocks(c, kept, func(r any) any { return toJSON(r.(*ops.Operation), p.now, true) },
		func(r any) error { return p.operation(r.(*ops.Operation)) })
}

func (p *printer) operation(op *ops.Operation) error {
	if p.format == formatJSON {
		return p.json(toJSON(op, p.now, true))
	}
	p.operationHeader(op)
	fmt.Fprintln(p.w, "Output:")
	out := strings.TrimRight(p.safe(ops.MaskSecrets(op.Output)), "\n")
	if out == "" {
		fmt.Fprintln(p.w, "  (none yet)")
		return nil
	}
	_, err := fmt.Fprint(p.w, indent(out))
	return err
}

// operationHeader prints everything but Barman's output.
func (p *printer) operationHeader(op *ops.Operation) {
	payload := maskedJSON(payloadOf(op))
	exit := "-"
	if op.ExitCode != nil {
		exit = fmt.Sprint(*op.ExitCode)
	}
	duration := "-"
	if !op.StartTime.IsZero() {
		duration = humanDuration(op.Duration(p.now))
	}
	// What a store file or a remote server says is shown without its
	// terminal controls; the status keeps its colour.
	rows := [][]string{
		{"ID", p.field(op.ID)},
		{"Scope", p.field(scopeLabel(op.Server))},
		{"Type", p.field(string(op.Type))},
		{"Status", p.statusText(op)},
		{"Phase", p.field(string(op.Phase))},
		{"Started", p.when(op.StartTime)},
		{"Ended", p.when(op.EndTime)},
		{"Duration", duration},
		{"Exit code", exit},
		{"Payload", p.field(string(payload))},
	}
	if op.Reason != "" {
		rows = append(rows, []string{"Reason", p.field(op.Reason)})
	}
	if id := op.ResolvedBackupID(); id != "" {
		rows = append(rows, []string{"Backup", p.field(id)})
	}
	if who := op.RequestedBy(); who != "" {
		rows = append(rows, []string{"By", p.field(who)})
	}
	if len(op.BarmanArgv) > 0 {
		rows = append(rows, []string{"Barman", p.field(shellQuote(op.BarmanArgv))})
	}
	for _, r := range rows {
		fmt.Fprintf(p.w, "%-10s %s\n", r[0]+":", r[1])
	}
}

// withArgv fills in the argv that runs op when the engine is the local
// one (a remote server sends it with the operation); a job the runner
// would refuse shows none.
func withArgv(eng engine, op *ops.Operation) {
	if l, ok := eng.(*localEngine); ok && op.BarmanArgv == nil {
		op.BarmanArgv, _ = l.svc.BarmanArgv(l.c.Context, op)
	}
}

// shellQuote writes argv as a POSIX shell would read it back, so that an
// argument with spaces (the ssh command) shows where it begins and ends.
func shellQuote(argv []string) string {
	quoted := make([]string, len(argv))
	for i, a := range argv {
		if a != "" && strings.IndexFunc(a, func(r rune) bool {
			return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:,+@%", r))
		}) < 0 {
			quoted[i] = a
			continue
		}
		quoted[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(quoted, " ")
}
