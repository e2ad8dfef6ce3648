package httpd_test

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// Fixture operations stored by the Python pg-backup-api 2.2.
var (
	fixtureInstanceOps = map[string]string{
		"20261125T080447": "config_update",
		"20261125T080919": "config_update",
	}
	fixtureServerOps = map[string]string{
		"20261125T080500": "config_switch",
		"20261125T080805": "recovery",
		"20261125T080915": "config_switch",
		"20261125T080916": "recovery",
		"20261125T080918": "config_switch",
	}
)

// idPattern is the reference's ID format plus our same-second suffix.
var idPattern = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}(-[0-9]{4})?$`)

// env is one Barman installation in a temporary directory: Barman 3.17's
// configuration and catalog plus the Python pg-backup-api's stored operations.
type env struct {
	Dir        string // the temporary directory
	ConfPath   string // barman.conf
	ConfDir    string // configuration_files_directory
	Home       string // barman_home
	FakeBarman string // absolute path of testdata/fake-barman
}

// newEnv copies the fixtures into t.TempDir(), writable, with barman.conf
// pointing at the copies.
func newEnv(t testing.TB) *env {
	t.Helper()
	b := testenv.NewBarman(t, "barman-3.17").WithStore(t)
	e := &env{
		Dir:        b.Dir,
		ConfDir:    b.ConfDir,
		ConfPath:   b.Conf,
		Home:       b.Home,
		FakeBarman: testenv.FakeBarman(t),
	}
	return e
}

// ensureCall is one call of the Launcher.
type ensureCall struct {
	Server, BarmanConfig string
}

// recordingLauncher is an ops.Launcher that starts nothing and remembers
// every EnsureRunner call.
type recordingLauncher struct {
	mu      sync.Mutex
	ensured []ensureCall
}

func (l *recordingLauncher) EnsureRunner(cfg *ops.BarmanConfig, server string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.ensured = append(l.ensured, ensureCall{server, cfg.Path})
	return nil
}

func (l *recordingLauncher) Ensured() []ensureCall {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]ensureCall(nil), l.ensured...)
}

// testHosts are the Host names the tests' servers answer without
// credentials besides loopback ones: httptest.NewRequest's default.
var testHosts = []string{"example.com"}

// apiServer builds the HTTP API over e with a launcher that records each
// EnsureRunner call.
func (e *env) apiServer(t testing.TB) (*httpd.Server, *recordingLauncher) {
	t.Helper()
	l := &recordingLauncher{}
	return &httpd.Server{
		AllowedHosts: testHosts,
		Service:      &ops.Service{Barman: barman.NewReader(e.ConfPath), OpenStore: store.Opener(), Launcher: l, Version: "test"},
		Diagnose:     barman.NewCommand(e.FakeBarman).Diagnose,
		Log:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	}, l
}

func (e *env) handler(t testing.TB) (http.Handler, *recordingLauncher) {
	t.Helper()
	s, l := e.apiServer(t)
	return s.Handler(), l
}

// jobPath is where the store keeps the job file of an operation.
func (e *env) jobPath(server, id string) string {
	if server == "" {
		return filepath.Join(e.Home, "jobs", id+".json")
	}
	return filepath.Join(e.Home, server, "jobs", id+".json")
}

// request is one HTTP request to the handler.
type request struct {
	Method, Path string
	Body         string
	ContentType  string // "" sends no Content-Type header
}

func serve(t testing.TB, h http.Handler, rq request) *httptest.ResponseRecorder {
	t.Helper()
	var body io.Reader
	if rq.Body != "" {
		body = strings.NewReader(rq.Body)
	}
	r := httptest.NewRequest(rq.Method, rq.Path, body)
	if rq.ContentType != "" {
		r.Header.Set("Content-Type", rq.ContentType)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

func get(t testing.TB, h http.Handler, path string) *httptest.ResponseRecorder {
	t.Helper()
	return serve(t, h, request{Method: "GET", Path: path})
}

func postJSON(t testing.TB, h http.Handler, path, body string) *httptest.ResponseRecorder {
	t.Helper()
	return serve(t, h, request{Method: "POST", Path: path, Body: body, ContentType: "application/json"})
}

// decodeKeys decodes a JSON object body into its keys' raw values.
func decodeKeys(t testing.TB, body []byte) map[string]json.RawMessage {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, body)
	}
	return m
}

func keysOf[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// wantKeys fails unless m has exactly the keys want.
func wantKeys[V any](t testing.TB, what string, m map[string]V, want ...string) {
	t.Helper()
	sort.Strings(want)
	if got := keysOf(m); !reflect.DeepEqual(got, want) {
		t.Errorf("%s has keys %q, want exactly %q", what, got, want)
	}
}

func wantStatus(t testing.TB, w *httptest.ResponseRecorder, code int) {
	t.Helper()
	if w.Code != code {
		t.Fatalf("status %d, want %d; body: %s", w.Code, code, w.Body.String())
	}
}

func wantJSONContentType(t testing.TB, h http.Header) {
	t.Helper()
	if ct := h.Get("Content-Type"); ct != "application/json" {
		t.Errorf("Content-Type %q, want application/json", ct)
	}
}

// wantError checks an error answer: the status, a JSON body whose "error" is
// a non-empty string, request_id only for 5xx (equal to X-Request-Id), and
// no other keys. It returns the message.
func wantError(t testing.TB, w *httptest.ResponseRecorder, code int) string {
	t.Helper()
	wantStatus(t, w, code)
	wantJSONContentType(t, w.Header())
	m := decodeKeys(t, w.Body.Bytes())
	var msg string
	if err := json.Unmarshal(m["error"], &msg); err != nil || msg == "" {
		t.Errorf("error body has no non-empty string \"error\": %s", w.Body.String())
	}
	if code >= 500 {
		wantKeys(t, "5xx error body", m, "error", "request_id")
		var id string
		json.Unmarshal(m["request_id"], &id)
		if hdr := w.Header().Get("X-Request-Id"); id == "" || id != hdr {
			t.Errorf("request_id %q in the body, X-Request-Id %q: want equal and non-empty", id, hdr)
		}
	} else {
		wantKeys(t, "4xx error body", m, "error")
	}
	return msg
}

// created checks a 202 answer and returns the new operation ID.
func created(t testing.TB, w *httptest.ResponseRecorder, scopePath string) string {
	t.Helper()
	wantStatus(t, w, http.StatusAccepted)
	wantJSONContentType(t, w.Header())
	m := decodeKeys(t, w.Body.Bytes())
	wantKeys(t, "202 body", m, "operation_id")
	var id string
	if err := json.Unmarshal(m["operation_id"], &id); err != nil {
		t.Fatalf("operation_id is not a string: %s", w.Body.String())
	}
	if !idPattern.MatchString(id) {
		t.Errorf("operation_id %q does not have the reference's format", id)
	}
	if loc, want := w.Header().Get("Location"), strings.TrimSuffix(scopePath, "/")+"/"+id; loc != want {
		t.Errorf("Location %q, want %q", loc, want)
	}
	return id
}

type listBody struct {
	Operations []map[string]json.RawMessage `json:"operations"`
}

// listOps checks a documented list answer: exactly {"operations": [...]}
// with exactly id and type in each item (plus extra, for ?detail=true). It
// returns ID -> type.
func listOps(t testing.TB, w *httptest.ResponseRecorder, extra ...string) map[string]string {
	t.Helper()
	wantStatus(t, w, http.StatusOK)
	wantJSONContentType(t, w.Header())
	wantKeys(t, "list body", decodeKeys(t, w.Body.Bytes()), "operations")
	var body listBody
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("list body: %v\n%s", err, w.Body.String())
	}
	if body.Operations == nil {
		t.Fatalf("\"operations\" is not an array: %s", w.Body.String())
	}
	got := map[string]string{}
	for _, item := range body.Operations {
		wantKeys(t, "list item", item, append([]string{"id", "type"}, extra...)...)
		var id, typ string
		json.Unmarshal(item["id"], &id)
		json.Unmarshal(item["type"], &typ)
		if _, dup := got[id]; dup {
			t.Errorf("ID %s is listed twice", id)
		}
		got[id] = typ
	}
	return got
}

// opStatus checks a documented status answer, exactly operation_id and
// status, and returns the status.
func opStatus(t testing.TB, w *httptest.ResponseRecorder, id string) string {
	t.Helper()
	wantStatus(t, w, http.StatusOK)
	wantJSONContentType(t, w.Header())
	m := decodeKeys(t, w.Body.Bytes())
	wantKeys(t, "status body", m, "operation_id", "status")
	var gotID, status string
	json.Unmarshal(m["operation_id"], &gotID)
	json.Unmarshal(m["status"], &status)
	if gotID != id {
		t.Errorf("operation_id %q, want %q", gotID, id)
	}
	return status
}

// readJob reads a job file keeping its key order.
func readJob(t testing.TB, path string) *pyjson.Object {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("job file: %v", err)
	}
	obj, err := pyjson.DecodeObject(data, pyjson.DecodeOptions{RejectDuplicateKeys: true})
	if err != nil {
		t.Fatalf("job file %s: %v", path, err)
	}
	return obj
}

func encode(t testing.TB, v any) string {
	t.Helper()
	data, err := pyjson.EncodePython(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// compact returns s re-encoded without insignificant whitespace.
func compact(t testing.TB, s string) string {
	t.Helper()
	var b bytes.Buffer
	if err := json.Compact(&b, []byte(s)); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	return b.String()
}
