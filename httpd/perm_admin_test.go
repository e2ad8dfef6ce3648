package httpd_test

import (
	"bytes"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// TestConfigUpdateAdminChanges: a config_update that moves where Barman
// connects (conninfo, streaming_conninfo), what it keeps (retention_policy)
// or how it backs up (backup_method), or that adds a server section, needs
// admin: a configure credential gets a 403 naming the option and the
// permission, nothing is written and the access log records denied=admin.
// admin may; allow_keys and allow_new_servers lift the refusal; a plain
// option stays configure's.
func TestConfigUpdateAdminChanges(t *testing.T) {
	const (
		configSecret = "pgba_config-0123456789abcdefghijklmnopqrstuvwxyzAB"
		adminSecret  = "pgba_admin-0123456789abcdefghijklmnopqrstuvwxyzABC"
	)
	tokens := []httpd.Token{
		{Name: "configurer", SHA256: httpd.HashToken(configSecret), Permissions: httpd.PermConfigure | httpd.PermRead},
		{Name: "admin", SHA256: httpd.HashToken(adminSecret), Permissions: httpd.PermAdmin},
	}
	change := func(name, kv string) string {
		return `{"type": "config_update", "changes": [{"scope": "server", "server_name": "` + name + `", ` + kv + `}]}`
	}
	tests := []struct {
		name   string
		policy ops.Policy
		secret string
		body   string
		want   int
		msg    []string // in the 403
	}{
		{"plain option", ops.Policy{}, configSecret, change("db_server_two", `"archiver": "off"`), 202, nil},
		{"conninfo", ops.Policy{}, configSecret, change("db_server_two", `"conninfo": "host=elsewhere passfile=/tmp/pgpass"`), 403,
			[]string{"configurer lacks the admin permission", `option "conninfo" of server "db_server_two"`, "allow_keys"}},
		{"streaming_conninfo", ops.Policy{}, configSecret, change("db_server_two", `"streaming_conninfo": "host=elsewhere"`), 403, []string{`option "streaming_conninfo"`}},
		{"retention_policy", ops.Policy{}, configSecret, change("db_server_two", `"retention_policy": "REDUNDANCY 1"`), 403, []string{`option "retention_policy"`, "admin"}},
		{"backup_method", ops.Policy{}, configSecret, change("db_server_two", `"backup_method": "rsync"`), 403, []string{`option "backup_method"`}},
		{"new server", ops.Policy{}, configSecret, change("db9", `"archiver": "on"`), 403, []string{`new server section "db9"`, "allow_new_servers"}},
		{"admin: conninfo", ops.Policy{}, adminSecret, change("db_server_two", `"conninfo": "host=elsewhere"`), 202, nil},
		{"admin: new server", ops.Policy{}, adminSecret, change("db9", `"archiver": "on"`), 202, nil},
		{"allow_keys lifts", ops.Policy{AllowConfigKeys: []string{"retention_policy"}}, configSecret, change("db_server_two", `"retention_policy": "REDUNDANCY 1"`), 202, nil},
		{"allow_keys lifts only what it names", ops.Policy{AllowConfigKeys: []string{"retention_policy"}}, configSecret, change("db_server_two", `"conninfo": "host=x"`), 403, []string{`option "conninfo"`}},
		{"allow_new_servers lifts", ops.Policy{AllowNewServers: true}, configSecret, change("db9", `"archiver": "on"`), 202, nil},
	}
	e := newEnv(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := e.apiServer(t)
			s.Auth = &httpd.Auth{Tokens: tokens}
			s.Service.Policy = tc.policy
			logBuf := &bytes.Buffer{}
			s.Log = slog.New(slog.NewTextHandler(logBuf, nil))
			before := testenv.Snapshot(t, e.Home)
			w := doAuth(t, s.Handler(), authRequest{method: "POST", path: "/operations", body: tc.body, authz: bearer(tc.secret), remote: "127.0.0.1:1"})
			if w.Code != tc.want {
				t.Fatalf("%d %s, want %d", w.Code, w.Body, tc.want)
			}
			if tc.want != http.StatusForbidden {
				return
			}
			msg := wantError(t, w, http.StatusForbidden)
			for _, m := range tc.msg {
				if !strings.Contains(msg, m) {
					t.Errorf("403 %q lacks %q", msg, m)
				}
			}
			if line := accessLine(t, logBuf, w.Header().Get("X-Request-Id")); !strings.Contains(line+" ", "denied=admin ") {
				t.Errorf("access log %q does not record denied=admin", line)
			}
			if diff := testenv.DiffSnapshots(before, testenv.Snapshot(t, e.Home)); diff != "" {
				t.Errorf("a refused request changed the store: %v", diff)
			}
		})
	}
}

// TestDrillQueriesNeedAdmin: a drill's queries run on a PostgreSQL that
// runs as Barman's user, as a superuser by default, who can run programs
// as that user (COPY ... TO PROGRAM): a drill with "sql" needs admin, and
// a recover credential gets a 403 with nothing written. A drill without
// queries stays recover's.
func TestDrillQueriesNeedAdmin(t *testing.T) {
	const (
		recoverSecret = "pgba_recover-0123456789abcdefghijklmnopqrstuvwxyzA"
		adminSecret   = "pgba_admin-0123456789abcdefghijklmnopqrstuvwxyzABC"
	)
	tokens := []httpd.Token{
		{Name: "restorer", SHA256: httpd.HashToken(recoverSecret), Permissions: httpd.PermRecover | httpd.PermRead},
		{Name: "admin", SHA256: httpd.HashToken(adminSecret), Permissions: httpd.PermAdmin},
	}
	const withSQL = `{"type": "drill", "sql": [{"query": "copy (select 1) to program 'id > /tmp/pwned'"}]}`
	e := newEnv(t)
	for _, tc := range []struct {
		name, secret, body string
		denied             bool
	}{
		{"recover, queries", recoverSecret, withSQL, true},
		{"recover, no queries", recoverSecret, `{"type": "drill"}`, false},
		{"admin, queries", adminSecret, withSQL, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := e.apiServer(t)
			s.Auth = &httpd.Auth{Tokens: tokens}
			// A short directory: the drill's socket path must fit sun_path.
			drills, err := os.MkdirTemp("", "drill")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.RemoveAll(drills) })
			s.Service.Policy = ops.Policy{DrillDirectory: drills}
			before := testenv.Snapshot(t, e.Home)
			w := doAuth(t, s.Handler(), authRequest{method: "POST", path: "/servers/db_server_two/operations", body: tc.body, authz: bearer(tc.secret), remote: "127.0.0.1:1"})
			if !tc.denied {
				if w.Code != http.StatusAccepted {
					t.Fatalf("%d %s, want 202", w.Code, w.Body)
				}
				return
			}
			msg := wantError(t, w, http.StatusForbidden)
			if !strings.Contains(msg, "restorer lacks the admin permission for POST /servers/db_server_two/operations") {
				t.Errorf("403 %q does not name the admin permission", msg)
			}
			if diff := testenv.DiffSnapshots(before, testenv.Snapshot(t, e.Home)); diff != "" {
				t.Errorf("a refused request changed the store: %v", diff)
			}
		})
	}
}
