package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/internal/termsafe"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/urfave/cli/v2"
)

func (st *appState) createCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "register an operation and start Barman for it",
		UsageText: "pg-backup-api create recovery|config-switch|config-update|backup|keep|delete|drill [flags]\npg-backup-api create --payload FILE|- [--server NAME] [--wait]",
		Description: "Each operation is validated against Barman's configuration and backup catalog, recorded, and run " +
			"by a background runner (one per server, one at a time; backups in a lane of their own, so that a long backup " +
			"does not hold up the others). The operation ID is printed at once; " +
			"--wait blocks until Barman is done.\n\n" +
			"--payload takes the documented JSON request body as-is, so the files of the HTTP API's curl examples work unchanged; like serve, it reads UTF-8, UTF-16 and UTF-32 (with or without a byte-order mark, as PowerShell 5.1 writes).",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "payload", Aliases: []string{"p"}, Usage: "documented JSON payload `FILE`, or - for standard input"},
			serverFlag("server `NAME` for server operations (recovery, config_switch, backup, keep, delete, drill)"),
			waitFlag(), dryRunFlag(),
			outputFlag(),
		},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usageError("unknown operation %q: use recovery, config-switch, config-update, backup, keep, delete, drill or --payload", c.Args().First())
			}
			if !c.IsSet("payload") {
				return usageError("say what to create: recovery, config-switch, config-update, backup, keep, delete, drill, or --payload FILE (see --help)")
			}
			data, err := readInput(c.App.Reader, c.String("payload"))
			if err != nil {
				return err
			}
			payload, err := pyjson.DecodeObject(data, pyjson.DecodeOptions{RejectDuplicateKeys: true, DetectEncoding: true})
			if err != nil {
				return usageError("payload %s: %v", c.String("payload"), err)
			}
			return st.create(c, c.String("server"), payload)
		},
		Subcommands: []*cli.Command{
			st.operationCommand(&cli.Command{
				Name:      "recovery",
				Usage:     "restore a backup to a remote host with barman recover",
				UsageText: "pg-backup-api create recovery --server NAME [--backup-id ID] --remote-ssh-command CMD --destination-directory DIR [TARGET] [OPTIONS] [--wait]",
				Description: "Without a target, Barman replays every WAL file it has: the database comes back as it is now. " +
					"A target stops the replay earlier; give at most one of --target-time, --target-lsn, --target-xid, " +
					"--target-name and --target-immediate. --backup-id auto chooses the newest DONE backup; with --target-time " +
					"or --target-lsn, the newest that ended at or before the target (--backup-id may then be left out). Each target and option is " +
					"the `barman recover` option of the same name, checked before anything is recorded.",
			}, ops.Recovery, []cli.Flag{
				&cli.StringFlag{Name: "backup-id", Aliases: []string{"b"}, Usage: "backup `ID`, a backup name, or latest/last, oldest/first, auto (the newest, or the newest before --target-time or --target-lsn; the default with either)"},
				&cli.StringFlag{Name: "remote-ssh-command", Required: true, Usage: "SSH `COMMAND` that reaches the target host, e.g. \"ssh postgres@db1\""},
				&cli.StringFlag{Name: "destination-directory", Aliases: []string{"d"}, Required: true, Usage: "absolute `DIR` on the target host to restore into"},
			}, func(c *cli.Context, p *pyjson.Object) error {
				if c.IsSet("backup-id") {
					p.Set("backup_id", c.String("backup-id"))
				}
				p.Set("remote_ssh_command", c.String("remote-ssh-command"))
				p.Set("destination_directory", c.String("destination-directory"))
				return nil
			}),
			st.operationCommand(&cli.Command{
				Name:      "backup",
				Usage:     "take a backup of a server now with barman backup (an extension)",
				UsageText: "pg-backup-api create backup --server NAME [--name NAME] [--immediate-checkpoint] [--wait]",
				Description: "Runs `barman backup SERVER --wait` (with --name and --immediate-checkpoint when given), so the " +
					"operation ends DONE once the backup and the WAL it needs are archived. Backups of a server run one " +
					"at a time, in a lane of their own: a recovery or config-switch queued meanwhile does not wait for them.",
			}, ops.BackupOp, nil, nil),
			st.operationCommand(&cli.Command{
				Name:      "keep",
				Usage:     "keep a backup beyond the retention policy, or release it, with barman keep (an extension)",
				UsageText: "pg-backup-api create keep --server NAME --backup-id ID (--target full|standalone | --release) [--wait]",
				Description: "Runs `barman keep SERVER BACKUP --target TARGET` (Barman 2.14 and later): Barman's retention policy " +
					"and `barman delete` then leave the backup alone. With --target full the backup stays recoverable to any " +
					"point after it (the WAL that follows is kept too); with standalone, only the WAL it needs to be consistent " +
					"is kept. --release runs `barman keep SERVER BACKUP --release`, which hands the backup back to the retention " +
					"policy (it needs the delete permission over HTTP). The backup is named as a recovery's is, resolved when the " +
					"operation is created; only a DONE backup can be kept. Keeps run in the server's backup lane, in order with its " +
					"backups and deletes.",
			}, ops.KeepOp, []cli.Flag{requiredBackupIDFlag()}, setBackupID),
			st.operationCommand(&cli.Command{
				Name:      "drill",
				Usage:     "prove a backup restores: restore it on the Barman host, start PostgreSQL on it, run queries, remove it (an extension)",
				UsageText: "pg-backup-api create drill --server NAME [--backup-id ID] [--target-time TIME | --target-lsn LSN | --target-xid XID | --target-name NAME | --target-immediate] [--sql \"QUERY[ => EXPECTED]\"]... [--database DB] [--user ROLE] [--timeout DURATION] [--wait]",
				Description: "Runs `barman recover SERVER BACKUP DIR` on the Barman host itself (no ssh) into a directory of its own under " +
					"the configuration file's [drills] directory, starts PostgreSQL of the backup's major version on it " +
					"(/usr/lib/postgresql/MAJOR/bin, as Barman's user, on a Unix socket in that directory only, with archiving and " +
					"replication off), waits until recovery has ended, runs each --sql query (it must succeed; with \" => EXPECTED\" its first " +
					"value must be EXPECTED, as psql -At prints it; `create --payload FILE` takes any query, e.g. one whose text holds \" => \", as {\"query\": ..., \"expect\": ...}), then stops PostgreSQL and removes the directory, also when a step fails, the drill is " +
					"cancelled or its --timeout passes. A drill that needs more room than the directory's file system has (the backup " +
					"and its WAL) is refused before anything is recorded. Without --backup-id the newest DONE backup is drilled, or with --target-time or --target-lsn the one backup_id auto chooses. " +
					"A recovery target (--target-time, --target-lsn, --target-xid, --target-name, --target-immediate), checked as a recovery's, " +
					"restores to that point rather than the end of the WAL archived, with --target-action=promote, since the drill waits for recovery to end. The " +
					"output records each step with its duration; a failed drill says which step failed and why, with PostgreSQL's log " +
					"lines. Drills run in a lane of their own, so they never hold up a recovery. Over HTTP it needs the recover permission.",
			}, ops.DrillOp, []cli.Flag{
				&cli.StringFlag{Name: "backup-id", Aliases: []string{"b"}, Usage: "backup `ID`, a backup name, or latest/last, oldest/first (default: the newest DONE backup)"},
				&cli.GenericFlag{Name: "sql", Value: &repeated{}, Usage: "a `QUERY` that must succeed, or \"QUERY => EXPECTED\" whose first value must be EXPECTED (the last \" => \" splits); repeat for more"},
				&cli.StringFlag{Name: "database", Usage: "the `DB` the queries run in (default postgres)"},
				&cli.StringFlag{Name: "user", Usage: "the `ROLE` the queries run as (default postgres)"},
				&cli.StringFlag{Name: "timeout", Usage: "stop the drill after `DURATION` (default: runner.drill_timeout, else 2h)"},
			}, func(c *cli.Context, p *pyjson.Object) error {
				if c.IsSet("backup-id") {
					p.Set("backup_id", c.String("backup-id"))
				}
				if c.IsSet("sql") {
					p.Set("sql", drillQueries(c.Generic("sql").(*repeated).values))
				}
				for _, k := range []string{"database", "user", "timeout"} {
					if c.IsSet(k) {
						p.Set(k, c.String(k))
					}
				}
				return nil
			}),
			st.operationCommand(&cli.Command{
				Name:      "delete",
				Usage:     "delete a backup with barman delete (an extension)",
				UsageText: "pg-backup-api create delete --server NAME --backup-id ID [--wait]",
				Description: "Runs `barman delete SERVER BACKUP`. The backup is named as a recovery's is, resolved when the " +
					"operation is created, so a shortcut such as oldest deletes the backup it named then. A kept backup " +
					"(see create keep) is refused before anything is recorded, as Barman refuses it; Barman also refuses to " +
					"go below the server's minimum_redundancy, and the operation then ends FAILED. Deletes run in the server's " +
					"backup lane, in order with its backups and keeps. Over HTTP it needs the delete permission, which recover does not imply.",
			}, ops.DeleteOp, []cli.Flag{requiredBackupIDFlag()}, setBackupID),
			st.operationCommand(&cli.Command{
				Name:      "config-switch",
				Usage:     "apply a model to a server, or remove the active one, with barman config-switch",
				UsageText: "pg-backup-api create config-switch --server NAME (--model-name MODEL | --reset) [--wait]",
			}, ops.ConfigSwitch, []cli.Flag{
				&cli.StringFlag{Name: "model-name", Aliases: []string{"m"}, Usage: "`MODEL` to apply"},
				&cli.BoolFlag{Name: "reset", Usage: "remove the server's active model"},
			}, func(c *cli.Context, p *pyjson.Object) error {
				switch {
				case c.IsSet("model-name") && c.Bool("reset"):
					return usageError("give --model-name or --reset, not both")
				case c.IsSet("model-name"):
					p.Set("model_name", c.String("model-name"))
				case c.Bool("reset"):
					p.Set("reset", true)
				default:
					return usageError("give --model-name MODEL to apply a model, or --reset to remove the active one")
				}
				return nil
			}),
			{
				Name:      "config-update",
				Usage:     "change server or model options with barman config-update",
				UsageText: "pg-backup-api create config-update (--changes JSON | --changes-file FILE|-) [--wait]",
				Description: "The changes are a JSON array of objects, each with \"scope\" (\"server\" or \"model\"), " +
					"\"server_name\" or \"model_name\", and the options to set, e.g.\n" +
					`   [{"scope": "server", "server_name": "db1", "archiver": "on"}]` + "\n" +
					"Sections DEFAULT and barman (in any case) are refused, and so are options that make Barman run a " +
					"command or use a path of the sender's choosing (" + strings.Join(ops.DefaultDeniedConfigKeys, ", ") +
					") unless the configuration file's [config_update] allow_keys lists them; deny_keys refuses more.",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "changes", Aliases: []string{"c"}, Usage: "the changes as a JSON array"},
					&cli.StringFlag{Name: "changes-file", Aliases: []string{"f"}, Usage: "read the changes from `FILE`, or - for standard input"},
					waitFlag(), dryRunFlag(),
					outputFlag(),
				},
				Action: func(c *cli.Context) error {
					var data []byte
					switch {
					case c.IsSet("changes") && c.IsSet("changes-file"):
						return usageError("give --changes or --changes-file, not both")
					case c.IsSet("changes"):
						data = []byte(c.String("changes"))
					case c.IsSet("changes-file"):
						var err error
						if data, err = readInput(c.App.Reader, c.String("changes-file")); err != nil {
							return err
						}
					default:
						return usageError("give the changes with --changes JSON or --changes-file FILE")
					}
					// The text is spliced into an object below, so it must be
					// one JSON array and nothing else: `[...], "key": 1` would
					// add keys to the recorded payload.
					if err := checkJSONArray(data); err != nil {
						return usageError("changes are not a valid JSON array: %v", err)
					}
					// Decode through an object so the array keeps its
					// objects' key order and is checked like a payload.
					wrapped := append(append([]byte(`{"type": "config_update", "changes": `), data...), '}')
					p, err := pyjson.DecodeObject(wrapped, pyjson.DecodeOptions{RejectDuplicateKeys: true})
					if err != nil {
						return usageError("changes are not a valid JSON array: %v", strings.TrimPrefix(err.Error(), "body "))
					}
					return st.create(c, "", p)
				},
			},
		},
	}
}

