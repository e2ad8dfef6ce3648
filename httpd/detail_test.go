package httpd_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"net/http"
	"net/http/httptest"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/ops/opstest"
)

// TestOperationDetailRecord: ?detail=true shows what was recorded beside
// the payload (the resolved backup, who asked) and the argv that runs the
// operation, secrets masked; without detail the documented answer is
// unchanged.
func TestOperationDetailRecord(t *testing.T) {
	e := newEnv(t)
	s, _ := e.apiServer(t)
	s.Service.Argv = barman.NewCommand("sudo -u barman barman").Args
	h := s.Handler()

	id := created(t, postJSON(t, h, srvOps, `{"backup_id": "latest", "remote_ssh_command": "ssh postgres@db1", "destination_directory": "/srv/pg"}`), srvOps)
	w := get(t, h, srvOps+"/"+id)
	wantStatus(t, w, 200)
	wantKeys(t, "documented answer", decodeKeys(t, w.Body.Bytes()), "operation_id", "status")

	w = get(t, h, srvOps+"/"+id+"?detail=true")
	wantStatus(t, w, 200)
	var body struct {
		ResolvedBackupID string   `json:"resolved_backup_id"`
		RequestedBy      string   `json:"requested_by"`
		BarmanArgv       []string `json:"barman_argv"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	if body.ResolvedBackupID != "20261125T080758" {
		t.Errorf("resolved_backup_id = %q, want the backup latest named", body.ResolvedBackupID)
	}
	if body.RequestedBy != "http:anonymous" {
		t.Errorf("requested_by = %q, want http:anonymous", body.RequestedBy)
	}
	want := []string{"sudo", "-u", "barman", "barman", "-c", e.ConfPath, "recover", "db_server_two", "20261125T080758", "/srv/pg", "--remote-ssh-command=ssh postgres@db1"}
	if !reflect.DeepEqual(body.BarmanArgv, want) {
		t.Errorf("barman_argv = %q, want %q", body.BarmanArgv, want)
	}

	// The client reads them back onto the operation.
	c := clientFor(t, h)
	op, err := c.Get("db_server_two", id)
	if err != nil {
		t.Fatal(err)
	}
	if op.ResolvedBackupID() != body.ResolvedBackupID || op.RequestedBy() != body.RequestedBy || !reflect.DeepEqual(op.BarmanArgv, want) {
		t.Errorf("client read %q, %q, %q", op.ResolvedBackupID(), op.RequestedBy(), op.BarmanArgv)
	}
}

// TestOperationDetailArgvMasked: a password in the argv is masked.
func TestOperationDetailArgvMasked(t *testing.T) {
	e := newEnv(t)
	s, _ := e.apiServer(t)
	s.Service.Argv = barman.NewCommand("barman").Args
	h := s.Handler()
	id := created(t, postJSON(t, h, "/operations", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "db_server_two", "conninfo": "host=db1 password=s3cretOne"}]}`), "/operations")
	w := get(t, h, "/operations/"+id+"?detail=true")
	wantStatus(t, w, 200)
	var body struct {
		BarmanArgv []string `json:"barman_argv"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	all := strings.Join(body.BarmanArgv, " ")
	if strings.Contains(all, "s3cretOne") || !strings.Contains(all, ops.Masked) || !strings.Contains(all, "config-update") {
		t.Errorf("barman_argv = %q: want config-update with the password masked", body.BarmanArgv)
	}
}

// clientFor is a Client of h served over a real connection.
func clientFor(t *testing.T, h http.Handler) *httpd.Client {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := httpd.NewClient(httpd.ClientConfig{URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestCreateDryRun: ?dry_run=true answers 200 with the would-be operation
// and its argv and records nothing; a value that is not a yes or a no is a
// 400, not a create.
func TestCreateDryRun(t *testing.T) {
	e := newEnv(t)
	s, l := e.apiServer(t)
	s.Service.Argv = barman.NewCommand("barman").Args
	h := s.Handler()
	before := testenv.Snapshot(t, e.Home)
	w := postJSON(t, h, srvOps+"?dry_run=true", `{"backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`)
	wantStatus(t, w, 200)
	var body struct {
		DryRun    bool `json:"dry_run"`
		Operation struct {
			Server           string   `json:"server"`
			Type             string   `json:"type"`
			ResolvedBackupID string   `json:"resolved_backup_id"`
			BarmanArgv       []string `json:"barman_argv"`
		} `json:"operation"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatal(err)
	}
	want := []string{"barman", "-c", e.ConfPath, "recover", "db_server_two", "20261125T080758", "/d", "--remote-ssh-command=ssh x"}
	if !body.DryRun || body.Operation.Type != "recovery" || body.Operation.Server != "db_server_two" || body.Operation.ResolvedBackupID != "20261125T080758" || !reflect.DeepEqual(body.Operation.BarmanArgv, want) {
		t.Errorf("dry run answered %s", w.Body.String())
	}
	wantError(t, postJSON(t, h, srvOps+"?dry_run=maybe", `{"backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`), 400)
	wantError(t, postJSON(t, h, srvOps+"?dry_run=true", `{"backup_id": "nope", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`), 404)
	if d := testenv.DiffSnapshots(before, testenv.Snapshot(t, e.Home)); d != "" {
		t.Errorf("a dry run wrote: %q", d)
	}
	if k := l.Ensured(); len(k) != 0 {
		t.Errorf("a dry run asked for runners: %v", k)
	}

	// The client finds dry runs in the document and reads the answer.
	op, err := clientFor(t, h).DryRun("db_server_two", mustObject(t, `{"backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`))
	if err != nil {
		t.Fatal(err)
	}
	if op.ResolvedBackupID() != "20261125T080758" || !reflect.DeepEqual(op.BarmanArgv, want) {
		t.Errorf("client dry run: %+v", op)
	}
}

// TestClientDryRunRefusesOlderServer: a server whose /openapi.json does not
// list dry_run (an older pg-backup-api, or the reference, which has none)
// would create the operation: the client sends it nothing.
func TestClientDryRunRefusesOlderServer(t *testing.T) {
	for name, doc := range map[string]string{
		"older document": `{"components": {"parameters": {"detail": {"name": "detail", "in": "query"}}}}`,
		"no document":    "",
	} {
		t.Run(name, func(t *testing.T) {
			posts := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if r.Method == "POST" {
					posts++
					w.WriteHeader(http.StatusAccepted)
					w.Write([]byte(`{"operation_id": "20260101T000000"}`))
					return
				}
				if r.URL.Path == "/openapi.json" && doc != "" {
					w.Header().Set("Content-Type", "application/json")
					w.Write([]byte(doc))
					return
				}
				http.Error(w, `{"error": "not found"}`, http.StatusNotFound)
			}))
			defer srv.Close()
			c, err := httpd.NewClient(httpd.ClientConfig{URL: srv.URL})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.DryRun("db_server_two", mustObject(t, `{"backup_id": "latest"}`))
			opstest.WantError(t, err, ops.EUNAVAILABLE, "does not offer dry runs", "nothing was sent")
			if posts != 0 {
				t.Errorf("the client sent %d POSTs to a server without dry runs", posts)
			}
		})
	}
}

func mustObject(t *testing.T, s string) *pyjson.Object {
	t.Helper()
	o, err := pyjson.DecodeObject([]byte(s), pyjson.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return o
}
