package main

import (
	"fmt"
	"strings"

	"github.com/pg-backup-api/pg-backup-api/cli"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

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
		{"$XDG_CONFIG_HOME/pg-backup-api/config.toml", "Our configuration (TOML) for one user, read unless `--config` or " + cli.EnvConfig +
			" names a file (which must then exist); `~/.config/pg-backup-api/config.toml` when XDG_CONFIG_HOME is unset. " +
			"The first file found is the whole configuration: files are never merged."},
		{cli.DefaultConfigPath, "Our configuration (TOML), read when no file above is named or exists; installed root:barman 0640, " +
			"since it may hold secrets (a warning says when a file holding one is readable by every user). Keys: `" +
			strings.Join(cli.ConfigKeys(), "`, `") + "`; an unknown key is an error naming its line."},
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
	for _, line := range strings.Split(cli.ExitCodesHelp, "\n")[1:] {
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
