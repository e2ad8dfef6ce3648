package cli

// Usage errors, as gh reports them: the error and a hint on standard
// error, nothing on standard output, exit 2. urfave/cli v2 would print the
// whole help to standard output instead, where `id=$(pg-backup-api create
// ...)` captures it as if it were the operation ID.

import (
	"errors"
	"fmt"
	"reflect"
	"regexp"
	"slices"
	"strings"

	"github.com/urfave/cli/v2"
)

// usageErr is a bad invocation: exit 2, and a hint on how to get it right.
type usageErr struct {
	msg  string // without the "pg-backup-api: " prefix
	hint string // lines after the message, without a final newline
}

func (e *usageErr) Error() string {
	s := "pg-backup-api: " + e.msg
	if e.hint != "" {
		s += "\n" + e.hint
	}
	return s
}

func (e *usageErr) ExitCode() int { return ExitUsage }

// withHelpHint ends a usage error with where to read the command's usage,
// unless it has a hint already.
func withHelpHint(err error, path string) error {
	var ue *usageErr
	if errors.As(err, &ue) && ue.hint == "" {
		ue.hint = helpHint(path)
	}
	return err
}

func helpHint(path string) string {
	return fmt.Sprintf("Run '%s --help' for usage.", path)
}

// commandPath is how the command of c is typed: "pg-backup-api create
// recovery".
func commandPath(c *cli.Context) string {
	var names []string
	for _, ctx := range c.Lineage() {
		if ctx.Command != nil && ctx.Command.Name != "" && ctx.Command.Name != c.App.Name {
			names = append(names, ctx.Command.Name)
		}
	}
	slices.Reverse(names)
	return strings.TrimSpace(c.App.Name + " " + strings.Join(names, " "))
}

// prepareUsage makes every usage error of app a usageErr. It is done when
// the app runs, not in NewApp: cmd/gen-docs reads NewApp's flags, and
// their Required marks belong in the man page.
func prepareUsage(app *cli.App) {
	if app.Metadata[usageKey] != nil {
		return
	}
	app.Metadata[usageKey] = true
	app.OnUsageError = onUsageError
	prepareCommands(app.Commands)
}

const usageKey = "pg-backup-api/usage"

func prepareCommands(commands []*cli.Command) {
	for _, cmd := range commands {
		cmd.OnUsageError = onUsageError
		// urfave/cli prints the command's help to standard output for a
		// missing required flag; checking them in Before, which runs just
		// after its own check and before the action, keeps that quiet.
		var required []cli.Flag
		for _, f := range cmd.Flags {
			if r, ok := f.(cli.RequiredFlag); ok && r.IsRequired() {
				if field := reflect.ValueOf(f).Elem().FieldByName("Required"); field.CanSet() && field.Kind() == reflect.Bool {
					field.SetBool(false)
					required = append(required, f)
				}
			}
		}
		if len(required) > 0 {
			before := cmd.Before
			cmd.Before = func(c *cli.Context) error {
				if err := checkRequired(c, required); err != nil {
					return err
				}
				if before != nil {
					return before(c)
				}
				return nil
			}
		}
		prepareCommands(cmd.Subcommands)
	}
}

func checkRequired(c *cli.Context, required []cli.Flag) error {
	var missing []string
	for _, f := range required {
		if !slices.ContainsFunc(f.Names(), c.IsSet) {
			missing = append(missing, dashed(f.Names()[0]))
		}
	}
	switch len(missing) {
	case 0:
		return nil
	case 1:
		return &usageErr{msg: "missing required flag: " + missing[0], hint: helpHint(commandPath(c))}
	}
	return &usageErr{msg: "missing required flags: " + strings.Join(missing, ", "), hint: helpHint(commandPath(c))}
}

// dashed is a flag name as typed: -n, --limit.
func dashed(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// The errors of Go's flag package, which urfave/cli passes on.
var (
	reUnknownFlag = regexp.MustCompile(`^flag provided but not defined: -+(.+)$`)
	reNoValue     = regexp.MustCompile(`^flag needs an argument: -+(.+)$`)
	reBadValue    = regexp.MustCompile(`^invalid (?:boolean )?value "(.*)" for (?:flag )?-+([^:]+): (.*)$`)
)

// onUsageError is every command's OnUsageError: a flag urfave/cli could not
// parse.
func onUsageError(c *cli.Context, err error, _ bool) error {
	path := commandPath(c)
	msg := err.Error()
	var hint []string
	if m := reUnknownFlag.FindStringSubmatch(msg); m != nil {
		msg = "unknown flag: " + dashed(m[1])
		var names [][]string
		for _, f := range append(slices.Clone(c.Command.Flags), c.App.Flags...) {
			names = append(names, f.Names())
		}
		if s := suggest(m[1], names); len(s) > 0 {
			hint = append(hint, "Did you mean "+joinOr(mapDashed(s))+"?")
		}
	} else if m := reNoValue.FindStringSubmatch(msg); m != nil {
		msg = "flag needs a value: " + dashed(m[1])
	} else if m := reBadValue.FindStringSubmatch(msg); m != nil {
		msg = fmt.Sprintf("invalid value %q for %s: %s", m[1], dashed(m[2]), wantFor(c, m[2], m[3]))
	}
	hint = append(hint, helpHint(path))
	return &usageErr{msg: msg, hint: strings.Join(hint, "\n")}
}

// wantFor says what flag name takes, for an invalid value; why is what
// the parser said.
func wantFor(c *cli.Context, name, why string) string {
	for _, f := range append(slices.Clone(c.Command.Flags), c.App.Flags...) {
		if !slices.Contains(f.Names(), name) {
			continue
		}
		switch f.(type) {
		case *cli.IntFlag, *cli.Int64Flag, *cli.UintFlag, *cli.Uint64Flag:
			return "want a whole number"
		case *cli.Float64Flag:
			return "want a number"
		case *cli.DurationFlag:
			return "want a duration such as 30s, 5m or 1h"
		case *cli.BoolFlag:
			return "want true or false"
		}
	}
	return why
}

func mapDashed(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = dashed(n)
	}
	return out
}

