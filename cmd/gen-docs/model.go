package main

import (
	"fmt"
	"strings"

	"github.com/pg-backup-api/pg-backup-api/cli"
	urfave "github.com/urfave/cli/v2"
)

// What the shells complete beyond the static words: a flag's value as
// cli.CompleteFlag says, a command's argument by the word its usage text
// names it with. Dynamic kinds are asked of the binary itself (__complete).
var docArgKinds = map[string]string{
	"ID":     "operations", // pg-backup-api inspect ID
	"BACKUP": "backups",    // pg-backup-api backups show BACKUP
}

// docCompletion says how to complete a value.
type docCompletion struct {
	dynamic  string   // one of cli.CompleteKinds: ask `pg-backup-api __complete`
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
func docModel(app *urfave.App) *docCommand {
	root := &docCommand{
		names:       []string{app.Name},
		usage:       app.Usage,
		description: strings.TrimSpace(strings.TrimSuffix(app.Description, cli.ExitCodesHelp)),
		flags:       docFlags(app.Flags, app.UsageText, nil),
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

func docWalk(c *urfave.Command, parent []string) *docCommand {
	path := append(append([]string{}, parent...), c.Name)
	d := &docCommand{
		path:        path,
		names:       c.Names(),
		usage:       c.Usage,
		usageText:   c.UsageText,
		description: c.Description,
		flags:       docFlags(c.Flags, c.UsageText, path),
	}
	d.args.dynamic = docArgKinds[docFirstArgument(c.UsageText, path)]
	d.flags = append(d.flags, docFlag{long: "help", short: "h", usage: "show help"})
	for _, s := range c.Subcommands {
		if s.Hidden || s.Name == "help" {
			continue
		}
		d.subs = append(d.subs, docWalk(s, path))
	}
	return d
}

func docFlags(flags []urfave.Flag, usageText string, path []string) []docFlag {
	var out []docFlag
	for _, f := range flags {
		if f == urfave.HelpFlag || f == urfave.VersionFlag {
			continue
		}
		if v, ok := f.(urfave.VisibleFlag); ok && !v.IsVisible() {
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
		if g, ok := f.(urfave.DocGenerationFlag); ok {
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
		if r, ok := f.(urfave.RequiredFlag); ok {
			df.required = r.IsRequired()
		}
		switch t := f.(type) {
		case *urfave.StringFlag:
			df.def = t.Value
		case *urfave.IntFlag:
			if t.Value != 0 {
				df.def = fmt.Sprint(t.Value)
			}
		case *urfave.Int64Flag:
			if t.Value != 0 {
				df.def = fmt.Sprint(t.Value)
			}
		case *urfave.DurationFlag:
			if t.Value != 0 {
				df.def = t.Value.String()
			}
		}
		df.complete.dynamic, df.complete.words = cli.CompleteFlag(strings.Join(path, " "), df.long)
		if df.value != "" && df.complete.empty() && strings.Contains(df.value, "FILE") {
			df.complete = docCompletion{files: true}
		}
		out = append(out, df)
	}
	return out
}

// docFirstArgument is the word that usageText names the command's first
// argument with: ID for "pg-backup-api inspect ID ...", "" when none.
func docFirstArgument(usageText string, path []string) string {
	first, _, _ := strings.Cut(usageText, "\n")
	fields := strings.Fields(first)
	n := 1 + len(path)
	if len(fields) > n && strings.Join(fields[1:n], " ") == strings.Join(path, " ") {
		return fields[n]
	}
	return ""
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

// options returns the flag's spellings on a command line.
func (f docFlag) options() []string {
	out := []string{"--" + f.long}
	if f.short != "" {
		out = append(out, "-"+f.short)
	}
	return out
}
