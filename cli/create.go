package cli

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/internal/termsafe"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/urfave/cli/v2"
)

func (st *appState) createCommand() *cli.Command {
	return &cli.Command{
		Name:      "create",
		Usage:     "register an operation and start Barman for it",
		UsageText: "pg-backup-api create recovery|config-switch|config-update|backup [flags]\npg-backup-api create --payload FILE|- [--server NAME] [--wait]",
		Description: "Each operation is validated against Barman's configuration and backup catalog, recorded, and run " +
			"by a background runner (one per server, one at a time; backups in a lane of their own, so that a long backup " +
			"does not hold up the others). The operation ID is printed at once; " +
			"--wait blocks until Barman is done.\n\n" +
			"--payload takes the documented JSON request body as-is, so the files of the HTTP API's curl examples work unchanged.",
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "payload", Aliases: []string{"p"}, Usage: "documented JSON payload `FILE`, or - for standard input"},
			serverFlag("server `NAME` for server operations (recovery, config_switch, backup)"),
			waitFlag(),
			outputFlag(),
		},
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usageError("unknown operation %q: use recovery, config-switch, config-update, backup or --payload", c.Args().First())
			}
			if !c.IsSet("payload") {
				return usageError("say what to create: recovery, config-switch, config-update, backup, or --payload FILE (see --help)")
			}
			data, err := readInput(c.App.Reader, c.String("payload"))
			if err != nil {
				return err
			}
			payload, err := pyjson.DecodeObject(data, pyjson.DecodeOptions{RejectDuplicateKeys: true})
			if err != nil {
				return usageError("payload %s: %v", c.String("payload"), err)
			}
			return st.create(c, c.String("server"), payload)
		},
		Subcommands: []*cli.Command{
			{
				Name:      "recovery",
				Usage:     "restore a backup to a remote host with barman recover",
				UsageText: "pg-backup-api create recovery --server NAME [--backup-id ID] --remote-ssh-command CMD --destination-directory DIR [TARGET] [OPTIONS] [--wait]",
				Description: "Without a target, Barman replays every WAL file it has: the database comes back as it is now. " +
					"A target stops the replay earlier; give at most one of --target-time, --target-lsn, --target-xid, " +
					"--target-name and --target-immediate. With --target-time and no --backup-id (or --backup-id auto), " +
					"the newest DONE backup that ended before the target is chosen. Each target and option is " +
					"the `barman recover` option of the same name, checked before anything is recorded.",
				Flags: append([]cli.Flag{
					&cli.StringFlag{Name: "server", Aliases: []string{"s"}, Required: true, Usage: "Barman server `NAME`"},
					&cli.StringFlag{Name: "backup-id", Aliases: []string{"b"}, Usage: "backup `ID`, or latest/last, oldest/first, last-failed; auto (or none) chooses one for --target-time"},
					&cli.StringFlag{Name: "remote-ssh-command", Required: true, Usage: "SSH `COMMAND` that reaches the target host, e.g. \"ssh postgres@db1\""},
					&cli.StringFlag{Name: "destination-directory", Aliases: []string{"d"}, Required: true, Usage: "absolute `DIR` on the target host to restore into"},
					waitFlag(),
					outputFlag(),
				}, recoveryOptionFlags()...),
				Action: func(c *cli.Context) error {
					p := pyjson.NewObject()
					p.Set("type", string(ops.Recovery))
					if c.IsSet("backup-id") {
						p.Set("backup_id", c.String("backup-id"))
					}
					p.Set("remote_ssh_command", c.String("remote-ssh-command"))
					p.Set("destination_directory", c.String("destination-directory"))
					setRecoveryOptions(c, p)
					return st.create(c, c.String("server"), p)
				},
			},
			{
				Name:      "backup",
				Usage:     "take a backup of a server now with barman backup (an extension)",
				UsageText: "pg-backup-api create backup --server NAME [--name NAME] [--immediate-checkpoint] [--wait]",
				Description: "Runs `barman backup SERVER --wait` (with --name and --immediate-checkpoint when given), so the " +
					"operation ends DONE once the backup and the WAL it needs are archived. Backups of a server run one " +
					"at a time, in a lane of their own: a recovery or config-switch queued meanwhile does not wait for them.",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "server", Aliases: []string{"s"}, Required: true, Usage: "Barman server `NAME`"},
					&cli.StringFlag{Name: "name", Aliases: []string{"n"}, Usage: "a backup `NAME` that recoveries can use in place of its ID (Barman 3.3 and later)"},
					&cli.BoolFlag{Name: "immediate-checkpoint", Usage: "ask PostgreSQL for an immediate checkpoint rather than a spread one"},
					waitFlag(),
					outputFlag(),
				},
				Action: func(c *cli.Context) error {
					p := pyjson.NewObject()
					p.Set("type", string(ops.BackupOp))
					if c.IsSet("name") {
						p.Set("backup_name", c.String("name"))
					}
					if c.IsSet("immediate-checkpoint") {
						p.Set("immediate_checkpoint", c.Bool("immediate-checkpoint"))
					}
					return st.create(c, c.String("server"), p)
				},
			},
			{
				Name:      "config-switch",
				Usage:     "apply a model to a server, or remove the active one, with barman config-switch",
				UsageText: "pg-backup-api create config-switch --server NAME (--model-name MODEL | --reset) [--wait]",
				Flags: []cli.Flag{
					&cli.StringFlag{Name: "server", Aliases: []string{"s"}, Required: true, Usage: "Barman server `NAME`"},
					&cli.StringFlag{Name: "model-name", Aliases: []string{"m"}, Usage: "`MODEL` to apply"},
					&cli.BoolFlag{Name: "reset", Usage: "remove the server's active model"},
					waitFlag(),
					outputFlag(),
				},
				Action: func(c *cli.Context) error {
					p := pyjson.NewObject()
					p.Set("type", string(ops.ConfigSwitch))
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
					return st.create(c, c.String("server"), p)
				},
			},
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
					waitFlag(),
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