func joinOr(items []string) string {
	if len(items) <= 1 {
		return strings.Join(items, "")
	}
	return strings.Join(items[:len(items)-1], ", ") + " or " + items[len(items)-1]
}

// suggest returns the things nearest to typed, for a "Did you mean", each
// by its first name: each thing is its names, the first the one to
// suggest. Near is within a small edit distance of any name (1 for short
// words, 2 otherwise), or begun by typed; nearest first, at most three.
// Single letters are never suggested, nor suggested for: every letter is
// one edit from every other.
func suggest(typed string, things [][]string) []string {
	typed = strings.ToLower(typed)
	if len([]rune(typed)) < 2 {
		return nil
	}
	limit := 2
	if len([]rune(typed)) <= 4 {
		limit = 1
	}
	best := -1
	var out []string
	for _, names := range things {
		if len(names) == 0 || len([]rune(names[0])) < 2 || slices.Contains(out, names[0]) {
			continue
		}
		d := -1
		for _, name := range names {
			if len([]rune(name)) < 2 {
				continue
			}
			n := editDistance(typed, strings.ToLower(name))
			if n > limit {
				if len(typed) < 3 || !strings.HasPrefix(strings.ToLower(name), typed) {
					continue
				}
				n = limit + 1 // a prefix ranks after a near miss
			}
			if d < 0 || n < d {
				d = n
			}
		}
		switch {
		case d < 0:
		case best < 0 || d < best:
			best, out = d, []string{names[0]}
		case d == best && len(out) < 3:
			out = append(out, names[0])
		}
	}
	return out
}

// editDistance is the Levenshtein distance between a and b, in runes.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}

// checkCommand refuses a word where a command or subcommand is expected
// that names none, before any flag is parsed: `create recvery --server x`
// is a mistyped subcommand, whatever its flags. It returns nil when the
// command line has no such word, and for shell completion, which must
// never fail.
func checkCommand(app *cli.App, args []string) error {
	if len(args) < 2 || args[len(args)-1] == "--generate-bash-completion" {
		return nil
	}
	rest := args[1:]
	for len(rest) > 0 && strings.HasPrefix(rest[0], "-") && rest[0] != "-" {
		if rest[0] == "--" || (movable(rest[0]) && !hasFlag(app.Flags, rest[0])) {
			return nil // the flag is the mistake, and parsing says so
		}
		n := 1
		if takesValue(app.Flags, rest[0]) && len(rest) > 1 {
			n = 2
		}
		rest = rest[n:]
	}
	commands, path := app.Commands, app.Name
	var cmd *cli.Command
	for len(rest) > 0 {
		next := findCommand(commands, rest[0])
		if next == nil {
			break
		}
		cmd, commands, path = next, next.Subcommands, path+" "+rest[0]
		rest = rest[1:]
	}
	if len(rest) == 0 || strings.HasPrefix(rest[0], "-") {
		return nil
	}
	word := rest[0]
	if cmd == nil {
		if word == "help" || word == "h" {
			return nil // urfave/cli's own help command
		}
	} else if len(cmd.Subcommands) == 0 || cmd.SkipFlagParsing {
		return nil // a positional argument
	}
	var names [][]string
	for _, c := range commands {
		if !c.Hidden {
			names = append(names, c.Names())
		}
	}
	hint := helpHint(path)
	s := suggest(word, names)
	if len(s) > 0 {
		hint = "Did you mean " + joinOr(s) + "?\n" + hint
	}
	switch {
	case cmd == nil:
		return &usageErr{msg: fmt.Sprintf("unknown command %q", word), hint: hint}
	case len(s) > 0 || cmd.Action == nil:
		return &usageErr{msg: fmt.Sprintf("unknown command %q for %q", word, path), hint: hint}
	}
	// A command that runs by itself says best what else the word could
	// have meant (`backups latest`: use `backups show latest`).
	return nil
}

// splitShortValues makes `-n1` read as `-n 1`, as getopt does: Go's flag
// package would take it for a flag named "n1". Only a single-letter flag
// that takes a value is split, and never one the command defines whole.
func splitShortValues(app *cli.App, args []string) []string {
	if len(args) < 2 {
		return args
	}
	out := []string{args[0]}
	flags, commands := app.Flags, app.Commands
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...)
		}
		if !strings.HasPrefix(a, "-") || a == "-" {
			// Words name commands until the first that does not; global
			// flags may come before them, the command's after.
			if next := findCommand(commands, a); next != nil {
				flags, commands = append(slices.Clone(next.Flags), app.Flags...), next.Subcommands
			} else {
				commands = nil
			}
			out = append(out, a)
			continue
		}
		if len(a) > 2 && a[1] != '-' && a[2] != '=' && !hasFlag(flags, a) && takesValue(flags, a[:2]) {
			out = append(out, a[:2], a[2:])
			continue
		}
		out = append(out, a)
		if takesValue(flags, a) && i+1 < len(args) {
			out = append(out, args[i+1])
			i++
		}
	}
	return out
}