// operationCommand completes the subcommand of create for a server
// operation of type t: --server, the flags of its own, its Barman options
// (from barman.Options), then --wait, --dry-run and --output; its action
// builds the payload a client would send (type, what fill sets, the
// options given) and creates it.
func (st *appState) operationCommand(cmd *cli.Command, t ops.Type, own []cli.Flag, fill func(*cli.Context, *pyjson.Object) error) *cli.Command {
	cmd.Flags = append([]cli.Flag{&cli.StringFlag{Name: "server", Aliases: []string{"s"}, Required: true, Usage: "Barman server `NAME`"}}, own...)
	cmd.Flags = append(append(cmd.Flags, optionFlags(t)...), waitFlag(), dryRunFlag(), outputFlag())
	cmd.Action = func(c *cli.Context) error {
		p := pyjson.NewObject()
		p.Set("type", string(t))
		if fill != nil {
			if err := fill(c, p); err != nil {
				return err
			}
		}
		if err := setOptions(c, t, p); err != nil {
			return err
		}
		return st.create(c, c.String("server"), p)
	}
	return cmd
}

func requiredBackupIDFlag() cli.Flag {
	return &cli.StringFlag{Name: "backup-id", Aliases: []string{"b"}, Required: true, Usage: "backup `ID`, a backup name, or latest/last, oldest/first, last-failed"}
}

