package cli

import (
	"encoding"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"time"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
	"github.com/urfave/cli/v2"
)

// The files gen-docs writes, relative to its --dir. They are committed, and
// TestDocsUpToDate fails when they differ from what the code generates.
const (
	docBashCompletion = "completions/pg-backup-api.bash"
	docZshCompletion  = "completions/pg-backup-api.zsh"
	docFishCompletion = "completions/pg-backup-api.fish"
	docManPage        = "man/pg-backup-api.1"
)

// docFiles lists the generated files in the order they are written.
var docFiles = []string{docBashCompletion, docZshCompletion, docFishCompletion, docManPage}

// What the shells complete beyond the static words: a flag's value by its
// name, a command's arguments by its name. "servers", "models" and
// "operations" are asked of the binary itself (__complete).
var (
	docFlagValues = map[string]docCompletion{
		"server":     {dynamic: "servers"},
		"model-name": {dynamic: "models"},
		"output":     {words: []string{formatTable, formatPlain, formatJSON}},
	}
	// A command whose usage text names an ID argument takes an operation ID.
	docIDArgument = docCompletion{dynamic: "operations"}
)

// completeKinds are the lists __complete prints.
var completeKinds = []string{"servers", "models", "operations"}

// docCompletion says how to complete a value.
type docCompletion struct {
	dynamic  string   // servers, models or operations: ask `pg-backup-api __complete`
	words    []string // a fixed set of words
	files    bool     // local file names
	commands bool     // the top-level command names
}

func (d docCompletion) empty() bool {
	return d.dynamic == "" && len(d.words) == 0 && !d.files && !d.commands
}

// docFlag is one flag as the documentation shows it.
type docFlag struct {
	long, short string // without dashes; short is "" when there is none
	value       string // the value's placeholder; "" for a boolean
	usage       string
	def         string // the default, when the flag has one worth saying
	env         []string
	required    bool
	complete    docCompletion
}

// docCommand is one command (or the application itself, with an empty path).
type docCommand struct {
	path        []string // canonical names from the top, e.g. create recovery
	names       []string // name and aliases
	usage       string
	usageText   string
	description string
	flags       []docFlag
	subs        []*docCommand
	args        docCompletion
}

func (d *docCommand) pathString() string { return strings.Join(d.path, " ") }

// usageLines is the command's usage text, or one made from its path.
func (d *docCommand) usageLines(app string) string {
	if d.usageText != "" {
		return d.usageText
	}
	return app + " " + d.pathString() + " [OPTIONS]"
}

// all returns d and every command below it, depth first.
func (d *docCommand) all() []*docCommand {
	out := []*docCommand{d}
	for _, s := range d.subs {
		out = append(out, s.all()...)
	}
	return out
}

// valuedFlags returns the flags that take a value; of the application, those the
// completions pass on to __complete.
func (d *docCommand) valuedFlags() []docFlag {
	var out []docFlag
	for _, f := range d.flags {
		if f.value != "" {
			out = append(out, f)
		}
	}
	return out
}

// docModel walks the application: every visible command, subcommand and
// flag, plus the help command and flags urfave/cli adds at run time. It
// depends only on the definition, not on whether the app has run.
func docModel(app *cli.App) *docCommand {
	root := &docCommand{
		names:       []string{app.Name},
		usage:       app.Usage,
		description: strings.TrimSpace(strings.TrimSuffix(app.Description, exitCodesHelp)),
		flags:       docFlags(app.Flags, app.UsageText),
	}
	root.flags = append(root.flags,
		docFlag{long: "help", short: "h", usage: "show help"},
		docFlag{long: "version", short: "v", usage: "print the version"},
	)
	for _, c := range app.Commands {
		if c.Hidden || c.Name == "help" {
			continue
		}
		root.subs = append(root.subs, docWalk(c, nil))
	}
	root.subs = append(root.subs, &docCommand{
		path:      []string{"help"},
		names:     []string{"help", "h"},
		usage:     "show the list of commands, or the help of one command",
		usageText: app.Name + " help [COMMAND]",
		flags:     []docFlag{{long: "help", short: "h", usage: "show help"}},
		args:      docCompletion{commands: true},
	})
	return root
}

