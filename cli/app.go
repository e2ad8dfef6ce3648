// Package cli is the pg-backup-api command line: one binary whose commands
// work on the store directly (create, list, inspect) or serve it over HTTP.
package cli

import (
	"fmt"
	"log/slog"
	"os"
	"os/user"
	"strings"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/cli/iostreams"
	"github.com/pg-backup-api/pg-backup-api/internal/jsonlog"
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
	file *FileConfig
	// configPath is the configuration file read ("" when none was found);
	// the runners this process starts read the same one.
	configPath    string
	barmanConfig  string
	barmanCommand string
}

type appState struct {
	build    BuildInfo
	io       *iostreams.IOStreams
	settings settings
	// logFormat is serve's --log-format, when given: the runners it starts
	// write runner.err the same way. Otherwise serve.log_format applies.
	logFormat string
}

// runnerLogFormat is how launched runners write runner.err: as serve logs.
func (st *appState) runnerLogFormat() string {
	if st.logFormat != "" {
		return st.logFormat
	}
	return st.settings.file.Serve.LogFormat
}

// Run runs the application with args (os.Args style).
func Run(app *cli.App, args []string) error {
	prepareUsage(app)
	if err := checkCommand(app, args); err != nil {
		return err
	}
	return app.Run(interspersed(app, splitShortValues(app, args)))
}

