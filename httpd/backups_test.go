package httpd_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
)

// backupKeys are the keys of one backup, whatever is known of it.
var backupKeys = []string{"backup_id", "name", "status", "begin_time", "end_time", "begin_wal", "end_wal", "timeline", "size", "wal_size", "keep"}

// TestBackupsFixture: the recorded Barman 3.17 catalog (one backup, no WAL
// database) as the API shows it, value for value.
func TestBackupsFixture(t *testing.T) {
	e := newEnv(t)
	h, _ := e.handler(t)
	w := get(t, h, "/servers/db_server_two/backups")
	wantStatus(t, w, http.StatusOK)
	wantJSONContentType(t, w.Header())
	want := `{"server":"db_server_two","backups":[{"backup_id":"20261125T080758","name":null,"status":"DONE",` +
		`"begin_time":"2026-11-25T08:07:58.14264Z","end_time":"2026-11-25T08:07:58.436364Z",` +
		`"begin_wal":"000000010000000000000005","end_wal":"000000010000000000000005","timeline":1,"size":23232529,"wal_size":null,"keep":null}],` +
		`"recovery_window":{"earliest":"2026-11-25T08:07:58.436364Z","latest":"2026-11-25T08:07:58.436364Z","latest_wal":null}}`
	if got := strings.TrimSpace(w.Body.String()); got != want {
		t.Errorf("body\n%s\nwant\n%s", got, want)
	}
	w = get(t, h, "/servers/db_server_two/backups/latest")
	wantStatus(t, w, http.StatusOK)
	var one map[string]json.RawMessage
	if err := json.Unmarshal(w.Body.Bytes(), &one); err != nil {
		t.Fatal(err)
	}
	wantKeys(t, "one backup", one, backupKeys...)
	if !strings.Contains(want, strings.TrimSpace(w.Body.String())) {
		t.Errorf("GET .../backups/latest = %s, want the list's item", w.Body.String())
	}
}

// TestBackupsKeepAnnotation: a kept backup carries its keep target, read
// from the annotation `barman keep` wrote, in the list and alone.
func TestBackupsKeepAnnotation(t *testing.T) {
	e := newEnv(t)
	testenv.WriteFile(t, filepath.Join(e.Home, "db_server_two", "meta", "20261125T080758-keep"), "full")
	h, _ := e.handler(t)
	for _, path := range []string{"/servers/db_server_two/backups", "/servers/db_server_two/backups/latest"} {
		w := get(t, h, path)
		wantStatus(t, w, http.StatusOK)
		if !strings.Contains(w.Body.String(), `"wal_size":null,"keep":"full"}`) {
			t.Errorf("GET %s = %s, want the backup with \"keep\": \"full\"", path, w.Body)
		}
	}
}

