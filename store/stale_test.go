package store

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// TestRemoveStaleTemps: the hidden temporary files a power cut leaves in a
// scope's directories go once they are older than StaleTempAge; a young one
// (a concurrent writer's) and anything not of the temporary form stay.
func TestRemoveStaleTemps(t *testing.T) {
	home := t.TempDir()
	st := newStore(home)
	for _, sc := range []string{"", "db1"} {
		if err := st.EnsureScope(sc); err != nil {
			t.Fatal(err)
		}
	}
	now := time.Now()
	st.Now = func() time.Time { return now }
	old := now.Add(-StaleTempAge - time.Minute)
	young := now.Add(-StaleTempAge + time.Minute)
	write := func(path string, mtime time.Time) string {
		t.Helper()
		if err := os.WriteFile(path, nil, FileMode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		return path
	}
	wantGone := []string{
		write(filepath.Join(home, "jobs", ".20261125T080447.json.tmp-123456"), old),
		write(filepath.Join(home, "db1", "jobs", ".20261125T080500.json.tmp-987"), old),
		write(filepath.Join(home, "db1", "output", ".20261125T080500.json.tmp-42"), old),
		write(filepath.Join(st.StateDir("db1"), ".20261125T080500.log.tmp-7"), old),
	}
	wantKept := []string{
		write(filepath.Join(home, "jobs", ".20261125T080448.json.tmp-55"), young), // a live writer's
		write(filepath.Join(home, "jobs", "20261125T080449.json"), old),           // an operation
		write(filepath.Join(home, "jobs", ".20261125T080450.json.tmp-abc"), old),  // not our form
		write(filepath.Join(home, "jobs", "x.json.tmp-1"), old),                   // not hidden
		write(filepath.Join(home, "db1", "jobs", ".keep"), old),                   // someone else's
		write(filepath.Join(home, "db1", ".20261125T080500.json.tmp-1"), old),     // not a store directory
	}
	var logged []string
	removed := st.RemoveAllStaleTemps(func(p string, mod time.Time) {
		if !mod.Equal(old) {
			t.Errorf("%s logged with modification time %v, want %v", p, mod, old)
		}
		logged = append(logged, p)
	})
	slices.Sort(removed)
	slices.Sort(logged)
	slices.Sort(wantGone)
	if !slices.Equal(removed, wantGone) {
		t.Errorf("removed %q, want %q", removed, wantGone)
	}
	if !slices.Equal(logged, removed) {
		t.Errorf("logged %q, want each removal: %q", logged, removed)
	}
	for _, p := range wantGone {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s is still there (%v)", p, err)
		}
	}
	for _, p := range wantKept {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("%s was removed: %v", p, err)
		}
	}
	// One scope only: the other's leftovers wait for their own runner.
	left := write(filepath.Join(home, "jobs", ".20261125T080451.json.tmp-9"), old)
	if got := st.RemoveStaleTemps("db1", nil); len(got) != 0 {
		t.Errorf("RemoveStaleTemps(db1) removed %q, want nothing", got)
	}
	if _, err := os.Lstat(left); err != nil {
		t.Errorf("the instance's %s was removed by db1's cleanup: %v", left, err)
	}
}
