package barman

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// TestLastArchivedWAL: the newest segment is the one archived last, in
// either layout, skipping history files and unparsable lines; no xlog.db
// is no segment, not an error.
func TestLastArchivedWAL(t *testing.T) {
	dir := t.TempDir()
	srv := &ops.BarmanServer{Name: "pg", BackupDirectory: dir}
	name, at, err := LastArchivedWAL(srv)
	if err != nil || name != "" || !at.IsZero() {
		t.Fatalf("no xlog.db: %q, %v, %v; want no segment and no error", name, at, err)
	}
	lines := fmt.Sprintf("%s\t16\t%d.5\tNone\n%s\t16\t%d\tNone\n%s\t16\t%d\tgzip\n00000003.history\t1\t%d\tNone\nnot a line\n",
		seg(1, 7), walTime(7).Unix(),
		seg(2, 3), walTime(9).Unix(), // the highest name
		seg(1, 8), walTime(10).Unix(), // a lower name archived after it: the newest
		walTime(20).Unix())
	for _, file := range []string{"wals/xlog.db", "wals/pg-xlog.db"} {
		testenv.WriteFile(t, filepath.Join(dir, file), lines)
		name, at, err = LastArchivedWAL(srv)
		if err != nil {
			t.Fatal(err)
		}
		if name != seg(1, 8) || !at.Equal(walTime(10)) {
			t.Errorf("%s: newest = %s at %v, want %s at %v", file, name, at, seg(1, 8), walTime(10))
		}
	}
	testenv.WriteFile(t, filepath.Join(dir, "wals", "pg-xlog.db"), "")
	if name, at, err = LastArchivedWAL(srv); err != nil || name != "" || !at.IsZero() {
		t.Errorf("empty xlog.db: %q, %v, %v; want no segment", name, at, err)
	}
}
