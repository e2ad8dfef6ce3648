package store

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// Reading the store leaves files' access times alone (O_NOATIME): on a
// file system mounted relatime, the first read after a write would write
// the inode, 200,000 of them for the first index build of a large scope.
func TestStoreReadsKeepAccessTimes(t *testing.T) {
	dir := t.TempDir()
	past := time.Now().Add(-time.Hour).Truncate(time.Second)
	atimeOf := func(p string) time.Time {
		var st syscall.Stat_t
		if err := syscall.Stat(p, &st); err != nil {
			t.Fatal(err)
		}
		return time.Unix(st.Atim.Unix())
	}
	write := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(`{"operation_type": "config_switch"}`), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, past, past); err != nil {
			t.Fatal(err)
		}
		return p
	}
	// The control: this file system does update access times on a plain
	// read, or the test could not tell anything.
	control := write("control.json")
	if _, err := os.ReadFile(control); err != nil {
		t.Fatal(err)
	}
	if atimeOf(control).Equal(past) {
		t.Fatalf("a plain read did not update the access time of %s: the file system under TMPDIR is mounted noatime, "+
			"so this test cannot tell whether the store's reads do; run it with TMPDIR on a relatime or strictatime mount", control)
	}

	p := write("20261125T080500.json")
	if _, err := readStoreFile(p); err != nil {
		t.Fatal(err)
	}
	if got := atimeOf(p); !got.Equal(past) {
		t.Errorf("reading %s moved its access time from %v to %v", p, past, got)
	}
}
