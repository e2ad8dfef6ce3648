package httpd_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The answers kept for GET .../operations/{id} and the plain list follow
// the store: a finished operation whose output file is replaced, and a
// scope that gains an operation, are answered afresh, however often the
// kept answers were served before.
func TestKeptAnswersFollowTheStore(t *testing.T) {
	e := newEnv(t)
	// Files and directories changed within the racy window are never kept
	// on their stamp's word: age the scope's, as a store in use has them.
	past := time.Now().Add(-time.Hour)
	scope := filepath.Join(e.Home, "db_server_two")
	err := filepath.Walk(scope, func(path string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Chtimes(path, past, past)
	})
	if err != nil {
		t.Fatal(err)
	}
	h, _ := e.handler(t)
	const id = "20261125T080805"
	opPath := "/servers/db_server_two/operations/" + id
	for range 3 {
		if got := opStatus(t, get(t, h, opPath), id); got != "DONE" {
			t.Fatalf("status %q, want DONE", got)
		}
		if w := get(t, h, opPath+"?detail=true"); !strings.Contains(w.Body.String(), `"DONE"`) {
			t.Fatalf("detail: %s", w.Body)
		}
	}
	// Another writer replaces the result, as a rename, with an old time.
	out := filepath.Join(e.Home, "db_server_two", "output", id+".json")
	tmp := out + ".tmp"
	if err := os.WriteFile(tmp, []byte(`{"success": false, "end_time": "2026-11-25T08:08:06.000000", "output": "ERROR\n", "exit_code": 1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(tmp, past, past); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, out); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(filepath.Dir(out), past, past); err != nil {
		t.Fatal(err)
	}
	if got := opStatus(t, get(t, h, opPath), id); got != "FAILED" {
		t.Errorf("after the output changed: status %q, want FAILED", got)
	}
	if w := get(t, h, opPath+"?detail=true"); !strings.Contains(w.Body.String(), `"FAILED"`) {
		t.Errorf("after the output changed, detail: %s", w.Body)
	}

	listPath := "/servers/db_server_two/operations"
	for range 3 {
		if ops := listOps(t, get(t, h, listPath)); len(ops) == 0 {
			t.Fatal("empty list")
		}
	}
	before := listOps(t, get(t, h, listPath))
	newID := created(t, postJSON(t, h, listPath, `{"type": "config_switch", "model_name": "my-model"}`), listPath)
	after := listOps(t, get(t, h, listPath))
	if _, ok := after[newID]; !ok || len(after) != len(before)+1 {
		t.Errorf("list after creating %s: %d operations (%d before), new one listed: %v", newID, len(after), len(before), ok)
	}
}
