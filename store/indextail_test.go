package store

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

// The newest N entries read from the end of the index file are those of
// the whole file, for every N, whatever the line lengths.
func TestReadIndexTail(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	ids := benchStore(t, home, 300)
	// A damaged job file and a long reason make lines of other lengths.
	jobs := filepath.Join(home, "db1", "jobs")
	if err := os.WriteFile(filepath.Join(jobs, "20261126T000000.json"), []byte("{not json\t\n"), FileMode); err != nil {
		t.Fatal(err)
	}
	s := newStore(home)
	full, fullSkipped, err := s.List("db1", ops.ListOptions{})
	if err != nil || len(full) != len(ids) || len(fullSkipped) != 1 {
		t.Fatalf("List: %d operations, %d skipped, %v", len(full), len(fullSkipped), err)
	}
	path := filepath.Join(s.StateDir("db1"), indexFileName)
	whole, err := readIndex(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range []int{1, 2, 3, 20, 299, 300, 301, 302, 1000} {
		tail, err := readIndexTail(path, n)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		want := whole.entries[max(0, len(whole.entries)-n):]
		if !reflect.DeepEqual(tail.entries, want) || tail.jobs != whole.jobs || tail.outputs != whole.outputs || tail.racy != whole.racy {
			t.Errorf("n=%d: tail has %d entries, want %d", n, len(tail.entries), len(want))
		}
	}
	// A new process's page of the newest N, answered from the tail, is
	// the page the whole index gives.
	for _, n := range []int{1, 20, 301} {
		page, skipped, err := newStore(home).List("db1", ops.ListOptions{Limit: n, Status: true})
		if err != nil {
			t.Fatal(err)
		}
		all, allSkipped, _ := s.List("db1", ops.ListOptions{Limit: n, Status: true})
		if !reflect.DeepEqual(page, all) || fmt.Sprint(skipped) != fmt.Sprint(allSkipped) {
			t.Errorf("Limit %d: a new store lists %d (%v skipped), the warm one %d (%v)", n, len(page), skipped, len(all), allSkipped)
		}
	}
}