func setBackupID(c *cli.Context, p *pyjson.Object) error {
	p.Set("backup_id", c.String("backup-id"))
	return nil
}

// optionFlags are the flags of an operation type's options, one per row of
// Barman's option table (barman.Options), each named as the Barman option
// it becomes.
func optionFlags(t ops.Type) []cli.Flag {
	var flags []cli.Flag
	for _, spec := range barman.Options.For(t) {
		if spec.Key == "" {
			continue
		}
		name := optionFlagName(spec)
		var aliases []string
		if spec.Short != "" {
			aliases = []string{spec.Short}
		}
		switch spec.Kind {
		case ops.KindBool:
			f := &cli.BoolFlag{Name: name, Aliases: aliases, Usage: spec.Usage}
			if spec.NoFlag != "" {
				// Left out, neither form is given and Barman's configuration
				// or its own default decides (get_wal from recovery_options, say),
				// which need not be false.
				f.DefaultText = "not given: Barman's configuration or default"
			}
			flags = append(flags, f)
		case ops.KindTablespaces:
			// Repeatable, as Barman's own --tablespace NAME:LOCATION.
			flags = append(flags, &cli.GenericFlag{Name: name, Aliases: aliases, Value: &repeated{}, Usage: spec.Usage})
		default:
			flags = append(flags, &cli.StringFlag{Name: name, Aliases: aliases, Usage: spec.Usage})
		}
	}
	return flags
}

