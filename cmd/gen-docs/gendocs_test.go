package main

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/cli"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	urfave "github.com/urfave/cli/v2"
)

// The committed generated files, relative to this package.
const docsRepoRoot = "../.."

// TestDocsUpToDate regenerates the completions and the man page and
// compares them with the committed ones.
func TestMain(m *testing.M) {
	code := m.Run()
	testenv.RemoveBinary()
	os.Exit(code)
}

func TestDocsUpToDate(t *testing.T) {
	dir := t.TempDir()
	written, err := writeDocs(newApp(), dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(written) != len(docFiles) {
		t.Fatalf("wrote %d files, want %d", len(written), len(docFiles))
	}
	for _, name := range docFiles {
		want, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(filepath.Join(docsRepoRoot, filepath.FromSlash(name)))
		if err != nil {
			t.Errorf("%s: %v; run `make docs` and commit the result", name, err)
			continue
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is stale: it differs from what the command-line definition generates (%s); run `make docs` and commit the result",
				name, docsFirstDifference(string(got), string(want)))
		}
	}
}

func docsFirstDifference(got, want string) string {
	g, w := strings.Split(got, "\n"), strings.Split(want, "\n")
	for i := 0; i < len(g) || i < len(w); i++ {
		var gl, wl string
		if i < len(g) {
			gl = g[i]
		}
		if i < len(w) {
			wl = w[i]
		}
		if gl != wl {
			return "first at line " + strconv.Itoa(i+1) + ": committed " + docsQuoteShort(gl) + ", generated " + docsQuoteShort(wl)
		}
	}
	return "same lines, different bytes"
}

func docsQuoteShort(s string) string {
	if len(s) > 80 {
		s = s[:80] + "..."
	}
	return "\"" + s + "\""
}

// docsVisibleCommands returns the visible commands as their paths
// ("create recovery") and every name they answer to.
func docsVisibleCommands(commands []*urfave.Command, parent string) map[string][]string {
	out := map[string][]string{}
	for _, c := range commands {
		if c.Hidden {
			continue
		}
		path := strings.TrimSpace(parent + " " + c.Name)
		out[path] = c.Names()
		for k, v := range docsVisibleCommands(c.Subcommands, path) {
			out[k] = v
		}
	}
	return out
}

// TestCompletionScripts checks the committed scripts: valid syntax, and
// every command that is not hidden is there.
func TestCompletionScripts(t *testing.T) {
	files := generateDocs(newApp())
	commands := docsVisibleCommands(newApp().Commands, "")
	if len(commands) < 8 {
		t.Fatalf("found only %d visible commands: %v", len(commands), commands)
	}
	for _, name := range []string{docBashCompletion, docZshCompletion, docFishCompletion} {
		text := files[name]
		if strings.TrimSpace(text) == "" {
			t.Fatalf("%s is empty", name)
		}
		for path, names := range commands {
			for _, n := range names {
				if !strings.Contains(text, n) {
					t.Errorf("%s does not mention %q (command %s)", name, n, path)
				}
			}
		}
		var code []string // the script less its comments
		for _, l := range strings.Split(text, "\n") {
			if !strings.HasPrefix(strings.TrimSpace(l), "#") {
				code = append(code, l)
			}
		}
		for _, hidden := range []string{"gen-docs", "'run'", ":run'", " run)"} {
			if strings.Contains(strings.Join(code, "\n"), hidden) {
				t.Errorf("%s offers hidden command %s", name, hidden)
			}
		}
	}

	dir := t.TempDir()
	if _, err := writeDocs(newApp(), dir); err != nil {
		t.Fatal(err)
	}
	shells := []struct {
		shell string
		args  []string
		file  string
	}{
		{"bash", []string{"-n"}, docBashCompletion},
		{"zsh", []string{"-n"}, docZshCompletion},
		{"fish", []string{"--no-execute"}, docFishCompletion},
	}
	for _, sh := range shells {
		t.Run(sh.shell, func(t *testing.T) {
			path, err := exec.LookPath(sh.shell)
			if err != nil {
				if sh.shell == "bash" {
					t.Fatal("bash is needed to check the bash completion")
				}
				t.Skipf("%s is not installed", sh.shell)
			}
			out, err := exec.Command(path, append(sh.args, filepath.Join(dir, sh.file))...).CombinedOutput()
			if err != nil || len(out) > 0 {
				t.Errorf("%s %v %s: %v\n%s", sh.shell, sh.args, sh.file, err, out)
			}
		})
	}
}

