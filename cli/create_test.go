package cli_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/pg-backup-api/pg-backup-api/cli"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
)

// idPattern is an operation ID: the reference's timestamp, and our suffix
// when several operations start in one second.
var idPattern = regexp.MustCompile(`^\d{8}T\d{6}(-\d{4})?$`)

// documentedPayload returns, byte for byte, the JSON body that
// operations-api.txt shows after the sentence containing marker.
func documentedPayload(t testing.TB, marker string) string {
	t.Helper()
	path, err := filepath.Abs(filepath.Join(sharedDir, "reference", "operations-api.txt"))
	if err != nil {
		t.Fatal(err)
	}
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the documented API is missing: %v (it lives in testdata/reference)", err)
	}
	lines := strings.SplitAfter(string(doc), "\n")
	for i, l := range lines {
		if !strings.Contains(l, marker) || !strings.Contains(l, "with a payload like this:") {
			continue
		}
		var body strings.Builder
		for _, l := range lines[i+1:] {
			if body.Len() == 0 && strings.TrimSpace(l) == "" {
				continue
			}
			body.WriteString(l)
			if l == "}\n" {
				if !json.Valid([]byte(body.String())) {
					t.Fatalf("payload after %q is not JSON:\n%s", marker, body.String())
				}
				return body.String()
			}
		}
	}
	t.Fatalf("operations-api.txt has no payload after %q", marker)
	return ""
}

// The documented payloads, by the sentence that introduces each.
const (
	docRecovery     = "restore the latest backup of Barman server db_server_two"
	docConfigSwitch = "apply the model my-model"
	docConfigUpdate = "update the configuration of a couple of Barman servers"
)

// docConfigUpdateArg is the documented config_update's changes as Barman
// must receive them: one argument, Python's json.dumps spacing.
const docConfigUpdateArg = `[{"scope": "server", "server_name": "my-server-a", "archiver": "on", "streaming_archiver": "off"}, ` +
	`{"scope": "server", "server_name": "my-other-server-b", "conninfo": "some_conn_info", "streaming_conninfo": "some_streaming_conninfo", "streaming_archiver": "on"}, ` +
	`{"scope": "model", "model_name": "some-model", "streaming_conninfo": "some_streaming_conn_info"}]`

func TestDocumentedPayloadsAreExtracted(t *testing.T) {
	t.Parallel()
	for marker, wantType := range map[string]string{docRecovery: "recovery", docConfigSwitch: "config_switch", docConfigUpdate: "config_update"} {
		var p map[string]any
		if err := json.Unmarshal([]byte(documentedPayload(t, marker)), &p); err != nil || p["type"] != wantType {
			t.Errorf("payload after %q: want type %s, got %v (%v)", marker, wantType, p["type"], err)
		}
	}
}

