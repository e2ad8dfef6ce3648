package httpd_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
)

// These are the drop-in details a side-by-side run against the Python
// pg-backup-api 2.2 found: places where a client written for it would
// break on us.

// TestStatusBodyIsTheReferenceBytes: the reference answers exactly the four
// bytes "OK" (quotes included, no newline); a client comparing the body
// byte for byte must not see a difference. Over a real connection, so the
// Content-Length the client sees is checked too, for HEAD as well.
func TestStatusBodyIsTheReferenceBytes(t *testing.T) {
	e := newEnv(t)
	h, _ := e.handler(t)
	srv := httptest.NewServer(h)
	defer srv.Close()

	resp, err := http.Get(srv.URL + "/status")
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || string(body) != `"OK"` {
		t.Errorf("GET /status: %d %q, want 200 and exactly the 4 bytes %q", resp.StatusCode, body, `"OK"`)
	}
	if resp.ContentLength != 4 {
		t.Errorf("GET /status: Content-Length %d, want 4", resp.ContentLength)
	}
	wantJSONContentType(t, resp.Header)

	resp, err = http.Head(srv.URL + "/status")
	if err != nil {
		t.Fatal(err)
	}
	body, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || len(body) != 0 || resp.ContentLength != 4 {
		t.Errorf("HEAD /status: %d, body %q, Content-Length %d; want 200, no body, 4", resp.StatusCode, body, resp.ContentLength)
	}
}

// TestOptionsAnswersAllow: OPTIONS on any route is 200 with the methods in
// Allow and an empty body (Content-Length: 0), as the reference's Flask
// answers; on an unknown path it stays 404.
func TestOptionsAnswersAllow(t *testing.T) {
	e := newEnv(t)
	h, launcher := e.handler(t)
	for _, tc := range []struct {
		path string
		want []string
	}{
		{"/status", []string{"GET", "HEAD", "OPTIONS"}},
		{"/diagnose", []string{"GET", "HEAD", "OPTIONS"}},
		{"/openapi.json", []string{"GET", "HEAD", "OPTIONS"}},
		{"/operations", []string{"GET", "HEAD", "POST", "OPTIONS"}},
		{"/operations/", []string{"GET", "HEAD", "POST", "OPTIONS"}},
		{"/operations/20261125T080447", []string{"GET", "HEAD", "OPTIONS"}},
		{"/operations/20261125T080447/cancel", []string{"POST", "OPTIONS"}},
		{"/servers", []string{"GET", "HEAD", "OPTIONS"}},
		{srvOps, []string{"GET", "HEAD", "POST", "OPTIONS"}},
		{srvOps + "/20261125T080805", []string{"GET", "HEAD", "OPTIONS"}},
		{srvOps + "/20261125T080805/cancel", []string{"POST", "OPTIONS"}},
	} {
		t.Run(tc.path, func(t *testing.T) {
			before := testenv.Snapshot(t, e.Home)
			w := serve(t, h, request{Method: "OPTIONS", Path: tc.path})
			if w.Code != http.StatusOK {
				t.Fatalf("OPTIONS %s: %d %s, want 200", tc.path, w.Code, w.Body.String())
			}
			if w.Body.Len() != 0 || w.Header().Get("Content-Length") != "0" {
				t.Errorf("body %q, Content-Length %q; want none, 0", w.Body.String(), w.Header().Get("Content-Length"))
			}
			var got []string
			for _, m := range strings.Split(w.Header().Get("Allow"), ",") {
				got = append(got, strings.TrimSpace(m))
			}
			sort.Strings(got)
			want := append([]string(nil), tc.want...)
			sort.Strings(want)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("Allow %q, want %q", w.Header().Get("Allow"), want)
			}
			if diffs := testenv.DiffSnapshots(before, testenv.Snapshot(t, e.Home)); diffs != "" {
				t.Errorf("OPTIONS changed the store: %v", diffs)
			}
		})
	}
	for _, p := range []string{"/nope", "/servers/db_server_two", "/operations/20261125T080447/output"} {
		w := serve(t, h, request{Method: "OPTIONS", Path: p})
		wantError(t, w, http.StatusNotFound)
	}
	if k := launcher.Ensured(); len(k) != 0 {
		t.Errorf("OPTIONS started runners: %+v", k)
	}
}