func optionFlagName(spec ops.OptionSpec) string { return strings.TrimPrefix(spec.Flag, "--") }

// setOptions puts the option flags that were given into p, as the JSON a
// client would send: numbers for integer options when they read as
// integers, so that validation, which refuses anything else, has the last
// word on every value.
func setOptions(c *cli.Context, t ops.Type, p *pyjson.Object) error {
	for _, spec := range barman.Options.For(t) {
		name := optionFlagName(spec)
		if spec.Key == "" || !c.IsSet(name) {
			continue
		}
		switch spec.Kind {
		case ops.KindBool:
			p.Set(spec.Key, c.Bool(name))
		case ops.KindTablespaces:
			v, err := tablespaceRules(name, c.Generic(name).(*repeated).values)
			if err != nil {
				return err
			}
			p.Set(spec.Key, v)
		case ops.KindInt:
			v := c.String(name)
			if _, err := strconv.ParseInt(v, 10, 64); err == nil {
				p.Set(spec.Key, json.Number(v))
			} else {
				p.Set(spec.Key, v)
			}
		default:
			p.Set(spec.Key, c.String(name))
		}
	}
	return nil
}

// tablespaceRules is the payload's tablespaces object from --tablespace
// values: Barman's NAME:LOCATION (split at the first ':', as Barman splits
// it), once per tablespace, or a JSON object of them. A value that is
// neither is given as text, for validation to refuse in its own words.
func tablespaceRules(flag string, values []string) (any, error) {
	rules := pyjson.NewObject()
	for _, v := range values {
		if strings.HasPrefix(strings.TrimSpace(v), "{") {
			obj, err := pyjson.DecodeObject([]byte(v), pyjson.DecodeOptions{RejectDuplicateKeys: true})
			if err != nil {
				if len(values) == 1 {
					return v, nil
				}
				return nil, usageError("--%s %q is not a JSON object: %v", flag, v, err)
			}
			for _, k := range obj.Keys() {
				loc, _ := obj.Get(k)
				if err := addTablespaceRule(flag, rules, k, loc); err != nil {
					return nil, err
				}
			}
			continue
		}
		name, loc, ok := strings.Cut(v, ":")
		if !ok {
			return nil, usageError("--%s %q: give NAME:LOCATION (e.g. tbs1:/srv/tbs1), once per tablespace, or a JSON object of them", flag, v)
		}
		if err := addTablespaceRule(flag, rules, name, loc); err != nil {
			return nil, err
		}
	}
	return rules, nil
}

func addTablespaceRule(flag string, rules *pyjson.Object, name string, loc any) error {
	if _, dup := rules.Get(name); dup {
		return usageError("--%s gives tablespace %q twice; give each tablespace one location", flag, name)
	}
	rules.Set(name, loc)
	return nil
}