// TestCreateWait creates each kind of operation through each door of the
// real binary, waits for it, and checks what Barman was asked to run.
func TestCreateWait(t *testing.T) {
	t.Parallel()
	const changes = `[{"scope":"server","server_name":"db_server_two","archiver":"off"}]`
	const changesArg = `[{"scope": "server", "server_name": "db_server_two", "archiver": "off"}]`
	// Barman restores the backup "latest" named when the operation was created.
	recoveryArgv := []string{"recover", "db_server_two", "20261125T080758", "/var/lib/pgdata", "--remote-ssh-command=ssh postgres@db_server_two.my.org"}
	tests := []struct {
		name      string
		args      []string
		stdin     string
		files     map[string]string // written to the test's directory; "{dir}" in args names it
		server    string
		wantArgv  []string // after -c CONF
		wantPload string   // JSON the payload must equal, when checked
	}{
		{
			name:     "recovery with flags",
			args:     []string{"create", "recovery", "--server", "db_server_two", "--backup-id", "latest", "--remote-ssh-command", "ssh postgres@db_server_two.my.org", "--destination-directory", "/var/lib/pgdata", "--wait"},
			server:   "db_server_two",
			wantArgv: recoveryArgv,
		},
		{
			name:     "recovery with short flags and a backup ID",
			args:     []string{"create", "recovery", "-w", "-s", "db_server_two", "-b", "20261125T080758", "--remote-ssh-command", "ssh -p 2222 postgres@db2", "-d", "/srv/restore"},
			server:   "db_server_two",
			wantArgv: []string{"recover", "db_server_two", "20261125T080758", "/srv/restore", "--remote-ssh-command=ssh -p 2222 postgres@db2"},
		},
		{
			name: "recovery with a target and every option flag",
			args: []string{"create", "recovery", "-s", "db_server_two", "-b", "latest", "--remote-ssh-command", "ssh db2", "-d", "/r", "--wait",
				"--target-lsn", "0/6000060", "--target-tli", "latest", "--target-action", "promote", "--exclusive", "--standby-mode", "--get-wal=false", "--jobs", "2", "--bwlimit", "100"},
			server: "db_server_two",
			wantArgv: []string{"recover", "db_server_two", "20261125T080758", "/r", "--remote-ssh-command=ssh db2",
				"--target-lsn=0/6000060", "--target-tli=latest", "--target-action=promote", "--exclusive", "--standby-mode", "--no-get-wal", "--jobs=2", "--bwlimit=100"},
			wantPload: `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh db2", "destination_directory": "/r", "target_lsn": "0/6000060", "target_tli": "latest",` +
				` "target_action": "promote", "exclusive": true, "standby_mode": true, "get_wal": false, "jobs": 2, "bwlimit": 100}`,
		},
		{
			name:   "recovery with --target-time chooses the backup",
			args:   []string{"create", "recovery", "-s", "db_server_two", "--remote-ssh-command", "ssh db2", "-d", "/r", "--target-time", "2026-11-26T00:00:00Z", "--wait"},
			server: "db_server_two",
			wantArgv: []string{"recover", "db_server_two", "20261125T080758", "/r", "--remote-ssh-command=ssh db2",
				"--target-time=" + time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC).Local().Format("2006-01-02 15:04:05.999999-07:00")},
			wantPload: `{"type": "recovery", "remote_ssh_command": "ssh db2", "destination_directory": "/r", "target_time": "2026-11-26T00:00:00Z"}`,
		},
		{
			name:     "recovery --target-immediate of the oldest",
			args:     []string{"create", "recovery", "-s", "db_server_two", "-b", "oldest", "--remote-ssh-command", "ssh db2", "-d", "/r", "--target-immediate", "-w"},
			server:   "db_server_two",
			wantArgv: []string{"recover", "db_server_two", "20261125T080758", "/r", "--remote-ssh-command=ssh db2", "--target-immediate"},
		},
		{
			name:      "backup with a name and an immediate checkpoint",
			args:      []string{"create", "backup", "--server", "db_server_two", "--name", "before-migration", "--immediate-checkpoint", "--wait"},
			server:    "db_server_two",
			wantArgv:  []string{"backup", "db_server_two", "--name=before-migration", "--immediate-checkpoint", "--wait"},
			wantPload: `{"type": "backup", "backup_name": "before-migration", "immediate_checkpoint": true}`,
		},
		{
			name:     "backup plain",
			args:     []string{"create", "backup", "-s", "db_server_two", "-w"},
			server:   "db_server_two",
			wantArgv: []string{"backup", "db_server_two", "--wait"},
		},
		{
			name:      "keep latest --target full",
			args:      []string{"create", "keep", "--server", "db_server_two", "--backup-id", "latest", "--target", "full", "--wait"},
			server:    "db_server_two",
			wantArgv:  []string{"keep", "db_server_two", "20261125T080758", "--target=full"},
			wantPload: `{"type": "keep", "backup_id": "latest", "target": "full"}`,
		},
		{
			name:      "keep -t standalone",
			args:      []string{"create", "keep", "-s", "db_server_two", "-b", "20261125T080758", "-t", "standalone", "-w"},
			server:    "db_server_two",
			wantArgv:  []string{"keep", "db_server_two", "20261125T080758", "--target=standalone"},
			wantPload: `{"type": "keep", "backup_id": "20261125T080758", "target": "standalone"}`,
		},
		{
			name:      "keep --release",
			args:      []string{"create", "keep", "-s", "db_server_two", "-b", "oldest", "--release", "--wait"},
			server:    "db_server_two",
			wantArgv:  []string{"keep", "db_server_two", "20261125T080758", "--release"},
			wantPload: `{"type": "keep", "backup_id": "oldest", "release": true}`,
		},
		{
			name:      "delete oldest",
			args:      []string{"create", "delete", "--server", "db_server_two", "--backup-id", "oldest", "--wait"},
			server:    "db_server_two",
			wantArgv:  []string{"delete", "db_server_two", "20261125T080758"},
			wantPload: `{"type": "delete", "backup_id": "oldest"}`,
		},
		{
			name:      "delete payload",
			args:      []string{"create", "--payload", "-", "--server", "db_server_two", "--wait"},
			stdin:     `{"type": "delete", "backup_id": "last"}`,
			server:    "db_server_two",
			wantArgv:  []string{"delete", "db_server_two", "20261125T080758"},
			wantPload: `{"type": "delete", "backup_id": "last"}`,
		},
		{
			name:     "config-switch --model-name",
			args:     []string{"create", "config-switch", "--server", "db_server_two", "--model-name", "my-model", "--wait"},
			server:   "db_server_two",
			wantArgv: []string{"config-switch", "db_server_two", "my-model"},
		},
		{
			name:     "config-switch --reset",
			args:     []string{"create", "config-switch", "-s", "db_server_two", "--reset", "-w"},
			server:   "db_server_two",
			wantArgv: []string{"config-switch", "db_server_two", "--reset"},
		},
		{
			name:      "config-update --changes",
			args:      []string{"create", "config-update", "--changes", changes, "--wait"},
			wantArgv:  []string{"config-update", changesArg},
			wantPload: `{"type": "config_update", "changes": ` + changes + `}`,
		},
		{
			name:     "config-update --changes-file FILE",
			args:     []string{"create", "config-update", "--changes-file", "{dir}/changes.json", "--wait"},
			files:    map[string]string{"changes.json": "[\n  {\"scope\": \"model\", \"model_name\": \"my-model\", \"conninfo\": \"host=db3\"}\n]\n"},
			wantArgv: []string{"config-update", `[{"scope": "model", "model_name": "my-model", "conninfo": "host=db3"}]`},
		},
		{
			name:     "config-update --changes-file - from stdin",
			args:     []string{"create", "config-update", "-f", "-", "--wait"},
			stdin:    changes,
			wantArgv: []string{"config-update", changesArg},
		},
		{
			name:      "documented recovery payload file",
			args:      []string{"create", "--payload", "{dir}/recovery.json", "--server", "db_server_two", "--wait"},
			files:     map[string]string{"recovery.json": documentedPayload(t, docRecovery)},
			server:    "db_server_two",
			wantArgv:  recoveryArgv,
			wantPload: documentedPayload(t, docRecovery),
		},
		{
			name:      "documented config_switch payload file",
			args:      []string{"create", "-p", "{dir}/switch.json", "-s", "db_server_two", "-w"},
			files:     map[string]string{"switch.json": documentedPayload(t, docConfigSwitch)},
			server:    "db_server_two",
			wantArgv:  []string{"config-switch", "db_server_two", "my-model"},
			wantPload: documentedPayload(t, docConfigSwitch),
		},
		{
			name:      "config_switch payload file in UTF-16 with a BOM, as PowerShell 5.1 writes",
			args:      []string{"create", "-p", "{dir}/switch16.json", "-s", "db_server_two", "-w"},
			files:     map[string]string{"switch16.json": utf16LEWithBOM(documentedPayload(t, docConfigSwitch))},
			server:    "db_server_two",
			wantArgv:  []string{"config-switch", "db_server_two", "my-model"},
			wantPload: documentedPayload(t, docConfigSwitch),
		},
		{
			name:      "documented config_update payload file",
			args:      []string{"create", "--payload", "{dir}/update.json", "--wait"},
			files:     map[string]string{"update.json": documentedPayload(t, docConfigUpdate)},
			wantArgv:  []string{"config-update", docConfigUpdateArg},
			wantPload: documentedPayload(t, docConfigUpdate),
		},
		{
			name:      "documented config_update payload on stdin",
			args:      []string{"create", "--payload", "-", "--wait"},
			stdin:     documentedPayload(t, docConfigUpdate),
			wantArgv:  []string{"config-update", docConfigUpdateArg},
			wantPload: documentedPayload(t, docConfigUpdate),
		},
		{
			name:      "documented recovery payload on stdin, flags after",
			args:      []string{"create", "--payload", "-", "--wait", "--server", "db_server_two"},
			stdin:     documentedPayload(t, docRecovery),
			server:    "db_server_two",
			wantArgv:  recoveryArgv,
			wantPload: documentedPayload(t, docRecovery),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, false)
			for name, content := range tt.files {
				writeFile(t, e.Root, name, content, 0o644)
			}
			args := make([]string, len(tt.args))
			for i, a := range tt.args {
				args[i] = strings.ReplaceAll(a, "{dir}", e.Root)
			}
			r := e.exec(t, nil, tt.stdin, args...)
			if r.Code != cli.ExitOK {
				t.Fatalf("want exit 0, got %v", r)
			}
			id := strings.TrimSuffix(r.Stdout, "\n")
			if !idPattern.MatchString(id) {
				t.Fatalf("stdout must be the operation ID alone, got %q", r.Stdout)
			}
			if !strings.Contains(r.Stderr, "operation "+id+" DONE") {
				t.Errorf("stderr does not report the end of %s:\n%s", id, r.Stderr)
			}
			wantCall := append([]string{"-c", e.Conf}, tt.wantArgv...)
			if calls := testenv.ArgvCalls(t, e.ArgvLog); len(calls) != 1 || !reflect.DeepEqual(calls[0], wantCall) {
				t.Errorf("Barman calls:\nwant [%q]\ngot  %q", wantCall, calls)
			}

			// The operation is recorded in its scope, as the reference does.
			scopeDir := e.Home
			if tt.server != "" {
				scopeDir = filepath.Join(e.Home, tt.server)
			}
			for _, dir := range []string{"jobs", "output"} {
				if _, err := os.Stat(filepath.Join(scopeDir, dir, id+".json")); err != nil {
					t.Errorf("%s file of %s: %v", dir, id, err)
				}
			}
			var op inspectedOp
			decodeJSON(t, e.run(t, "inspect", id, "-o", "json").Stdout, &op)
			if op.Status != "DONE" || op.server() != tt.server || op.ExitCode == nil || *op.ExitCode != 0 {
				t.Errorf("want DONE in scope %q with exit code 0, got %+v", tt.server, op)
			}
			if tt.wantPload != "" {
				if got, want := objectKeys(t, string(op.RawPayload)), objectKeys(t, tt.wantPload); !reflect.DeepEqual(got, want) {
					t.Errorf("payload keys: want %q, got %q", want, got)
				}
				var got, want any
				decodeJSON(t, string(op.RawPayload), &got)
				decodeJSON(t, tt.wantPload, &want)
				if !reflect.DeepEqual(got, want) {
					t.Errorf("recorded payload:\nwant %v\ngot  %v", want, got)
				}
			}
		})
	}
}

