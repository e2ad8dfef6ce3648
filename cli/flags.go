package cli

// The flags more than one command takes, each defined once so that its
// name, aliases and help read the same everywhere.

import (
	"strings"

	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/urfave/cli/v2"
)

// globalFlagsOf says which global flags each command takes as its own
// (by command path), so that they may follow its name, as people type
// them: `pg-backup-api list --url URL`. -o is each command's own already.
func globalFlagsOf(path string) []cli.Flag {
	switch path {
	case "create", "create recovery", "create config-switch", "create config-update", "create backup", "create keep", "create delete", "create drill",
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
		Name: "config",
		Usage: "our configuration `FILE` (TOML; default: the first found of $XDG_CONFIG_HOME/pg-backup-api/config.toml " +
			"(or ~/.config/pg-backup-api/config.toml) and " + DefaultConfigPath + ", never merged)",
		EnvVars: []string{EnvConfig},
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

// outputFlag is -o, which every command that prints results takes.
func outputFlag() cli.Flag {
	return &cli.StringFlag{
		Name:    "output",
		Aliases: []string{"o"},
		Usage:   "output `FORMAT`: table, plain or json (default: table on a terminal, plain when piped)",
	}
}

// waitFlag is create's --wait.
func waitFlag() cli.Flag {
	return &cli.BoolFlag{Name: "wait", Aliases: []string{"w"}, Usage: "block until the operation ends; exit 0 if DONE, 4 if FAILED"}
}

// serverFlag is --server, with the help of the command that takes it.
func serverFlag(usage string) cli.Flag {
	return &cli.StringFlag{Name: "server", Aliases: []string{"s"}, Usage: usage}
}

// idArgHelp is what the commands that take one operation ID say of it.
const idArgHelp = "ID is what create printed; it names one operation of the whole store, looked up in every scope. " +
	"SERVER/ID (db1/20261206T020000), or ID with --server NAME or --instance, looks in that scope only: " +
	"for IDs that the Python implementation or an older pg-backup-api recorded in several scopes."

// scopeFlags are --server and --instance of the commands that take one
// operation ID: they say which scope it is in, which is otherwise found by
// looking in every scope.
func scopeFlags() []cli.Flag {
	return []cli.Flag{
		serverFlag("the operation belongs to server `NAME` (as SERVER/ID does)"),
		&cli.BoolFlag{Name: "instance", Usage: "the operation is an instance operation"},
	}
}

// repeated is a flag given once per value, each taken whole. urfave/cli's
// StringSliceFlag splits each value at commas, which cut a query such as
// "select count(*), max(id) from t" into two.
type repeated struct{ values []string }

func (r *repeated) Set(v string) error {
	r.values = append(r.values, v)
	return nil
}

func (r *repeated) String() string { return strings.Join(r.values, "\n") }