func docWalk(c *cli.Command, parent []string) *docCommand {
	path := append(append([]string{}, parent...), c.Name)
	d := &docCommand{
		path:        path,
		names:       c.Names(),
		usage:       c.Usage,
		usageText:   c.UsageText,
		description: c.Description,
		flags:       docFlags(c.Flags, c.UsageText),
	}
	if docTakesID(c.UsageText, path) {
		d.args = docIDArgument
	}
	d.flags = append(d.flags, docFlag{long: "help", short: "h", usage: "show help"})
	for _, s := range c.Subcommands {
		if s.Hidden || s.Name == "help" {
			continue
		}
		d.subs = append(d.subs, docWalk(s, path))
	}
	return d
}

func docFlags(flags []cli.Flag, usageText string) []docFlag {
	var out []docFlag
	for _, f := range flags {
		if f == cli.HelpFlag || f == cli.VersionFlag {
			continue
		}
		if v, ok := f.(cli.VisibleFlag); ok && !v.IsVisible() {
			continue
		}
		df := docFlag{}
		for _, n := range f.Names() {
			switch {
			case len(n) > 1 && df.long == "":
				df.long = n
			case len(n) == 1 && df.short == "":
				df.short = n
			}
		}
		if df.long == "" { // a flag with a one-letter name only
			df.long, df.short = df.short, ""
		}
		if g, ok := f.(cli.DocGenerationFlag); ok {
			placeholder, usage := docUnquote(g.GetUsage())
			df.usage = usage
			df.env = g.GetEnvVars()
			if g.TakesValue() {
				df.value = placeholder
				if df.value == "" {
					df.value = docPlaceholder(usageText, df.long)
				}
			}
		}
		if r, ok := f.(cli.RequiredFlag); ok {
			df.required = r.IsRequired()
		}
		switch t := f.(type) {
		case *cli.StringFlag:
			df.def = t.Value
		case *cli.IntFlag:
			if t.Value != 0 {
				df.def = fmt.Sprint(t.Value)
			}
		case *cli.Int64Flag:
			if t.Value != 0 {
				df.def = fmt.Sprint(t.Value)
			}
		case *cli.DurationFlag:
			if t.Value != 0 {
				df.def = t.Value.String()
			}
		}
		df.complete = docFlagValues[df.long]
		if df.value != "" && df.complete.empty() && strings.Contains(df.value, "FILE") {
			df.complete = docCompletion{files: true}
		}
		out = append(out, df)
	}
	return out
}

// docTakesID reports whether usageText says the command's first argument is
// an operation ID: "pg-backup-api inspect ID ...".
func docTakesID(usageText string, path []string) bool {
	first, _, _ := strings.Cut(usageText, "\n")
	fields := strings.Fields(first)
	n := 1 + len(path)
	return len(fields) > n && strings.Join(fields[1:n], " ") == strings.Join(path, " ") && fields[n] == "ID"
}

// docConfigKeys lists the keys of the configuration file, from FileConfig's
// toml tags: "barman_config", "serve.listen", ...
func docConfigKeys() []string {
	textType := reflect.TypeOf((*encoding.TextUnmarshaler)(nil)).Elem()
	var keys []string
	var walk func(reflect.Type, string)
	walk = func(typ reflect.Type, prefix string) {
		for i := 0; i < typ.NumField(); i++ {
			f := typ.Field(i)
			tag, _, _ := strings.Cut(f.Tag.Get("toml"), ",")
			if tag == "" || tag == "-" {
				continue
			}
			if f.Type.Kind() == reflect.Struct && !reflect.PointerTo(f.Type).Implements(textType) {
				walk(f.Type, prefix+tag+".")
				continue
			}
			keys = append(keys, prefix+tag)
		}
	}
	walk(reflect.TypeOf(FileConfig{}), "")
	return keys
}

