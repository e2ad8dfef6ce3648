package main

import (
	"fmt"
	"strings"

	"github.com/pg-backup-api/pg-backup-api/cli"
)

// shQuote quotes s for bash and zsh alike: single quotes, and an embedded
// quote closed, escaped and reopened.
func shQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func bashCompletion(name string, m *docCommand) string {
	var b strings.Builder
	fn := "_" + strings.ReplaceAll(name, "-", "_")
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	w("# bash completion for %s  -*- shell-script -*-\n", name)
	w("#\n# %s\n", generatedNotice)
	w("# Install as /usr/share/bash-completion/completions/%s, or source it.\n", name)
	w("# Server, model, remote and backup names and operation IDs come from\n")
	w("# `%s __complete KIND`, which reads Barman's configuration, its catalog, the\n", name)
	w("# store and the config file with the global options given on the command line\n")
	w("# being completed.\n\n")

	// Command paths.
	w("# %s_sub PATH WORD: prints the command path that WORD leads to from PATH.\n", fn)
	w("%s_sub() {\n    case \"$1:$2\" in\n", fn)
	for _, d := range m.all() {
		for _, s := range d.subs {
			var pats []string
			for _, n := range s.names {
				pats = append(pats, shQuote(d.pathString()+":"+n))
			}
			w("    %s) echo %s ;;\n", strings.Join(pats, "|"), shQuote(s.pathString()))
		}
	}
	w("    *) return 1 ;;\n    esac\n}\n\n")

	// Options that take a value.
	w("# %s_valued PATH OPTION: succeeds when OPTION takes a value in PATH.\n", fn)
	w("%s_valued() {\n    case \"$1:$2\" in\n", fn)
	for _, d := range m.all() {
		var pats []string
		for _, f := range d.flags {
			if f.value == "" {
				continue
			}
			for _, o := range f.options() {
				pats = append(pats, shQuote(d.pathString()+":"+o))
			}
		}
		if len(pats) > 0 {
			w("    %s) return 0 ;;\n", strings.Join(pats, "|"))
		}
	}
	w("    esac\n    return 1\n}\n\n")

	// What each command offers.
	w("# %s_spec PATH: sets cmds (subcommands), opts (options) and args (what\n", fn)
	w("# its arguments are: a kind of __complete, commands or nothing).\n")
	w("%s_spec() {\n    cmds= opts= args=\n    case $1 in\n", fn)
	for _, d := range m.all() {
		var cmds, opts []string
		for _, s := range d.subs {
			cmds = append(cmds, s.names...)
		}
		for _, f := range d.flags {
			opts = append(opts, "--"+f.long)
		}
		w("    %s)\n", shQuote(d.pathString()))
		if len(cmds) > 0 {
			w("        cmds=%s\n", shQuote(strings.Join(cmds, " ")))
		}
		w("        opts=%s\n", shQuote(strings.Join(opts, " ")))
		switch {
		case d.args.dynamic != "":
			w("        args=%s\n", d.args.dynamic)
		case d.args.commands:
			w("        args=commands\n")
		}
		w("        ;;\n")
	}
	w("    esac\n}\n\n")

	// Values.
	w("# %s_value PATH OPTION: completes the value of OPTION into COMPREPLY.\n", fn)
	w("%s_value() {\n    case \"$1:$2\" in\n", fn)
	type group struct {
		action string
		pats   []string
	}
	var groups []*group
	byAction := map[string]*group{}
	for _, d := range m.all() {
		for _, f := range d.flags {
			var action string
			switch {
			case f.value == "":
				continue
			case f.complete.dynamic != "":
				action = fn + "_dynamic " + f.complete.dynamic
			case len(f.complete.words) > 0:
				action = fn + "_words " + shQuote(strings.Join(f.complete.words, " "))
			case f.complete.files:
				action = fn + "_files"
			default:
				continue
			}
			g := byAction[action]
			if g == nil {
				g = &group{action: action}
				byAction[action] = g
				groups = append(groups, g)
			}
			for _, o := range f.options() {
				g.pats = append(g.pats, shQuote(d.pathString()+":"+o))
			}
		}
	}
	for _, g := range groups {
		w("    %s)\n        %s ;;\n", strings.Join(g.pats, "|"), g.action)
	}
	w("    esac\n}\n\n")

	var globals []string
	for _, f := range m.valuedFlags() {
		globals = append(globals, f.options()...)
	}
	w(`%[1]s_words() {
    local IFS=$' \t\n'
    COMPREPLY=($(compgen -W "$1" -- "$cur"))
}

%[1]s_files() {
    compopt -o filenames 2>/dev/null
    local IFS=$'\n'
    COMPREPLY=($(compgen -f -- "$cur"))
}

# %[1]s_dynamic KIND: asks the binary being completed, with the global
# options of the command line (and, for %[4]s, the server given with
# --server); any error completes nothing.
%[1]s_dynamic() {
    local c
    local -a extra=()
    case $1 in
    %[4]s) [[ -n $server ]] && extra=("$server") ;;
    esac
    COMPREPLY=()
    while IFS= read -r c; do
        [[ -n $c && $c == "$cur"* ]] && COMPREPLY+=("$c")
    done < <("${COMP_WORDS[0]}" "${globals[@]}" __complete "$1" "${extra[@]}" 2>/dev/null </dev/null)
}

%[1]s() {
    local cur=${COMP_WORDS[COMP_CWORD]} path= w next valued= positional=0 i server=
    local cmds opts args
    local -a globals=()
    COMPREPLY=()
    for ((i = 1; i < COMP_CWORD; i++)); do
        w=${COMP_WORDS[i]}
        if [[ -n $valued ]]; then
            # --option=value arrives as three words when = breaks words.
            [[ $w == = ]] && continue
            if [[ -z $path ]]; then
                case $valued in
                %[2]s) globals+=("$valued" "$w") ;;
                esac
            fi
            case $valued in
            --server|-s) server=$w ;;
            esac
            valued=
            continue
        fi
        case $w in
        -*=*)
            [[ -z $path ]] && globals+=("$w")
            [[ $w == --server=* ]] && server=${w#*=}
            continue
            ;;
        -?*)
            %[1]s_valued "$path" "$w" && valued=$w
            continue
            ;;
        esac
        if next=$(%[1]s_sub "$path" "$w"); then
            path=$next
            positional=0
        else
            positional=$((positional + 1))
        fi
    done
    if [[ -n $valued ]]; then
        [[ $cur == = ]] && cur=
        %[1]s_value "$path" "$valued"
        return 0
    fi
    %[1]s_spec "$path"
    if [[ $cur == -* ]]; then
        %[1]s_words "$opts"
    elif [[ -n $cmds && $positional == 0 ]]; then
        %[1]s_words "$cmds"
    elif [[ $args == commands && $positional == 0 ]]; then
        %[1]s_spec ''
        %[1]s_words "$cmds"
    elif [[ -n $args && $args != commands && $positional == 0 ]]; then
        %[1]s_dynamic "$args"
    else
        %[1]s_words "$opts"
    fi
    return 0
}

complete -F %[1]s %[3]s
`, fn, strings.Join(globals, "|"), name, strings.Join(serverKinds(), "|"))
	return b.String()
}

// serverKinds are the kinds of __complete that take the server of the
// command line.
func serverKinds() []string {
	var out []string
	for _, k := range cli.CompleteKinds() {
		if cli.CompleteTakesServer(k) {
			out = append(out, k)
		}
	}
	return out
}
