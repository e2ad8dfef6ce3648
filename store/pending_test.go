package store

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

func TestPendingQueue(t *testing.T) {
	home := t.TempDir()
	s := newStore(home)
	jobs := filepath.Join(home, "db1", "jobs")
	outs := filepath.Join(home, "db1", "output")
	for _, d := range []string{jobs, outs} {
		if err := os.MkdirAll(d, DirMode); err != nil {
			t.Fatal(err)
		}
	}
	write := func(dir, id string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, id+".json"), []byte(`{"operation_type": "config_switch"}`), FileMode); err != nil {
			t.Fatal(err)
		}
	}
	past := time.Now().Add(-time.Hour)
	settle := func() { // as a directory last changed an hour ago
		t.Helper()
		if err := os.Chtimes(jobs, past, past); err != nil {
			t.Fatal(err)
		}
	}
	want := func(q *PendingQueue, ids ...string) {
		t.Helper()
		got, err := q.IDs()
		if err != nil || !slices.Equal(got, ids) {
			t.Fatalf("IDs() = %v, %v; want %v", got, err, ids)
		}
	}

	write(jobs, "20261125T000002")
	write(jobs, "20261125T000001")
	write(jobs, "20261125T000000")
	write(outs, "20261125T000000")
	settle()
	q := s.NewPendingQueue("db1")
	want(q, "20261125T000001", "20261125T000002")

	// Dropped IDs leave the view; the directories are not listed again
	// while the jobs directory keeps its stamp: a file slipped in with the
	// directory's time put back is not seen.
	q.Drop("20261125T000001")
	write(jobs, "20261125T000003")
	settle()
	want(q, "20261125T000002")

	// Any change of the jobs directory lists it again, dropped IDs and all.
	write(jobs, "20261125T000004")
	want(q, "20261125T000001", "20261125T000002", "20261125T000003", "20261125T000004")

	// That listing was taken right after the change, so it is trusted once
	// only: a second file in the same clock tick is still found.
	now := time.Now()
	if err := os.Chtimes(jobs, now, now); err != nil {
		t.Fatal(err)
	}
	want(q, "20261125T000001", "20261125T000002", "20261125T000003", "20261125T000004")
	write(jobs, "20261125T000005")
	if err := os.Chtimes(jobs, now, now); err != nil {
		t.Fatal(err)
	}
	want(q, "20261125T000001", "20261125T000002", "20261125T000003", "20261125T000004", "20261125T000005")

	// Invalidate lists again even with the stamp unchanged.
	settle()
	want(q, "20261125T000001", "20261125T000002", "20261125T000003", "20261125T000004", "20261125T000005")
	write(jobs, "20261125T000006")
	settle()
	q.Invalidate()
	want(q, "20261125T000001", "20261125T000002", "20261125T000003", "20261125T000004", "20261125T000005", "20261125T000006")
}
