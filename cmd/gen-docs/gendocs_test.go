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
}