// TestManPage checks that the man page documents every command and flag,
// and renders without a warning.
func TestManPage(t *testing.T) {
	app := newApp()
	page := generateDocs(app)[docManPage]
	for _, section := range []string{"NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "COMMANDS", "FILES", "ENVIRONMENT", "\"EXIT STATUS\"", "EXAMPLES"} {
		if !strings.Contains(page, "\n.SH "+section+"\n") {
			t.Errorf("man page has no %s section", section)
		}
	}
	roff := func(s string) string { return strings.ReplaceAll(s, "-", `\-`) }
	var walk func([]*urfave.Command, []urfave.Flag, string)
	walk = func(commands []*urfave.Command, flags []urfave.Flag, parent string) {
		for _, f := range flags {
			if v, ok := f.(urfave.VisibleFlag); ok && !v.IsVisible() {
				continue
			}
			if !strings.Contains(page, `\fB\-\-`+roff(f.Names()[0])+`\fR`) {
				t.Errorf("man page does not document --%s", f.Names()[0])
			}
		}
		for _, c := range commands {
			if c.Hidden {
				continue
			}
			path := strings.TrimSpace(parent + " " + c.Name)
			title := ".SS \"" + roff(path)
			if !strings.Contains(page, title+"\"\n") && !strings.Contains(page, title+" (alias") {
				t.Errorf("man page has no section for command %s", path)
			}
			walk(c.Subcommands, c.Flags, path)
		}
	}
	walk(app.Commands, app.Flags, "")
	for _, env := range []string{cli.EnvConfig, cli.EnvBarmanConfig, cli.EnvBarmanCommand, "NO_COLOR"} {
		if !strings.Contains(page, `\fB`+env+`\fR`) {
			t.Errorf("man page ENVIRONMENT lacks %s", env)
		}
	}
	for _, code := range []int{cli.ExitOK, cli.ExitError, cli.ExitUsage, cli.ExitNotFound, cli.ExitFailed, cli.ExitUnavailable, cli.ExitConflict} {
		if !strings.Contains(page, "\n.B "+strconv.Itoa(code)+"\n") {
			t.Errorf("man page EXIT STATUS lacks %d", code)
		}
	}

	dir := t.TempDir()
	file := filepath.Join(dir, "pg-backup-api.1")
	if err := os.WriteFile(file, []byte(page), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Run("groff", func(t *testing.T) {
		if _, err := exec.LookPath("groff"); err != nil {
			t.Skip("groff is not installed")
		}
		out, err := exec.Command("groff", "-man", "-ww", "-z", file).CombinedOutput()
		if err != nil || len(out) > 0 {
			t.Errorf("groff -man -ww -z: %v\n%s", err, out)
		}
	})
	t.Run("man", func(t *testing.T) {
		if _, err := exec.LookPath("man"); err != nil {
			t.Skip("man is not installed")
		}
		cmd := exec.Command("man", "--warnings=w", "-l", file)
		cmd.Env = append(os.Environ(), "MANWIDTH=80", "MANPAGER=cat", "PAGER=cat")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || stderr.Len() > 0 {
			t.Errorf("man -l: %v\n%s", err, stderr.String())
		}
		if !bytes.Contains(out, []byte("EXIT STATUS")) {
			t.Errorf("man -l rendered no EXIT STATUS:\n%s", out)
		}
	})
}

// docsBuild builds the binary into dir and returns dir, for PATH.
func docsBuild(t *testing.T) string {
	t.Helper()
	// The binary's directory holds nothing else.
	return filepath.Dir(testenv.Binary(t))
}

// TestCompletionLive runs the committed completion scripts in real shells,
// against the real binary, on the fixture's Barman configuration.
func TestCompletionLive(t *testing.T) {
	bin := docsBuild(t)
	conf := testenv.BarmanConf(t, "barman-3.17", true)
	empty := testenv.EmptyConfig(t)
	missing := filepath.Join(t.TempDir(), "no-such-barman.conf")
	script, err := filepath.Abs(filepath.Join(docsRepoRoot, filepath.FromSlash(docBashCompletion)))
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	env := []string{
		"PATH=" + bin + string(os.PathListSeparator) + os.Getenv("PATH"),
		"HOME=" + home,
		"XDG_CONFIG_HOME=" + filepath.Join(home, ".config"),
		"XDG_DATA_HOME=" + filepath.Join(home, ".local", "share"),
		cli.EnvConfig + "=" + empty,
		"LC_ALL=C",
	}

	bash := func(t *testing.T, extraEnv []string, words ...string) []string {
		t.Helper()
		// COMP_WORDS as bash sets it for the command line typed so far;
		// the last word is the one being completed.
		quoted := make([]string, len(words))
		for i, w := range words {
			quoted[i] = shQuote(w)
		}
		prog := "source " + shQuote(script) + "\n" +
			"COMP_WORDS=(" + strings.Join(quoted, " ") + ")\n" +
			"COMP_CWORD=" + strconv.Itoa(len(words)-1) + "\n" +
			"COMP_LINE=\"${COMP_WORDS[*]}\"; COMP_POINT=${#COMP_LINE}\n" +
			"_pg_backup_api\n" +
			"printf '%s\\n' \"${COMPREPLY[@]}\"\n"
		cmd := exec.Command("bash", "--norc", "--noprofile", "-c", prog)
		cmd.Env = append(append([]string{}, env...), extraEnv...)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil || stderr.Len() > 0 {
			t.Fatalf("bash completion of %q: %v\nstderr: %s", words, err, stderr.String())
		}
		return strings.Fields(string(out))
	}
	contains := slices.Contains[[]string]

	t.Run("bash", func(t *testing.T) {
		withConf := []string{cli.EnvBarmanConfig + "=" + conf}
		got := bash(t, withConf, "pg-backup-api", "create", "recovery", "--server", "")
		if !contains(got, "db_server_two") {
			t.Errorf("create recovery --server <TAB>: COMPREPLY %q lacks db_server_two", got)
		}
		if got := bash(t, withConf, "pg-backup-api", "create", "config-switch", "-s", "db_server_two", "--model-name", "m"); !contains(got, "my-model") {
			t.Errorf("--model-name m<TAB>: COMPREPLY %q lacks my-model", got)
		}
		if got := bash(t, withConf, "pg-backup-api", "inspect", "2026112"); !contains(got, "20261125T080919") || len(got) != 7 {
			t.Errorf("inspect 2026112<TAB>: COMPREPLY %q, want the 7 operation IDs", got)
		}
		if got := bash(t, withConf, "pg-backup-api", "cr"); len(got) != 1 || got[0] != "create" {
			t.Errorf("cr<TAB>: COMPREPLY %q, want create", got)
		}
		if got := bash(t, withConf, "pg-backup-api", "create", ""); !contains(got, "recovery") || !contains(got, "config-update") {
			t.Errorf("create <TAB>: COMPREPLY %q lacks the operations", got)
		}
		if got := bash(t, withConf, "pg-backup-api", "list", "--output", ""); strings.Join(got, " ") != "table plain json" {
			t.Errorf("list --output <TAB>: COMPREPLY %q", got)
		}
		// The global --barman-config of the command line is passed on.
		if got := bash(t, nil, "pg-backup-api", "--barman-config", conf, "list", "-s", ""); !contains(got, "db_server_two") {
			t.Errorf("--barman-config FILE list -s <TAB>: COMPREPLY %q lacks db_server_two", got)
		}
		// No configuration: nothing, and no error (bash fails the test on stderr).
		if got := bash(t, []string{cli.EnvBarmanConfig + "=" + missing}, "pg-backup-api", "create", "recovery", "--server", ""); len(got) != 0 {
			t.Errorf("with a missing barman.conf: COMPREPLY %q, want nothing", got)
		}
	})

	t.Run("fish", func(t *testing.T) {
		if _, err := exec.LookPath("fish"); err != nil {
			t.Skip("fish is not installed")
		}
		fishScript, _ := filepath.Abs(filepath.Join(docsRepoRoot, filepath.FromSlash(docFishCompletion)))
		cmd := exec.Command("fish", "--no-config", "-c",
			"source "+fishQuote(fishScript)+"; complete -C 'pg-backup-api create recovery --server '")
		cmd.Env = append(append([]string{}, env...), cli.EnvBarmanConfig+"="+conf)
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "db_server_two") {
			t.Errorf("fish complete -C: %v\n%s", err, out)
		}
	})

	// Backup IDs and names from a catalog, remote names from a config
	// file, enum values: the same cases in each shell.
	b := testenv.NewBarman(t, "barman-3.17")
	testenv.WriteFile(t, filepath.Join(b.Home, "db_server_two", "meta", "20261126T010000-backup.info"),
		"backup_id=20261126T010000\nbackup_name=nightly\nstatus=FAILED\nserver_name=db_server_two\n")
	remotes := filepath.Join(t.TempDir(), "config.toml")
	testenv.WriteFile(t, remotes, "[remotes.barman2]\nurl = \"https://barman2:7480\"\n")
	kinds := []struct {
		name, line string // line: the command line typed so far, cursor at its end
		env        []string
		want       []string // each completed
		exact      bool     // and nothing else
	}{
		{"backup-id", "pg-backup-api create recovery -s db_server_two --backup-id ", []string{cli.EnvBarmanConfig + "=" + b.Conf},
			[]string{"20261125T080758", "20261126T010000", "nightly", "latest", "oldest", "last-failed"}, false},
		{"backup-id prefix", "pg-backup-api create delete --server db_server_two -b 2026112", []string{cli.EnvBarmanConfig + "=" + b.Conf},
			[]string{"20261125T080758", "20261126T010000"}, true},
		{"backups show", "pg-backup-api backups show -s db_server_two ", []string{cli.EnvBarmanConfig + "=" + b.Conf},
			[]string{"20261125T080758", "nightly", "latest"}, false},
		{"remote", "pg-backup-api list --remote ", []string{cli.EnvConfig + "=" + remotes}, []string{"barman2"}, true},
		{"target-action", "pg-backup-api create recovery --target-action ", nil, []string{"pause", "shutdown", "promote"}, true},
		{"status", "pg-backup-api list --status ", nil,
			[]string{"DONE", "FAILED", "IN_PROGRESS", "queued", "running", "lost", "cancelled", "timeout"}, true},
		{"no barman.conf", "pg-backup-api create keep -s db1 -b ", []string{cli.EnvBarmanConfig + "=" + missing}, nil, true},
	}
	check := func(t *testing.T, shell, line string, got, want []string, exact bool) {
		t.Helper()
		for _, w := range want {
			if !contains(got, w) {
				t.Errorf("%s: %q<TAB> completes %q, which lacks %s", shell, line, got, w)
			}
		}
		if exact && len(got) != len(want) {
			t.Errorf("%s: %q<TAB> completes %q, want only %q", shell, line, got, want)
		}
	}
	t.Run("kinds/bash", func(t *testing.T) {
		for _, k := range kinds {
			words := strings.Fields(k.line)
			if strings.HasSuffix(k.line, " ") {
				words = append(words, "")
			}
			check(t, "bash", k.line, bash(t, k.env, words...), k.want, k.exact)
		}
	})
	t.Run("kinds/zsh", func(t *testing.T) {
		if _, err := exec.LookPath("zsh"); err != nil {
			t.Skip("zsh is not installed")
		}
		zshScript, _ := filepath.Abs(filepath.Join(docsRepoRoot, filepath.FromSlash(docZshCompletion)))
		for _, k := range kinds {
			check(t, "zsh", k.line, docsZshComplete(t, zshScript, append(append([]string{}, env...), k.env...), k.line), k.want, k.exact)
		}
	})
	t.Run("kinds/fish", func(t *testing.T) {
		if _, err := exec.LookPath("fish"); err != nil {
			t.Skip("fish is not installed")
		}
		fishScript, _ := filepath.Abs(filepath.Join(docsRepoRoot, filepath.FromSlash(docFishCompletion)))
		for _, k := range kinds {
			cmd := exec.Command("fish", "--no-config", "-c", "source "+fishQuote(fishScript)+"; complete -C "+fishQuote(k.line))
			cmd.Env = append(append([]string{}, env...), k.env...)
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			out, err := cmd.Output()
			if err != nil || stderr.Len() > 0 {
				t.Fatalf("fish complete -C %q: %v\n%s", k.line, err, stderr.String())
			}
			var got []string
			for _, l := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				if w, _, _ := strings.Cut(l, "\t"); w != "" { // candidate<TAB>description
					got = append(got, w)
				}
			}
			check(t, "fish", k.line, got, k.want, k.exact)
		}
	})
}