// checkJSONArray reports whether data is exactly one JSON array.
func checkJSONArray(data []byte) error {
	var v json.RawMessage
	if err := json.Unmarshal(data, &v); err != nil {
		return err
	}
	kinds := map[byte]string{'[': "", '{': "an object", '"': "a string", 't': "a boolean", 'f': "a boolean", 'n': "null"}
	kind, ok := kinds[v[0]]
	if !ok {
		kind = "a number"
	}
	if kind != "" {
		return fmt.Errorf("got %s", kind)
	}
	return nil
}

// dryRunFlag is --dry-run, on create and each of its subcommands.
func dryRunFlag() cli.Flag {
	return &cli.BoolFlag{Name: "dry-run", Usage: "check everything a create checks and show the operation and Barman's command line, recording nothing (remotely: only with a server that offers dry runs)"}
}

// create is the one path every create command ends in.
func (st *appState) create(c *cli.Context, server string, payload *pyjson.Object) error {
	p, err := newPrinter(c)
	if err != nil {
		return err
	}
	if c.Bool("dry-run") && c.Bool("wait") {
		return usageError("--dry-run records nothing, so there is nothing to --wait for; give one of them")
	}
	eng, err := st.engine(c)
	if err != nil {
		return err
	}
	if c.Bool("dry-run") {
		op, err := eng.DryRun(server, payload)
		if err != nil {
			return err
		}
		return p.dryRun(op)
	}
	id, err := eng.Create(server, payload)
	var exit cli.ExitCoder
	if errors.As(err, &exit) {
		return err
	}
	if err != nil && id == "" {
		return err
	}
	if err != nil {
		fmt.Fprintf(ioOf(c).ErrOut, "pg-backup-api: warning: %v\n", err)
	}
	if !c.Bool("wait") {
		if p.format == formatJSON {
			return p.json(map[string]any{"operation_id": id, "server": nullableString(server)})
		}
		fmt.Fprintln(p.w, termsafe.Line(id))
		return nil
	}
	if p.format != formatJSON {
		fmt.Fprintln(p.w, termsafe.Line(id))
	}
	op, err := st.waitFor(c, p, eng, server, id)
	if err != nil {
		return err
	}
	return st.reportEnd(c, p, op)
}

// dryRun shows the operation a create would record and Barman's argv.
func (p *printer) dryRun(op *ops.Operation) error {
	if p.format == formatJSON {
		j := dryRunOperationJSON{Type: op.Type, Payload: maskedJSON(payloadOf(op)), ResolvedBackupID: op.ResolvedBackupID(),
			RequestedBy: op.RequestedBy(), BarmanArgv: op.BarmanArgv}
		if op.Server != "" {
			j.Server = &op.Server
		}
		return p.json(dryRunJSON{DryRun: true, Operation: j})
	}
	fmt.Fprintln(p.w, "Dry run: this operation would be created; nothing was recorded.")
	rows := [][]string{
		{"Scope", p.field(scopeLabel(op.Server))},
		{"Type", p.field(string(op.Type))},
		{"Payload", p.field(string(maskedJSON(payloadOf(op))))},
	}
	if id := op.ResolvedBackupID(); id != "" {
		rows = append(rows, []string{"Backup", p.field(id)})
	}
	if who := op.RequestedBy(); who != "" {
		rows = append(rows, []string{"By", p.field(who)})
	}
	rows = append(rows, []string{"Barman", p.field(shellQuote(op.BarmanArgv))})
	for _, r := range rows {
		if _, err := fmt.Fprintf(p.w, "%-10s %s\n", r[0]+":", r[1]); err != nil {
			return err
		}
	}
	return nil
}

// dryRunJSON is the HTTP API's dry-run answer, so that a script reads
// the same either way.
type dryRunJSON struct {
	DryRun    bool                `json:"dry_run"`
	Operation dryRunOperationJSON `json:"operation"`
}

type dryRunOperationJSON struct {
	Server           *string  `json:"server"`
	Type             ops.Type `json:"type"`
	Payload          any      `json:"payload"`
	ResolvedBackupID string   `json:"resolved_backup_id,omitempty"`
	RequestedBy      string   `json:"requested_by,omitempty"`
	BarmanArgv       []string `json:"barman_argv"`
}

// drillExpectSep splits --sql "QUERY => EXPECTED".
const drillExpectSep = " => "

// cutLast is strings.Cut at the last sep.
func cutLast(s, sep string) (before, after string, found bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}