// recoveryOptionFlags are the flags of a recovery's targets and options,
// one per payload key (ops.RecoveryOptionKeys), with dashes for
// underscores.
func recoveryOptionFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "target-time", Usage: "recover to this `TIME`, with a zone (RFC 3339, e.g. 2026-01-02T14:02:00+01:00)"},
		&cli.StringFlag{Name: "target-lsn", Usage: "recover to this WAL location `LSN` (X/X, e.g. 0/3000060)"},
		&cli.StringFlag{Name: "target-xid", Usage: "recover to this transaction `XID`"},
		&cli.StringFlag{Name: "target-name", Usage: "recover to this restore point `NAME` (pg_create_restore_point)"},
		&cli.BoolFlag{Name: "target-immediate", Usage: "end recovery as soon as the backup is consistent"},
		&cli.StringFlag{Name: "target-tli", Usage: "recover along timeline `TLI`: a number, current or latest"},
		&cli.StringFlag{Name: "target-action", Usage: "what PostgreSQL does at the target: `ACTION` pause, shutdown or promote (needs a target)"},
		&cli.BoolFlag{Name: "exclusive", Usage: "stop just before the target (needs --target-time, --target-lsn or --target-xid)"},
		&cli.BoolFlag{Name: "standby-mode", Usage: "start the restored cluster as a standby"},
		&cli.BoolFlag{Name: "get-wal", Usage: "fetch WAL from Barman with get-wal during recovery (--get-wal=false: do not)"},
		&cli.StringFlag{Name: "jobs", Aliases: []string{"j"}, Usage: "copy with `N` parallel jobs (1-64)"},
		&cli.StringFlag{Name: "bwlimit", Usage: "limit the copy to `KBPS` kilobytes per second (0: no limit)"},
	}
}

// setRecoveryOptions puts the recovery option flags that were given into p,
// as the JSON a client would send: numbers for jobs and bwlimit when they
// read as integers, so that validation, which refuses anything else, has
// the last word on every value.
func setRecoveryOptions(c *cli.Context, p *pyjson.Object) {
	for _, key := range ops.RecoveryOptionKeys {
		name := strings.ReplaceAll(key, "_", "-")
		if !c.IsSet(name) {
			continue
		}
		switch key {
		case "target_immediate", "exclusive", "standby_mode", "get_wal":
			p.Set(key, c.Bool(name))
		case "jobs", "bwlimit":
			v := c.String(name)
			if _, err := strconv.ParseInt(v, 10, 64); err == nil {
				p.Set(key, json.Number(v))
			} else {
				p.Set(key, v)
			}
		default:
			p.Set(key, c.String(name))
		}
	}
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

// create is the one path every create command ends in.
func (st *appState) create(c *cli.Context, server string, payload *pyjson.Object) error {
	p, err := newPrinter(c)
	if err != nil {
		return err
	}
	eng, err := st.engine(c)
	if err != nil {
		return err
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
