package cli_test

import (
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/cli"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
)

// fixtureOp is one operation of the pg-backup-api-2.2 store.
type fixtureOp struct {
	ID, Server, Type, Status string
	Start, End               string // as the reference wrote them: local time, no zone
	Duration                 string // as humanDuration prints end - start
}

// fixtureOps is the reference store, newest first.
var fixtureOps = []fixtureOp{
	{"20261125T080919", "", "config_update", "DONE", "2026-11-25T08:09:19.324345", "2026-11-25T08:09:19.882377", "0.6s"},
	{"20261125T080918", "db_server_two", "config_switch", "DONE", "2026-11-25T08:09:18.111222", "2026-11-25T08:09:20.679206", "2.6s"},
	{"20261125T080916", "db_server_two", "recovery", "FAILED", "2026-11-25T08:09:16.898446", "2026-11-25T08:09:17.463030", "0.6s"},
	{"20261125T080915", "db_server_two", "config_switch", "FAILED", "2026-11-25T08:09:15.681079", "2026-11-25T08:09:16.278206", "0.6s"},
	{"20261125T080805", "db_server_two", "recovery", "DONE", "2026-11-25T08:08:05.915895", "2026-11-25T08:08:14.068336", "8.2s"},
	{"20261125T080500", "db_server_two", "config_switch", "DONE", "2026-11-25T08:05:00.474759", "2026-11-25T08:05:01.121805", "0.6s"},
	{"20261125T080447", "", "config_update", "DONE", "2026-11-25T08:04:47.530448", "2026-11-25T08:04:48.217414", "0.7s"},
}

func fixtureOpsWhere(keep func(fixtureOp) bool) []fixtureOp {
	var out []fixtureOp
	for _, op := range fixtureOps {
		if keep(op) {
			out = append(out, op)
		}
	}
	return out
}

// listedOp is the -o json shape of a listed operation.
type listedOp struct {
	ID        string  `json:"id"`
	Server    *string `json:"server"`
	Type      string  `json:"type"`
	Status    string  `json:"status"`
	Phase     string  `json:"phase"`
	StartTime *string `json:"start_time"`
	EndTime   *string `json:"end_time"`
	Payload   any     `json:"payload"`
	Output    *string `json:"output"`
}

func (op listedOp) server() string {
	if op.Server == nil {
		return ""
	}
	return *op.Server
}

func TestListJSONFixtureStore(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	all := fixtureOps
	server := fixtureOpsWhere(func(op fixtureOp) bool { return op.Server == "db_server_two" })
	instance := fixtureOpsWhere(func(op fixtureOp) bool { return op.Server == "" })
	if len(all) != 7 || len(server) != 5 || len(instance) != 2 {
		t.Fatalf("fixture table is off: %d/%d/%d operations", len(all), len(server), len(instance))
	}
	tests := []struct {
		name string
		args []string
		want []fixtureOp
	}{
		{"every scope by default", []string{"list", "-o", "json"}, all},
		{"ls alias", []string{"ls", "-o", "json"}, all},
		{"--all", []string{"list", "--all", "-o", "json"}, all},
		{"-a, flag after -o", []string{"list", "-o", "json", "-a"}, all},
		{"--output=json", []string{"list", "--output=json"}, all},
		{"--server", []string{"list", "--server", "db_server_two", "-o", "json"}, server},
		{"-s", []string{"list", "-o", "json", "-s", "db_server_two"}, server},
		{"--instance", []string{"list", "--instance", "-o", "json"}, instance},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.run(t, tt.args...)
			if r.Code != cli.ExitOK || r.allErr() != "" {
				t.Fatalf("want exit 0 and nothing on stderr, got %v", r)
			}
			var got struct {
				Operations []listedOp `json:"operations"`
			}
			decodeJSON(t, r.Stdout, &got)
			if len(got.Operations) != len(tt.want) {
				t.Fatalf("want %d operations, got %d:\n%s", len(tt.want), len(got.Operations), r.Stdout)
			}
			for i, w := range tt.want {
				g := got.Operations[i]
				if g.ID != w.ID || g.server() != w.Server || g.Type != w.Type || g.Status != w.Status {
					t.Errorf("operation %d: want %s %q %s %s, got %s %q %s %s", i, w.ID, w.Server, w.Type, w.Status, g.ID, g.server(), g.Type, g.Status)
				}
				if w.Server == "" && g.Server != nil {
					t.Errorf("operation %s: instance operation must have \"server\": null, got %q", w.ID, *g.Server)
				}
				if wantPhase := strings.ToLower(w.Status); g.Phase != wantPhase {
					t.Errorf("operation %s: want phase %s, got %s", w.ID, wantPhase, g.Phase)
				}
				if g.StartTime == nil || !testenv.LocalTime(t, w.Start).Equal(mustParseRFC3339(t, *g.StartTime)) {
					t.Errorf("operation %s: want start_time %s (local), got %v", w.ID, w.Start, g.StartTime)
				}
				if g.EndTime == nil || !testenv.LocalTime(t, w.End).Equal(mustParseRFC3339(t, *g.EndTime)) {
					t.Errorf("operation %s: want end_time %s (local), got %v", w.ID, w.End, g.EndTime)
				}
				if g.Payload != nil || g.Output != nil {
					t.Errorf("operation %s: a list must not carry payload or output", w.ID)
				}
			}
		})
	}
}