// TestCreateNoWait: without --wait, create prints the ID (or its JSON) at
// once and the background runner does the work.
func TestCreateNoWait(t *testing.T) {
	t.Parallel()
	const changes = `[{"scope":"server","server_name":"db_server_two","archiver":"on"}]`
	tests := []struct {
		name       string
		args       []string
		stdin      string
		wantServer any // "server" in the JSON answer
	}{
		{"config-update", []string{"create", "config-update", "--changes", changes}, "", nil},
		{"config-update -o json", []string{"create", "config-update", "--changes", changes, "-o", "json"}, "", nil},
		{"recovery", []string{"create", "recovery", "-s", "db_server_two", "-b", "latest", "--remote-ssh-command", "ssh db2", "-d", "/pgdata"}, "", "db_server_two"},
		{"config-switch -o json", []string{"create", "config-switch", "-s", "db_server_two", "--reset", "-o", "json"}, "", "db_server_two"},
		{"payload -o json", []string{"create", "-p", "-", "-o", "json", "-s", "db_server_two"}, `{"type": "config_switch", "model_name": "my-model"}`, "db_server_two"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, false)
			r := e.exec(t, nil, tt.stdin, tt.args...)
			if r.Code != cli.ExitOK || r.Stderr != "" {
				t.Fatalf("want exit 0 and a quiet stderr, got %v", r)
			}
			var id string
			if tt.args[len(tt.args)-1] == "json" || strings.Contains(strings.Join(tt.args, " "), "-o json") {
				if keys := objectKeys(t, r.Stdout); !reflect.DeepEqual(keys, []string{"operation_id", "server"}) {
					t.Errorf("JSON answer keys: want operation_id, server; got %q", keys)
				}
				var got map[string]any
				decodeJSON(t, r.Stdout, &got)
				id, _ = got["operation_id"].(string)
				if got["server"] != tt.wantServer {
					t.Errorf("server: want %v, got %v", tt.wantServer, got["server"])
				}
			} else {
				id = strings.TrimSuffix(r.Stdout, "\n")
				if r.Stdout != id+"\n" {
					t.Errorf("stdout must be one line, got %q", r.Stdout)
				}
			}
			if !idPattern.MatchString(id) {
				t.Fatalf("operation ID %q does not match %s", id, idPattern)
			}
			e.waitIdle(t, 30*time.Second)
			var op inspectedOp
			decodeJSON(t, e.run(t, "inspect", id, "-o", "json").Stdout, &op)
			if op.Status != "DONE" {
				t.Errorf("the runner did not finish %s: %+v", id, op)
			}
			if n := len(testenv.ArgvCalls(t, e.ArgvLog)); n != 1 {
				t.Errorf("want Barman run once, got %d calls", n)
			}
		})
	}
}

