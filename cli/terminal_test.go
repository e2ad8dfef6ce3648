package cli_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
	"github.com/pg-backup-api/pg-backup-api/cli"
	"github.com/pg-backup-api/pg-backup-api/cli/iostreams"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
)

// Rendering for people and for scripts: the real binary on a pseudo-terminal
// and through pipes. Also list's filters, which decide what is rendered.

// termSize is the window of the pseudo-terminals the binary runs on.
var termSize = &pty.Winsize{Rows: 50, Cols: 160}

// runPTY runs the real binary on a pseudo-terminal and returns its exit
// status and what the terminal received. Standard output goes to stdout
// instead when it is not nil, so a test can put only standard error on the
// terminal.
func runPTY(t *testing.T, extraEnv []string, stdout io.Writer, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = append(os.Environ(), extraEnv...)
	if stdout != nil {
		cmd.Stdout = stdout
	}
	cmd.WaitDelay = 10 * time.Second
	ptmx, err := pty.StartWithSize(cmd, termSize)
	if err != nil {
		t.Fatalf("starting %q on a terminal: %v", args, err)
	}
	defer ptmx.Close()
	var term bytes.Buffer
	copied := make(chan struct{})
	go func() {
		defer close(copied)
		io.Copy(&term, ptmx) // ends with EIO once the last holder of the terminal exits
	}()
	err = cmd.Wait()
	code := 0
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		code = ee.ExitCode()
	default:
		t.Fatalf("running %q on a terminal: %v", args, err)
	}
	select {
	case <-copied:
	case <-time.After(10 * time.Second):
		// Not waiting for the reader: a read of a blocking terminal
		// need not end when it is closed.
		t.Fatalf("%q exited but the terminal stayed open", args)
	}
	return code, term.String()
}

// termLines splits what a terminal received into lines, undoing the
// terminal's newline translation.
func termLines(s string) []string {
	return strings.Split(strings.TrimSuffix(strings.ReplaceAll(s, "\r\n", "\n"), "\n"), "\n")
}

var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*m")