func mustParseRFC3339(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("not an RFC 3339 time: %q", s)
	}
	return tm
}

// TestListPlain checks the script-friendly output, the default when standard
// output is not a terminal.
func TestListPlain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	line := func(op fixtureOp) string {
		scope := op.Server
		if scope == "" {
			scope = "(instance)"
		}
		return strings.Join([]string{op.ID, scope, op.Type, op.Status, testenv.LocalTime(t, op.Start).Format(time.RFC3339), op.Duration}, "\t")
	}
	lines := func(list []fixtureOp) string {
		var b strings.Builder
		for _, op := range list {
			b.WriteString(line(op) + "\n")
		}
		return b.String()
	}
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"default format", []string{"list"}, lines(fixtureOps)},
		{"-o plain", []string{"list", "-o", "plain"}, lines(fixtureOps)},
		{"server", []string{"list", "--server", "db_server_two"}, lines(fixtureOpsWhere(func(op fixtureOp) bool { return op.Server != "" }))},
		{"instance", []string{"list", "--instance"}, lines(fixtureOpsWhere(func(op fixtureOp) bool { return op.Server == "" }))},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.run(t, tt.args...)
			if r.Code != cli.ExitOK || r.allErr() != "" {
				t.Fatalf("want exit 0 and nothing on stderr, got %v", r)
			}
			if r.Stdout != tt.want {
				t.Errorf("plain list:\nwant:\n%s\ngot:\n%s", tt.want, r.Stdout)
			}
		})
	}

	t.Run("table", func(t *testing.T) {
		r := e.run(t, "list", "-o", "table")
		if r.Code != cli.ExitOK {
			t.Fatalf("want exit 0, got %v", r)
		}
		got := strings.Split(strings.TrimSuffix(r.Stdout, "\n"), "\n")
		if len(got) != 1+len(fixtureOps) {
			t.Fatalf("want a header and %d rows, got:\n%s", len(fixtureOps), r.Stdout)
		}
		if f := strings.Fields(got[0]); !reflect.DeepEqual(f, []string{"ID", "SCOPE", "TYPE", "STATUS", "STARTED", "DURATION"}) {
			t.Errorf("table header: got %q", got[0])
		}
		for i, op := range fixtureOps {
			f := strings.Fields(got[i+1])
			if len(f) < 4 || f[0] != op.ID || f[2] != op.Type || f[3] != op.Status {
				t.Errorf("row %d: want %s ... %s %s, got %q", i, op.ID, op.Type, op.Status, got[i+1])
			}
			if strings.Contains(got[i+1], "\x1b[") {
				t.Errorf("row %d: colour codes when standard output is not a terminal: %q", i, got[i+1])
			}
		}
	})
}

func TestListEmptyStore(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	tests := []struct {
		format, want string
	}{
		{"json", "{\n  \"operations\": []\n}\n"},
		{"plain", ""},
		{"table", "no operations\n"},
	}
	for _, tt := range tests {
		t.Run(tt.format, func(t *testing.T) {
			r := e.run(t, "list", "-o", tt.format)
			if r.Code != cli.ExitOK || r.allErr() != "" {
				t.Fatalf("want exit 0 and nothing on stderr, got %v", r)
			}
			if r.Stdout != tt.want {
				t.Errorf("want %q, got %q", tt.want, r.Stdout)
			}
		})
	}
}

func TestListErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantMsg  []string
	}{
		{"unknown server", []string{"list", "--server", "no-such-server"}, cli.ExitNotFound, []string{`"no-such-server"`, "known: db_server_two"}},
		{"a model is not a server", []string{"list", "--server", "my-model"}, cli.ExitNotFound, []string{"model", "db_server_two"}},
		{"invalid server name", []string{"list", "--server", "../etc"}, cli.ExitNotFound, []string{"known: db_server_two"}},
		{"server and instance", []string{"list", "--server", "db_server_two", "--instance"}, cli.ExitUsage, []string{"--server", "--instance"}},
		{"instance and all", []string{"list", "--instance", "--all"}, cli.ExitUsage, []string{"--instance", "--all"}},
		{"server and all", []string{"list", "-a", "-s", "db_server_two"}, cli.ExitUsage, []string{"--all"}},
		{"unknown output format", []string{"list", "-o", "yaml"}, cli.ExitUsage, []string{`"yaml"`, "json"}},
		{"unknown flag", []string{"list", "--bogus"}, cli.ExitUsage, []string{"bogus"}},
		{"before is not an ID", []string{"list", "--before", "../x"}, cli.ExitUsage, []string{"--before", "operation ID"}},
		{"negative limit", []string{"list", "-n", "-3"}, cli.ExitUsage, []string{"--limit -3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.run(t, tt.args...)
			if r.Code != tt.wantCode {
				t.Fatalf("want exit %d, got %v", tt.wantCode, r)
			}
			for _, m := range tt.wantMsg {
				if !strings.Contains(r.Msg, m) {
					t.Errorf("message %q does not mention %q", r.Msg, m)
				}
			}
		})
	}
}