// docPlaceholder names the value of flag long when its usage does not: the
// word after it in the command's usage text (--changes JSON), else its name
// in capitals.
func docPlaceholder(usageText, long string) string {
	fields := strings.FieldsFunc(usageText, func(r rune) bool { return strings.ContainsRune(" \n()[]|", r) })
	for i, f := range fields {
		if f == "--"+long && i+1 < len(fields) {
			next := fields[i+1]
			if next != "" && strings.ToUpper(next) == next && strings.ToLower(next) != next {
				return next
			}
		}
	}
	return strings.ToUpper(long)
}

// docUnquote is urfave/cli's rule: the first `quoted` word of a flag's usage
// names its value.
func docUnquote(usage string) (placeholder, text string) {
	i := strings.IndexByte(usage, '`')
	if i < 0 {
		return "", usage
	}
	j := strings.IndexByte(usage[i+1:], '`')
	if j < 0 {
		return "", usage
	}
	name := usage[i+1 : i+1+j]
	return name, usage[:i] + name + usage[i+1+j+1:]
}

// generateDocs renders every generated file from the application's
// definition.
func generateDocs(app *cli.App) map[string]string {
	m := docModel(app)
	return map[string]string{
		docBashCompletion: bashCompletion(app.Name, m),
		docZshCompletion:  zshCompletion(app.Name, m),
		docFishCompletion: fishCompletion(app.Name, m),
		docManPage:        manPage(app.Name, m),
	}
}

// writeDocs writes the generated files under dir and returns their paths.
func writeDocs(app *cli.App, dir string) ([]string, error) {
	files := generateDocs(app)
	var written []string
	for _, name := range docFiles {
		path := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return written, err
		}
		if err := os.WriteFile(path, []byte(files[name]), 0o644); err != nil {
			return written, err
		}
		written = append(written, path)
	}
	return written, nil
}

// genDocsCommand writes the completions and the man page (make docs).
func (st *appState) genDocsCommand() *cli.Command {
	return &cli.Command{
		Name:      "gen-docs",
		Usage:     "write the shell completions and the man page generated from this command line (make docs)",
		UsageText: "pg-backup-api gen-docs [--dir DIR]",
		Hidden:    true,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "dir", Value: ".", Usage: "write completions/ and man/ under `DIR`"},
		},
		Action: func(c *cli.Context) error {
			// A fresh definition, untouched by this run's set-up, so the
			// output depends on nothing but the code.
			written, err := writeDocs(NewApp(BuildInfo{}, io.Discard, io.Discard), c.String("dir"))
			for _, p := range written {
				fmt.Fprintln(c.App.Writer, p)
			}
			if err != nil {
				return cli.Exit("pg-backup-api: gen-docs: "+err.Error(), ExitError)
			}
			return nil
		},
	}
}

// completeCommand prints candidates for the shell completions, one a line.
// Completion must never show an error, so every failure prints nothing and
// exits 0.
func (st *appState) completeCommand() *cli.Command {
	return &cli.Command{
		Name:            "__complete",
		Usage:           "print server names, model names or operation IDs, one a line, for the shell completions",
		UsageText:       "pg-backup-api __complete servers|models|operations",
		Hidden:          true,
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			if c.NArg() != 1 {
				return nil
			}
			for _, item := range st.completions(c.Args().First()) {
				fmt.Fprintln(c.App.Writer, item)
			}
			return nil
		},
	}
}

// completions lists what kind names, sorted, or nothing on any error.
func (st *appState) completions(kind string) []string {
	svc := &ops.Service{Barman: barman.NewReader(st.settings.barmanConfig), OpenStore: store.Open}
	cfg, err := svc.Config()
	if err != nil {
		return nil
	}
	switch kind {
	case "servers":
		return cfg.ServerNames()
	case "models":
		names := make([]string, 0, len(cfg.Models))
		for name := range cfg.Models {
			names = append(names, name)
		}
		sort.Strings(names)
		return names
	case "operations":
		// Bounded: a completion that hangs is worse than none.
		type result struct{ ids []string }
		done := make(chan result, 1)
		go func() {
			list, _, err := svc.ListAll(ops.ListOptions{})
			if err != nil {
				done <- result{}
				return
			}
			seen := map[string]bool{}
			var ids []string
			for _, op := range list {
				if !seen[op.ID] {
					seen[op.ID] = true
					ids = append(ids, op.ID)
				}
			}
			sort.Strings(ids)
			done <- result{ids}
		}()
		select {
		case r := <-done:
			return r.ids
		case <-time.After(5 * time.Second):
			return nil
		}
	}
	return nil
}

