package httpd_test

import (
	"encoding/json"
	"net/http"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// The request bodies of operations-api.txt's curl examples, byte for byte.
const (
	exampleConfigUpdate = `{
  "type": "config_update",
  "changes": [
    {
      "scope": "server",
      "server_name": "my-server-a",
      "archiver": "on",
      "streaming_archiver": "off"
    },
    {
      "scope": "server",
      "server_name": "my-other-server-b",
      "conninfo": "some_conn_info",
      "streaming_conninfo": "some_streaming_conninfo",
      "streaming_archiver": "on"
    },
    {
      "scope": "model",
      "model_name": "some-model",
      "streaming_conninfo": "some_streaming_conn_info"
    }
  ]
}`
	exampleRecovery = `{
  "type": "recovery",
  "backup_id": "latest",
  "remote_ssh_command": "ssh postgres@db_server_two.my.org",
  "destination_directory": "/var/lib/pgdata"
}`
	exampleConfigSwitch = `{
  "type": "config_switch",
  "model_name": "my-model"
}`
)

const referenceDoc = "../testdata/reference/operations-api.txt"

// TestExamplesAreTheDocumentedOnes keeps the payloads above identical to the
// documentation's.
func TestExamplesAreTheDocumentedOnes(t *testing.T) {
	doc, err := os.ReadFile(referenceDoc)
	if err != nil {
		t.Fatalf("reference documentation is missing (it lives in testdata/reference): %v", err)
	}
	for name, payload := range map[string]string{"config_update": exampleConfigUpdate, "recovery": exampleRecovery, "config_switch": exampleConfigSwitch} {
		if !strings.Contains(string(doc), payload+"\n") {
			t.Errorf("the %s payload is not in %s as written", name, referenceDoc)
		}
	}
}

// TestDocumentedExamples posts every curl example of operations-api.txt and
// follows up with the documented GETs.
func TestDocumentedExamples(t *testing.T) {
	examples := []struct {
		name      string
		path      string // as in the curl example
		server    string
		payload   string
		wantType  string
		fixtureOf map[string]string // operations already in that scope
	}{
		{"config_update", "/operations", "", exampleConfigUpdate, "config_update", fixtureInstanceOps},
		{"recovery", "/servers/db_server_two/operations", "db_server_two", exampleRecovery, "recovery", fixtureServerOps},
		{"config_switch", "/servers/db_server_two/operations", "db_server_two", exampleConfigSwitch, "config_switch", fixtureServerOps},
	}
	// `curl -d @file` strips the file's line breaks; send both forms.
	variants := []struct {
		name string
		body func(string) string
	}{
		{"as_written", func(s string) string { return s }},
		{"as_curl_d_sends", func(s string) string { return strings.NewReplacer("\n", "", "\r", "").Replace(s) }},
	}
	for _, ex := range examples {
		for _, v := range variants {
			t.Run(ex.name+"/"+v.name, func(t *testing.T) {
				e := newEnv(t)
				h, launcher := e.handler(t)
				body := v.body(ex.payload)

				before := time.Now().Add(-time.Second)
				w := serve(t, h, request{Method: "POST", Path: ex.path, Body: body, ContentType: "application/json"})
				id := created(t, w, ex.path)

				if got, want := launcher.Ensured(), []ensureCall{{ex.server, e.ConfPath}}; !reflect.DeepEqual(got, want) {
					t.Errorf("launcher ensured %+v, want %+v", got, want)
				}

				// The status of the new operation, at the Location given.
				if st := opStatus(t, get(t, h, w.Header().Get("Location")), id); st != "IN_PROGRESS" {
					t.Errorf("status %q while no runner ran, want IN_PROGRESS", st)
				}
				if st := opStatus(t, get(t, h, ex.path+"/"+id), id); st != "IN_PROGRESS" {
					t.Errorf("status %q, want IN_PROGRESS", st)
				}

				// The list: the fixtures' operations and the new one.
				want := map[string]string{id: ex.wantType}
				for fid, typ := range ex.fixtureOf {
					want[fid] = typ
				}
				if got := listOps(t, get(t, h, ex.path)); !reflect.DeepEqual(got, want) {
					t.Errorf("list %v, want %v", got, want)
				}

				// The job file: the body's keys in order, then
				// operation_type and start_time, as the reference writes.
				checkJobFile(t, e.jobPath(ex.server, id), body, ex.wantType, before)
			})
		}
	}
}

// checkJobFile checks a job file against the request body it records.
func checkJobFile(t *testing.T, path, body, wantType string, notBefore time.Time) {
	t.Helper()
	payload, err := pyjson.DecodeObject([]byte(body), pyjson.DecodeOptions{})
	if err != nil {
		t.Fatalf("payload: %v", err)
	}
	job := readJob(t, path)
	wantKeysInOrder := append(append([]string(nil), payload.Keys()...), "operation_type", "start_time")
	keys := job.Keys()
	if len(keys) < len(wantKeysInOrder) || !reflect.DeepEqual(keys[:len(wantKeysInOrder)], wantKeysInOrder) {
		t.Fatalf("job file keys %q, want %q first", keys, wantKeysInOrder)
	}
	for _, k := range keys[len(wantKeysInOrder):] {
		if k != "pg_backup_api" {
			t.Errorf("job file has key %q after start_time; only our extension key pg_backup_api may follow", k)
		}
	}
	for _, k := range payload.Keys() {
		pv, _ := payload.Get(k)
		jv, _ := job.Get(k)
		if a, b := encode(t, jv), encode(t, pv); a != b {
			t.Errorf("job file %q = %s, want %s as posted", k, a, b)
		}
	}
	if typ, _ := job.String("operation_type"); typ != wantType {
		t.Errorf("operation_type %q, want %q", typ, wantType)
	}
	st, _ := job.String("start_time")
	start, err := time.ParseInLocation(ops.TimeLayout, st, time.Local)
	if err != nil {
		t.Errorf("start_time %q is not in the reference's format %s: %v", st, ops.TimeLayout, err)
	} else if start.Before(notBefore) || start.After(time.Now().Add(time.Second)) {
		t.Errorf("start_time %s is not the time of the request", st)
	}
	// Python's json.dumps layout, so the reference reads our files as its own.
	raw, _ := os.ReadFile(path)
	prefix := strings.TrimSuffix(encode(t, payload), "}") + `, "operation_type": "` + wantType + `", "start_time": "`
	if !strings.HasPrefix(string(raw), prefix) {
		t.Errorf("job file does not start as the reference writes it:\n got %.300s\nwant %s...", raw, prefix)
	}
}

// TestListFixtures lists the operations the Python implementation stored, in
// the documented shape, with and without the trailing slash the
// documentation's endpoint list shows.
func TestListFixtures(t *testing.T) {
	e := newEnv(t)
	h, _ := e.handler(t)
	for _, tc := range []struct {
		path string
		want map[string]string
	}{
		{"/operations", fixtureInstanceOps},
		{"/operations/", fixtureInstanceOps},
		{"/servers/db_server_two/operations", fixtureServerOps},
		{"/servers/db_server_two/operations/", fixtureServerOps},
		{"/operations?detail=false", fixtureInstanceOps},
		{"/servers/db_server_two/operations?detail=0", fixtureServerOps},
	} {
		t.Run(tc.path, func(t *testing.T) {
			w := get(t, h, tc.path)
			if got := listOps(t, w); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("list %v, want %v", got, tc.want)
			}
			// Oldest first, as the OpenAPI document says.
			var body struct{ Operations []struct{ ID string } }
			json.Unmarshal(w.Body.Bytes(), &body)
			for i := 1; i < len(body.Operations); i++ {
				if body.Operations[i-1].ID >= body.Operations[i].ID {
					t.Errorf("list is not oldest first: %s before %s", body.Operations[i-1].ID, body.Operations[i].ID)
				}
			}
		})
	}

	t.Run("server_without_operations", func(t *testing.T) {
		conf := "[db_empty]\nconninfo = host=127.0.0.9\nbackup_method = postgres\n"
		if err := os.WriteFile(e.ConfDir+"/db_empty.conf", []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		w := get(t, h, "/servers/db_empty/operations")
		wantStatus(t, w, http.StatusOK)
		if got := compact(t, w.Body.String()); got != `{"operations":[]}` {
			t.Errorf("body %s, want an empty operations array", got)
		}
	})
}

// TestFixtureStatus reads the status of finished fixture operations, with and
// without ?detail=true.
func TestFixtureStatus(t *testing.T) {
	e := newEnv(t)
	h, _ := e.handler(t)
	for _, tc := range []struct {
		path, id         string
		status, typ      string
		start, end       string
		outputContains   string
		detailQueryValue string
	}{
		{"/servers/db_server_two/operations/", "20261125T080805", "DONE", "recovery",
			"2026-11-25T08:08:05.915895", "2026-11-25T08:08:14.068336", "successfully prepared for recovery", "true"},
		{"/servers/db_server_two/operations/", "20261125T080916", "FAILED", "recovery",
			"2026-11-25T08:09:16.898446", "2026-11-25T08:09:17.463030", "ERROR: Unable to connect to the target host", "1"},
		{"/servers/db_server_two/operations/", "20261125T080915", "FAILED", "config_switch",
			"2026-11-25T08:09:15.681079", "2026-11-25T08:09:16.278206", "Unknown model 'no-such-model'", "yes"},
		{"/operations/", "20261125T080447", "DONE", "config_update",
			"2026-11-25T08:04:47.530448", "2026-11-25T08:04:48.217414", "Changing value of option 'archiver'", "true"},
	} {
		t.Run(tc.id, func(t *testing.T) {
			if st := opStatus(t, get(t, h, tc.path+tc.id), tc.id); st != tc.status {
				t.Errorf("status %q, want %q", st, tc.status)
			}

			w := get(t, h, tc.path+tc.id+"?detail="+tc.detailQueryValue)
			wantStatus(t, w, http.StatusOK)
			m := decodeKeys(t, w.Body.Bytes())
			wantKeys(t, "detail body", m, "operation_id", "status", "type", "phase", "start_time", "end_time", "exit_code", "output", "payload")
			var d struct {
				OperationID string  `json:"operation_id"`
				Status      string  `json:"status"`
				Type        string  `json:"type"`
				Phase       string  `json:"phase"`
				StartTime   string  `json:"start_time"`
				EndTime     string  `json:"end_time"`
				ExitCode    *int    `json:"exit_code"`
				Output      *string `json:"output"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &d); err != nil {
				t.Fatal(err)
			}
			if d.OperationID != tc.id || d.Status != tc.status || d.Type != tc.typ || d.Phase != strings.ToLower(tc.status) {
				t.Errorf("detail %+v, want id %s status %s type %s phase %s", d, tc.id, tc.status, tc.typ, strings.ToLower(tc.status))
			}
			for _, tm := range []struct{ got, want string }{{d.StartTime, tc.start}, {d.EndTime, tc.end}} {
				got, err := time.Parse(time.RFC3339Nano, tm.got)
				want, _ := time.ParseInLocation(ops.TimeLayout, tm.want, time.Local)
				if err != nil || !got.Equal(want) {
					t.Errorf("time %q, want %s local (%v)", tm.got, tm.want, err)
				}
			}
			if d.ExitCode != nil {
				t.Errorf("exit_code %d, want null: the reference records none", *d.ExitCode)
			}
			if d.Output == nil || !strings.Contains(*d.Output, tc.outputContains) {
				t.Errorf("output %v does not contain %q", d.Output, tc.outputContains)
			}
		})
	}

	t.Run("list_detail", func(t *testing.T) {
		wantStatuses := map[string]string{
			"20261125T080500": "DONE", "20261125T080805": "DONE", "20261125T080915": "FAILED",
			"20261125T080916": "FAILED", "20261125T080918": "DONE",
		}
		w := get(t, h, "/servers/db_server_two/operations?detail=true")
		if got := listOps(t, w, "status", "phase", "start_time", "end_time", "exit_code"); !reflect.DeepEqual(got, fixtureServerOps) {
			t.Errorf("detail list %v, want %v", got, fixtureServerOps)
		}
		var body struct {
			Operations []struct{ ID, Status, Phase string }
		}
		json.Unmarshal(w.Body.Bytes(), &body)
		for _, op := range body.Operations {
			if op.Status != wantStatuses[op.ID] || op.Phase != strings.ToLower(op.Status) {
				t.Errorf("%s: status %s phase %s, want %s", op.ID, op.Status, op.Phase, wantStatuses[op.ID])
			}
		}
	})
}