// addCatalog adds synthetic backups and a WAL database to db_server_two's
// catalog, beside the recorded backup of 2026-11-25.
func addCatalog(t *testing.T, e *env) {
	t.Helper()
	dir := filepath.Join(e.Home, "db_server_two")
	seg := func(n int) string { return fmt.Sprintf("00000001%08X%08X", 0, n) }
	write := func(path, content string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range []struct {
		id, status, name string
		wal              int
	}{
		{"20261126T000000", "DONE", "weekly", 8},
		{"20261127T000000", "FAILED", "None", 10},
		{"20261128T000000", "DONE", "None", 12},
	} {
		write(filepath.Join(dir, "base", b.id, "backup.info"), fmt.Sprintf(
			"backup_name=%s\nstatus=%s\nbegin_time=2026-11-26 00:00:00+00:00\nend_time=2026-11-26 00:00:30+00:00\nbegin_wal=%s\nend_wal=%s\ntimeline=1\nsize=100\n",
			b.name, b.status, seg(b.wal), seg(b.wal)))
	}
	var xlog strings.Builder
	for n := 5; n <= 14; n++ {
		fmt.Fprintf(&xlog, "%s\t1000\t%d.0\tNone\n", seg(n), time.Date(2026, 11, 28, 1, n, 0, 0, time.UTC).Unix())
	}
	write(filepath.Join(dir, "wals", "db_server_two-xlog.db"), xlog.String())
}

func TestBackupsHandler(t *testing.T) {
	e := newEnv(t)
	addCatalog(t, e)
	h, _ := e.handler(t)
	tests := []struct {
		name, method, path string
		code               int
		wantID             string   // for one backup
		wantIDs            []string // for the list, newest first
		wantMsg            []string // for errors
	}{
		{"list", "GET", "/servers/db_server_two/backups", 200, "", []string{"20261128T000000", "20261127T000000", "20261126T000000", "20261125T080758"}, nil},
		{"by ID", "GET", "/servers/db_server_two/backups/20261127T000000", 200, "20261127T000000", nil, nil},
		{"by name", "GET", "/servers/db_server_two/backups/weekly", 200, "20261126T000000", nil, nil},
		{"latest", "GET", "/servers/db_server_two/backups/latest", 200, "20261128T000000", nil, nil},
		{"last", "GET", "/servers/db_server_two/backups/last", 200, "20261128T000000", nil, nil},
		{"oldest", "GET", "/servers/db_server_two/backups/oldest", 200, "20261125T080758", nil, nil},
		{"first", "GET", "/servers/db_server_two/backups/first", 200, "20261125T080758", nil, nil},
		{"last-failed", "GET", "/servers/db_server_two/backups/last-failed", 200, "20261127T000000", nil, nil},
		{"unknown backup", "GET", "/servers/db_server_two/backups/20990101T000000", 404, "", nil,
			[]string{`backup "20990101T000000" does not exist for server "db_server_two"`, "20261128T000000 DONE", "20261127T000000 FAILED"}},
		{"unknown server", "GET", "/servers/nope/backups", 404, "", nil, []string{`server "nope" is not in`, "known: db_server_two"}},
		{"unknown server, one backup", "GET", "/servers/nope/backups/latest", 404, "", nil, []string{`server "nope"`, "known: db_server_two"}},
		{"a model", "GET", "/servers/my-model/backups", 404, "", nil, []string{`"my-model" is a model, not a server`}},
		{"POST", "POST", "/servers/db_server_two/backups", 405, "", nil, []string{"method POST is not allowed", "GET"}},
		{"DELETE one", "DELETE", "/servers/db_server_two/backups/latest", 405, "", nil, []string{"method DELETE is not allowed"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := testenv.Snapshot(t, e.Home)
			w := serve(t, h, request{Method: tc.method, Path: tc.path})
			if tc.code != http.StatusOK {
				msg := wantError(t, w, tc.code)
				for _, part := range tc.wantMsg {
					if !strings.Contains(msg, part) {
						t.Errorf("error %q lacks %q", msg, part)
					}
				}
			} else {
				wantStatus(t, w, http.StatusOK)
				wantJSONContentType(t, w.Header())
			}
			if tc.wantIDs != nil {
				var cat httpd.CatalogJSON
				if err := json.Unmarshal(w.Body.Bytes(), &cat); err != nil {
					t.Fatal(err)
				}
				var ids []string
				for _, b := range cat.Backups {
					ids = append(ids, b.BackupID)
				}
				if !reflect.DeepEqual(ids, tc.wantIDs) {
					t.Errorf("backups %q, want %q", ids, tc.wantIDs)
				}
				// As barman list-backups: WAL after each DONE backup up to
				// the next DONE one's end, 0 for a FAILED one, none known
				// before 000000010000000000000005 for the recorded one.
				sizes := map[string]int64{}
				for _, b := range cat.Backups {
					if b.WALSize == nil {
						t.Fatalf("backup %s: wal_size null with a WAL database", b.BackupID)
					}
					sizes[b.BackupID] = *b.WALSize
				}
				wantSizes := map[string]int64{"20261125T080758": 3000, "20261126T000000": 4000, "20261127T000000": 0, "20261128T000000": 2000}
				if !reflect.DeepEqual(sizes, wantSizes) {
					t.Errorf("wal sizes %v, want %v", sizes, wantSizes)
				}
				wantWindow := httpd.RecoveryWindowJSON{Earliest: "2026-11-25T08:07:58.436364Z", Latest: "2026-11-28T01:14:00Z"}
				if cat.RecoveryWindow == nil || cat.RecoveryWindow.Earliest != wantWindow.Earliest || cat.RecoveryWindow.Latest != wantWindow.Latest ||
					cat.RecoveryWindow.LatestWAL == nil || *cat.RecoveryWindow.LatestWAL != "00000001000000000000000E" {
					t.Errorf("recovery window %+v, want %+v and latest_wal 00000001000000000000000E", cat.RecoveryWindow, wantWindow)
				}
			}
			if tc.wantID != "" {
				m := decodeKeys(t, w.Body.Bytes())
				wantKeys(t, "one backup", m, backupKeys...)
				var id string
				json.Unmarshal(m["backup_id"], &id)
				if id != tc.wantID {
					t.Errorf("backup_id %q, want %q", id, tc.wantID)
				}
			}
			if diff := testenv.DiffSnapshots(before, testenv.Snapshot(t, e.Home)); diff != "" {
				t.Errorf("a read changed files: %v", diff)
			}
		})
	}
}

// TestBackupsPermissions: the catalog is a read; a credential without the
// read permission is refused, one with only read is served.
func TestBackupsPermissions(t *testing.T) {
	e := newEnv(t)
	s, _ := e.apiServer(t)
	s.Auth = &httpd.Auth{InsecureHTTP: true, Tokens: []httpd.Token{
		{Name: "reader", SHA256: httpd.HashToken("pgba_reader"), Permissions: httpd.PermRead},
		{Name: "recoverer", SHA256: httpd.HashToken("pgba_recoverer"), Permissions: httpd.PermRecover},
	}}
	h := s.Handler()
	for _, path := range []string{"/servers/db_server_two/backups", "/servers/db_server_two/backups/latest"} {
		for _, tc := range []struct {
			secret string
			code   int
		}{{"pgba_reader", 200}, {"pgba_recoverer", 403}, {"", 401}} {
			r := httptest.NewRequest("GET", path, nil)
			r.RemoteAddr = "192.0.2.7:1234"
			if tc.secret != "" {
				r.Header.Set("Authorization", "Bearer "+tc.secret)
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tc.code {
				t.Errorf("GET %s with %q: status %d, want %d; body %s", path, tc.secret, w.Code, tc.code, w.Body.String())
			}
			if tc.code == 403 && !strings.Contains(w.Body.String(), "lacks the read permission") {
				t.Errorf("403 body %s does not name the read permission", w.Body.String())
			}
		}
	}
}

// writeBackups puts n DONE backups of db_server_two in its catalog, their
// files older than an hour so the catalog's cache keeps them.
func writeBackups(tb testing.TB, e *env, n int) {
	tb.Helper()
	dir := filepath.Join(e.Home, "db_server_two", "meta")
	old := time.Now().Add(-time.Hour)
	for i := range n {
		id := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour).Format("20060102T150405")
		path := filepath.Join(dir, id+"-backup.info")
		info := fmt.Sprintf("backup_name=None\nstatus=DONE\nbegin_time=2027-01-01 00:00:00+00:00\nend_time=2027-01-01 00:00:30+00:00\n"+
			"begin_wal=00000001000000000000%04X\nend_wal=00000001000000000000%04X\ntimeline=1\nsize=100\n", 2*i+16, 2*i+16)
		if err := os.WriteFile(path, []byte(info), 0o644); err != nil {
			tb.Fatal(err)
		}
		if err := os.Chtimes(path, old, old); err != nil {
			tb.Fatal(err)
		}
	}
}

// TestBackupsListsFiveHundred: a catalog of 500 backups is listed whole,
// the first time and from the cache. How fast is BenchmarkHandlerBackups500's.
func TestBackupsListsFiveHundred(t *testing.T) {
	e := newEnv(t)
	writeBackups(t, e, 500)
	h, _ := e.handler(t)
	for range 2 {
		w := get(t, h, "/servers/db_server_two/backups")
		wantStatus(t, w, http.StatusOK)
		if n := strings.Count(w.Body.String(), `"backup_id"`); n != 501 {
			t.Fatalf("%d backups listed, want 501", n)
		}
	}
}

// BenchmarkHandlerBackups500 is GET /servers/{name}/backups over 500
// backups, warm (as any listing but the first after a change is). The
// target is 50 ms (docs/performance.md).
func BenchmarkHandlerBackups500(b *testing.B) {
	e := newEnv(b)
	writeBackups(b, e, 500)
	h, _ := e.handler(b)
	benchServe(b, h, "GET", "/servers/db_server_two/backups", "", http.StatusOK)
}
