package httpd_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
)

// TestDoubledSlashesAnswerAsCleanPath: a path with doubled slashes, as a
// client whose base URL ends in "/" sends, is answered as its clean path for
// every method, as the Python implementation answers it; before, the mux
// answered 307 and a POST created nothing.
func TestDoubledSlashesAnswerAsCleanPath(t *testing.T) {
	e := newEnv(t)
	h, launcher := e.handler(t)

	w := get(t, h, "//status")
	if w.Code != http.StatusOK || w.Body.String() != `"OK"` {
		t.Errorf("GET //status: %d %q, want 200 \"OK\"", w.Code, w.Body.String())
	}
	for _, p := range []string{"//operations", "///operations/", "//servers/db_server_two/operations", "/servers//db_server_two//operations"} {
		listOps(t, get(t, h, p))
	}
	w = get(t, h, "//operations//20261125T080447")
	if got := opStatus(t, w, "20261125T080447"); got == "" {
		t.Errorf("GET //operations//ID: no status in %s", w.Body.String())
	}

	for _, tc := range []struct{ path, clean, scope, body string }{
		{"//servers/db_server_two/operations", srvOps, "db_server_two", validRecovery},
		{"/servers//db_server_two/operations/", srvOps + "/", "db_server_two", validRecovery},
		{"//operations", "/operations", "", validUpdate},
	} {
		w := serve(t, h, request{Method: "POST", Path: tc.path, Body: tc.body, ContentType: "application/json"})
		id := created(t, w, tc.clean) // Location is the clean path's
		readJob(t, e.jobPath(tc.scope, id))
	}
	if k := launcher.Ensured(); len(k) != 3 {
		t.Errorf("the POSTs asked for %d runners, want 3: %+v", len(k), k)
	}

	w = serve(t, h, request{Method: "OPTIONS", Path: "//servers/db_server_two/operations"})
	if w.Code != http.StatusOK || !strings.Contains(w.Header().Get("Allow"), "POST") {
		t.Errorf("OPTIONS //servers/.../operations: %d, Allow %q; want 200 with POST", w.Code, w.Header().Get("Allow"))
	}
	// Only slashes are merged: an escaped slash stays in its segment.
	wantError(t, get(t, h, "//servers/db_server_two%2F/operations"), http.StatusNotFound)
}

// TestDoubledSlashesAreAuthorizedAsCleanPath: the merged path meets the same
// access checks as the clean one; doubling a slash neither opens nor closes
// anything.
func TestDoubledSlashesAreAuthorizedAsCleanPath(t *testing.T) {
	e := newEnv(t)
	tokens := []httpd.Token{
		{Name: "reader", SHA256: httpd.HashToken(ciSecret), Permissions: httpd.PermRead},
		{Name: "ops", SHA256: httpd.HashToken(opsSecret), Permissions: httpd.PermRecover | httpd.PermRead},
	}
	h, _, launcher := authServer(t, e, &httpd.Auth{Tokens: tokens, OpenStatus: true, InsecureHTTP: true})
	for _, tc := range []struct {
		name string
		rq   authRequest
		want int
	}{
		{"open status", authRequest{method: "GET", path: "//status"}, 200},
		{"open status only", authRequest{method: "GET", path: "//operations"}, 401},
		{"anonymous post", authRequest{method: "POST", path: "//servers/db_server_two/operations", body: validRecovery}, 401},
		{"reader post", authRequest{method: "POST", path: "//servers/db_server_two/operations", body: validRecovery, authz: bearer(ciSecret)}, 403},
		{"recover config_update", authRequest{method: "POST", path: "//operations", body: validUpdate, authz: bearer(opsSecret)}, 403},
		{"recover post", authRequest{method: "POST", path: "//servers//db_server_two/operations", body: validRecovery, authz: bearer(opsSecret)}, 202},
		{"reader cancel", authRequest{method: "POST", path: "//operations//20261125T080447/cancel", authz: bearer(ciSecret)}, 403},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := testenv.Snapshot(t, e.Home)
			w := doAuth(t, h, tc.rq)
			if w.Code != tc.want {
				t.Fatalf("%s %s: %d %s, want %d", tc.rq.method, tc.rq.path, w.Code, w.Body.String(), tc.want)
			}
			if tc.want >= 400 {
				wantError(t, w, tc.want)
				if diffs := testenv.DiffSnapshots(before, testenv.Snapshot(t, e.Home)); diffs != "" {
					t.Errorf("a refused request changed the store: %v", diffs)
				}
			}
		})
	}
	if k := launcher.Ensured(); len(k) != 1 {
		t.Errorf("asked for %d runners, want the one accepted POST's: %+v", len(k), k)
	}
}

// TestDotSegmentsAreNotResolved: a path with . or .. segments is answered
// 404 in JSON, as the Python implementation (which does not resolve them)
// answers, whatever the clean path is: no redirect a client might follow
// with its POST, and no way around the clean path's access checks. Before,
// they were answered with the mux's redirect.
func TestDotSegmentsAreNotResolved(t *testing.T) {
	e := newEnv(t)
	h, launcher := e.handler(t)
	for _, tc := range []struct{ method, path string }{
		{"GET", "/servers/db_server_two/../../operations"},
		{"GET", "/servers/../status"},
		{"GET", "/operations/./20261125T080447"},
		{"GET", "/operations/../operations/?detail=true"},
		{"POST", "/./operations"},
		{"POST", "//servers/db_server_two/../db_server_two/operations"},
		{"GET", "/nope/../elsewhere"},
	} {
		t.Run(tc.method+tc.path, func(t *testing.T) {
			before := testenv.Snapshot(t, e.Home)
			w := serve(t, h, request{Method: tc.method, Path: tc.path, Body: validRecovery, ContentType: "application/json"})
			msg := wantError(t, w, http.StatusNotFound)
			if !strings.Contains(msg, "segments") {
				t.Errorf("message %q does not say what is wrong", msg)
			}
			if loc := w.Header().Get("Location"); loc != "" {
				t.Errorf("Location %q on a 404", loc)
			}
			if diffs := testenv.DiffSnapshots(before, testenv.Snapshot(t, e.Home)); diffs != "" {
				t.Errorf("changed the store: %v", diffs)
			}
		})
	}
	if len(launcher.Ensured()) != 0 {
		t.Errorf("started runners: %+v", launcher.Ensured())
	}

	// With credentials required, such a path is refused before anything
	// else, even when its clean form is the open /status.
	h, _, _ = authServer(t, e, &httpd.Auth{Tokens: []httpd.Token{{Name: "ci", SHA256: httpd.HashToken(ciSecret)}}, OpenStatus: true, InsecureHTTP: true})
	wantError(t, doAuth(t, h, authRequest{method: "GET", path: "/servers/../status"}), http.StatusUnauthorized)
	wantError(t, doAuth(t, h, authRequest{method: "GET", path: "/servers/../status", authz: bearer(ciSecret)}), http.StatusNotFound)
}