// TestCreateWaitJSON: --wait -o json prints the finished operation.
func TestCreateWaitJSON(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	r := e.exec(t, nil, "", "create", "config-switch", "-s", "db_server_two", "-m", "my-model", "--wait", "-o", "json")
	if r.Code != cli.ExitOK {
		t.Fatalf("want exit 0, got %v", r)
	}
	var op inspectedOp
	decodeJSON(t, r.Stdout, &op)
	if !idPattern.MatchString(op.ID) || op.Status != "DONE" || op.Phase != "done" || op.server() != "db_server_two" || op.Type != "config_switch" {
		t.Errorf("want the DONE config_switch, got %+v", op)
	}
	if op.ExitCode == nil || *op.ExitCode != 0 || op.EndTime == nil || op.Output == nil || *op.Output != "Applying model 'my-model' to server 'db_server_two'\n" {
		t.Errorf("want exit code 0, an end time and Barman's output, got %s", r.Stdout)
	}
	var payload map[string]any
	decodeJSON(t, string(op.RawPayload), &payload)
	if !reflect.DeepEqual(payload, map[string]any{"type": "config_switch", "model_name": "my-model"}) {
		t.Errorf("payload: got %v", payload)
	}
	if strings.Contains(r.Stderr, op.ID) {
		t.Errorf("with -o json the end is reported in the JSON only; stderr:\n%s", r.Stderr)
	}
}

// TestCreateRefusedByOldBarman: Barman before 3.10 has no config-switch or
// config-update; the request is refused at once and nothing is recorded.
func TestCreateRefusedByOldBarman(t *testing.T) {
	t.Parallel()
	old := []string{"FAKE_BARMAN_VERSION=3.4.0"}
	tests := []struct {
		name  string
		args  []string
		stdin string
	}{
		{"config-switch model", []string{"create", "config-switch", "-s", "db_server_two", "-m", "my-model"}, ""},
		{"config-switch reset, waiting", []string{"create", "config-switch", "-s", "db_server_two", "--reset", "--wait"}, ""},
		{"config-update", []string{"create", "config-update", "--changes", `[{"scope":"server","server_name":"db_server_two","archiver":"on"}]`}, ""},
		{"documented config_update payload", []string{"create", "--payload", "-"}, documentedPayload(t, docConfigUpdate)},
		{"documented config_switch payload", []string{"create", "--payload", "-", "--server", "db_server_two", "-o", "json"}, documentedPayload(t, docConfigSwitch)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, true)
			before := testenv.Snapshot(t, e.Root)
			r := e.exec(t, old, tt.stdin, tt.args...)
			if r.Code != cli.ExitUsage {
				t.Fatalf("want exit %d, got %v", cli.ExitUsage, r)
			}
			for _, v := range []string{"3.4.0", "3.10.0"} {
				if !strings.Contains(r.Stderr, v) {
					t.Errorf("the message must name %s: %q", v, r.Stderr)
				}
			}
			if r.Stdout != "" {
				t.Errorf("a refused create printed %q", r.Stdout)
			}
			if d := testenv.DiffSnapshots(before, testenv.Snapshot(t, e.Root)); d != "" {
				t.Errorf("a refused create wrote:\n%s", d)
			}
		})
	}
	t.Run("recovery still works", func(t *testing.T) {
		t.Parallel()
		e := newEnv(t, false)
		r := e.exec(t, old, "", "create", "recovery", "-s", "db_server_two", "-b", "latest", "--remote-ssh-command", "ssh db2", "-d", "/pgdata", "--wait")
		if r.Code != cli.ExitOK {
			t.Errorf("Barman 3.4 can recover; want exit 0, got %v", r)
		}
	})
}

