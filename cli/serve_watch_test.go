package cli_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// serve follows its store through the kernel (inotify): the cached answer
// of a finished operation changes when another process rewrites the file,
// even in place with the same size and times, which a stat could not tell,
// and goes when the operation's files are removed.
func TestServeSeesStoreChangedByAnotherProcess(t *testing.T) {
	e := newEnv(t, true)
	const id = "20261125T080500"
	out := filepath.Join(e.Home, "db_server_two", "output", id+".json")
	job := filepath.Join(e.Home, "db_server_two", "jobs", id+".json")
	past := time.Now().Add(-time.Hour) // settled: its answer may be cached
	for _, p := range []string{out, job} {
		if err := os.Chtimes(p, past, past); err != nil {
			t.Fatal(err)
		}
	}
	s := startServe(t, e, "")
	url := s.URL + "/servers/db_server_two/operations/" + id
	status := func() string {
		resp, err := http.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode == http.StatusNotFound {
			return "404"
		}
		var body struct{ Status string }
		if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		return body.Status
	}
	eventually := func(want string) {
		t.Helper()
		deadline := time.Now().Add(3 * time.Second)
		for got := status(); got != want; got = status() {
			if time.Now().After(deadline) {
				t.Fatalf("GET %s answers %q 3 s after the change, want %q; serve's log:\n%s", url, got, want, s.Log())
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	eventually("DONE")
	eventually("DONE") // answered from the cache now

	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	rewritten := strings.Replace(string(data), `"success": true, `, `"success":false, `, 1)
	if len(rewritten) != len(data) || rewritten == string(data) {
		t.Fatal("the fixture's output no longer has the text this test rewrites")
	}
	f, err := os.OpenFile(out, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt([]byte(rewritten), 0); err != nil {
		t.Fatal(err)
	}
	f.Close()
	if err := os.Chtimes(out, past, past); err != nil { // the same stamp as before
		t.Fatal(err)
	}
	eventually("FAILED")

	for _, p := range []string{out, job} {
		if err := os.Remove(p); err != nil {
			t.Fatal(err)
		}
	}
	eventually("404")
}

// TestServeRemovesStaleTemps: serve starting removes, and logs, the hidden
// temporary files a power cut left in any scope's directories, and only
// those old enough to be nobody's.
func TestServeRemovesStaleTemps(t *testing.T) {
	e := newEnv(t, true)
	stale := filepath.Join(e.Home, "db_server_two", "jobs", ".20261125T080500.json.tmp-31337")
	live := filepath.Join(e.Home, "jobs", ".20261125T080501.json.tmp-42")
	for _, p := range []string{stale, live} {
		if err := os.WriteFile(p, nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	old := time.Now().Add(-time.Hour)
	if err := os.Chtimes(stale, old, old); err != nil {
		t.Fatal(err)
	}
	s := startServe(t, e, "")
	if _, err := os.Lstat(stale); !os.IsNotExist(err) {
		t.Errorf("stale %s still there after serve started (%v); log:\n%s", stale, err, s.Log())
	}
	if _, err := os.Lstat(live); err != nil {
		t.Errorf("young %s removed: %v", live, err)
	}
	if !strings.Contains(s.Log(), "removed a temporary file left by an interrupted write") || !strings.Contains(s.Log(), stale) {
		t.Errorf("serve's log does not report the removal of %s:\n%s", stale, s.Log())
	}
}