// generatedNotice heads every generated file.
const generatedNotice = "Generated from the command-line definition by `pg-backup-api gen-docs` (make docs); do not edit."

// ---- bash ----

func bashQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func bashCompletion(name string, m *docCommand) string {
	var b strings.Builder
	fn := "_" + strings.ReplaceAll(name, "-", "_")
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }

	w("# bash completion for %s  -*- shell-script -*-\n", name)
	w("#\n# %s\n", generatedNotice)
	w("# Install as /usr/share/bash-completion/completions/%s, or source it.\n", name)
	w("# Server names, model names and operation IDs come from `%s __complete\n", name)
	w("# servers|models|operations`, which reads Barman's configuration and the store\n")
	w("# with the global options given on the command line being completed.\n\n")

	// Command paths.
	w("# %s_sub PATH WORD: prints the command path that WORD leads to from PATH.\n", fn)
	w("%s_sub() {\n    case \"$1:$2\" in\n", fn)
	for _, d := range m.all() {
		for _, s := range d.subs {
			var pats []string
			for _, n := range s.names {
				pats = append(pats, bashQuote(d.pathString()+":"+n))
			}
			w("    %s) echo %s ;;\n", strings.Join(pats, "|"), bashQuote(s.pathString()))
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
				pats = append(pats, bashQuote(d.pathString()+":"+o))
			}
		}
		if len(pats) > 0 {
			w("    %s) return 0 ;;\n", strings.Join(pats, "|"))
		}
	}
	w("    esac\n    return 1\n}\n\n")

	// What each command offers.
	w("# %s_spec PATH: sets cmds (subcommands), opts (options) and args (what\n", fn)
	w("# its arguments are: servers, models, operations, commands or nothing).\n")
	w("%s_spec() {\n    cmds= opts= args=\n    case $1 in\n", fn)
	for _, d := range m.all() {
		var cmds, opts []string
		for _, s := range d.subs {
			cmds = append(cmds, s.names...)
		}
		for _, f := range d.flags {
			opts = append(opts, "--"+f.long)
		}
		w("    %s)\n", bashQuote(d.pathString()))
		if len(cmds) > 0 {
			w("        cmds=%s\n", bashQuote(strings.Join(cmds, " ")))
		}
		w("        opts=%s\n", bashQuote(strings.Join(opts, " ")))
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
				action = fn + "_words " + bashQuote(strings.Join(f.complete.words, " "))
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
				g.pats = append(g.pats, bashQuote(d.pathString()+":"+o))
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
# options of the command line; any error completes nothing.
%[1]s_dynamic() {
    local c
    COMPREPLY=()
    while IFS= read -r c; do
        [[ -n $c && $c == "$cur"* ]] && COMPREPLY+=("$c")
    done < <("${COMP_WORDS[0]}" "${globals[@]}" __complete "$1" 2>/dev/null </dev/null)
}

%[1]s() {
    local cur=${COMP_WORDS[COMP_CWORD]} path= w next valued= positional=0 i
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
            valued=
            continue
        fi
        case $w in
        -*=*)
            [[ -z $path ]] && globals+=("$w")
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
`, fn, strings.Join(globals, "|"), name)
	return b.String()
}

// options returns the flag's spellings on a command line.
func (f docFlag) options() []string {
	out := []string{"--" + f.long}
	if f.short != "" {
		out = append(out, "-"+f.short)
	}
	return out
}

// ---- zsh ----

func zshQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

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
	w("# or source it after compinit. Server names, model names and operation IDs come\n")
	w("# from `%s __complete servers|models|operations`.\n\n", name)

	var globals []string
	for _, f := range m.valuedFlags() {
		globals = append(globals, "--"+f.long)
	}
	w(`# _%[1]s_dynamic KIND DESCRIPTION: asks the binary being completed, with the
# global options of the command line; any error completes nothing.
_%[1]s_dynamic() {
  local -a items expl
  items=(${(f)"$(${~_%[2]s_cmd:-%[1]s} "${_%[2]s_globals[@]}" __complete $1 2>/dev/null </dev/null)"})
  _wanted $1 expl $2 compadd -a items
}

`, name, zshVar(name))
	for _, kind := range completeKinds {
		w("_%s_%s() { _%s_dynamic %s %s }\n", name, kind, name, kind, zshQuote(strings.TrimSuffix(kind, "s")))
	}
	w("\n")

	for _, d := range m.all() {
		fn := zshFuncName(name, d.path)
		if len(d.subs) > 0 {
			w("%s_commands() {\n  local -a cmds\n  cmds=(\n", fn)
			for _, s := range d.subs {
				for _, n := range s.names {
					w("    %s\n", zshQuote(n+":"+s.usage))
				}
			}
			what := "command"
			if len(d.path) > 0 {
				what = d.pathString() + " operation"
			}
			w("  )\n  _describe -t commands %s cmds\n}\n\n", zshQuote(what))
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
			specs = append(specs, zshQuote("(-)1:"+opt+" :"+fn+"_commands"), "'(-)*:: :->args' && ret=0")
		case d.args.dynamic != "":
			specs = append(specs, zshQuote("1: :_"+name+"_"+d.args.dynamic))
		case d.args.commands:
			specs = append(specs, zshQuote("1: :_"+name+"_commands"))
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

func zshVar(name string) string { return strings.ReplaceAll(name, "-", "_") }

func zshFlagSpec(name string, f docFlag) string {
	desc := zshQuote("[" + zshDesc(f.usage) + "]")
	var action string
	if f.value != "" {
		switch {
		case f.complete.dynamic != "":
			action = ":" + f.value + ":_" + name + "_" + f.complete.dynamic
		case len(f.complete.words) > 0:
			action = ":" + f.value + ":(" + strings.Join(f.complete.words, " ") + ")"
		case f.complete.files:
			action = ":" + f.value + ":_files"
		default:
			action = ":" + f.value + ": "
		}
		action = zshQuote(action)
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
		return zshQuote(excl) + long + desc + action
	}
	return zshQuote(excl) + "{" + short + "," + long + "}" + desc + action
}

// ---- fish ----

func fishQuote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

func fishCompletion(name string, m *docCommand) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	fn := "__" + strings.ReplaceAll(name, "-", "_")
	w("# fish completion for %s\n# %s\n", name, generatedNotice)
	w("# Install as %s.fish in a directory of $fish_complete_path (e.g.\n", name)
	w("# /usr/share/fish/vendor_completions.d). Server names, model names and operation\n")
	w("# IDs come from `%s __complete servers|models|operations`.\n\n", name)

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

# %[1]s_dynamic KIND: asks the binary being completed, with the global
# options of the command line; any error completes nothing.
function %[1]s_dynamic -a kind
    set -l tokens (commandline -opc)
    set -l cmd $tokens[1]
    set -e tokens[1]
    set -l globals
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
    $cmd $globals __complete $kind 2>/dev/null </dev/null
end

complete -c %[4]s -f
`, fn, strings.Join(globals, " "), strings.Join(globalsEq, " "), name)

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