// TestCreateBadInputWritesNothing: every refused create leaves the store,
// Barman's configuration and the catalog exactly as they were, and starts
// no Barman.
func TestCreateBadInputWritesNothing(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	payloads := e.Root + "/payloads"
	writeFile(t, payloads, "not-json.json", `{"type": "config_update", `, 0o644)
	writeFile(t, payloads, "recovery.json", documentedPayload(t, docRecovery), 0o644)
	writeFile(t, payloads, "update.json", documentedPayload(t, docConfigUpdate), 0o644)
	writeFile(t, payloads, "changes-object.json", `{"scope": "server"}`, 0o644)
	const okChanges = `[{"scope":"server","server_name":"db_server_two","archiver":"on"}]`
	// recovery is a valid recovery with flag set to value ("-": left out),
	// then extra arguments.
	recovery := func(flag, value string, extra ...string) []string {
		out := []string{"create", "recovery"}
		for _, fv := range [][2]string{{"--server", "db_server_two"}, {"--backup-id", "latest"}, {"--remote-ssh-command", "ssh db2"}, {"--destination-directory", "/pgdata"}} {
			if fv[0] == flag {
				fv[1] = value
			}
			if fv[1] != "-" {
				out = append(out, fv[0], fv[1])
			}
		}
		return append(out, extra...)
	}
	manyChanges := "[" + strings.Repeat(`{"scope":"server","server_name":"a","archiver":"on"},`, 1000) + `{"scope":"server","server_name":"a","archiver":"on"}]`
	tests := []struct {
		name     string
		args     []string
		stdin    string
		wantCode int
		wantMsg  string
	}{
		// create itself
		{"nothing to create", []string{"create"}, "", cli.ExitUsage, "say what to create"},
		{"unknown operation", []string{"create", "restore"}, "", cli.ExitUsage, `unknown operation "restore"`},
		{"payload file missing", []string{"create", "--payload", payloads + "/missing.json"}, "", cli.ExitUsage, "missing.json"},
		{"payload not JSON", []string{"create", "--payload", payloads + "/not-json.json"}, "", cli.ExitUsage, "not-json.json"},
		{"payload empty", []string{"create", "--payload", "-"}, "", cli.ExitUsage, "empty"},
		{"payload an array", []string{"create", "--payload", "-"}, `[]`, cli.ExitUsage, "JSON object"},
		{"payload without type", []string{"create", "--payload", "-"}, `{}`, cli.ExitUsage, `"type" is required`},
		{"payload with trailing data", []string{"create", "--payload", "-"}, documentedPayload(t, docConfigUpdate) + "{}", cli.ExitUsage, "after the JSON object"},
		{"payload with a repeated key", []string{"create", "--payload", "-"}, `{"type": "config_update", "type": "config_update", "changes": ` + okChanges + `}`, cli.ExitUsage, "twice"},
		{"payload not UTF-8", []string{"create", "--payload", "-"}, "{\"type\": \"config_update\", \"changes\": [{\"scope\": \"server\", \"server_name\": \"a\", \"x\": \"\xff\"}]}", cli.ExitUsage, "UTF-8"},
		{"payload over 1 MiB", []string{"create", "--payload", "-"}, `{"type": "config_update", "pad": "` + strings.Repeat("x", 1<<20) + `"}`, cli.ExitUsage, "larger than"},
		{"payload with a reserved key", []string{"create", "--payload", "-"}, `{"type": "config_update", "changes": ` + okChanges + `, "start_time": "2020-01-01T00:00:00.000000"}`, cli.ExitUsage, "reserved"},
		{"payload of unknown type", []string{"create", "--payload", "-", "-s", "db_server_two"}, `{"type": "restore"}`, cli.ExitUsage, `unknown operation type "restore"`},
		{"recovery payload without server", []string{"create", "--payload", payloads + "/recovery.json"}, "", cli.ExitUsage, "server operation"},
		{"config_update payload for a server", []string{"create", "--payload", payloads + "/update.json", "--server", "db_server_two"}, "", cli.ExitUsage, "instance operation"},
		{"recovery payload for an unknown server", []string{"create", "--payload", payloads + "/recovery.json", "--server", "db_server_nine"}, "", cli.ExitNotFound, "known: db_server_two"},
		{"config_switch reset false", []string{"create", "--payload", "-", "-s", "db_server_two"}, `{"type": "config_switch", "reset": false}`, cli.ExitUsage, `"reset" must be true`},
		{"config_switch model not a string", []string{"create", "--payload", "-", "-s", "db_server_two"}, `{"type": "config_switch", "model_name": 7}`, cli.ExitUsage, "must be a string"},
		{"unknown output format", []string{"create", "--payload", payloads + "/update.json", "-o", "yaml"}, "", cli.ExitUsage, `"yaml"`},
		{"unknown flag", []string{"create", "--payload", payloads + "/update.json", "--force"}, "", cli.ExitUsage, "force"},

		// recovery
		{"recovery without flags", []string{"create", "recovery"}, "", cli.ExitUsage, "missing required flags: --server, --remote-ssh-command, --destination-directory"},
		{"recovery without --server", recovery("--server", "-"), "", cli.ExitUsage, "server"},
		{"recovery without --destination-directory", recovery("--destination-directory", "-"), "", cli.ExitUsage, "destination-directory"},
		{"recovery for an unknown server", recovery("--server", "db_server_nine"), "", cli.ExitNotFound, "known: db_server_two"},
		{"recovery for a model", recovery("--server", "my-model"), "", cli.ExitNotFound, "model"},
		{"recovery for a path", recovery("--server", "../../etc"), "", cli.ExitNotFound, "known: db_server_two"},
		{"recovery of an unknown backup", recovery("--backup-id", "20200101T000000"), "", cli.ExitNotFound, "20261125T080758 DONE"},
		{"recovery of last-failed without one", recovery("--backup-id", "last-failed"), "", cli.ExitNotFound, "last-failed"},
		{"recovery to a relative directory", recovery("--destination-directory", "pgdata"), "", cli.ExitUsage, "absolute"},
		{"recovery with an empty ssh command", recovery("--remote-ssh-command", " "), "", cli.ExitUsage, "must not be empty"},
		{"recovery with a line break in the ssh command", recovery("--remote-ssh-command", "ssh db2\nrm -rf /"), "", cli.ExitUsage, "control character"},
		{"recovery with -o yaml", recovery("", "", "-o", "yaml"), "", cli.ExitUsage, `"yaml"`},
		{"recovery with a bad --wait", recovery("", "", "--wait=maybe"), "", cli.ExitUsage, "maybe"},
		{"recovery without --backup-id nor --target-time", recovery("--backup-id", "-"), "", cli.ExitUsage, `"backup_id" is missing`},
		{"recovery --backup-id auto with --target-xid", recovery("--backup-id", "auto", "--target-xid", "5"), "", cli.ExitUsage, `"backup_id" "auto" chooses the backup from a "target_time" or a "target_lsn"`},
		{"recovery with two targets", recovery("", "", "--target-xid", "5", "--target-name", "x"), "", cli.ExitUsage, `"target_xid" and "target_name" are both recovery targets`},
		{"recovery --target-action without a target", recovery("", "", "--target-action", "promote"), "", cli.ExitUsage, `"target_action"`},
		{"recovery --exclusive without a target", recovery("", "", "--exclusive"), "", cli.ExitUsage, `"exclusive"`},
		{"recovery --target-time in the future", recovery("", "", "--target-time", "2099-01-01T00:00:00Z"), "", cli.ExitUsage, `"target_time" 2099-01-01T00:00:00Z is in the future`},
		// The fixture's one DONE backup begins the recovery window, which is named.
		{"recovery --target-time before the backup ended", recovery("", "", "--target-time", "2026-11-25T08:00:00Z"), "", cli.ExitUsage, `is before the recovery window of server "db_server_two", which begins 2026-11-25T08:07:58.436364Z`},
		{"recovery --target-time before every backup", recovery("--backup-id", "-", "--target-time", "2026-11-25T08:00:00Z"), "", cli.ExitUsage, `is before the recovery window of server "db_server_two", which begins 2026-11-25T08:07:58.436364Z`},
		{"recovery --target-time without a zone", recovery("", "", "--target-time", "2026-11-26 10:00:00"), "", cli.ExitUsage, `"target_time": "2026-11-26 10:00:00" is not a time with a zone`},
		{"recovery --target-lsn malformed", recovery("", "", "--target-lsn", "3000060"), "", cli.ExitUsage, `"target_lsn" must be a WAL location`},
		{"recovery --target-xid zero", recovery("", "", "--target-xid", "0"), "", cli.ExitUsage, `"target_xid" must be a positive integer`},
		{"recovery --target-tli word", recovery("", "", "--target-tli", "newest"), "", cli.ExitUsage, `"target_tli" must be a timeline number`},
		{"recovery --target-action unknown", recovery("", "", "--target-action", "resume", "--target-immediate"), "", cli.ExitUsage, `"target_action" must be "pause", "shutdown" or "promote"`},
		{"recovery --jobs zero", recovery("", "", "--jobs", "0"), "", cli.ExitUsage, `"jobs" must be a whole number of parallel copy jobs from 1 to 64, got 0`},
		{"recovery --jobs a word", recovery("", "", "--jobs", "many"), "", cli.ExitUsage, `"jobs" must be a whole number of parallel copy jobs from 1 to 64, got "many"`},
		{"recovery --bwlimit negative", recovery("", "", "--bwlimit", "-5"), "", cli.ExitUsage, `"bwlimit" must be a whole number of kilobytes per second`},

		// backup
		{"backup without --server", []string{"create", "backup"}, "", cli.ExitUsage, "missing required flag: --server"},
		{"backup of an unknown server", []string{"create", "backup", "-s", "nope"}, "", cli.ExitNotFound, "known: db_server_two"},
		{"backup named like a shortcut", []string{"create", "backup", "-s", "db_server_two", "--name", "latest"}, "", cli.ExitUsage, `"backup_name" "latest" is one of Barman's shortcuts`},
		{"backup named like a backup ID", []string{"create", "backup", "-s", "db_server_two", "--name", "20261125T080758"}, "", cli.ExitUsage, `has the form of a backup ID`},
		{"backup payload to the instance", []string{"create", "--payload", "-"}, `{"type": "backup"}`, cli.ExitUsage, "backup is a server operation"},

		// keep and delete
		{"keep without flags", []string{"create", "keep"}, "", cli.ExitUsage, "missing required flags: --server, --backup-id"},
		{"keep without a target", []string{"create", "keep", "-s", "db_server_two", "-b", "latest"}, "", cli.ExitUsage, `keep needs "target": "full"`},
		{"keep with an unknown target", []string{"create", "keep", "-s", "db_server_two", "-b", "latest", "--target", "forever"}, "", cli.ExitUsage, `"target" must be "full" or "standalone", got "forever"`},
		{"keep with a target and --release", []string{"create", "keep", "-s", "db_server_two", "-b", "latest", "-t", "full", "--release"}, "", cli.ExitUsage, "not both"},
		{"keep --release=false", []string{"create", "keep", "-s", "db_server_two", "-b", "latest", "--release=false"}, "", cli.ExitUsage, `"release" must be true`},
		{"keep of an unknown backup", []string{"create", "keep", "-s", "db_server_two", "-b", "nightly", "-t", "full"}, "", cli.ExitNotFound, `backup "nightly" does not exist`},
		{"keep of last-failed without one", []string{"create", "keep", "-s", "db_server_two", "-b", "last-failed", "-t", "full"}, "", cli.ExitNotFound, "last-failed"},
		{"keep with an option-like backup", []string{"create", "keep", "-s", "db_server_two", "-b=--all", "-t", "full"}, "", cli.ExitUsage, `starts with "-"`},
		{"keep payload to the instance", []string{"create", "--payload", "-"}, `{"type": "keep", "backup_id": "latest", "target": "full"}`, cli.ExitUsage, "keep is a server operation"},
		{"delete without --backup-id", []string{"create", "delete", "-s", "db_server_two"}, "", cli.ExitUsage, "missing required flag: --backup-id"},
		{"delete of an unknown backup", []string{"create", "delete", "-s", "db_server_two", "-b", "20200101T000000"}, "", cli.ExitNotFound, "20261125T080758 DONE"},
		{"delete auto", []string{"create", "delete", "-s", "db_server_two", "-b", "auto"}, "", cli.ExitUsage, "name the backup"},
		{"delete payload without backup_id", []string{"create", "--payload", "-", "-s", "db_server_two"}, `{"type": "delete"}`, cli.ExitUsage, `delete needs "backup_id"`},

		// config-switch
		{"config-switch without model or reset", []string{"create", "config-switch", "-s", "db_server_two"}, "", cli.ExitUsage, "--model-name"},
		{"config-switch with model and reset", []string{"create", "config-switch", "-s", "db_server_two", "-m", "my-model", "--reset"}, "", cli.ExitUsage, "not both"},
		{"config-switch to an unknown model", []string{"create", "config-switch", "-s", "db_server_two", "-m", "no-such-model"}, "", cli.ExitNotFound, `"no-such-model"`},
		{"config-switch with an empty model", []string{"create", "config-switch", "-s", "db_server_two", "-m", ""}, "", cli.ExitUsage, "must not be empty"},
		{"config-switch without server", []string{"create", "config-switch", "-m", "my-model"}, "", cli.ExitUsage, "server"},
		{"config-switch of an unknown server", []string{"create", "config-switch", "-s", "nope", "-m", "my-model"}, "", cli.ExitNotFound, "known: db_server_two"},

		// config-update
		{"config-update without changes", []string{"create", "config-update"}, "", cli.ExitUsage, "--changes"},
		{"config-update with both sources", []string{"create", "config-update", "--changes", okChanges, "--changes-file", "-"}, okChanges, cli.ExitUsage, "not both"},
		{"config-update changes not JSON", []string{"create", "config-update", "--changes", `[{"scope": "server",`}, "", cli.ExitUsage, "not a valid JSON array"},
		{"config-update changes empty string", []string{"create", "config-update", "--changes", ""}, "", cli.ExitUsage, "not a valid JSON array"},
		{"config-update changes an object", []string{"create", "config-update", "--changes", `{"scope": "server", "server_name": "a", "archiver": "on"}`}, "", cli.ExitUsage, "array"},
		{"config-update changes file an object", []string{"create", "config-update", "--changes-file", payloads + "/changes-object.json"}, "", cli.ExitUsage, "array"},
		{"config-update changes smuggling a key", []string{"create", "config-update", "--changes", okChanges + `, "note": "smuggled"`}, "", cli.ExitUsage, "not a valid JSON array"},
		{"config-update changes smuggling a type", []string{"create", "config-update", "--changes", okChanges + `, "type": "recovery"`}, "", cli.ExitUsage, "not a valid JSON array"},
		{"config-update too many changes", []string{"create", "config-update", "--changes", manyChanges}, "", cli.ExitUsage, "at most 1000"},
		{"config-update change not an object", []string{"create", "config-update", "--changes", `["archiver=on"]`}, "", cli.ExitUsage, "must be an object"},
		{"config-update change without scope", []string{"create", "config-update", "--changes", `[{"server_name": "a", "archiver": "on"}]`}, "", cli.ExitUsage, `"scope"`},
		{"config-update change with a bad scope", []string{"create", "config-update", "--changes", `[{"scope": "global", "archiver": "on"}]`}, "", cli.ExitUsage, `"global"`},
		{"config-update change without name", []string{"create", "config-update", "--changes", `[{"scope": "model", "archiver": "on"}]`}, "", cli.ExitUsage, "model_name"},
		{"config-update of section barman", []string{"create", "config-update", "--changes", `[{"scope": "server", "server_name": "barman", "barman_home": "/tmp"}]`}, "", cli.ExitUsage, `"barman"`},
		{"config-update of a path", []string{"create", "config-update", "--changes", `[{"scope": "server", "server_name": "../x", "archiver": "on"}]`}, "", cli.ExitUsage, `"../x"`},
		{"config-update with no option", []string{"create", "config-update", "--changes", `[{"scope": "server", "server_name": "a"}]`}, "", cli.ExitUsage, "changes no option"},
		{"config-update with a bad option name", []string{"create", "config-update", "--changes", `[{"scope": "server", "server_name": "a", "Archiver": "on"}]`}, "", cli.ExitUsage, `"Archiver"`},
		{"config-update with a line break in a value", []string{"create", "config-update", "--changes", `[{"scope": "server", "server_name": "a", "conninfo": "x\n[barman]"}]`}, "", cli.ExitUsage, "control character"},
		{"config-update with an object value", []string{"create", "config-update", "--changes", `[{"scope": "server", "server_name": "a", "archiver": {}}]`}, "", cli.ExitUsage, "string, number or boolean"},
		{"config-update changes file missing", []string{"create", "config-update", "--changes-file", payloads + "/nope.json"}, "", cli.ExitUsage, "nope.json"},
		{"config-update empty stdin", []string{"create", "config-update", "--changes-file", "-"}, "", cli.ExitUsage, "not a valid JSON array"},
		{"config-update with --server", []string{"create", "config-update", "--server", "db_server_two", "--changes", okChanges}, "", cli.ExitUsage, "server"},
		{"config-update with -o yaml", []string{"create", "config-update", "--changes", okChanges, "-o", "yaml"}, "", cli.ExitUsage, `"yaml"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := testenv.Snapshot(t, e.Root)
			r := runApp(t, tt.stdin, append([]string{"--barman-config", e.Conf, "--barman-command", fakeBarman}, tt.args...)...)
			if r.Code != tt.wantCode {
				t.Errorf("want exit %d, got %v", tt.wantCode, r)
			}
			if !strings.Contains(r.Msg, tt.wantMsg) {
				t.Errorf("message %q does not mention %q", r.Msg, tt.wantMsg)
			}
			if idPattern.MatchString(strings.TrimSpace(r.Stdout)) || strings.Contains(r.Stdout, "operation_id") {
				t.Errorf("a refused create printed an operation: %q", r.Stdout)
			}
			if d := testenv.DiffSnapshots(before, testenv.Snapshot(t, e.Root)); d != "" {
				t.Errorf("a refused create wrote:\n%s", d)
			}
		})
	}
	if calls := testenv.ArgvCalls(t, e.ArgvLog); len(calls) != 0 {
		t.Errorf("refused creates ran Barman: %q", calls)
	}
}

// utf16LEWithBOM is s as Windows PowerShell 5.1's Out-File writes it.
func utf16LEWithBOM(s string) string {
	out := []byte{0xff, 0xfe}
	for _, u := range utf16.Encode([]rune(s)) {
		out = append(out, byte(u), byte(u>>8))
	}
	return string(out)
}

// TestCreateRecoveryTablespaceFlag: --tablespace takes Barman's own
// NAME:LOCATION, once per tablespace (it took only a JSON object, and
// refused tbs1:/srv/t as not one), and still the JSON object; the rules
// reach Barman as --tablespace=NAME:LOCATION, each, in the order given.
func TestCreateRecoveryTablespaceFlag(t *testing.T) {
	e := newEnv(t, false)
	infoPath := filepath.Join(e.Home, "db_server_two", "meta", "20261125T080758-backup.info")
	info, err := os.ReadFile(infoPath)
	if err != nil {
		t.Fatal(err)
	}
	info = append(info, []byte("tablespaces=[('tbs1', 16387, '/var/lib/tbs1'), ('tbs2', 16388, '/var/lib/tbs2')]\n")...)
	if err := os.WriteFile(infoPath, info, 0o600); err != nil {
		t.Fatal(err)
	}
	base := []string{"create", "recovery", "-s", "db_server_two", "-b", "latest", "--remote-ssh-command", "ssh db2", "-d", "/r", "--dry-run", "-o", "json"}
	for _, tc := range []struct {
		name  string
		flags []string
		want  string // in barman_argv, joined by spaces
	}{
		{"Barman's form, twice", []string{"--tablespace", "tbs1:/srv/t1", "--tablespace", "tbs2:/srv/t2"}, "--tablespace=tbs1:/srv/t1 --tablespace=tbs2:/srv/t2"},
		{"a JSON object", []string{"--tablespace", `{"tbs2": "/srv/t2", "tbs1": "/srv/t1"}`}, "--tablespace=tbs2:/srv/t2 --tablespace=tbs1:/srv/t1"},
		{"both forms", []string{"--tablespace", `{"tbs2": "/srv/t2"}`, "--tablespace", "tbs1:/srv/t1"}, "--tablespace=tbs2:/srv/t2 --tablespace=tbs1:/srv/t1"},
	} {
		r := e.run(t, append(base, tc.flags...)...)
		if r.Code != cli.ExitOK {
			t.Errorf("%s: %v", tc.name, r)
			continue
		}
		var j struct {
			Operation struct {
				BarmanArgv []string `json:"barman_argv"`
			} `json:"operation"`
		}
		decodeJSON(t, r.Stdout, &j)
		if argv := strings.Join(j.Operation.BarmanArgv, " "); !strings.HasSuffix(argv, tc.want) {
			t.Errorf("%s: barman argv %q, want it to end %q", tc.name, argv, tc.want)
		}
	}
	for _, tc := range []struct {
		name  string
		flags []string
		want  string
	}{
		{"no colon", []string{"--tablespace", "tbs1"}, `--tablespace "tbs1": give NAME:LOCATION (e.g. tbs1:/srv/tbs1), once per tablespace, or a JSON object of them`},
		{"a tablespace twice", []string{"--tablespace", "tbs1:/a", "--tablespace", "tbs1:/b"}, `--tablespace gives tablespace "tbs1" twice`},
		{"relative location", []string{"--tablespace", "tbs1:srv"}, `"tablespaces.tbs1" "srv" must be an absolute path`},
		{"one the backup lacks", []string{"--tablespace", "tbs9:/srv"}, `names tablespace "tbs9", which backup 20261125T080758 of server "db_server_two" does not have (its tablespaces: tbs1, tbs2)`},
	} {
		r := e.run(t, append(base, tc.flags...)...)
		if r.Code != cli.ExitUsage || !strings.Contains(r.Msg, tc.want) {
			t.Errorf("%s: want exit %d with %q, got %v", tc.name, cli.ExitUsage, tc.want, r)
		}
	}
}
