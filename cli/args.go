package cli

import (
	"strings"

	"github.com/urfave/cli/v2"
)

// interspersed reorders arguments into what urfave/cli v2 can parse, so
// that flags go where people type them:
//   - a command's flags may follow its positional arguments
//     (`inspect ID -o json` as well as `inspect -o json ID`): urfave/cli
//     stops reading flags at the first positional argument;
//   - a global flag may follow the command name (`list --url URL`): one the
//     command does not take goes back before the command name;
//   - a global flag that the command takes as its own (see globalFlagsOf)
//     moves after the command name, so the command reads one value.
//
// Where a flag is given both before and after the command, the one after
// comes last and wins, as the last of a repeated flag does.
func interspersed(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	rest := args[1:]
	// Shell completion asks with a last argument urfave/cli looks for there.
	var tail []string
	if n := len(rest); n > 0 && rest[n-1] == "--generate-bash-completion" {
		rest, tail = rest[:n-1], rest[n-1:]
	}
	// Global flags come before the command name.
	var global [][]string
	for len(rest) > 0 && strings.HasPrefix(rest[0], "-") && rest[0] != "--" {
		n := 1
		if takesValue(app.Flags, rest[0]) && len(rest) > 1 {
			n = 2
		}
		global = append(global, rest[:n])
		rest = rest[n:]
	}
	out := []string{args[0]}
	commands := app.Commands
	var cmd *cli.Command
	var names []string
	for len(rest) > 0 {
		next := findCommand(commands, rest[0])
		if next == nil {
			break
		}
		cmd = next
		names = append(names, rest[0])
		rest = rest[1:]
		commands = cmd.Subcommands
	}
	if cmd == nil || cmd.SkipFlagParsing {
		for _, g := range global {
			out = append(out, g...)
		}
		return append(append(append(out, names...), rest...), tail...)
	}
	var before, moved []string
	for _, g := range global {
		if movable(g[0]) && hasFlag(cmd.Flags, g[0]) {
			moved = append(moved, g...)
		} else {
			before = append(before, g...)
		}
	}
	var flags, positional []string
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			positional = append(positional, rest[i:]...)
			break
		}
		if strings.HasPrefix(a, "-") && a != "-" {
			set, dst := cmd.Flags, &flags
			if !hasFlag(cmd.Flags, a) && movable(a) && hasFlag(app.Flags, a) {
				set, dst = app.Flags, &before
			}
			*dst = append(*dst, a)
			if takesValue(set, a) && i+1 < len(rest) {
				*dst = append(*dst, rest[i+1])
				i++
			}
			continue
		}
		positional = append(positional, a)
	}
	out = append(append(append(out, before...), names...), moved...)
	return append(append(append(out, flags...), positional...), tail...)
}

func findCommand(commands []*cli.Command, name string) *cli.Command {
	for _, c := range commands {
		if c.HasName(name) {
			return c
		}
	}
	return nil
}

// flagName is the name in a flag argument: "url" in --url, -url, --url=X.
func flagName(arg string) string {
	name := strings.TrimLeft(arg, "-")
	name, _, _ = strings.Cut(name, "=")
	return name
}

// movable reports whether a flag may change places: not help and version,
// which mean something different before and after a command name.
func movable(arg string) bool {
	switch flagName(arg) {
	case "help", "h", "version", "v", "generate-bash-completion":
		return false
	}
	return true
}

func hasFlag(flags []cli.Flag, arg string) bool {
	name := flagName(arg)
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				return true
			}
		}
	}
	return false
}

// takesValue reports whether arg is a flag that needs the next argument as
// its value (not a boolean, and not written as --flag=value).
func takesValue(flags []cli.Flag, arg string) bool {
	name := strings.TrimLeft(arg, "-")
	if strings.Contains(name, "=") {
		return false
	}
	for _, f := range flags {
		for _, n := range f.Names() {
			if n == name {
				if df, ok := f.(cli.DocGenerationFlag); ok {
					return df.TakesValue()
				}
				return true
			}
		}
	}
	return false
}
