package httpd_test

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

const (
	srvOps = "/servers/db_server_two/operations"
	// A valid recovery, as a client would send it.
	validRecovery = `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh postgres@db2", "destination_directory": "/var/lib/pgdata"}`
	validUpdate   = `{"type": "config_update", "changes": [{"scope": "server", "server_name": "db_server_two", "archiver": "on"}]}`
)

// TestValidation is the reference's validation table ("Validation and
// responses it gives") with our answers, and more. Every answer that is not
// 202 must leave the store exactly as it was and start no runner; every 202
// must record the operation and start a runner.
func TestValidation(t *testing.T) {
	const json = "application/json"
	cases := []struct {
		name     string
		req      request
		want     int
		contains []string // in the error message
		jobType  string   // for 202: the operation_type recorded
	}{
		// content-type
		{"no_content_type/server", request{"POST", srvOps, validRecovery, ""}, 400, []string{"content-type"}, ""},
		{"no_content_type/instance", request{"POST", "/operations", validUpdate, ""}, 400, []string{"content-type"}, ""},
		{"text_plain", request{"POST", srvOps, validRecovery, "text/plain"}, 400, []string{"content-type", "text/plain"}, ""},
		{"form_as_curl_without_-H", request{"POST", "/operations", validUpdate, "application/x-www-form-urlencoded"}, 400, []string{"content-type"}, ""},
		{"json_lookalike", request{"POST", srvOps, validRecovery, "application/jsonx"}, 400, []string{"content-type"}, ""},
		// A malformed parameter does not hide the media type from the
		// reference (werkzeug's parser is lenient), so not from us either.
		{"malformed_content_type_parameter", request{"POST", srvOps, validRecovery, "application/json; charset"}, 202, nil, "recovery"},
		{"unparsable_content_type", request{"POST", srvOps, validRecovery, "application/"}, 400, []string{"content-type"}, ""},
		{"json_with_charset", request{"POST", srvOps, validRecovery, "application/json; charset=utf-8"}, 202, nil, "recovery"},
		{"json_upper_case", request{"POST", srvOps, validRecovery, "Application/JSON"}, 202, nil, "recovery"},

		// body not a JSON object
		{"body_not_json", request{"POST", srvOps, "backup_id=latest", json}, 400, []string{"JSON"}, ""},
		{"body_empty", request{"POST", srvOps, "", json}, 400, []string{"empty"}, ""},
		{"body_truncated", request{"POST", "/operations", `{"type": "config_update",`, json}, 400, []string{"JSON"}, ""},
		{"body_trailing_data", request{"POST", srvOps, validRecovery + ` {"x": 1}`, json}, 400, nil, ""},
		{"body_duplicate_key", request{"POST", srvOps, `{"type": "recovery", "type": "config_switch", "reset": true}`, json}, 400, []string{"twice"}, ""},
		{"body_not_utf8", request{"POST", srvOps, "{\"type\": \"recovery\xff\"}", json}, 400, []string{"UTF-8"}, ""},
		{"empty_object/server", request{"POST", srvOps, `{}`, json}, 400, []string{"backup_id"}, ""},
		{"empty_object/instance", request{"POST", "/operations", `{}`, json}, 400, []string{"type"}, ""},
		{"empty_array/server", request{"POST", srvOps, `[]`, json}, 400, []string{"object"}, ""},
		{"empty_array/instance", request{"POST", "/operations", `[]`, json}, 400, []string{"object"}, ""},
		{"null", request{"POST", srvOps, `null`, json}, 400, nil, ""},
		{"string", request{"POST", srvOps, `"recovery"`, json}, 400, nil, ""},

		// a server operation without type is a recovery, as in the reference
		{"no_type_is_recovery", request{"POST", srvOps, `{"backup_id": "latest", "remote_ssh_command": "ssh postgres@db2", "destination_directory": "/var/lib/pgdata"}`, json}, 202, nil, "recovery"},
		{"no_type_is_recovery/missing_key", request{"POST", srvOps, `{"backup_id": "latest", "destination_directory": "/var/lib/pgdata"}`, json}, 400, []string{"remote_ssh_command"}, ""},

		// recovery without each required key, or with a wrong one
		{"recovery_without_backup_id", request{"POST", srvOps, `{"type": "recovery", "remote_ssh_command": "ssh postgres@db2", "destination_directory": "/var/lib/pgdata"}`, json}, 400, []string{"backup_id"}, ""},
		{"recovery_without_remote_ssh_command", request{"POST", srvOps, `{"type": "recovery", "backup_id": "latest", "destination_directory": "/var/lib/pgdata"}`, json}, 400, []string{"remote_ssh_command"}, ""},
		{"recovery_without_destination_directory", request{"POST", srvOps, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh postgres@db2"}`, json}, 400, []string{"destination_directory"}, ""},
		{"recovery_backup_id_not_string", request{"POST", srvOps, `{"type": "recovery", "backup_id": 20261125, "remote_ssh_command": "ssh postgres@db2", "destination_directory": "/var/lib/pgdata"}`, json}, 400, []string{"backup_id"}, ""},
		{"recovery_empty_ssh_command", request{"POST", srvOps, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": " ", "destination_directory": "/var/lib/pgdata"}`, json}, 400, []string{"remote_ssh_command"}, ""},
		{"recovery_relative_destination", request{"POST", srvOps, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh postgres@db2", "destination_directory": "pgdata"}`, json}, 400, []string{"destination_directory"}, ""},

		// backup_id resolution
		{"recovery_unknown_backup", request{"POST", srvOps, `{"type": "recovery", "backup_id": "20990101T000000", "remote_ssh_command": "ssh postgres@db2", "destination_directory": "/var/lib/pgdata"}`, json}, 404, []string{"20990101T000000"}, ""},
		{"recovery_last_failed_none", request{"POST", srvOps, `{"type": "recovery", "backup_id": "last-failed", "remote_ssh_command": "ssh postgres@db2", "destination_directory": "/var/lib/pgdata"}`, json}, 404, []string{"last-failed"}, ""},
		{"recovery_backup_by_id", request{"POST", srvOps, `{"type": "recovery", "backup_id": "20261125T080758", "remote_ssh_command": "ssh postgres@db2", "destination_directory": "/var/lib/pgdata"}`, json}, 202, nil, "recovery"},
		{"recovery_backup_oldest", request{"POST", srvOps, `{"type": "recovery", "backup_id": "oldest", "remote_ssh_command": "ssh postgres@db2", "destination_directory": "/var/lib/pgdata"}`, json}, 202, nil, "recovery"},

		// config_switch
		{"config_switch_neither", request{"POST", srvOps, `{"type": "config_switch"}`, json}, 400, []string{"model_name", "reset"}, ""},
		{"config_switch_both", request{"POST", srvOps, `{"type": "config_switch", "model_name": "my-model", "reset": true}`, json}, 400, []string{"not both"}, ""},
		{"config_switch_reset_false", request{"POST", srvOps, `{"type": "config_switch", "reset": false}`, json}, 400, []string{"reset"}, ""},
		{"config_switch_reset_string", request{"POST", srvOps, `{"type": "config_switch", "reset": "true"}`, json}, 400, []string{"reset"}, ""},
		{"config_switch_model_number", request{"POST", srvOps, `{"type": "config_switch", "model_name": 1}`, json}, 400, []string{"model_name"}, ""},
		{"config_switch_model_null", request{"POST", srvOps, `{"type": "config_switch", "model_name": null}`, json}, 400, []string{"model_name"}, ""},
		{"config_switch_unknown_model", request{"POST", srvOps, `{"type": "config_switch", "model_name": "no-such-model"}`, json}, 404, []string{"no-such-model"}, ""},
		{"config_switch_reset", request{"POST", srvOps, `{"type": "config_switch", "reset": true}`, json}, 202, nil, "config_switch"},

		// config_update
		{"config_update_without_changes", request{"POST", "/operations", `{"type": "config_update"}`, json}, 400, []string{"changes"}, ""},
		{"config_update_changes_not_array", request{"POST", "/operations", `{"type": "config_update", "changes": "archiver=on"}`, json}, 400, []string{"changes"}, ""},
		{"config_update_changes_empty", request{"POST", "/operations", `{"type": "config_update", "changes": []}`, json}, 202, nil, "config_update"},
		{"config_update_line_break", request{"POST", "/operations", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "db_server_two", "archiver": "on\n[barman]"}]}`, json}, 400, []string{"control character"}, ""},

		// unknown server
		{"unknown_server/POST", request{"POST", "/servers/no_such_server/operations", validRecovery, json}, 404, []string{"no_such_server"}, ""},
		{"unknown_server/GET_list", request{"GET", "/servers/no_such_server/operations", "", ""}, 404, []string{"no_such_server"}, ""},
		{"unknown_server/GET_list_slash", request{"GET", "/servers/no_such_server/operations/", "", ""}, 404, []string{"no_such_server"}, ""},
		{"unknown_server/GET_op", request{"GET", "/servers/no_such_server/operations/20261125T080805", "", ""}, 404, []string{"no_such_server"}, ""},
		{"model_is_not_a_server", request{"GET", "/servers/my-model/operations", "", ""}, 404, []string{"my-model"}, ""},
		{"server_name_not_valid/GET", request{"GET", "/servers/bad%20name/operations", "", ""}, 404, []string{"bad name"}, ""},
		{"server_name_not_valid/POST", request{"POST", "/servers/bad%20name/operations", validRecovery, json}, 404, []string{"bad name"}, ""},

		// unknown operation ID
		{"unknown_op/instance", request{"GET", "/operations/20990101T000000", "", ""}, 404, []string{"20990101T000000"}, ""},
		{"unknown_op/server", request{"GET", srvOps + "/20990101T000000", "", ""}, 404, []string{"20990101T000000"}, ""},
		{"server_op_in_instance_scope", request{"GET", "/operations/20261125T080805", "", ""}, 404, []string{"20261125T080805"}, ""},
		{"instance_op_in_server_scope", request{"GET", srvOps + "/20261125T080447", "", ""}, 404, []string{"20261125T080447"}, ""},
		{"op_id_not_valid", request{"GET", "/operations/bad%20id", "", ""}, 404, nil, ""},

		// unknown type, wrong scope (the reference answers 500)
		{"unknown_type/server", request{"POST", srvOps, `{"type": "restore"}`, json}, 400, []string{"restore", "recovery"}, ""},
		{"unknown_type/instance", request{"POST", "/operations", `{"type": "restore"}`, json}, 400, []string{"restore"}, ""},
		{"type_not_string", request{"POST", srvOps, `{"type": 1}`, json}, 400, []string{"type"}, ""},
		{"recovery_to_instance", request{"POST", "/operations", validRecovery, json}, 400, []string{"server"}, ""},
		{"config_switch_to_instance", request{"POST", "/operations", `{"type": "config_switch", "reset": true}`, json}, 400, []string{"server"}, ""},
		{"config_update_to_server", request{"POST", srvOps, validUpdate, json}, 400, []string{"/operations"}, ""},
		{"reserved_key", request{"POST", srvOps, `{"type": "config_switch", "reset": true, "start_time": "2020-01-01T00:00:00.000000"}`, json}, 400, []string{"start_time"}, ""},

		// recovery targets and options, and backups (issue 15 extensions)
		{"recovery_target_time_chooses_backup", request{"POST", srvOps, `{"remote_ssh_command": "ssh x", "destination_directory": "/d", "target_time": "2026-11-26T00:00:00Z"}`, json}, 202, nil, "recovery"},
		{"recovery_two_targets", request{"POST", srvOps, `{"backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/d", "target_lsn": "0/1", "target_immediate": true}`, json}, 400, []string{`"target_lsn" and "target_immediate" are both recovery targets`}, ""},
		{"recovery_target_action_alone", request{"POST", srvOps, `{"backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/d", "target_action": "promote"}`, json}, 400, []string{`"target_action"`}, ""},
		{"recovery_target_time_future", request{"POST", srvOps, `{"backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/d", "target_time": "2099-01-01T00:00:00Z"}`, json}, 400, []string{`"target_time"`, "in the future"}, ""},
		// The fixture's one DONE backup begins the window: the window is named.
		{"recovery_target_time_before_window", request{"POST", srvOps, `{"backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/d", "target_time": "2026-11-25T08:00:00Z"}`, json}, 400, []string{"before the recovery window of server \"db_server_two\"", "which begins 2026-11-25T08:07:58.436364Z"}, ""},
		{"recovery_jobs_string", request{"POST", srvOps, `{"backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/d", "jobs": "4"}`, json}, 400, []string{`"jobs"`}, ""},
		{"backup", request{"POST", srvOps, `{"type": "backup", "immediate_checkpoint": true}`, json}, 202, nil, "backup"},
		{"backup_bad_name", request{"POST", srvOps, `{"type": "backup", "backup_name": "last"}`, json}, 400, []string{`"backup_name"`}, ""},
		{"backup_to_instance", request{"POST", "/operations", `{"type": "backup"}`, json}, 400, []string{"server operation"}, ""},

		// trailing slash, as the documentation's endpoint list writes them
		{"slash/instance", request{"POST", "/operations/", validUpdate, json}, 202, nil, "config_update"},
		{"slash/server", request{"POST", srvOps + "/", validRecovery, json}, 202, nil, "recovery"},

		// methods and paths
		{"method/DELETE_operations", request{"DELETE", "/operations", "", ""}, 405, []string{"DELETE"}, ""},
		{"method/PUT_server_op", request{"PUT", "/servers/x/operations/1", `{}`, json}, 405, []string{"PUT"}, ""},
		{"method/POST_status", request{"POST", "/status", `{}`, json}, 405, nil, ""},
		{"method/POST_op", request{"POST", "/operations/20261125T080447", validUpdate, json}, 405, nil, ""},
		{"method/PATCH_server_ops", request{"PATCH", srvOps, validRecovery, json}, 405, nil, ""},
		{"path/unknown", request{"GET", "/nope", "", ""}, 404, []string{"/nope"}, ""},
		{"path/servers_post", request{"POST", "/servers", "", ""}, 405, nil, ""},
		{"path/server", request{"GET", "/servers/db_server_two", "", ""}, 404, nil, ""},
		{"path/too_deep", request{"GET", "/operations/20261125T080447/output", "", ""}, 404, nil, ""},
		{"path/POST_unknown", request{"POST", "/servers/db_server_two/snapshots", validRecovery, json}, 404, nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			h, launcher := e.handler(t)
			before := testenv.Snapshot(t, e.Home)
			w := serve(t, h, tc.req)

			if tc.want == http.StatusAccepted {
				id := created(t, w, tc.req.Path)
				server := ""
				if strings.HasPrefix(tc.req.Path, "/servers/") {
					server = "db_server_two"
				}
				job := readJob(t, e.jobPath(server, id))
				if typ, _ := job.String("operation_type"); typ != tc.jobType {
					t.Errorf("operation_type %q, want %q", typ, tc.jobType)
				}
				if got := launcher.Ensured(); len(got) != 1 || got[0].Server != server {
					t.Errorf("ensured %+v, want one for scope %q", got, server)
				}
				return
			}

			msg := wantError(t, w, tc.want)
			for _, s := range tc.contains {
				if !strings.Contains(msg, s) {
					t.Errorf("error %q does not mention %q", msg, s)
				}
			}
			if tc.want == http.StatusMethodNotAllowed {
				allow := w.Header().Get("Allow")
				if !strings.Contains(allow, "GET") {
					t.Errorf("Allow %q, want the allowed methods (GET at least)", allow)
				}
				if strings.Contains(allow, tc.req.Method) {
					t.Errorf("Allow %q lists the refused method %s", allow, tc.req.Method)
				}
			}
			// Bad input writes nothing and starts nothing.
			if diffs := testenv.DiffSnapshots(before, testenv.Snapshot(t, e.Home)); diffs != "" {
				t.Errorf("a %d answer changed the store: %v", w.Code, diffs)
			}
			if got := launcher.Ensured(); len(got) != 0 {
				t.Errorf("a %d answer started runners: %+v", w.Code, got)
			}
		})
	}
}

// TestAllowHeader checks the exact methods 405 answers list.
func TestAllowHeader(t *testing.T) {
	e := newEnv(t)
	h, _ := e.handler(t)
	for _, tc := range []struct {
		method, path string
		want         []string
	}{
		{"DELETE", "/operations", []string{"GET", "POST"}},
		{"DELETE", "/operations/", []string{"GET", "POST"}},
		{"PUT", "/servers/x/operations/1", []string{"GET"}},
		{"PUT", "/servers/db_server_two/operations", []string{"GET", "POST"}},
		{"POST", "/status", []string{"GET"}},
	} {
		t.Run(tc.method+tc.path, func(t *testing.T) {
			w := serve(t, h, request{Method: tc.method, Path: tc.path})
			wantError(t, w, http.StatusMethodNotAllowed)
			got := map[string]bool{}
			for _, m := range strings.Split(w.Header().Get("Allow"), ",") {
				got[strings.TrimSpace(m)] = true
			}
			delete(got, "HEAD") // the mux allows HEAD wherever GET is
			want := map[string]bool{"OPTIONS": true}
			for _, m := range tc.want {
				want[m] = true
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("Allow %q, want %v (and HEAD)", w.Header().Get("Allow"), tc.want)
			}
		})
	}
}

// TestBodyLimit: bodies over MaxBodyBytes get 413 and write nothing; a body
// of exactly the limit is accepted.
func TestBodyLimit(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit int64 // 0: the default
		body  string
		want  int
	}{
		{"at_limit", int64(len(validRecovery)), validRecovery, 202},
		{"one_byte_over", int64(len(validRecovery)) - 1, validRecovery, 413},
		{"tiny_limit", 16, validRecovery, 413},
		{"default_limit_exceeded", 0, `{"type": "recovery", "pad": "` + strings.Repeat("x", httpd.DefaultMaxBodyBytes) + `"}`, 413},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			s, launcher := e.apiServer(t)
			s.MaxBodyBytes = tc.limit
			h := s.Handler()
			before := testenv.Snapshot(t, e.Home)
			w := postJSON(t, h, srvOps, tc.body)
			if tc.want == http.StatusAccepted {
				created(t, w, srvOps)
				return
			}
			msg := wantError(t, w, tc.want)
			limit := tc.limit
			if limit == 0 {
				limit = httpd.DefaultMaxBodyBytes
			}
			if !strings.Contains(msg, strconv.FormatInt(limit, 10)) {
				t.Errorf("413 message %q does not name the limit %d", msg, limit)
			}
			if diffs := testenv.DiffSnapshots(before, testenv.Snapshot(t, e.Home)); diffs != "" {
				t.Errorf("413 changed the store: %v", diffs)
			}
			if len(launcher.Ensured()) != 0 {
				t.Errorf("413 started a runner")
			}
		})
	}
}

// TestDamagedStoreFiles: files in jobs/ that are not operations are left out
// of lists, which still answer 200 (the reference answers 500); asked for
// by ID, a damaged operation reads FAILED with the reason.
func TestDamagedStoreFiles(t *testing.T) {
	damaged := map[string]string{
		"20990101T000001": "{not json",
		"20990101T000002": "",
		"20990101T000003": `["operation_type", "recovery"]`,
		"20990101T000004": `{"type": "recovery"`,
		"20990101T000005": "{\"operation_type\": \"recovery\xff\"}",
	}
	for _, scope := range []struct {
		server, path string
		fixtures     map[string]string
	}{
		{"", "/operations", fixtureInstanceOps},
		{"db_server_two", srvOps, fixtureServerOps},
	} {
		t.Run("scope_"+scope.path, func(t *testing.T) {
			e := newEnv(t)
			h, _ := e.handler(t)
			for id, content := range damaged {
				if err := os.WriteFile(e.jobPath(scope.server, id), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			// Not operations at all: ignored or skipped.
			jobs := filepath.Dir(e.jobPath(scope.server, "x"))
			for name, content := range map[string]string{
				"bad name.json":        `{"operation_type": "recovery"}`,
				".hidden.json":         `{"operation_type": "recovery"}`,
				"notes.txt":            "hello",
				"20990101T000006.js":   "{}",
				"20990101T000007.json": `{"no": "operation_type"}`,
			} {
				if err := os.WriteFile(filepath.Join(jobs, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}

			for _, q := range []string{"", "?detail=true"} {
				if got := listOps(t, get(t, h, scope.path+q), detailKeys(q)...); !reflect.DeepEqual(got, scope.fixtures) {
					t.Errorf("list%s %v, want only the fixtures %v", q, got, scope.fixtures)
				}
			}

			// By ID, a damaged operation reads FAILED, with the reason in
			// the detail, as one with a damaged output file does; never 500.
			for _, id := range append(keysOf(damaged), "20990101T000007") {
				if got := opStatus(t, get(t, h, scope.path+"/"+id), id); got != "FAILED" {
					t.Errorf("GET %s: status %s, want FAILED", id, got)
				}
				w := get(t, h, scope.path+"/"+id+"?detail=true")
				wantStatus(t, w, http.StatusOK)
				var body map[string]any
				if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
					t.Fatal(err)
				}
				if body["status"] != "FAILED" || body["phase"] != "failed" || !strings.Contains(fmt.Sprint(body["reason"]), "job file "+e.jobPath(scope.server, id)+" is damaged") {
					t.Errorf("GET %s?detail=true: %v, want FAILED with a reason naming the damaged job file", id, body)
				}
				// Nothing to cancel: it never runs.
				wantError(t, serve(t, h, request{Method: "POST", Path: scope.path + "/" + id + "/cancel"}), http.StatusConflict)
			}
		})
	}

	t.Run("damaged_output_file", func(t *testing.T) {
		e := newEnv(t)
		h, _ := e.handler(t)
		id := "20261125T080805"
		out := filepath.Join(e.Home, "db_server_two", "output", id+".json")
		if err := os.WriteFile(out, []byte(`{"success": tru`), 0o644); err != nil {
			t.Fatal(err)
		}
		// The operation stays listed, with and without detail, and reads
		// FAILED with the reason: it ended, but its result is unknown.
		if got := listOps(t, get(t, h, srvOps)); !reflect.DeepEqual(got, fixtureServerOps) {
			t.Errorf("list %v, want %v", got, fixtureServerOps)
		}
		w := get(t, h, srvOps+"?detail=true")
		wantStatus(t, w, http.StatusOK)
		if !strings.Contains(w.Body.String(), `"id":"`+id+`"`) || !strings.Contains(w.Body.String(), "is damaged") {
			t.Errorf("detailed list lost the damaged operation or its reason: %s", w.Body.String())
		}
		w = get(t, h, srvOps+"/"+id+"?detail=true")
		wantStatus(t, w, http.StatusOK)
		var body map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
			t.Fatal(err)
		}
		if body["status"] != "FAILED" || !strings.Contains(fmt.Sprint(body["reason"]), "damaged") {
			t.Errorf("damaged output: got %v, want FAILED with a reason naming the damage", body)
		}
	})
}

func detailKeys(q string) []string {
	if q == "" {
		return nil
	}
	return []string{"status", "phase", "start_time", "end_time", "exit_code"}
}

// TestRequestIDs: every answer has its own X-Request-Id.
func TestRequestIDs(t *testing.T) {
	e := newEnv(t)
	h, _ := e.handler(t)
	seen := map[string]bool{}
	for _, path := range []string{"/status", "/status", "/operations", "/nope", "/operations/20990101T000000"} {
		id := get(t, h, path).Header().Get("X-Request-Id")
		if id == "" || seen[id] {
			t.Errorf("GET %s: X-Request-Id %q, want a new non-empty ID", path, id)
		}
		seen[id] = true
	}
}

// TestPanicIsJSON500: a panic in a handler answers 500 JSON with the
// request ID, and the server goes on.
func TestPanicIsJSON500(t *testing.T) {
	s := &httpd.Server{Log: slog.New(slog.NewTextHandler(io.Discard, nil)), AllowedHosts: testHosts} // no Service: handlers panic
	h := s.Handler()
	for range 2 {
		w := get(t, h, "/operations")
		msg := wantError(t, w, http.StatusInternalServerError)
		if strings.Contains(msg, "nil pointer") {
			t.Errorf("500 message gives the panic away: %q", msg)
		}
	}
	wantStatus(t, get(t, h, "/status"), http.StatusOK)
}

// TestBarmanConfigUnavailable: without a readable Barman configuration the
// store endpoints answer 503, and /status still answers.
func TestBarmanConfigUnavailable(t *testing.T) {
	dir := t.TempDir()
	l := &recordingLauncher{}
	s := &httpd.Server{
		AllowedHosts: testHosts,
		Service:      &ops.Service{Barman: barman.NewReader(filepath.Join(dir, "missing.conf")), OpenStore: store.Opener(), Launcher: l},
		Diagnose:     barman.NewCommand(filepath.Join(dir, "no-barman")).Diagnose,
		Log:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	h := s.Handler()
	for _, rq := range []request{
		{"GET", "/operations", "", ""},
		{"GET", "/operations/20261125T080447", "", ""},
		{"GET", srvOps, "", ""},
		{"GET", srvOps + "/20261125T080805", "", ""},
		{"POST", "/operations", validUpdate, "application/json"},
		{"POST", srvOps, validRecovery, "application/json"},
		{"GET", "/diagnose", "", ""},
	} {
		t.Run(rq.Method+rq.Path, func(t *testing.T) {
			wantError(t, serve(t, h, rq), http.StatusServiceUnavailable)
		})
	}
	w := get(t, h, "/status")
	wantStatus(t, w, http.StatusOK)
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("requests wrote %v", entries)
	}
	if len(l.Ensured()) != 0 {
		t.Errorf("runners started: %+v", l.Ensured())
	}
}

// TestStatusAndDiagnose covers GET /status and GET /diagnose.
func TestStatusAndDiagnose(t *testing.T) {
	e := newEnv(t)
	h, _ := e.handler(t)

	t.Run("status", func(t *testing.T) {
		w := get(t, h, "/status")
		wantStatus(t, w, http.StatusOK)
		wantJSONContentType(t, w.Header())
		if got := strings.TrimSpace(w.Body.String()); got != `"OK"` {
			t.Errorf("body %q, want \"OK\"", got)
		}
	})

	argvLog := filepath.Join(t.TempDir(), "argv")
	t.Setenv("FAKE_BARMAN_ARGV_LOG", argvLog)
	for _, tc := range []struct {
		name    string
		command string
		want    int
	}{
		{"fake_barman", e.FakeBarman, 200},
		{"missing_program", filepath.Join(e.Dir, "no-such-barman"), 503},
		{"not_json", "echo", 503},
		{"fails", "false", 503},
	} {
		t.Run("diagnose/"+tc.name, func(t *testing.T) {
			s, _ := e.apiServer(t)
			s.Diagnose = barman.NewCommand(tc.command).Diagnose
			w := get(t, s.Handler(), "/diagnose")
			if tc.want != http.StatusOK {
				wantError(t, w, tc.want)
				return
			}
			wantStatus(t, w, http.StatusOK)
			wantJSONContentType(t, w.Header())
			var doc map[string]any
			if err := json.Unmarshal(w.Body.Bytes(), &doc); err != nil {
				t.Fatalf("diagnose answer is not a JSON object: %v", err)
			}
			if _, ok := doc["global"]; !ok {
				t.Errorf("diagnose answer is not the fake's: %s", w.Body.String())
			}
		})
	}
	argv, err := os.ReadFile(argvLog)
	if err != nil {
		t.Fatalf("the fake barman was not run: %v", err)
	}
	if got, want := string(argv), "-c\n"+e.ConfPath+"\ndiagnose\n--\n"; got != want {
		t.Errorf("diagnose ran barman with\n%s\nwant\n%s", got, want)
	}
}

// failingLauncher cannot start runners.
type failingLauncher struct{ recordingLauncher }

func (l *failingLauncher) EnsureRunner(cfg *ops.BarmanConfig, server string) error {
	l.recordingLauncher.EnsureRunner(cfg, server)
	return os.ErrPermission
}

// TestRunnerNotStarted: an operation recorded whose runner could not start
// is still accepted (202): it is stored, and serve's sweep starts it later.
func TestRunnerNotStarted(t *testing.T) {
	e := newEnv(t)
	l := &failingLauncher{}
	s := &httpd.Server{
		AllowedHosts: testHosts,
		Service:      &ops.Service{Barman: barman.NewReader(e.ConfPath), OpenStore: store.Opener(), Launcher: l},
		Log:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	h := s.Handler()
	id := created(t, postJSON(t, h, srvOps, validRecovery), srvOps)
	if len(l.Ensured()) != 1 {
		t.Errorf("ensured %+v, want one", l.Ensured())
	}
	if st := opStatus(t, get(t, h, srvOps+"/"+id), id); st != "IN_PROGRESS" {
		t.Errorf("status %s, want IN_PROGRESS", st)
	}
}

// TestStoreUnavailable: a barman_home that cannot hold operations is a 503
// for POST, not a 500, and the request writes nothing elsewhere.
func TestStoreUnavailable(t *testing.T) {
	e := newEnv(t)
	h, l := e.handler(t)
	// barman_home/db_server_two/jobs is a file: the scope cannot be used.
	jobs := filepath.Join(e.Home, "db_server_two", "jobs")
	if err := os.RemoveAll(jobs); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(jobs, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	before := testenv.Snapshot(t, e.Home)
	wantError(t, postJSON(t, h, srvOps, validRecovery), http.StatusServiceUnavailable)
	wantError(t, get(t, h, srvOps), http.StatusServiceUnavailable)
	if diffs := testenv.DiffSnapshots(before, testenv.Snapshot(t, e.Home)); diffs != "" {
		t.Errorf("the failed POST changed the store: %v", diffs)
	}
	if len(l.Ensured()) != 0 {
		t.Errorf("runners started: %+v", l.Ensured())
	}
}

// TestConcurrentCreate: simultaneous POSTs in one process each get their own
// ID and job file (the reference answers 500 to the second in one second).
func TestConcurrentCreate(t *testing.T) {
	e := newEnv(t)
	h, l := e.handler(t)
	const n = 40
	ids := make([]string, n)
	codes := make([]int, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path, body := srvOps, validRecovery
			if i%2 == 1 {
				path, body = "/operations", validUpdate
			}
			r := httptest.NewRequest("POST", path, strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			codes[i] = w.Code
			var resp struct {
				OperationID string `json:"operation_id"`
			}
			json.Unmarshal(w.Body.Bytes(), &resp)
			ids[i] = resp.OperationID
		}()
	}
	wg.Wait()
	seen := map[string]bool{}
	for i := range n {
		if codes[i] != http.StatusAccepted {
			t.Errorf("POST %d: status %d", i, codes[i])
			continue
		}
		server := "db_server_two"
		if i%2 == 1 {
			server = ""
		}
		if seen[server+"/"+ids[i]] {
			t.Errorf("ID %s given twice in scope %q", ids[i], server)
		}
		seen[server+"/"+ids[i]] = true
		if _, err := os.Stat(e.jobPath(server, ids[i])); err != nil {
			t.Errorf("no job file for %s: %v", ids[i], err)
		}
	}
	if len(l.Ensured()) != n {
		t.Errorf("%d ensured, want %d", len(l.Ensured()), n)
	}
	if got := listOps(t, get(t, h, srvOps)); len(got) != n/2+len(fixtureServerOps) {
		t.Errorf("server list has %d operations, want %d", len(got), n/2+len(fixtureServerOps))
	}
	if got := listOps(t, get(t, h, "/operations")); len(got) != n/2+len(fixtureInstanceOps) {
		t.Errorf("instance list has %d operations, want %d", len(got), n/2+len(fixtureInstanceOps))
	}
}

// TestOldBarmanRefusesModelOperations: with a Barman older than 3.10 (no
// models, config-switch or config-update), those operations are refused up
// front with 400 and nothing recorded; a recovery is still accepted. When
// Barman's version cannot be told, nothing is refused.
func TestOldBarmanRefusesModelOperations(t *testing.T) {
	old := func() (ops.Version, error) { return ops.Version{Major: 3, Minor: 4}, nil }
	unknown := func() (ops.Version, error) { return ops.Version{}, os.ErrNotExist }
	for _, tc := range []struct {
		name    string
		version func() (ops.Version, error)
		path    string
		body    string
		want    int
	}{
		{"3.4/config_switch", old, srvOps, exampleConfigSwitch, 400},
		{"3.4/config_switch_reset", old, srvOps, `{"type": "config_switch", "reset": true}`, 400},
		{"3.4/config_update", old, "/operations", exampleConfigUpdate, 400},
		{"3.4/recovery", old, srvOps, exampleRecovery, 202},
		{"unknown/config_switch", unknown, srvOps, exampleConfigSwitch, 202},
		{"unknown/config_update", unknown, "/operations", exampleConfigUpdate, 202},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			s, l := e.apiServer(t)
			s.Service.BarmanVersion = tc.version
			h := s.Handler()
			before := testenv.Snapshot(t, e.Home)
			w := postJSON(t, h, tc.path, tc.body)
			if tc.want == http.StatusAccepted {
				created(t, w, tc.path)
				return
			}
			msg := wantError(t, w, tc.want)
			if !strings.Contains(msg, "3.4.0") || !strings.Contains(msg, "3.10") {
				t.Errorf("message %q names neither the installed Barman nor the one needed", msg)
			}
			if diffs := testenv.DiffSnapshots(before, testenv.Snapshot(t, e.Home)); diffs != "" {
				t.Errorf("a refused operation changed the store: %v", diffs)
			}
			if len(l.Ensured()) != 0 {
				t.Errorf("runners started: %+v", l.Ensured())
			}
		})
	}
}