// ---- man ----

// roffEscape makes plain text safe as roff input: backslashes, dashes that
// start an option, a few typographic characters, and control characters at
// the start of a line.
func roffEscape(s string) string {
	var b strings.Builder
	prev := ' '
	for _, r := range s {
		switch {
		case r == '\\':
			b.WriteString(`\e`)
		case r == '-' && (prev == ' ' || prev == '-' || prev == '(' || prev == '[' || prev == '|' || prev == '"'):
			b.WriteString(`\-`)
		case r == '—':
			b.WriteString(`\(em`)
		case r == '–':
			b.WriteString(`\(en`)
		case r == '…':
			b.WriteString(`.\|.\|.`)
		case r == '→':
			b.WriteString(`\(->`)
		case r > 0x7e:
			fmt.Fprintf(&b, `\[u%04X]`, r)
		default:
			b.WriteRune(r)
		}
		prev = r
	}
	out := b.String()
	if strings.HasPrefix(out, ".") || strings.HasPrefix(out, "'") {
		out = `\&` + out
	}
	return out
}

// roffInline escapes text and turns `quoted` spans into bold.
func roffInline(s string) string {
	parts := strings.Split(s, "`")
	if len(parts)%2 == 0 { // unbalanced: leave the backticks alone
		return roffEscape(s)
	}
	var b strings.Builder
	for i, p := range parts {
		if i%2 == 1 {
			b.WriteString(`\fB` + roffEscape(p) + `\fR`)
		} else {
			b.WriteString(roffEscape(p))
		}
	}
	return b.String()
}

