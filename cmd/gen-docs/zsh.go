package main

import (
	"fmt"
	"strings"

	"github.com/pg-backup-api/pg-backup-api/cli"
)

// zshDesc escapes text for the [description] of an _arguments spec.
func zshDesc(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `[`, `\[`, `]`, `\]`)
	return r.Replace(s)
}

func zshFuncName(name string, path []string) string {
	return "_" + strings.Join(append([]string{name}, path...), "_")
}

func zshCompletion(name string, m *docCommand) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	w("#compdef %s\n\n# zsh completion for %s\n# %s\n", name, name, generatedNotice)
	w("# Install as _%s in a directory of $fpath (e.g. /usr/share/zsh/vendor-completions),\n", name)
	w("# or source it after compinit. Server, model, remote and backup names and\n")
	w("# operation IDs come from `%s __complete KIND`.\n\n", name)

	var globals []string
	for _, f := range m.valuedFlags() {
		globals = append(globals, "--"+f.long)
	}
	w(`# _%[1]s_dynamic KIND DESCRIPTION [SERVER]: asks the binary being completed,
# with the global options of the command line; any error completes nothing.
_%[1]s_dynamic() {
  local -a items expl
  items=(${(f)"$(${~_%[2]s_cmd:-%[1]s} "${_%[2]s_globals[@]}" __complete $1 "${@[3,-1]}" 2>/dev/null </dev/null)"})
  _wanted $1 expl $2 compadd -a items
}

`, name, zshVar(name))
	for _, kind := range cli.CompleteKinds() {
		server := ""
		if cli.CompleteTakesServer(kind) {
			// The --server of the command being completed, as _arguments
			// has parsed it.
			server = ` "${opt_args[--server]:-${opt_args[-s]}}"`
		}
		w("%s() { _%s_dynamic %s %s%s }\n", zshKindFunc(name, kind), name, kind, shQuote(strings.TrimSuffix(kind, "s")), server)
	}
	w("\n")

	for _, d := range m.all() {
		fn := zshFuncName(name, d.path)
		if len(d.subs) > 0 {
			w("%s_commands() {\n  local -a cmds\n  cmds=(\n", fn)
			for _, s := range d.subs {
				for _, n := range s.names {
					w("    %s\n", shQuote(n+":"+s.usage))
				}
			}
			what := "command"
			if len(d.path) > 0 {
				what = d.pathString() + " operation"
			}
			w("  )\n  _describe -t commands %s cmds\n}\n\n", shQuote(what))
		}

		w("%s() {\n", fn)
		if len(d.subs) > 0 {
			w("  local curcontext=$curcontext state state_descr line ret=1\n  typeset -A opt_args\n")
		}
		if len(d.path) == 0 {
			w("  local _%s_cmd=${words[1]}\n", zshVar(name))
		}
		specs := []string{"_arguments -s -S"}
		if len(d.subs) > 0 {
			specs[0] += " -C"
		}
		for _, f := range d.flags {
			specs = append(specs, zshFlagSpec(name, f))
		}
		switch {
		case len(d.subs) > 0:
			opt := ""
			if len(d.path) > 0 {
				opt = ":" // create also works without an operation (--payload)
			}
			// (-): once the command word is there, this level's options end.
			specs = append(specs, shQuote("(-)1:"+opt+" :"+fn+"_commands"), "'(-)*:: :->args' && ret=0")
		case d.args.dynamic != "":
			specs = append(specs, shQuote("1: :"+zshKindFunc(name, d.args.dynamic)))
		case d.args.commands:
			specs = append(specs, shQuote("1: :_"+name+"_commands"))
		}
		w("  %s\n", strings.Join(specs, " \\\n    "))
		if len(d.subs) > 0 {
			w("  case $state in\n  args)\n")
			if len(d.path) == 0 {
				w("    local -a _%s_globals\n    local o\n", zshVar(name))
				w("    for o in %s; do\n", strings.Join(globals, " "))
				w("      (( ${+opt_args[$o]} )) && _%[1]s_globals+=($o ${opt_args[$o]})\n", zshVar(name))
				w("    done\n")
			}
			w("    curcontext=${curcontext%%:*:*}:%s-$words[1]:\n", strings.Join(append([]string{name}, d.path...), "-"))
			w("    case $words[1] in\n")
			for _, s := range d.subs {
				w("    %s) %s && ret=0 ;;\n", strings.Join(s.names, "|"), zshFuncName(name, s.path))
			}
			w("    esac\n    ;;\n  esac\n  return ret\n")
		}
		w("}\n\n")
	}
	w(`if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  # autoloaded from $fpath
  _%[1]s "$@"
else
  # sourced
  compdef _%[1]s %[1]s
fi
`, name)
	return b.String()
}

// zshKindFunc names the function that completes a kind of __complete: two
// underscores keep it apart from a command's function (_NAME_backups
// completes the backups command).
func zshKindFunc(name, kind string) string { return "_" + name + "__" + kind }

func zshVar(name string) string { return strings.ReplaceAll(name, "-", "_") }

func zshFlagSpec(name string, f docFlag) string {
	desc := shQuote("[" + zshDesc(f.usage) + "]")
	var action string
	if f.value != "" {
		switch {
		case f.complete.dynamic != "":
			action = ":" + f.value + ":" + zshKindFunc(name, f.complete.dynamic)
		case len(f.complete.words) > 0:
			action = ":" + f.value + ":(" + strings.Join(f.complete.words, " ") + ")"
		case f.complete.files:
			action = ":" + f.value + ":_files"
		default:
			action = ":" + f.value + ": "
		}
		action = shQuote(action)
	}
	long, short := "--"+f.long, "-"+f.short
	if f.value != "" {
		long += "="
		short += "+"
	}
	excl := "(" + strings.Join(f.options(), " ") + ")"
	if f.long == "help" || f.long == "version" {
		excl = "(- *)"
	}
	if f.short == "" {
		return shQuote(excl) + long + desc + action
	}
	return shQuote(excl) + "{" + short + "," + long + "}" + desc + action
}
