package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/cli"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
)

// fixtureOutput returns the "output" the reference recorded for an operation.
func fixtureOutput(t testing.TB, op fixtureOp) string {
	t.Helper()
	var rec struct {
		Output string `json:"output"`
	}
	data, err := os.ReadFile(testenv.Fixture(t, "pg-backup-api-2.2", "barman_home", op.Server, "output", op.ID+".json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &rec); err != nil || rec.Output == "" {
		t.Fatalf("fixture output of %s: %v", op.ID, err)
	}
	return rec.Output
}

func fixtureOpByID(t testing.TB, id string) fixtureOp {
	t.Helper()
	for _, op := range fixtureOps {
		if op.ID == id {
			return op
		}
	}
	t.Fatalf("no fixture operation %s", id)
	return fixtureOp{}
}

func TestInspectPlain(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	tests := []struct {
		id      string
		payload string // as the reference's Python json.dumps wrote it
	}{
		{"20261125T080805", `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh -p 2222 -o BatchMode=yes postgres@127.0.0.1", "destination_directory": "/var/lib/postgresql/restore"}`},
		{"20261125T080915", `{"type": "config_switch", "model_name": "no-such-model"}`},
		{"20261125T080918", `{"type": "config_switch", "reset": true}`},
		{"20261125T080447", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "db_server_two", "archiver": "off"}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			op := fixtureOpByID(t, tt.id)
			scope := op.Server
			if scope == "" {
				scope = "(instance)"
			}
			var want strings.Builder
			for _, row := range [][2]string{
				{"ID:", op.ID},
				{"Scope:", scope},
				{"Type:", op.Type},
				{"Status:", op.Status},
				{"Phase:", strings.ToLower(op.Status)},
				{"Started:", testenv.LocalTime(t, op.Start).Format(time.RFC3339)},
				{"Ended:", testenv.LocalTime(t, op.End).Format(time.RFC3339)},
				{"Duration:", op.Duration},
				{"Exit code:", "-"}, // the reference records none
				{"Payload:", tt.payload},
			} {
				want.WriteString(padRight(row[0], 10) + " " + row[1] + "\n")
			}
			want.WriteString("Output:\n")
			for _, line := range strings.Split(strings.TrimSuffix(fixtureOutput(t, op), "\n"), "\n") {
				want.WriteString("  " + line + "\n")
			}

			r := e.run(t, "inspect", tt.id)
			if r.Code != cli.ExitOK || r.allErr() != "" {
				t.Fatalf("want exit 0 and nothing on stderr, got %v", r)
			}
			if r.Stdout != want.String() {
				t.Errorf("inspect %s:\nwant:\n%s\ngot:\n%s", tt.id, want.String(), r.Stdout)
			}
		})
	}
	t.Run("FAILED config_switch shows Barman's error", func(t *testing.T) {
		r := e.run(t, "inspect", "20261125T080915")
		if !strings.Contains(r.Stdout, "Status:    FAILED\n") || !strings.HasSuffix(r.Stdout, "Output:\n  ERROR: Unknown model 'no-such-model'\n") {
			t.Errorf("want FAILED and Barman's error, got:\n%s", r.Stdout)
		}
	})
}

func padRight(s string, n int) string {
	for len(s) < n {
		s += " "
	}
	return s
}

// inspectedOp is the -o json shape of one operation.
type inspectedOp struct {
	listedOp
	DurationSeconds *json.Number    `json:"duration_seconds"`
	ExitCode        *int            `json:"exit_code"`
	RawPayload      json.RawMessage `json:"payload"`
}

func TestInspectJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	tests := []struct {
		id          string
		payloadKeys []string // in the order the caller sent them
		payload     map[string]any
	}{
		{"20261125T080805", []string{"type", "backup_id", "remote_ssh_command", "destination_directory"}, map[string]any{
			"type": "recovery", "backup_id": "latest",
			"remote_ssh_command":    "ssh -p 2222 -o BatchMode=yes postgres@127.0.0.1",
			"destination_directory": "/var/lib/postgresql/restore",
		}},
		{"20261125T080915", []string{"type", "model_name"}, map[string]any{"type": "config_switch", "model_name": "no-such-model"}},
		{"20261125T080919", []string{"type", "changes"}, map[string]any{"type": "config_update", "changes": []any{
			map[string]any{"scope": "server", "server_name": "no-such-server", "archiver": "on"},
		}}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			op := fixtureOpByID(t, tt.id)
			r := e.run(t, "inspect", tt.id, "-o", "json")
			if r.Code != cli.ExitOK || r.allErr() != "" {
				t.Fatalf("want exit 0 and nothing on stderr, got %v", r)
			}
			wantKeys := []string{"id", "server", "type", "status", "phase", "start_time", "end_time", "duration_seconds", "exit_code", "payload", "output"}
			if got := objectKeys(t, r.Stdout); !reflect.DeepEqual(got, wantKeys) {
				t.Errorf("keys: want %q, got %q", wantKeys, got)
			}
			var got inspectedOp
			decodeJSON(t, r.Stdout, &got)
			if got.ID != op.ID || got.server() != op.Server || got.Type != op.Type || got.Status != op.Status {
				t.Errorf("want %s %q %s %s, got %s %q %s %s", op.ID, op.Server, op.Type, op.Status, got.ID, got.server(), got.Type, got.Status)
			}
			if got.ExitCode != nil {
				t.Errorf("the reference records no exit code, got %d", *got.ExitCode)
			}
			wantDur := testenv.LocalTime(t, op.End).Sub(testenv.LocalTime(t, op.Start)).Seconds()
			if got.DurationSeconds == nil {
				t.Errorf("duration_seconds missing")
			} else if d, _ := got.DurationSeconds.Float64(); d != wantDur {
				t.Errorf("duration_seconds: want %v, got %v", wantDur, d)
			}
			if got.Output == nil || *got.Output != fixtureOutput(t, op) {
				t.Errorf("output: want %q, got %v", fixtureOutput(t, op), got.Output)
			}
			if keys := objectKeys(t, string(got.RawPayload)); !reflect.DeepEqual(keys, tt.payloadKeys) {
				t.Errorf("payload keys: want %q (as sent, without the record's keys), got %q", tt.payloadKeys, keys)
			}
			var payload map[string]any
			if err := json.Unmarshal(got.RawPayload, &payload); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(payload, tt.payload) {
				t.Errorf("payload: want %v, got %v", tt.payload, payload)
			}
		})
	}
	t.Run("FAILED config_switch output", func(t *testing.T) {
		var got inspectedOp
		decodeJSON(t, e.run(t, "inspect", "20261125T080915", "-o", "json").Stdout, &got)
		if got.Status != "FAILED" || got.Phase != "failed" || got.Output == nil || *got.Output != "ERROR: Unknown model 'no-such-model'\n" {
			t.Errorf("want FAILED with Barman's error, got %+v", got)
		}
	})
}

// TestInspectFlagPlacement: flags may follow the ID (urfave/cli alone stops
// at the first positional argument).
func TestInspectFlagPlacement(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	const id = "20261125T080805"
	want := e.run(t, "inspect", "-o", "json", id)
	if want.Code != cli.ExitOK || !strings.HasPrefix(want.Stdout, "{") {
		t.Fatalf("inspect -o json ID: %v", want)
	}
	for _, args := range [][]string{
		{"inspect", id, "-o", "json"},
		{"inspect", id, "--output", "json"},
		{"inspect", id, "--output=json"},
		{"inspect", id, "-o", "json", "--server", "db_server_two"},
		{"inspect", "-s", "db_server_two", id, "-o", "json"},
		{"show", id, "-o", "json"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := e.run(t, args...)
			if r.Code != cli.ExitOK {
				t.Fatalf("want exit 0, got %v", r)
			}
			// Only a running operation's duration depends on the clock.
			if r.Stdout != want.Stdout {
				t.Errorf("want the same output as `inspect -o json ID`:\nwant:\n%s\ngot:\n%s", want.Stdout, r.Stdout)
			}
		})
	}
	t.Run("global flags before the command, command flags after the ID", func(t *testing.T) {
		r := runApp(t, "", "--barman-config="+e.Conf, "inspect", id, "-o", "json")
		if r.Code != cli.ExitOK || r.Stdout != want.Stdout {
			t.Errorf("want the same output, got %v", r)
		}
	})
}

func TestInspectScopesAndErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string // in stdout, when it succeeds
		wantMsg  []string
	}{
		{"server op with its server", []string{"inspect", "20261125T080500", "--server", "db_server_two"}, cli.ExitOK, "Type:      config_switch", nil},
		{"instance op with --instance", []string{"inspect", "--instance", "20261125T080447"}, cli.ExitOK, "Scope:     (instance)", nil},
		{"server op looked up at instance level", []string{"inspect", "20261125T080500", "--instance"}, cli.ExitNotFound, "", []string{"20261125T080500", "instance"}},
		{"instance op looked up in a server", []string{"inspect", "20261125T080447", "-s", "db_server_two"}, cli.ExitNotFound, "", []string{"20261125T080447", "db_server_two"}},
		{"unknown server", []string{"inspect", "20261125T080500", "--server", "no-such-server"}, cli.ExitNotFound, "", []string{`"no-such-server"`, "known: db_server_two"}},
		{"unknown ID", []string{"inspect", "20991231T235959"}, cli.ExitNotFound, "", []string{"20991231T235959", "does not exist"}},
		{"unknown ID, json", []string{"inspect", "20991231T235959", "-o", "json"}, cli.ExitNotFound, "", []string{"20991231T235959"}},
		{"path as ID", []string{"inspect", "../../etc/passwd"}, cli.ExitNotFound, "", []string{"does not exist"}},
		{"path as ID in a server", []string{"inspect", "../jobs/20261125T080447", "-s", "db_server_two"}, cli.ExitNotFound, "", []string{"not a valid operation ID"}},
		{"no ID", []string{"inspect"}, cli.ExitUsage, "", []string{"one operation ID"}},
		{"no ID, only flags", []string{"inspect", "-o", "json"}, cli.ExitUsage, "", []string{"one operation ID"}},
		{"two IDs", []string{"inspect", "20261125T080500", "20261125T080447"}, cli.ExitUsage, "", []string{"one operation ID"}},
		{"unknown output format", []string{"inspect", "20261125T080500", "-o", "xml"}, cli.ExitUsage, "", []string{`"xml"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.run(t, tt.args...)
			if r.Code != tt.wantCode {
				t.Fatalf("want exit %d, got %v", tt.wantCode, r)
			}
			if !strings.Contains(r.Stdout, tt.wantOut) {
				t.Errorf("stdout does not contain %q:\n%s", tt.wantOut, r.Stdout)
			}
			if tt.wantCode != cli.ExitOK && r.Stdout != "" {
				t.Errorf("a failed inspect printed on stdout:\n%s", r.Stdout)
			}
			for _, m := range tt.wantMsg {
				if !strings.Contains(r.Msg, m) {
					t.Errorf("message %q does not mention %q", r.Msg, m)
				}
			}
		})
	}

	t.Run("ID in two scopes needs --server", func(t *testing.T) {
		e := newEnv(t, true)
		data, err := os.ReadFile(filepath.Join(e.Home, "jobs", "20261125T080447.json"))
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, e.Home, "db_server_two/jobs/20261125T080447.json", string(data), 0o644)
		r := e.run(t, "inspect", "20261125T080447")
		if r.Code != cli.ExitUsage || !strings.Contains(r.Msg, "several scopes") || !strings.Contains(r.Msg, "--server") {
			t.Errorf("want exit 2 asking for --server, got %v", r)
		}
		if r := e.run(t, "inspect", "20261125T080447", "--instance"); r.Code != cli.ExitOK {
			t.Errorf("--instance chooses: %v", r)
		}
	})
}
