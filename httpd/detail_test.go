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
	"github.com/pg-backup-api/pg-backup-api/ops"
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