func lineWith(lines []string, prefix string) string {
	for _, l := range lines {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}

var tableHeader = regexp.MustCompile(`^ID +SCOPE +TYPE +STATUS +STARTED +DURATION$`)

// checkTable checks list's table: the header, one aligned row per
// operation, relative times, and colour or none.
func checkTable(t *testing.T, term string, ids []string, colour bool) {
	t.Helper()
	lines := termLines(term)
	if len(lines) != len(ids)+1 || !tableHeader.MatchString(lines[0]) {
		t.Fatalf("want the header ID  SCOPE  TYPE  STATUS  STARTED  DURATION and %d rows, got:\n%s", len(ids), term)
	}
	header := lines[0]
	var cols []int
	for _, name := range []string{"SCOPE", "TYPE", "STATUS", "STARTED", "DURATION"} {
		cols = append(cols, strings.Index(header, name))
	}
	for i, id := range ids {
		row := lines[i+1]
		if !strings.HasPrefix(row, id+" ") {
			t.Errorf("row %d: want operation %s, got %q", i+1, id, row)
		}
		if has := strings.Contains(row, "\x1b["); has != colour {
			t.Errorf("row %q: escape codes %v, want %v", row, has, colour)
		}
		plain := ansiEscape.ReplaceAllString(row, "")
		for j, c := range cols {
			if len(plain) <= c || plain[c-1] != ' ' || plain[c] == ' ' {
				t.Errorf("row %q: column %d does not start at %d, under its header", plain, j+2, c)
			}
		}
		if !regexp.MustCompile(` (\d+(\.\d)?s|\d+m\d+s|\d+h\d+m|\d+d) ago `).MatchString(plain) {
			t.Errorf("row %q: STARTED is not a relative time", plain)
		}
	}
}

func fixtureIDs() []string {
	ids := make([]string, len(fixtureOps))
	for i, op := range fixtureOps {
		ids[i] = op.ID
	}
	return ids
}

// plainListLine is what list prints through a pipe for a fixture operation.
func plainListLine(t testing.TB, op fixtureOp) string {
	scope := op.Server
	if scope == "" {
		scope = "(instance)"
	}
	return strings.Join([]string{op.ID, scope, op.Type, op.Status, testenv.LocalTime(t, op.Start).Format(time.RFC3339), op.Duration}, "\t")
}

func TestListRendering(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	holdRunnerLock(t, e, "")
	queued := queueOp(t, e, "", "create", "config-update", "--changes", instanceChanges)
	ids := append([]string{queued}, fixtureIDs()...)
	global := []string{"--barman-config", e.Conf, "--barman-command", fakeBarman}

	t.Run("terminal", func(t *testing.T) {
		code, term := runPTY(t, nil, nil, append(global, "list")...)
		if code != 0 {
			t.Fatalf("exit %d:\n%s", code, term)
		}
		checkTable(t, term, ids, true)
		lines := termLines(term)
		for _, op := range fixtureOps {
			colour := map[string]string{"DONE": "32", "FAILED": "31"}[op.Status]
			if want := "\x1b[" + colour + "m" + op.Status + "\x1b[0m"; !strings.Contains(lineWith(lines, op.ID), want) {
				t.Errorf("row of %s (%s) lacks %q: %q", op.ID, op.Status, want, lineWith(lines, op.ID))
			}
		}
		if want := "\x1b[33mIN_PROGRESS (queued)\x1b[0m"; !strings.Contains(lineWith(lines, queued), want) {
			t.Errorf("row of the queued operation lacks %q: %q", want, lineWith(lines, queued))
		}
	})

	for _, tt := range []struct {
		name string
		env  []string
		args []string
	}{
		// Any value, as no-color.org says, and urfave/cli must not
		// refuse the command for a value that is no boolean.
		{"NO_COLOR=yes", []string{"NO_COLOR=yes"}, nil},
	} {
		t.Run("terminal, "+tt.name, func(t *testing.T) {
			code, term := runPTY(t, tt.env, nil, append(append(append([]string{}, global...), tt.args...), "list")...)
			if code != 0 {
				t.Fatalf("exit %d:\n%s", code, term)
			}
			if strings.Contains(term, "\x1b") {
				t.Errorf("escape codes despite %s:\n%q", tt.name, term)
			}
			checkTable(t, term, ids, false)
		})
	}

	// The rest of the terminal cases need no real terminal: streams from
	// iostreams.Test() say there is one (iostreams' own tests prove that
	// NO_COLOR and TERM=dumb turn colour off on a real one).
	for _, tt := range []struct {
		name  string
		color bool // as the environment allows
		args  []string
	}{
		{"NO_COLOR=1 or TERM=dumb", false, nil},
		{"--no-color", true, []string{"--no-color"}},
	} {
		t.Run("terminal (iostreams.Test), "+tt.name, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			ios.SetStdoutTTY(true)
			ios.SetStderrTTY(true)
			ios.SetColorEnabled(tt.color)
			r := runAppOn(t, ios, append(append(append([]string{}, global...), tt.args...), "list")...)
			if r.Code != 0 {
				t.Fatal(r)
			}
			if strings.Contains(r.Stdout, "\x1b") {
				t.Errorf("escape codes despite %s:\n%q", tt.name, r.Stdout)
			}
			checkTable(t, r.Stdout, ids, false)
		})
	}
	t.Run("terminal (iostreams.Test), colour", func(t *testing.T) {
		ios, _, _, _ := iostreams.Test()
		ios.SetStdoutTTY(true)
		r := runAppOn(t, ios, append(append([]string{}, global...), "list")...)
		if r.Code != 0 {
			t.Fatal(r)
		}
		checkTable(t, r.Stdout, ids, true)
	})

	t.Run("pipe", func(t *testing.T) {
		var want []string
		for _, op := range fixtureOps {
			want = append(want, plainListLine(t, op))
		}
		first := e.exec(t, nil, "", "list")
		if first.Code != 0 || first.Stderr != "" {
			t.Fatalf("list: %v", first)
		}
		if strings.Contains(first.Stdout, "\x1b") || strings.Contains(first.Stdout, "ago") || strings.Contains(first.Stdout, "DURATION") {
			t.Errorf("piped list has escape codes, relative times or a header:\n%s", first.Stdout)
		}
		lines := strings.Split(strings.TrimSuffix(first.Stdout, "\n"), "\n")
		if len(lines) != len(ids) {
			t.Fatalf("want %d lines, got:\n%s", len(ids), first.Stdout)
		}
		q := strings.Split(lines[0], "\t")
		if len(q) != 6 || q[0] != queued || q[3] != "IN_PROGRESS (queued)" {
			t.Errorf("first line is not the queued operation: %q", lines[0])
		} else if _, err := time.Parse(time.RFC3339, q[4]); err != nil {
			t.Errorf("the queued operation's start is not RFC 3339: %v", err)
		}
		if !slices.Equal(lines[1:], want) {
			t.Errorf("piped list:\n%s\nwant:\n%s", strings.Join(lines[1:], "\n"), strings.Join(want, "\n"))
		}
		// Stable: the same lines a while later.
		time.Sleep(1100 * time.Millisecond)
		again := e.exec(t, nil, "", "list")
		if again := strings.Split(strings.TrimSuffix(again.Stdout, "\n"), "\n"); len(again) != len(lines) || !slices.Equal(again[1:], lines[1:]) {
			t.Errorf("piped list changed:\n%s\nthen:\n%s", first.Stdout, strings.Join(again, "\n"))
		}
	})

	t.Run("pipe, -o table", func(t *testing.T) {
		r := e.exec(t, nil, "", "list", "-o", "table")
		if r.Code != 0 {
			t.Fatal(r)
		}
		checkTable(t, r.Stdout, ids, false) // a table, but no colour off a terminal
	})
}