// NewApp returns the command-line application on ios: iostreams.System()
// for the process, iostreams.Test() for a test.
func NewApp(build BuildInfo, ios *iostreams.IOStreams) *cli.App {
	st := &appState{build: build, io: ios}
	app := &cli.App{
		Name:      "pg-backup-api",
		Usage:     "ask Barman to recover, switch and update configuration, and track each request",
		Version:   build.Version,
		Reader:    ios.In,
		Writer:    ios.Out,
		ErrWriter: ios.ErrOut,
		Description: "Operations are stored under Barman's barman_home in the layout of the Python pg-backup-api, " +
			"so its files and ours are interchangeable. Commands work on that store directly; `serve` offers " +
			"the same operations over the documented HTTP API.\n\n" + exitCodesHelp,
		EnableBashCompletion: true,
		Flags: []cli.Flag{
			configFlag(),
			barmanConfigFlag(),
			// NO_COLOR is read once by iostreams.New, not as this flag's variable:
			// it counts when set to anything (no-color.org), and urfave/cli
			// would refuse every command for NO_COLOR=yes, not a boolean.
			&cli.BoolFlag{
				Name:  "no-color",
				Usage: "no colour in tables (also when NO_COLOR is set, or TERM=dumb)",
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
			st.backupsCommand(),
			st.cancelCommand(),
			st.waitCommand(),
			st.logsCommand(),
			st.pruneCommand(),
			st.serveCommand(),
			st.statusCommand(),
			st.doctorCommand(),
			st.tokenCommand(),
			st.runCommand(),
			st.versionCommand(),
			st.completeCommand(), // hidden: candidates for the shell completions
		},
		// Without an action urfave/cli answers an unknown command with its
		// help command's exit status 3, which we document as "not found".
		Action: func(c *cli.Context) error {
			if c.Args().Present() {
				// Run's checkCommand says so first; this is for an App
				// run without it.
				return usageError("unknown command %q", c.Args().First())
			}
			return cli.ShowAppHelp(c)
		},
		// main decides how to exit, so tests can run the app in process.
		ExitErrHandler: func(*cli.Context, error) {},
	}
	app.Metadata = map[string]any{ioKey: ios}
	app.Flags = append(app.Flags, remoteFlags()...)
	app.Flags = append(app.Flags, outputFlag())
	addGlobalFlags(app.Commands, "")
	loadFirst(st, app.Commands)
	return app
}

// loadFirst makes every command resolve the settings before its action.
// It cannot be the app's Before: that runs before the command's own flags
// are parsed, and --config may come after the command name.
func loadFirst(st *appState, commands []*cli.Command) {
	for _, cmd := range commands {
		if action := cmd.Action; action != nil {
			cmd.Action = func(c *cli.Context) error {
				// doctor reads the configuration itself: a file that does
				// not load is one of the things it reports.
				if c.Command.Name == "doctor" {
					return withHelpHint(action(c), commandPath(c))
				}
				// __complete loads the settings itself: whatever fails,
				// it prints nothing, not an error, into the shell.
				if c.Command.Name == "__complete" {
					return action(c)
				}
				if err := st.load(c); err != nil {
					return st.logExit(c, exitError(err))
				}
				return st.logExit(c, exitError(withHelpHint(action(c), commandPath(c))))
			}
		}
		loadFirst(st, cmd.Subcommands)
	}
}

// load resolves the global settings before a command runs. c is the
// command's context: a flag the command takes is read from it, any other
// from the application's.
func (st *appState) load(c *cli.Context) error {
	path, required := findConfig(c)
	file := &FileConfig{}
	if path != "" {
		var err error
		if file, err = LoadFileConfig(path, required); err != nil {
			return ops.Errorf(ops.EINVALID, "%v", err)
		}
	}
	st.settings = newSettings(c, file, path)
	// Runners are started by serve or the CLI, which have warned already;
	// completion candidates go to a shell, which shows stderr as noise.
	if name := c.Command.Name; name != "run" && name != "__complete" {
		if w := secretsWarning(path, file); w != "" {
			st.warn(c, w)
		}
	}
	return nil
}

// processLogFormat is the format of this process's log: serve's and a runner's
// --log-format, else serve.log_format, else text. Other commands talk to a
// person at a terminal: text.
func (st *appState) processLogFormat(c *cli.Context) string {
	var format string
	switch c.Command.Name {
	case "serve":
		format = c.String("log-format")
	case "run":
		format = runLogFormatArg(c.Args().Slice())
	default:
		return jsonlog.Text
	}
	if format == "" && st.settings.file != nil {
		format = st.settings.file.Serve.LogFormat
	}
	if f, err := jsonlog.ParseFormat(format); err == nil {
		return f
	}
	return jsonlog.Text
}

// runLogFormatArg is run's --log-format among its unparsed arguments
// (runner.ParseRunArgs parses them later, and refuses a bad one).
func runLogFormatArg(args []string) string {
	for i, a := range args {
		name, value, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		if !strings.HasPrefix(a, "-") || name != "log-format" {
			continue
		}
		if hasValue {
			return value
		}
		if i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// warn tells the operator something they should fix: on serve's log, in
// its format, so that a JSON log stays JSON from its first line; from
// other commands, as a line of text on standard error.
func (st *appState) warn(c *cli.Context, msg string) {
	if c.Command.Name != "serve" && c.Command.Name != "run" {
		fmt.Fprintf(ioOf(c).ErrOut, "pg-backup-api: warning: %s\n", msg)
		return
	}
	if log, err := jsonlog.New(ioOf(c).ErrOut, st.processLogFormat(c), slog.LevelInfo); err == nil {
		log.Warn(msg)
	}
}

// logExit is how serve and a runner end with an error: as a record of
// their log, in its format, rather than as a line of text after lines of
// JSON. The process still exits with the error's code.
func (st *appState) logExit(c *cli.Context, err error) error {
	if err == nil || st.processLogFormat(c) != jsonlog.JSON {
		return err
	}
	code, msg := ExitCode(err)
	if msg == "" {
		return err
	}
	if log, lerr := jsonlog.New(ioOf(c).ErrOut, jsonlog.JSON, slog.LevelInfo); lerr == nil {
		log.Error(strings.TrimPrefix(msg, "pg-backup-api: "))
		return cli.Exit("", code)
	}
	return err
}

// service returns the engine, wired to a launcher that starts runners.
func (st *appState) service() *ops.Service {
	return &ops.Service{
		Barman:    barman.NewReader(st.settings.barmanConfig),
		OpenStore: st.openStore(slog.New(slog.NewTextHandler(st.io.ErrOut, nil))),
		Version:   st.build.Version,
		Policy:    st.settings.file.policy(),
		Launcher: &runner.Launcher{
			Config:        st.settings.configPath,
			BarmanCommand: st.settings.barmanCommand,
			Parallel:      st.settings.file.Runner.Parallel,
			Timeouts:      st.settings.file.Runner.timeouts(),
			LogFormat:     st.runnerLogFormat(),
		},
		BarmanVersion: barman.NewCommand(st.settings.barmanCommand).Version,
		Argv:          barman.NewCommand(st.settings.barmanCommand).WithPolicy(st.settings.file.policy()).Args,
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

// newSettings is what a command runs with: the file read from path, then
// the flags (and their environment variables) over it.
func newSettings(c *cli.Context, file *FileConfig, path string) settings {
	s := settings{file: file, configPath: path, barmanConfig: ops.DefaultBarmanConfig, barmanCommand: "barman"}
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
	return s
}