// roffSentence makes a usage phrase a sentence.
func roffSentence(s string) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	s = strings.ToUpper(s[:1]) + s[1:]
	if !strings.HasSuffix(s, ".") {
		s += "."
	}
	return roffInline(s)
}

// roffParagraphs renders text with blank-line paragraphs; lines indented
// with spaces are shown as they are.
func roffParagraphs(b *strings.Builder, text string, first string) {
	for i, para := range strings.Split(strings.TrimSpace(text), "\n\n") {
		if i > 0 || first != "" {
			b.WriteString(first + "\n")
		}
		var filled []string
		flush := func() {
			if len(filled) > 0 {
				b.WriteString(roffInline(strings.Join(filled, " ")) + "\n")
				filled = nil
			}
		}
		for _, line := range strings.Split(para, "\n") {
			if strings.HasPrefix(line, " ") {
				flush()
				b.WriteString(".RS 4\n.nf\n" + roffEscape(strings.TrimSpace(line)) + "\n.fi\n.RE\n")
				continue
			}
			filled = append(filled, strings.TrimSpace(line))
		}
		flush()
	}
}

// roffUsage renders a usage line: options and command words bold,
// placeholders italic.
func roffUsage(line string, words map[string]bool) string {
	var b strings.Builder
	isWordChar := func(c byte) bool {
		return c == '-' || c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
	}
	for i := 0; i < len(line); {
		if !isWordChar(line[i]) {
			b.WriteString(roffEscape(line[i : i+1]))
			i++
			continue
		}
		j := i
		for j < len(line) && isWordChar(line[j]) {
			j++
		}
		word := line[i:j]
		esc := strings.ReplaceAll(word, "-", `\-`)
		switch {
		case strings.HasPrefix(word, "-") || words[word]:
			b.WriteString(`\fB` + esc + `\fR`)
		case strings.ToUpper(word) == word && strings.ToLower(word) != word:
			b.WriteString(`\fI` + esc + `\fR`)
		default:
			b.WriteString(esc)
		}
		i = j
	}
	return b.String()
}

func roffFlag(b *strings.Builder, f docFlag) {
	b.WriteString(".TP\n")
	var names []string
	if f.short != "" {
		names = append(names, `\fB\-`+f.short+`\fR`)
	}
	names = append(names, `\fB\-\-`+strings.ReplaceAll(f.long, "-", `\-`)+`\fR`)
	head := strings.Join(names, ", ")
	if f.value != "" {
		head += ` \fI` + roffEscape(f.value) + `\fR`
	}
	b.WriteString(head + "\n")
	text := roffSentence(f.usage)
	var notes []string
	if f.required {
		notes = append(notes, "Required.")
	}
	if f.def != "" && !strings.Contains(f.usage, "default") {
		notes = append(notes, `Default: \fB`+roffEscape(f.def)+`\fR.`)
	}
	if len(f.env) > 0 {
		var env []string
		for _, e := range f.env {
			env = append(env, `\fB`+roffEscape(e)+`\fR`)
		}
		notes = append(notes, "Environment: "+strings.Join(env, ", ")+".")
	}
	if len(notes) > 0 {
		text += " " + strings.Join(notes, " ")
	}
	b.WriteString(text + "\n")
}