// docsZshCapture types a command line and TAB into an interactive zsh on a
// pseudo-terminal (zsh/zpty), with compadd wrapped to write the candidates
// it is given to $3, and exits once completion has run.
const docsZshCapture = `zmodload zsh/zpty || exit 3
script=$1 line=$2 out=$3
zpty z zsh -f -i
zpty -w z "exec 2>>${(q)out}.err; PROMPT=; autoload -Uz compinit; compinit -u -D; source ${(q)script}"
zpty -w z "compadd() { if [[ \${@[1,(i)(-|--)]} == *-(O|A|D)\\ * ]]; then builtin compadd \"\$@\"; return; fi; local -a __hits; builtin compadd -A __hits \"\$@\"; (( \$#__hits )) && print -rl -- \$__hits >> ${(q)out}; builtin compadd \"\$@\" }"
zpty -w z "comppostfuncs=(_capture_done); _capture_done() { print -r -- __END__ >> ${(q)out}; exit }"
zpty -w z "bindkey '^I' complete-word; : > ${(q)out}.ready"
for i in {1..200}; do [[ -f $out.ready ]] && break; sleep 0.05; done
zpty -w -n z "$line"$'\t'
for i in {1..200}; do
  [[ -f $out ]] && grep -q __END__ $out && break
  sleep 0.05
done
zpty -d z
`

// docsZshComplete returns what zsh completes for line, with the completion
// script sourced after compinit; anything on zsh's standard error fails the
// test.
func docsZshComplete(t *testing.T, script string, env []string, line string) []string {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "out")
	cmd := exec.Command("zsh", "-f", "-c", docsZshCapture, "capture", script, line, out)
	cmd.Env = env
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("zsh completion of %q: %v\n%s", line, err, msg)
	}
	if errs, _ := os.ReadFile(out + ".err"); len(errs) > 0 {
		t.Errorf("zsh completion of %q wrote to stderr: %s", line, errs)
	}
	data, err := os.ReadFile(out)
	if err != nil || !strings.Contains(string(data), "__END__") {
		t.Fatalf("zsh completion of %q did not run: %v %q", line, err, data)
	}
	var got []string
	for _, l := range strings.Split(string(data), "\n") {
		if l != "" && l != "__END__" && !slices.Contains(got, l) {
			got = append(got, l)
		}
	}
	return got
}
