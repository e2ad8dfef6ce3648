package main

import (
	"fmt"
	"strings"
)

func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func fishCompletion(name string, m *docCommand) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	fn := "__" + strings.ReplaceAll(name, "-", "_")
	w("# fish completion for %s\n# %s\n", name, generatedNotice)
	w("# Install as %s.fish in a directory of $fish_complete_path (e.g.\n", name)
	w("# /usr/share/fish/vendor_completions.d). Server, model, remote and backup names\n")
	w("# and operation IDs come from `%s __complete KIND`.\n\n", name)

	w("# %s_sub PATH WORD: prints the command path that WORD leads to from PATH.\n", fn)
	w("function %s_sub -a cmdpath word\n    switch \"$cmdpath:$word\"\n", fn)
	for _, d := range m.all() {
		for _, s := range d.subs {
			var pats []string
			for _, n := range s.names {
				pats = append(pats, fishQuote(d.pathString()+":"+n))
			}
			w("        case %s\n            echo %s\n", strings.Join(pats, " "), fishQuote(s.pathString()))
		}
	}
	w("        case '*'\n            return 1\n    end\nend\n\n")

	w("# %s_valued PATH OPTION: succeeds when OPTION takes a value in PATH.\n", fn)
	w("function %s_valued -a cmdpath opt\n    switch \"$cmdpath:$opt\"\n", fn)
	var valued []string
	for _, d := range m.all() {
		for _, f := range d.flags {
			if f.value == "" {
				continue
			}
			for _, o := range f.options() {
				valued = append(valued, fishQuote(d.pathString()+":"+o))
			}
		}
	}
	w("        case %s\n            return 0\n    end\n    return 1\nend\n\n", strings.Join(valued, " "))

	var globals, globalsEq []string
	for _, f := range m.valuedFlags() {
		for _, o := range f.options() {
			globals = append(globals, fishQuote(o))
			if strings.HasPrefix(o, "--") {
				globalsEq = append(globalsEq, fishQuote(o+"=*"))
			}
		}
	}
	w(`# %[1]s_path: prints the command path of the command line being completed.
function %[1]s_path
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l cmdpath ''
    set -l valued 0
    for tok in $tokens
        if test $valued = 1
            set valued 0
            continue
        end
        switch $tok
            case '-*=*'
                continue
            case '-?*'
                %[1]s_valued "$cmdpath" $tok; and set valued 1
                continue
        end
        set -l next (%[1]s_sub "$cmdpath" $tok); and set cmdpath $next
    end
    echo $cmdpath
end

# %[1]s_at PATH: succeeds when the command line is at command PATH.
function %[1]s_at -a want
    set -l cmdpath (%[1]s_path)
    test "$cmdpath" = "$want"
end

# %[1]s_server: prints the value of the command line's --server, if any.
function %[1]s_server
    set -l tokens (commandline -opc)
    set -l next 0
    for tok in $tokens
        if test $next = 1
            echo $tok
            return
        end
        switch $tok
            case --server -s
                set next 1
            case '--server=*'
                string replace -- --server= '' $tok
                return
        end
    end
end

# %[1]s_dynamic KIND: asks the binary being completed, with the global
# options of the command line (and, for %[5]s, the server given with
# --server); any error completes nothing.
function %[1]s_dynamic -a kind
    set -l tokens (commandline -opc)
    set -l cmd $tokens[1]
    set -e tokens[1]
    set -l globals
    set -l extra
    if contains -- $kind %[5]s
        set extra (%[1]s_server)
    end
    set -l valued ''
    for tok in $tokens
        if test -n "$valued"
            set -a globals $valued $tok
            set valued ''
            continue
        end
        switch $tok
            case %[2]s
                set valued $tok
            case %[3]s
                set -a globals $tok
            case '-*'
                continue
            case '*'
                break
        end
    end
    $cmd $globals __complete $kind $extra 2>/dev/null </dev/null
end

complete -c %[4]s -f
`, fn, strings.Join(globals, " "), strings.Join(globalsEq, " "), name, strings.Join(serverKinds(), " "))

	for _, d := range m.all() {
		cond := `"` + fn + "_at '" + d.pathString() + `'"`
		title := "the application"
		if len(d.path) > 0 {
			title = d.pathString()
		}
		w("\n# %s\n", title)
		for _, s := range d.subs {
			for _, n := range s.names {
				w("complete -c %s -n %s -a %s -d %s\n", name, cond, fishQuote(n), fishQuote(s.usage))
			}
		}
		for _, f := range d.flags {
			w("complete -c %s -n %s", name, cond)
			if f.short != "" {
				w(" -s %s", f.short)
			}
			w(" -l %s", f.long)
			if f.value != "" {
				switch {
				case f.complete.dynamic != "":
					w(" -x -a %s", fishQuote("("+fn+"_dynamic "+f.complete.dynamic+")"))
				case len(f.complete.words) > 0:
					w(" -x -a %s", fishQuote(strings.Join(f.complete.words, " ")))
				case f.complete.files:
					w(" -r -F")
				default:
					w(" -x")
				}
			}
			w(" -d %s\n", fishQuote(f.usage))
		}
		switch {
		case d.args.dynamic != "":
			w("complete -c %s -n %s -a %s\n", name, cond, fishQuote("("+fn+"_dynamic "+d.args.dynamic+")"))
		case d.args.commands:
			var cmds []string
			for _, s := range m.subs {
				cmds = append(cmds, s.names...)
			}
			w("complete -c %s -n %s -a %s\n", name, cond, fishQuote(strings.Join(cmds, " ")))
		}
	}
	return b.String()
}