// TestListSkipsDamagedFiles: one bad file must not hide the others (the
// reference answers 500 for the whole list).
func TestListSkipsDamagedFiles(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	server := filepath.Join(e.Home, "db_server_two")
	damaged := []string{
		writeFile(t, e.Home, "jobs/20261125T090000.json", "{not json", 0o644),
		writeFile(t, server, "jobs/20261125T090001.json", `{"foo": "no operation_type"}`, 0o644),
		writeFile(t, server, "jobs/not an id.json", `{"type": "recovery", "operation_type": "recovery"}`, 0o644),
	}
	// A damaged output file is not skipped: the operation ended, so it is
	// listed FAILED (never DONE) and inspect says why.
	writeFile(t, server, "jobs/20261125T090002.json", `{"type": "config_switch", "reset": true, "operation_type": "config_switch", "start_time": "2026-11-25T09:00:02.000000"}`, 0o644)
	writeFile(t, server, "output/20261125T090002.json", `{"success": tru`, 0o644)
	writeFile(t, e.Home, "jobs/.20261125T090003.json.tmp-1", "partial", 0o644)
	writeFile(t, e.Home, "jobs/README", "not an operation", 0o644)

	for _, args := range [][]string{{"list"}, {"list", "-o", "json"}, {"list", "-s", "db_server_two"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := e.run(t, args...)
			if r.Code != cli.ExitOK {
				t.Fatalf("damaged files must not fail the list: %v", r)
			}
			for _, op := range fixtureOps {
				if (args[len(args)-1] != "db_server_two" || op.Server != "") && !strings.Contains(r.Stdout, op.ID) {
					t.Errorf("operation %s missing from the list:\n%s", op.ID, r.Stdout)
				}
			}
			if args[len(args)-1] != "json" && !strings.Contains(r.Stdout, "20261125T090002\tdb_server_two\tconfig_switch\tFAILED\t") {
				t.Errorf("the operation with a damaged output file must be listed FAILED:\n%s", r.Stdout)
			}
			for _, id := range []string{"20261125T090000", "20261125T090001", "not an id", "20261125T090003", "README"} {
				if strings.Contains(r.Stdout, id) {
					t.Errorf("%s listed although it is not a readable operation:\n%s", id, r.Stdout)
				}
			}
			warned := 0
			for _, p := range damaged {
				if strings.Contains(r.Stderr, p) {
					warned++
				}
			}
			wantWarned := len(damaged)
			if args[len(args)-1] == "db_server_two" {
				wantWarned = len(damaged) - 1
			}
			if warned != wantWarned || strings.Count(r.Stderr, "warning") != wantWarned {
				t.Errorf("want one warning for each of %d damaged files, got:\n%s", wantWarned, r.Stderr)
			}
			for _, quiet := range []string{".tmp-", "README"} {
				if strings.Contains(r.Stderr, quiet) {
					t.Errorf("%s is not a job file and needs no warning:\n%s", quiet, r.Stderr)
				}
			}
		})
	}
}

// TestListPagesWithBefore: --limit N --before ID walks the whole listing,
// newest first, one page at a time, each operation once.
func TestListPagesWithBefore(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	var full struct {
		Operations []listedOp `json:"operations"`
	}
	decodeJSON(t, e.run(t, "list", "-o", "json").Stdout, &full)
	all := full.Operations
	if len(all) < 3 {
		t.Fatalf("the fixture lists %d operations; the test needs 3 or more", len(all))
	}
	var walked []string
	before := ""
	for range len(all) + 1 {
		args := []string{"list", "-o", "json", "--limit", "2"}
		if before != "" {
			args = append(args, "--before", before)
		}
		var got struct {
			Operations []listedOp `json:"operations"`
		}
		decodeJSON(t, e.run(t, args...).Stdout, &got)
		page := got.Operations
		if len(page) == 0 {
			break
		}
		if len(page) > 2 {
			t.Fatalf("a page of --limit 2 has %d operations", len(page))
		}
		for _, op := range page {
			walked = append(walked, op.ID)
		}
		before = page[len(page)-1].ID
	}
	if len(walked) != len(all) {
		t.Fatalf("pages gave %v, want %d operations", walked, len(all))
	}
	for i := range all {
		if walked[i] != all[i].ID {
			t.Fatalf("pages gave %v; the full list is %v", walked, all)
		}
	}
}