func TestInspectRendering(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	global := []string{"--barman-config", e.Conf}
	for _, tt := range []struct {
		id, status, colour, firstOutput string
	}{
		{"20261125T080805", "DONE", "32", "  Starting remote restore for server db_server_two using backup 20261125T080758"},
		{"20261125T080916", "FAILED", "31", "  ERROR: Unable to connect to the target host using the command"},
	} {
		t.Run(tt.id, func(t *testing.T) {
			op := fixtureOpByID(t, tt.id)
			start, end := testenv.LocalTime(t, op.Start), testenv.LocalTime(t, op.End)

			code, term := runPTY(t, nil, nil, append(global, "inspect", tt.id)...)
			if code != 0 {
				t.Fatalf("exit %d:\n%s", code, term)
			}
			lines := termLines(term)
			if got, want := lineWith(lines, "Status:"), "Status:    \x1b["+tt.colour+"m"+tt.status+"\x1b[0m"; got != want {
				t.Errorf("terminal: %q, want %q", got, want)
			}
			for label, when := range map[string]time.Time{"Started:   ": start, "Ended:     ": end} {
				re := regexp.MustCompile(`^` + label + regexp.QuoteMeta(when.Format("2006-01-02 15:04:05")) + ` \(\S+ ago\)$`)
				if got := lineWith(lines, label); !re.MatchString(got) {
					t.Errorf("terminal: %q, want the local time and how long ago", got)
				}
			}
			if !slices.Contains(lines, "Output:") || !strings.HasPrefix(lineWith(lines, "  "), tt.firstOutput) {
				t.Errorf("terminal: no output, or not indented:\n%s", term)
			}

			code, term = runPTY(t, []string{"NO_COLOR=1"}, nil, append(global, "inspect", tt.id)...)
			if code != 0 || strings.Contains(term, "\x1b") || !strings.Contains(term, "Status:    "+tt.status+"\r\n") || !strings.Contains(term, " ago)") {
				t.Errorf("terminal with NO_COLOR: want relative times and no escape codes, got exit %d:\n%q", code, term)
			}

			r := e.exec(t, nil, "", "inspect", tt.id)
			if r.Code != 0 {
				t.Fatal(r)
			}
			if strings.Contains(r.Stdout, "\x1b") || strings.Contains(r.Stdout, "ago") {
				t.Errorf("pipe: escape codes or relative times:\n%s", r.Stdout)
			}
			for _, want := range []string{
				"Status:    " + tt.status + "\n",
				"Started:   " + start.Format(time.RFC3339) + "\n",
				"Ended:     " + end.Format(time.RFC3339) + "\n",
				"Duration:  " + op.Duration + "\n",
				"Output:\n" + tt.firstOutput,
			} {
				if !strings.Contains(r.Stdout, want) {
					t.Errorf("pipe: no %q in:\n%s", want, r.Stdout)
				}
			}
		})
	}
}

func TestCreateWaitProgress(t *testing.T) {
	t.Parallel()
	args := []string{"create", "config-update", "--changes", instanceChanges, "--wait"}

	t.Run("terminal", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, false)
		var stdout testenv.SyncBuffer
		code, term := runPTY(t, []string{"FAKE_BARMAN_SLEEP=2"}, &stdout,
			append([]string{"--barman-config", e.Conf, "--barman-command", fakeBarman}, args...)...)
		id := strings.TrimSpace(stdout.String())
		if code != 0 || id == "" {
			t.Fatalf("exit %d, stdout %q, terminal:\n%q", code, stdout.String(), term)
		}
		live := regexp.MustCompile(`\r\x1b\[K` + regexp.QuoteMeta(id) + ` running \d+(\.\d)?s \| config-update \[`)
		if !live.MatchString(term) {
			t.Errorf("no live line \\r\\x1b[K%s running ELAPSED | LAST OUTPUT on the terminal:\n%q", id, term)
		}
		// The live line is cleared before the result.
		end := regexp.MustCompile(`\r\x1b\[Koperation ` + regexp.QuoteMeta(id) + ` DONE after [2-9]\.\ds\r\n$`)
		if !end.MatchString(term) {
			t.Errorf("the terminal does not end with a cleared line and the result:\n%q", term)
		}
	})

	t.Run("pipe", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, false)
		r := e.exec(t, []string{"FAKE_BARMAN_SLEEP=2"}, "", args...)
		id := strings.TrimSpace(r.Stdout)
		if r.Code != 0 || id == "" {
			t.Fatal(r)
		}
		if want := regexp.MustCompile(`^operation ` + regexp.QuoteMeta(id) + ` DONE after [2-9]\.\ds\n$`); !want.MatchString(r.Stderr) {
			t.Errorf("through a pipe, want only the final line on stderr, got %q", r.Stderr)
		}
	})
}