// TestJSONMediaTypes: application/<anything>+json is JSON to the reference,
// with any parameters; other types stay refused.
func TestJSONMediaTypes(t *testing.T) {
	for _, tc := range []struct {
		contentType string
		want        int
	}{
		{"application/json", 202},
		{"application/json; charset=utf-8", 202},
		{"Application/JSON", 202},
		{"application/vnd.api+json", 202},
		{"application/vnd.api+json; charset=UTF-8", 202},
		{"application/merge-patch+json", 202},
		{"application/problem+json;charset=utf-8", 202},
		{"text/json", 400},
		{"text/plain", 400},
		{"application/jsonx", 400},
		{"application/+json", 400},
		{"application/json+xml", 400},
		{"text/vnd.api+json", 400},
		{"application/x-www-form-urlencoded", 400},
	} {
		t.Run(tc.contentType, func(t *testing.T) {
			e := newEnv(t)
			h, _ := e.handler(t)
			w := serve(t, h, request{Method: "POST", Path: "/operations", Body: validUpdate, ContentType: tc.contentType})
			if tc.want == http.StatusAccepted {
				created(t, w, "/operations")
				return
			}
			if msg := wantError(t, w, tc.want); !strings.Contains(msg, "application/json") {
				t.Errorf("error %q does not say what to send", msg)
			}
		})
	}
}

// TestConfigUpdateEmptyChanges: the reference accepts "changes": [] and
// Barman does nothing, exiting 0.
func TestConfigUpdateEmptyChanges(t *testing.T) {
	e := newEnv(t)
	h, launcher := e.handler(t)
	w := postJSON(t, h, "/operations", `{"type": "config_update", "changes": []}`)
	id := created(t, w, "/operations")
	job := readJob(t, e.jobPath("", id))
	if got := encode(t, mustGet(t, job, "changes")); got != "[]" {
		t.Errorf("changes recorded as %s, want []", got)
	}
	if k := launcher.Ensured(); len(k) != 1 || k[0].Server != "" {
		t.Errorf("ensured %+v, want one for the instance scope", k)
	}
	// Still refused: changes that are not an array, or missing.
	for _, body := range []string{`{"type": "config_update"}`, `{"type": "config_update", "changes": {}}`, `{"type": "config_update", "changes": "[]"}`} {
		wantError(t, postJSON(t, h, "/operations", body), http.StatusBadRequest)
	}
}

func mustGet(t *testing.T, o interface {
	Get(string) (any, bool)
}, key string) any {
	t.Helper()
	v, ok := o.Get(key)
	if !ok {
		t.Fatalf("no %q", key)
	}
	return v
}

// TestMissingStoreIsAnError: a barman_home that does not exist (a typo in
// barman.conf, an unmounted volume) makes every read a 503 that names the
// directory, never an empty list that would silence a monitor. A
// barman_home with no jobs/ yet is a fresh install: empty lists.
func TestMissingStoreIsAnError(t *testing.T) {
	reads := []string{
		"/operations", "/operations/", "/operations?detail=true",
		srvOps, srvOps + "?detail=true",
		"/operations/20261125T080447", "/operations/20261125T080447?detail=true",
		srvOps + "/20261125T080805", srvOps + "/20261125T080805?detail=true",
	}
	t.Run("missing", func(t *testing.T) {
		e := newEnv(t)
		h, _ := e.handler(t)
		// Read once first, so nothing cached can hide the loss.
		listOps(t, get(t, h, "/operations"))
		listOps(t, get(t, h, srvOps))
		opStatus(t, get(t, h, srvOps+"/20261125T080805"), "20261125T080805")
		if err := os.Rename(e.Home, e.Home+".moved"); err != nil {
			t.Fatal(err)
		}
		for _, p := range reads {
			w := get(t, h, p)
			msg := wantError(t, w, http.StatusServiceUnavailable)
			for _, s := range []string{e.Home, "does not exist", "barman_home", e.ConfPath} {
				if !strings.Contains(msg, s) {
					t.Errorf("GET %s: error %q does not mention %q", p, msg, s)
				}
			}
		}
		// A cancel is a read first.
		wantError(t, serve(t, h, request{Method: "POST", Path: srvOps + "/20261125T080805/cancel"}), http.StatusServiceUnavailable)
		if _, err := os.Stat(e.Home); err == nil {
			t.Errorf("a read created the missing barman_home")
		}
	})
	t.Run("fresh_install", func(t *testing.T) {
		e := newEnv(t)
		for _, d := range []string{"jobs", "output", ".pg-backup-api"} {
			os.RemoveAll(filepath.Join(e.Home, d))
			os.RemoveAll(filepath.Join(e.Home, "db_server_two", d))
		}
		h, _ := e.handler(t)
		for _, p := range []string{"/operations", srvOps} {
			if got := listOps(t, get(t, h, p)); len(got) != 0 {
				t.Errorf("GET %s: %v, want an empty list", p, got)
			}
			w := get(t, h, p+"?detail=true")
			wantStatus(t, w, http.StatusOK)
			var body map[string][]json.RawMessage
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body["operations"] == nil || len(body["operations"]) != 0 {
				t.Errorf("GET %s?detail=true: %s, want an empty list", p, w.Body.String())
			}
		}
		wantError(t, get(t, h, "/operations/20261125T080447"), http.StatusNotFound)
	})
}
