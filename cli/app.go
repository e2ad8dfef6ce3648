// Package cli is the pg-backup-api command line: one binary whose commands
// work on the store directly (create, list, inspect) or serve it over HTTP.
package cli

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/user"
	"strings"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/runner"
	"github.com/urfave/cli/v2"
)

// BuildInfo is stamped in at release time.
type BuildInfo struct {
	Version, Commit, Date string
}

// Environment variables we read.
const (
	EnvConfig        = "PG_BACKUP_API_CONFIG"
	EnvBarmanConfig  = "PG_BACKUP_API_BARMAN_CONF" // the reference implementation's name
	EnvBarmanCommand = "PG_BACKUP_API_BARMAN_COMMAND"
)

// settings are the resolved global settings: flag, else environment, else
// config file, else default.
type settings struct {
	file          *FileConfig
	barmanConfig  string
	barmanCommand string
}

type appState struct {
	build    BuildInfo
	settings settings
}

// Run runs the application with args (os.Args style).
func Run(app *cli.App, args []string) error {
	return app.Run(interspersed(app, args))
}

// NewApp returns the command-line application.
func NewApp(build BuildInfo, stdout, stderr io.Writer) *cli.App {
	st := &appState{build: build}
	app := &cli.App{
		Name:      "pg-backup-api",
		Usage:     "ask Barman to recover, switch and update configuration, and track each request",
		Version:   build.Version,
		Writer:    stdout,
		ErrWriter: stderr,
		Description: "Operations are stored under Barman's barman_home in the layout of the Python pg-backup-api, " +
			"so its files and ours are interchangeable. Commands work on that store directly; `serve` offers " +
			"the same operations over the documented HTTP API.\n\n" + exitCodesHelp,
		EnableBashCompletion: true,
		Flags: []cli.Flag{
			configFlag(),
			barmanConfigFlag(),
			// NO_COLOR is read by newPrinter, not as this flag's variable:
			// it counts when set to anything (no-color.org), and urfave/cli
			// would refuse every command for NO_COLOR=yes, not a boolean.
			&cli.BoolFlag{
				Name:  "no-color",
				Usage: "no colour in tables (also when NO_COLOR is set)",
			},
			&cli.BoolFlag{
				Name:  "require-barman-user",
				Usage: "refuse to run as any user but Barman's barman_user (default: warn)",
			},
			&cli.StringFlag{
				Name:    "barman-command",
				Usage:   "`COMMAND` that runs Barman, split on spaces, never through a shell (default: barman)",
				EnvVars: []string{EnvBarmanCommand},
			},
		},
		Commands: []*cli.Command{
			st.createCommand(),
			st.listCommand(),
			st.inspectCommand(),
			st.cancelCommand(),
			st.waitCommand(),
			st.logsCommand(),
			st.pruneCommand(),
			st.serveCommand(),
			st.statusCommand(),
			st.tokenCommand(),
			st.runCommand(),
			st.versionCommand(),
			st.completeCommand(), // hidden: candidates for the shell completions
			st.genDocsCommand(),  // hidden: make docs
		},
		// Without an action urfave/cli answers an unknown command with its
		// help command's exit status 3, which we document as "not found".
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				return usageError("unknown command %q (see pg-backup-api --help)", c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
		// main decides how to exit, so tests can run the app in process.
		ExitErrHandler: func(*cli.Context, error) {},
	}
	app.Flags = append(app.Flags, remoteFlags()...)
	app.Flags = append(app.Flags, outputFlag())
	addGlobalFlags(app.Commands, "")
	loadFirst(st, app.Commands)
	return app
}

// globalFlagsOf says which global flags each command takes as its own
// (by command path), so that they may follow its name, as people type
// them: `pg-backup-api list --url URL`. -o is each command's own already.
func globalFlagsOf(path string) []cli.Flag {
	switch path {
	case "create", "create recovery", "create config-switch", "create config-update", "create backup",
		"list", "inspect", "cancel", "wait", "logs":
		return storeFlags()
	case "prune", "serve":
		// prune refuses --url and --remote itself (it removes local files);
		// serve is the server.
		return []cli.Flag{configFlag(), barmanConfigFlag()}
	case "status":
		// status has its own --url: the server to check.
		return []cli.Flag{configFlag()}
	}
	return nil
}

func addGlobalFlags(commands []*cli.Command, parent string) {
	for _, cmd := range commands {
		path := strings.TrimPrefix(parent+" "+cmd.Name, " ")
		cmd.Flags = append(cmd.Flags, globalFlagsOf(path)...)
		addGlobalFlags(cmd.Subcommands, path)
	}
}

// configFlag and barmanConfigFlag are global flags that the commands using
// them take too, so they can be typed before or after the command name.
func configFlag() cli.Flag {
	return &cli.StringFlag{
		Name:    "config",
		Usage:   "our configuration `FILE` (TOML)",
		EnvVars: []string{EnvConfig},
		Value:   DefaultConfigPath,
	}
}

func barmanConfigFlag() cli.Flag {
	return &cli.StringFlag{
		Name:    "barman-config",
		Usage:   "Barman's configuration `FILE` (default: barman_config from the config file, else " + ops.DefaultBarmanConfig + ")",
		EnvVars: []string{EnvBarmanConfig},
	}
}

// storeFlags are the global flags of a command that reads the local store
// or, with --url or --remote, a server's.
func storeFlags() []cli.Flag {
	return append([]cli.Flag{configFlag(), barmanConfigFlag()}, remoteFlags()...)
}

// loadFirst makes every command resolve the settings before its action.
// It cannot be the app's Before: that runs before the command's own flags
// are parsed, and --config may come after the command name.
func loadFirst(st *appState, commands []*cli.Command) {
	for _, cmd := range commands {
		if action := cmd.Action; action != nil {
			cmd.Action = func(c *cli.Context) error {
				if err := st.load(c); err != nil {
					return err
				}
				return action(c)
			}
		}
		loadFirst(st, cmd.Subcommands)
	}
}

// load resolves the global settings before a command runs. c is the
// command's context: a flag the command takes is read from it, any other
// from the application's.
func (st *appState) load(c *cli.Context) error {
	path := c.String("config")
	file, err := LoadFileConfig(path, c.IsSet("config"))
	if err != nil {
		return cli.Exit("pg-backup-api: "+err.Error(), ExitUsage)
	}
	s := settings{file: file, barmanConfig: ops.DefaultBarmanConfig, barmanCommand: "barman"}
	if file.BarmanConfig != "" {
		s.barmanConfig = file.BarmanConfig
	}
	if c.IsSet("barman-config") {
		s.barmanConfig = c.String("barman-config")
	}
	if file.BarmanCommand != "" {
		s.barmanCommand = file.BarmanCommand
	}
	if c.IsSet("barman-command") {
		s.barmanCommand = c.String("barman-command")
	}
	st.settings = s
	return nil
}

// service returns the engine, wired to a launcher that starts runners.
func (st *appState) service() *ops.Service {
	return &ops.Service{
		Barman:    barman.NewReader(st.settings.barmanConfig),
		OpenStore: st.openStore(slog.New(slog.NewTextHandler(os.Stderr, nil))),
		Version:   st.build.Version,
		Policy:    st.settings.file.ConfigUpdate.policy(),
		Launcher: &runner.Launcher{
			BarmanCommand: st.settings.barmanCommand,
			Parallel:      st.settings.file.Runner.Parallel,
			Timeouts:      st.settings.file.Runner.timeouts(),
		},
		BarmanVersion: barman.NewCommand(st.settings.barmanCommand).Version,
	}
}

// cliRequester names the person at the shell for the audit trail.
func cliRequester() ops.Requester {
	name := fmt.Sprintf("uid:%d", os.Getuid())
	if u, err := user.Current(); err == nil {
		name = u.Username
	}
	return ops.Requester{Name: "cli:" + name}
}

func (st *appState) versionCommand() *cli.Command {
	return &cli.Command{
		Name:  "version",
		Usage: "print the version, commit and build date",
		Flags: []cli.Flag{outputFlag()},
		Action: func(c *cli.Context) error {
			p, err := newPrinter(c)
			if err != nil {
				return err
			}
			if p.format == formatJSON {
				return p.json(map[string]string{"version": st.build.Version, "commit": st.build.Commit, "date": st.build.Date})
			}
			fmt.Fprintf(p.w, "pg-backup-api %s (commit %s, built %s)\n", st.build.Version, st.build.Commit, st.build.Date)
			return nil
		},
	}
}