// listed runs list in process with args and returns the IDs it printed.
func listed(t *testing.T, e *env, args ...string) (result, []string) {
	t.Helper()
	r := e.run(t, append([]string{"list"}, args...)...)
	var ids []string
	for _, line := range strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n") {
		if line != "" {
			ids = append(ids, strings.SplitN(line, "\t", 2)[0])
		}
	}
	return r, ids
}

func TestListFilters(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	// One operation queued and one cancelled, beside the fixture's DONE and
	// FAILED ones, all started now.
	holdRunnerLock(t, e, "")
	holdRunnerLock(t, e, "db_server_two")
	queued := queueOp(t, e, "", "create", "config-update", "--changes", instanceChanges)
	cancelled := queueOp(t, e, "db_server_two", "create", "config-switch", "-s", "db_server_two", "--reset")
	// Created within the same second, both may have the same ID: IDs are
	// unique within a scope, as the reference's are.
	if r := e.run(t, "cancel", "--server", "db_server_two", cancelled); r.Code != 0 || r.Stdout != cancelled+" FAILED (cancelled)\n" {
		t.Fatalf("cancel: %v", r)
	}

	type item struct {
		id, server, typ, status, phase string
		start                          time.Time
	}
	all := []item{
		{queued, "", "config_update", "IN_PROGRESS", "queued", opState(t, e, "", queued).StartTime},
		{cancelled, "db_server_two", "config_switch", "FAILED", "cancelled", opState(t, e, "db_server_two", cancelled).StartTime},
	}
	for _, op := range fixtureOps {
		all = append(all, item{op.ID, op.Server, op.Type, op.Status, strings.ToLower(op.Status), testenv.LocalTime(t, op.Start)})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].id > all[j].id })
	where := func(keep func(item) bool) []string {
		var ids []string
		for _, it := range all {
			if keep(it) {
				ids = append(ids, it.id)
			}
		}
		return ids
	}
	startedSince := func(since time.Time) func(item) bool {
		return func(it item) bool { return !it.start.Before(since) }
	}
	// ageSince is an age in whole minutes that reaches back to just after
	// cut: up to a minute later.
	ageSince := func(cut time.Time) (string, time.Time) {
		m := int(time.Since(cut) / time.Minute)
		return strconv.Itoa(m) + "m", time.Now().Add(-time.Duration(m) * time.Minute)
	}
	age1, since1 := ageSince(testenv.LocalTime(t, "2026-11-25T08:07:00.000000"))
	date := func(s string) time.Time {
		d, err := time.ParseInLocation("2006-01-02", s, time.Local)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	allIDs := where(func(item) bool { return true })

	tests := []struct {
		args []string
		want []string
	}{
		{nil, allIDs},
		{[]string{"--type", "recovery"}, []string{"20261125T080916", "20261125T080805"}},
		{[]string{"-t", "config-switch"}, []string{cancelled, "20261125T080918", "20261125T080915", "20261125T080500"}},
		{[]string{"--type", "CONFIG_UPDATE"}, []string{queued, "20261125T080919", "20261125T080447"}},
		{[]string{"--type", "recovery", "--type", "config_update"}, []string{queued, "20261125T080919", "20261125T080916", "20261125T080805", "20261125T080447"}},
		{[]string{"--status", "FAILED"}, []string{cancelled, "20261125T080916", "20261125T080915"}},
		{[]string{"--status", "failed"}, []string{cancelled, "20261125T080916", "20261125T080915"}},
		{[]string{"--status", "Done"}, where(func(it item) bool { return it.status == "DONE" })},
		{[]string{"--status", "IN_PROGRESS"}, []string{queued}},
		{[]string{"--status", "in-progress"}, []string{queued}},
		{[]string{"--status", "queued"}, []string{queued}},
		{[]string{"--status", "QUEUED"}, []string{queued}},
		{[]string{"--status", "Cancelled"}, []string{cancelled}},
		{[]string{"--status", "running"}, nil},
		{[]string{"--status", "timeout"}, nil},
		{[]string{"--status", "queued", "--status", "cancelled"}, where(func(it item) bool { return it.phase == "queued" || it.phase == "cancelled" })},
		{[]string{"--since", age1}, where(startedSince(since1))},
		{[]string{"--since", "30m"}, where(startedSince(time.Now().Add(-30 * time.Minute)))},
		{[]string{"--since", "7d"}, where(startedSince(time.Now().AddDate(0, 0, -7)))},
		{[]string{"--since", "0d"}, nil}, // since now: everything started before
		{[]string{"--since", "2026-11-25"}, where(startedSince(date("2026-11-25")))},
		{[]string{"--since", "2026-11-26"}, where(startedSince(date("2026-11-26")))},
		{[]string{"--since", "2026-11-25T08:09"}, where(startedSince(testenv.LocalTime(t, "2026-11-25T08:09:00.000000")))},
		{[]string{"--since", "2026-11-25 08:09"}, where(startedSince(testenv.LocalTime(t, "2026-11-25T08:09:00.000000")))},
		{[]string{"--since", "2026-11-25T08:09:16"}, where(startedSince(testenv.LocalTime(t, "2026-11-25T08:09:16.000000")))},
		{[]string{"--limit", "2"}, allIDs[:2]},
		{[]string{"-n", "1"}, allIDs[:1]},
		{[]string{"--limit", "0"}, allIDs},
		{[]string{"--limit", "100"}, allIDs},
		{[]string{"--type", "config_switch", "--status", "FAILED"}, []string{cancelled, "20261125T080915"}},
		{[]string{"--type", "recovery", "--since", "2026-11-25T08:09"}, []string{"20261125T080916"}},
		{[]string{"--server", "db_server_two", "--status", "DONE", "--limit", "2"}, []string{"20261125T080918", "20261125T080805"}},
		{[]string{"--instance", "--type", "config_update", "--status", "done"}, []string{"20261125T080919", "20261125T080447"}},
		{[]string{"--status", "failed", "--since", "2026-11-25T08:09:16", "-n", "2"}, []string{cancelled, "20261125T080916"}},
	}
	// The age cases need the fixture to be older than they reach.
	if !since1.Before(testenv.LocalTime(t, "2026-11-25T08:08:05.000000")) {
		t.Fatalf("age %s does not reach 08:08:05; is the clock before 2026-11-25?", age1)
	}
	for _, tt := range tests {
		r, got := listed(t, e, tt.args...)
		if r.Code != 0 {
			t.Errorf("list %q: %v", tt.args, r)
			continue
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("list %q:\n got %q\nwant %q", tt.args, got, tt.want)
		}
	}

	// -o json filters the same.
	r := e.run(t, "list", "--status", "FAILED", "--type", "recovery", "-o", "json")
	var doc struct{ Operations []listedOp }
	decodeJSON(t, r.Stdout, &doc)
	if len(doc.Operations) != 1 || doc.Operations[0].ID != "20261125T080916" || doc.Operations[0].Status != "FAILED" {
		t.Errorf("list -o json --status FAILED --type recovery: %s", r.Stdout)
	}
	// Nothing left: an empty document, not an error.
	if r := e.run(t, "list", "--status", "timeout", "-o", "json"); r.Code != 0 || r.Stdout != "{\n  \"operations\": []\n}\n" {
		t.Errorf("list matching nothing, -o json: %v", r)
	}

	for _, tt := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--type", "restore"}, `--type "restore"`},
		{[]string{"--type", ""}, `--type ""`},
		{[]string{"--status", "weird"}, `--status "weird"`},
		{[]string{"--status", "DONE", "--status", "finished"}, `--status "finished"`},
		{[]string{"--since", "yesterday"}, `--since "yesterday"`},
		{[]string{"--since", "-5m"}, `--since "-5m"`},
		{[]string{"--since", "5x"}, `--since "5x"`},
		{[]string{"--since", "2026-13-01"}, `--since "2026-13-01"`},
		{[]string{"--limit", "-1"}, "--limit -1"},
		{[]string{"--limit", "many"}, "many"},
	} {
		r, _ := listed(t, e, tt.args...)
		if r.Code != cli.ExitUsage || !strings.Contains(r.allErr(), tt.msg) {
			t.Errorf("list %q: want exit %d mentioning %q, got %v", tt.args, cli.ExitUsage, tt.msg, r)
		}
	}
}
