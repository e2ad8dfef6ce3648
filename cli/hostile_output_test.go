package cli_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/cli"
)

// hostile is a value a remote serve or a Barman file could hold: an OSC 52
// clipboard write, a cleared screen, a C1 CSI, a right-to-left override,
// and a tab and a line feed that would forge a column and a row.
const hostile = "evil\x1b]52;c;ZXZpbA==\x07\u202e\x1b[2J\u009b31m\ttab\nrow"

// terminalControls are what must not reach a person's screen from hostile.
var terminalControls = []string{"\x1b", "\x07", "\u202e", "\u009b"}

func wantNoControls(t *testing.T, what, out string, visible ...string) {
	t.Helper()
	for _, c := range terminalControls {
		if strings.Contains(out, c) {
			t.Errorf("%s prints %q:\n%q", what, c, out)
		}
	}
	for _, v := range visible {
		if !strings.Contains(out, v) {
			t.Errorf("%s lost %q:\n%q", what, v, out)
		}
	}
}

// hostileServe is a remote that puts hostile into every value it sends.
func hostileServe(t *testing.T) *httptest.Server {
	t.Helper()
	h := hostile
	answer := func(w http.ResponseWriter, status int, v any) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /servers", func(w http.ResponseWriter, r *http.Request) {
		answer(w, 200, map[string]any{"servers": []string{"db1"}})
	})
	mux.HandleFunc("GET /operations", func(w http.ResponseWriter, r *http.Request) {
		answer(w, 200, map[string]any{"operations": []any{}})
	})
	mux.HandleFunc("GET /servers/db1/operations", func(w http.ResponseWriter, r *http.Request) {
		answer(w, 200, map[string]any{"operations": []any{map[string]any{
			"id": h, "type": h, "status": h, "phase": h, "start_time": nil, "end_time": nil, "exit_code": nil, "reason": h,
		}}})
	})
	mux.HandleFunc("GET /servers/db1/operations/{id}", func(w http.ResponseWriter, r *http.Request) {
		answer(w, 200, map[string]any{
			"operation_id": h, "status": h, "type": h, "phase": h, "start_time": nil, "end_time": nil, "exit_code": nil,
			"reason": h, "payload": map[string]any{"operation_type": h}, "output": "",
		})
	})
	backup := map[string]any{
		"backup_id": h, "name": h, "status": h, "begin_time": "2026-11-25T08:07:58Z", "end_time": "2026-11-25T08:07:58Z",
		"begin_wal": h, "end_wal": h, "timeline": 1, "size": 1024, "wal_size": nil, "keep": h,
	}
	mux.HandleFunc("GET /servers/db1/backups", func(w http.ResponseWriter, r *http.Request) {
		answer(w, 200, map[string]any{"server": h, "backups": []any{backup},
			"recovery_window": map[string]any{"earliest": "2026-11-25T08:07:58Z", "latest": "2026-11-25T08:07:58Z", "latest_wal": h}})
	})
	mux.HandleFunc("GET /servers/db1/backups/latest", func(w http.ResponseWriter, r *http.Request) {
		answer(w, 200, backup)
	})
	mux.HandleFunc("GET /servers/db1/backups/missing", func(w http.ResponseWriter, r *http.Request) {
		answer(w, 404, map[string]any{"error": "backup " + h + " does not exist", "request_id": h})
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// TestHumanOutputWithoutTerminalControls: list, backups, backups show,
// inspect's header and error messages print what a remote serve sent
// without escape sequences, bidirectional controls, or tabs and line feeds
// that forge cells and rows, in table and plain output, piped or not; -o
// json keeps every byte. Before, only inspect stripped them, and only on a
// terminal.
func TestHumanOutputWithoutTerminalControls(t *testing.T) {
	srv := hostileServe(t)
	remote := []string{"--config", writeFile(t, t.TempDir(), "empty.toml", "", 0o644), "--url", srv.URL}
	run := func(t *testing.T, args ...string) result {
		t.Helper()
		r := runApp(t, "", append(args, remote...)...)
		if r.Code != cli.ExitOK {
			t.Fatalf("%q: %v", args, r)
		}
		return r
	}
	for _, format := range []string{"table", "plain"} {
		t.Run("list -o "+format, func(t *testing.T) {
			r := run(t, "list", "-o", format)
			wantNoControls(t, "list -o "+format, r.Stdout+r.Stderr, "evil", "tab", "row")
			lines := strings.Split(strings.TrimRight(r.Stdout, "\n"), "\n")
			if want := map[string]int{"table": 2, "plain": 1}[format]; len(lines) != want {
				t.Errorf("list -o %s: want %d lines, got %q", format, want, lines)
			}
			if format == "plain" && len(strings.Split(lines[0], "\t")) != 6 {
				t.Errorf("list -o plain: want 6 tab-separated columns, got %q", lines[0])
			}
		})
		t.Run("backups -o "+format, func(t *testing.T) {
			r := run(t, "backups", "--server", "db1", "-o", format)
			wantNoControls(t, "backups -o "+format, r.Stdout+r.Stderr, "evil", "tab", "row")
			if format == "plain" && (strings.Count(r.Stdout, "\n") != 1 || strings.Count(r.Stdout, "\t") != 10) {
				t.Errorf("backups -o plain: want one row of 11 columns, got %q", r.Stdout)
			}
		})
		t.Run("backups show -o "+format, func(t *testing.T) {
			r := run(t, "backups", "show", "latest", "--server", "db1", "-o", format)
			wantNoControls(t, "backups show", r.Stdout+r.Stderr, "evil", "tab", "row")
			if n := strings.Count(r.Stdout, "\n"); n != 11 {
				t.Errorf("backups show: want 11 lines, got %d:\n%s", n, r.Stdout)
			}
		})
	}
	t.Run("inspect", func(t *testing.T) {
		r := run(t, "inspect", "20261125T080447", "--server", "db1")
		wantNoControls(t, "inspect", r.Stdout+r.Stderr, "ID:", "Type:", "Status:", "Phase:", "Reason:", "evil")
	})
	t.Run("error message", func(t *testing.T) {
		r := runApp(t, "", append([]string{"backups", "show", "missing", "--server", "db1"}, remote...)...)
		if r.Code != cli.ExitNotFound {
			t.Fatalf("want exit %d: %v", cli.ExitNotFound, r)
		}
		wantNoControls(t, "the error", r.allErr(), "does not exist", "evil")
	})
	t.Run("json keeps the bytes", func(t *testing.T) {
		var list struct {
			Operations []struct {
				ID, Type, Status, Phase, Reason string
			}
		}
		decodeJSON(t, run(t, "list", "-o", "json").Stdout, &list)
		if len(list.Operations) != 1 {
			t.Fatalf("list -o json: %+v", list)
		}
		if op := list.Operations[0]; op.ID != hostile || op.Type != hostile || op.Status != hostile || op.Phase != hostile || op.Reason != hostile {
			t.Errorf("list -o json changed the values: %+v", op)
		}
		var cat struct {
			Server  string
			Backups []struct {
				BackupID string `json:"backup_id"`
				Name     string
				Status   string
				BeginWAL string `json:"begin_wal"`
			}
		}
		decodeJSON(t, run(t, "backups", "--server", "db1", "-o", "json").Stdout, &cat)
		if len(cat.Backups) != 1 || cat.Server != hostile {
			t.Fatalf("backups -o json: %+v", cat)
		}
		if b := cat.Backups[0]; b.BackupID != hostile || b.Name != hostile || b.Status != hostile || b.BeginWAL != hostile {
			t.Errorf("backups -o json changed the values: %+v", b)
		}
		var op struct{ ID, Type, Reason string }
		decodeJSON(t, run(t, "inspect", "20261125T080447", "--server", "db1", "-o", "json").Stdout, &op)
		if op.ID != hostile || op.Type != hostile || op.Reason != hostile {
			t.Errorf("inspect -o json changed the values: %+v", op)
		}
	})
}

// TestBackupsLocalWithoutTerminalControls: a backup.info is Barman's file,
// written from what a backup was named (barman backup --name); its name
// and WAL names are printed without terminal controls, and -o json keeps
// them.
func TestBackupsLocalWithoutTerminalControls(t *testing.T) {
	e := newEnv(t, false)
	meta := filepath.Join(e.Home, "db_server_two", "meta")
	info, err := os.ReadFile(filepath.Join(meta, "20261125T080758-backup.info"))
	if err != nil {
		t.Fatal(err)
	}
	// backup.info is one key=value a line: the hostile name has no line feed.
	name := strings.ReplaceAll(hostile, "\n", " ")
	info = append(info, []byte("backup_name="+name+"\n")...)
	if err := os.WriteFile(filepath.Join(meta, "20261125T080758-backup.info"), info, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"backups", "--server", "db_server_two", "-o", "table"},
		{"backups", "--server", "db_server_two"},
		{"backups", "show", "latest", "--server", "db_server_two"},
	} {
		r := e.run(t, args...)
		if r.Code != cli.ExitOK {
			t.Fatalf("%q: %v", args, r)
		}
		wantNoControls(t, strings.Join(args, " "), r.Stdout+r.Stderr, "evil", "tab row")
	}
	var cat struct {
		Backups []struct{ Name string }
	}
	decodeJSON(t, e.run(t, "backups", "--server", "db_server_two", "-o", "json").Stdout, &cat)
	if len(cat.Backups) != 1 || cat.Backups[0].Name != name {
		t.Errorf("backups -o json: want the name %q as backup.info has it, got %+v", name, cat.Backups)
	}
}