func manPage(name string, m *docCommand) string {
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format, args...) }
	ename := roffEscape(name)
	ename = strings.ReplaceAll(ename, "-", `\-`)
	words := map[string]bool{name: true}
	for _, d := range m.all() {
		for _, p := range d.path {
			words[p] = true
		}
		for _, n := range d.names {
			words[n] = true
		}
	}

	w(".\\\" %s\n", generatedNotice)
	w(".TH %s 1 \"\" \"%s\" \"User Commands\"\n", strings.ToUpper(ename), ename)
	// No hyphenation and a ragged right margin: option names stay whole.
	w(".nh\n.ad l\n")
	w(".SH NAME\n%s \\- %s\n", ename, roffEscape(m.usage))

	w(".SH SYNOPSIS\n")
	var global []string
	for _, f := range m.valuedFlags() {
		global = append(global, "[--"+f.long+" "+f.value+"]")
	}
	w("%s\n", roffUsage(name+" "+strings.Join(global, " ")+" COMMAND [OPTIONS] [ARGUMENTS]", words))
	for _, d := range m.all()[1:] {
		for _, line := range strings.Split(d.usageLines(name), "\n") {
			w(".br\n%s\n", roffUsage(line, words))
		}
	}

	w(".SH DESCRIPTION\n")
	w("%s asks Barman to run \\fBbarman recover\\fR, \\fBbarman config\\-switch\\fR and \\fBbarman config\\-update\\fR, "+
		"and tracks each request as an operation that ends \\fBDONE\\fR or \\fBFAILED\\fR \\(em from a shell, from cron, or over HTTP.\n", `\fB`+ename+`\fR`)
	roffParagraphs(&b, m.description, ".PP")
	w(".PP\nRun the commands on the Barman host as the Barman user (\\fBbarman\\fR), so that the files they create are Barman's. " +
		"Flags override environment variables, which override the configuration file, which overrides the defaults.\n")
	w(".PP\nOutput is a table on a terminal and tab\\-separated plain text when piped; \\fB\\-o json\\fR gives JSON on every command.\n")

	w(".SH OPTIONS\nThese global options come before the command.\n")
	for _, f := range m.flags {
		roffFlag(&b, f)
	}

	w(".SH COMMANDS\n")
	for _, d := range m.all()[1:] {
		title := strings.Join(d.path, " ")
		if len(d.names) > 1 {
			title += " (alias: " + strings.Join(d.names[1:], ", ") + ")"
		}
		w(".SS \"%s\"\n", strings.ReplaceAll(roffEscape(title), "-", `\-`))
		for i, line := range strings.Split(d.usageLines(name), "\n") {
			if i > 0 {
				w(".br\n")
			}
			w("%s\n", roffUsage(line, words))
		}
		w(".PP\n%s\n", roffSentence(d.usage))
		if d.description != "" {
			roffParagraphs(&b, d.description, ".PP")
		}
		if len(d.subs) > 0 {
			var subs []string
			for _, s := range d.subs {
				subs = append(subs, `\fB`+strings.ReplaceAll(s.pathString(), "-", `\-`)+`\fR`)
			}
			w(".PP\nOperations: %s; each is described below.\n", strings.Join(subs, ", "))
		}
		if len(d.flags) > 0 {
			w(".PP\nOptions:\n.RS 4\n")
			for _, f := range d.flags {
				roffFlag(&b, f)
			}
			w(".RE\n")
		}
	}

	w(".SH FILES\n")
	files := [][2]string{
		{DefaultConfigPath, "Our configuration (TOML), read when it exists unless `--config` or " + EnvConfig +
			" names another file, which must then exist. Keys: `" + strings.Join(docConfigKeys(), "`, `") + "`; an unknown key is an error."},
		{ops.DefaultBarmanConfig, "Barman's configuration, read the way Barman reads it: this file, then every `*.conf` in its " +
			"`configuration_files_directory` in name order, then `<barman_home>/.barman.auto.conf`. It is read afresh for every request."},
		{"<barman_home>/jobs/", "Instance operations (`config_update`): one `<ID>.json` job file each, the request as received plus " +
			"`operation_type` and `start_time`, in the layout of the Python pg-backup-api."},
		{"<barman_home>/<server>/jobs/", "Operations of Barman server <server> (`recovery`, `config_switch`)."},
		{"<barman_home>/output/, <barman_home>/<server>/output/", "One `<ID>.json` output file for each finished operation: " +
			"`success`, `end_time`, Barman's `output` and `exit_code`."},
		{"<barman_home>/" + store.StateDirName + "/, <barman_home>/<server>/" + store.StateDirName + "/",
			"The runner's state: its lock, and `<ID>.log` with Barman's output while it runs."},
	}
	for _, f := range files {
		w(".TP\n\\fI%s\\fR\n%s\n", roffEscape(f[0]), roffInline(f[1]))
	}

	w(".SH ENVIRONMENT\n")
	for _, f := range m.flags {
		for _, e := range f.env {
			w(".TP\n\\fB%s\\fR\n%s Overridden by \\fB\\-\\-%s\\fR.\n", roffEscape(e), roffSentence(f.usage), strings.ReplaceAll(f.long, "-", `\-`))
		}
	}
	w(".TP\n\\fBNO_COLOR\\fR\nWhen set, to anything, tables on a terminal are not coloured.\n")

	w(".SH \"EXIT STATUS\"\n")
	for _, line := range strings.Split(exitCodesHelp, "\n")[1:] {
		code, text, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok {
			continue
		}
		w(".TP\n.B %s\n%s\n", code, roffSentence(strings.TrimSpace(text)))
	}

	w(".SH EXAMPLES\n")
	examples := []struct{ text, cmd string }{
		{"Restore the latest backup of server db1 onto another host; the operation ID is printed at once:",
			`pg-backup-api create recovery --server db1 --backup-id latest \
    --remote-ssh-command "ssh postgres@db1-new" \
    --destination-directory /var/lib/postgresql/15/main`},
		{"The same, waiting for Barman to finish: exit status 0 on DONE, 4 on FAILED:",
			`pg-backup-api create recovery -s db1 -b latest \
    --remote-ssh-command "ssh postgres@db1-new" -d /srv/pg --wait`},
		{"Restore to a point in time, before the bad migration; the newest backup that ended before then is chosen:",
			`pg-backup-api create recovery -s db1 --target-time 2026-01-02T14:02:00+01:00 \
    --remote-ssh-command "ssh postgres@db1-new" -d /srv/pg --wait`},
		{"Take a backup now, with a name, and wait for it:",
			"pg-backup-api create backup --server db1 --name before-migration --wait"},
		{"Apply a model to a server, or remove the active one (Barman 3.10 and later):",
			"pg-backup-api create config-switch --server db1 \\\n    --model-name db1-failover\npg-backup-api create config-switch --server db1 --reset"},
		{"Change options of servers or models (Barman 3.10 and later):",
			`pg-backup-api create config-update --changes \
    '[{"scope": "server", "server_name": "db1", "archiver": "on"}]'`},
		{"Send a documented JSON payload as it is:",
			"pg-backup-api create --payload payload.json --server db1"},
		{"See what happened:",
			"pg-backup-api list\npg-backup-api list --server db1 -o json\npg-backup-api inspect 20261125T093012"},
		{"Serve the HTTP API, and check that it answers:",
			"pg-backup-api serve --listen 127.0.0.1:7480\npg-backup-api status --port 7480"},
	}
	for i, e := range examples {
		if i > 0 {
			w(".PP\n")
		}
		w("%s\n.PP\n.RS 4\n.nf\n", roffInline(e.text))
		for _, line := range strings.Split(e.cmd, "\n") {
			w("%s\n", roffEscape(line))
		}
		w(".fi\n.RE\n")
	}

	w(".SH \"SEE ALSO\"\n.BR barman (1),\n.BR barman (5),\n.BR systemctl (1)\n")
	return b.String()
}
