package httpd_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
)

// hostileRecovery is a valid recovery body with one field's raw JSON
// replaced.
func hostileRecovery(key, raw string) string {
	fields := map[string]string{
		"type":                  `"recovery"`,
		"backup_id":             `"latest"`,
		"remote_ssh_command":    `"ssh postgres@db_server_two.my.org"`,
		"destination_directory": `"/var/lib/pgdata"`,
	}
	fields[key] = raw
	var b strings.Builder
	b.WriteString("{")
	for i, k := range []string{"type", "backup_id", "remote_ssh_command", "destination_directory"} {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(`"` + k + `": ` + fields[k])
	}
	b.WriteString("}")
	return b.String()
}

// hostileChange is a config_update body with one change object.
func hostileChange(change string) string {
	return `{"type": "config_update", "changes": [` + change + `]}`
}

// repeat joins n copies of s with sep.
func repeat(s, sep string, n int) string {
	return strings.TrimSuffix(strings.Repeat(s+sep, n), sep)
}

// TestHostileInputIsRefusedAndWritesNothing: hostile request bodies and
// paths (deep nesting, huge arrays, NUL bytes, invalid UTF-8, path
// traversal, wrong types, duplicate keys, very long strings, trailing
// garbage, bare values) each answer a 4xx JSON error, start no runner and
// write nothing under barman_home.
func TestHostileInputIsRefusedAndWritesNothing(t *testing.T) {
	const valid = exampleRecovery
	longString := `"` + strings.Repeat("x", 900_000) + `"`
	cases := []struct {
		name        string
		method      string
		path        string
		body        string
		contentType string // default application/json
		want        int
	}{
		// Deep nesting.
		{name: "1000 nested arrays in a value", path: "/operations", body: `{"type": "config_update", "changes": ` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}`, want: 400},
		{name: "1000 nested objects", path: srvOps, body: strings.Repeat(`{"a": `, 1000) + "1" + strings.Repeat("}", 1000), want: 400},
		{name: "1000 nested arrays bare", path: srvOps, body: strings.Repeat("[", 1000) + strings.Repeat("]", 1000), want: 400},
		{name: "1000 unclosed arrays", path: srvOps, body: `{"type": ` + strings.Repeat("[", 1000), want: 400},
		// Huge arrays, within the 1 MiB limit.
		{name: "200k changes", path: "/operations", body: `{"type": "config_update", "changes": [` + repeat(`{}`, ",", 200_000) + `]}`, want: 400},
		{name: "200k numbers as backup_id", path: srvOps, body: hostileRecovery("backup_id", "["+repeat("0", ",", 200_000)+"]"), want: 400},
		{name: "200k strings as type", path: srvOps, body: `{"type": [` + repeat(`"r"`, ",", 200_000) + `]}`, want: 400},
		// NUL bytes.
		{name: "escaped NUL in backup_id", path: srvOps, body: hostileRecovery("backup_id", `"latest\u0000"`), want: 400},
		{name: "escaped NUL in remote_ssh_command", path: srvOps, body: hostileRecovery("remote_ssh_command", `"ssh x\u0000; rm -rf /"`), want: 400},
		{name: "escaped NUL in destination_directory", path: srvOps, body: hostileRecovery("destination_directory", `"/var/lib\u0000/pgdata"`), want: 400},
		{name: "raw NUL in a string", path: srvOps, body: hostileRecovery("backup_id", "\"lat\x00est\""), want: 400},
		{name: "NUL in a top-level key", path: "/operations", body: `{"type\u0000": "config_update", "changes": []}`, want: 400},
		{name: "NUL in an option name", path: "/operations", body: hostileChange(`{"scope": "server", "server_name": "db_server_two", "archiver\u0000": "on"}`), want: 400},
		{name: "NUL in an option value", path: "/operations", body: hostileChange(`{"scope": "server", "server_name": "db_server_two", "archiver": "on\u0000\nconninfo = evil"}`), want: 400},
		{name: "NUL in a server name", path: "/operations", body: hostileChange(`{"scope": "server", "server_name": "db_server_two\u0000", "archiver": "on"}`), want: 400},
		{name: "NUL in model_name", path: srvOps, body: `{"type": "config_switch", "model_name": "my-model\u0000"}`, want: 400},
		// Controls in extra keys and values, lone surrogates (issue 14, defect 4).
		{name: "NUL in an extra key", path: srvOps, body: `{"type": "config_switch", "reset": true, "note\u0000": "x"}`, want: 400},
		{name: "escape sequence in an extra value", path: srvOps, body: `{"type": "config_switch", "reset": true, "note": "\u001b]0;pwned\u0007"}`, want: 400},
		{name: "lone surrogate in an extra value", path: srvOps, body: `{"type": "config_switch", "reset": true, "note": "\ud800"}`, want: 400},
		{name: "lone surrogate in an option value", path: "/operations", body: hostileChange(`{"scope": "server", "server_name": "db_server_two", "description": "\udfff"}`), want: 400},
		// Sections and options of config_update (defect 3), dash-led
		// positionals (defect 9).
		{name: "DEFAULT section", path: "/operations", body: hostileChange(`{"scope": "server", "server_name": "DEFAULT", "archiver": "on"}`), want: 400},
		{name: "hook script", path: "/operations", body: hostileChange(`{"scope": "server", "server_name": "db_server_two", "post_backup_script": "touch /tmp/x"}`), want: 400},
		{name: "dash-led backup_id", path: srvOps, body: hostileRecovery("backup_id", `"--help"`), want: 400},
		// Invalid UTF-8.
		{name: "invalid UTF-8 in a value", path: srvOps, body: hostileRecovery("backup_id", "\"lat\xffest\""), want: 400},
		{name: "invalid UTF-8 in a key", path: srvOps, body: "{\"ty\xc3\x28pe\": \"recovery\"}", want: 400},
		{name: "UTF-16 body", path: srvOps, body: "\xff\xfe{\x00}\x00", want: 400},
		// Path traversal in names and IDs.
		{name: "server ..", path: "/servers/%2E%2E/operations", body: valid, want: 404},
		{name: "server ../db_server_two", path: "/servers/..%2Fdb_server_two/operations", body: valid, want: 404},
		{name: "server db_server_two/../..", path: "/servers/db_server_two%2F..%2F..%2Ftmp/operations", body: valid, want: 404},
		{name: "server /etc", path: "/servers/%2Fetc/operations", body: valid, want: 404},
		{name: "server with a NUL", path: "/servers/db_server_two%00/operations", body: valid, want: 404},
		{name: "very long server name", path: "/servers/" + strings.Repeat("a", 60_000) + "/operations", body: valid, want: 404},
		// The request line counts toward the header limit, as in net/http.
		{name: "server name beyond the header limit", path: "/servers/" + strings.Repeat("a", 100_000) + "/operations", body: valid, want: 431},
		{name: "GET operation ..", method: "GET", path: "/operations/%2E%2E", want: 404},
		{name: "GET operation ../../jobs", method: "GET", path: srvOps + "/..%2F..%2Fjobs%2F20261125T080447", want: 404},
		{name: "cancel operation ../server/jobs/ID", path: "/operations/..%2Fdb_server_two%2Fjobs%2F20261125T080805/cancel", want: 404},
		{name: "cancel operation ..", path: srvOps + "/%2E%2E/cancel", want: 404},
		{name: "cancel operation in server ..", path: "/servers/%2E%2E/operations/20261125T080805/cancel", want: 404},
		{name: "config_update server_name ../etc", path: "/operations", body: hostileChange(`{"scope": "server", "server_name": "../etc", "archiver": "on"}`), want: 400},
		{name: "config_update model_name a/b", path: "/operations", body: hostileChange(`{"scope": "model", "model_name": "a/b", "archiver": "on"}`), want: 400},
		{name: "config_update option ../x", path: "/operations", body: hostileChange(`{"scope": "server", "server_name": "db_server_two", "../x": "on"}`), want: 400},
		{name: "config_switch model ../my-model", path: srvOps, body: `{"type": "config_switch", "model_name": "../my-model"}`, want: 404},
		// Numbers (and others) where strings belong.
		{name: "type is a number", path: srvOps, body: `{"type": 1}`, want: 400},
		{name: "backup_id is a number", path: srvOps, body: hostileRecovery("backup_id", "20261125080758"), want: 400},
		{name: "remote_ssh_command is a huge number", path: srvOps, body: hostileRecovery("remote_ssh_command", "1e999999"), want: 400},
		{name: "destination_directory is true", path: srvOps, body: hostileRecovery("destination_directory", "true"), want: 400},
		{name: "model_name is null", path: srvOps, body: `{"type": "config_switch", "model_name": null}`, want: 400},
		{name: "changes is a string", path: "/operations", body: `{"type": "config_update", "changes": "[]"}`, want: 400},
		{name: "server_name is a number", path: "/operations", body: hostileChange(`{"scope": "server", "server_name": 12, "archiver": "on"}`), want: 400},
		{name: "option value is an object", path: "/operations", body: hostileChange(`{"scope": "server", "server_name": "db_server_two", "archiver": {"on": true}}`), want: 400},
		// Duplicate keys.
		{name: "duplicate type", path: srvOps, body: `{"type": "config_switch", "type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`, want: 400},
		{name: "duplicate destination_directory", path: srvOps, body: strings.TrimSuffix(valid, "}") + `, "destination_directory": "/etc"}`, want: 400},
		{name: "duplicate key in a change", path: "/operations", body: hostileChange(`{"scope": "server", "server_name": "db_server_two", "archiver": "on", "archiver": "off"}`), want: 400},
		// Very long strings.
		{name: "very long backup_id", path: srvOps, body: hostileRecovery("backup_id", longString), want: 400},
		{name: "very long remote_ssh_command", path: srvOps, body: hostileRecovery("remote_ssh_command", longString), want: 400},
		{name: "very long destination_directory", path: srvOps, body: hostileRecovery("destination_directory", `"/`+strings.Repeat("d", 200_000)+`"`), want: 400},
		{name: "very long type", path: srvOps, body: `{"type": ` + longString + `}`, want: 400},
		{name: "very long model_name", path: srvOps, body: `{"type": "config_switch", "model_name": ` + longString + `}`, want: 400},
		{name: "very long option value", path: "/operations", body: hostileChange(`{"scope": "server", "server_name": "db_server_two", "conninfo": ` + longString + `}`), want: 400},
		{name: "very long key", path: "/operations", body: hostileChange(`{"scope": "server", "server_name": "db_server_two", ` + longString + `: "on"}`), want: 400},
		// A JSON body followed by garbage.
		{name: "object then garbage", path: srvOps, body: valid + "garbage", want: 400},
		{name: "object then another object", path: srvOps, body: valid + valid, want: 400},
		{name: "object then a bracket", path: srvOps, body: valid + "]", want: 400},
		{name: "object then NUL", path: srvOps, body: valid + "\x00", want: 400},
		// Bare values.
		{name: "bare string", path: srvOps, body: `"recovery"`, want: 400},
		{name: "bare number", path: srvOps, body: `42`, want: 400},
		{name: "bare null", path: srvOps, body: `null`, want: 400},
		{name: "bare true", path: "/operations", body: `true`, want: 400},
		{name: "bare array", path: "/operations", body: `[` + valid + `]`, want: 400},
		{name: "empty body", path: srvOps, body: ``, want: 400},
		{name: "whitespace body", path: srvOps, body: " \n\t ", want: 400},
		// Around the edges.
		{name: "body over 1 MiB", path: srvOps, body: hostileRecovery("backup_id", `"`+strings.Repeat("x", 1<<20)+`"`), want: 413},
		{name: "no content type", path: srvOps, body: valid, contentType: "-", want: 400},
		{name: "text/plain", path: srvOps, body: valid, contentType: "text/plain", want: 400},
	}

	e := newEnv(t)
	h, launcher := e.handler(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			ct := tc.contentType
			switch ct {
			case "":
				ct = "application/json"
			case "-":
				ct = ""
			}
			before := testenv.Snapshot(t, e.Home)
			ensured := len(launcher.Ensured())
			w := serve(t, h, request{Method: method, Path: tc.path, Body: tc.body, ContentType: ct})
			if w.Code != tc.want {
				t.Fatalf("status %d, want %d; body: %.300s", w.Code, tc.want, w.Body.String())
			}
			wantError(t, w, tc.want)
			if diff := testenv.DiffSnapshots(before, testenv.Snapshot(t, e.Home)); diff != "" {
				t.Errorf("the request wrote under barman_home: %q", diff)
			}
			if n := len(launcher.Ensured()); n != ensured {
				t.Errorf("the request started a runner")
			}
		})
	}
}
