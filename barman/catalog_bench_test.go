package barman

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// SyntheticCatalog writes n DONE backups, half in each layout, with 48 WAL
// segments between consecutive backups in an xlog.db, every file dated an
// hour ago (older than the caches' racy window, as a real catalog is).
func syntheticCatalog(tb testing.TB, n int) *ops.BarmanServer {
	tb.Helper()
	dir := tb.TempDir()
	old := time.Now().Add(-time.Hour)
	var xlog strings.Builder
	for i := range n {
		id := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Hour).Format("20060102T150405")
		begin, end := 48*i+1, 48*i+2
		info := fmt.Sprintf("backup_label='START WAL LOCATION: 0/5000028'\nbackup_name=None\nbegin_time=2026-01-01 00:00:00.123456+00:00\n"+
			"end_time=2026-01-01 00:01:00.654321+00:00\nbegin_wal=%s\nend_wal=%s\nbegin_xlog=0/5000028\nend_xlog=0/6000000\n"+
			"size=23232529\ndeduplicated_size=23232529\nstatus=DONE\ntimeline=1\nversion=150018\nxlog_segment_size=16777216\n",
			seg(1, begin), seg(1, end))
		path := filepath.Join(dir, "meta", id+"-backup.info")
		if i%2 == 1 {
			path = filepath.Join(dir, "base", id, "backup.info")
		}
		testenv.WriteFile(tb, path, info)
		if err := os.Chtimes(path, old, old); err != nil {
			tb.Fatal(err)
		}
		for k := begin; k < begin+48; k++ {
			fmt.Fprintf(&xlog, "%s\t16777216\t%d.5\tNone\n", seg(1, k), 1767225600+k*60)
		}
	}
	path := filepath.Join(dir, "wals", "pg-xlog.db")
	testenv.WriteFile(tb, path, xlog.String())
	if err := os.Chtimes(path, old, old); err != nil {
		tb.Fatal(err)
	}
	return &ops.BarmanServer{Name: "pg", BackupDirectory: dir}
}

// BenchmarkReadCatalog500 lists 500 backups with their WAL sizes and the
// recovery window, as GET /servers/{name}/backups does.
func BenchmarkReadCatalog500(b *testing.B) {
	srv := syntheticCatalog(b, 500)
	b.ResetTimer()
	for b.Loop() {
		cat, err := ReadCatalog(srv)
		if err != nil || len(cat.Backups) != 500 || !cat.WALKnown {
			b.Fatalf("ReadCatalog: %d backups, WALKnown %v, %v", len(cat.Backups), cat.WALKnown, err)
		}
	}
}

// BenchmarkReadCatalog500Cold is the first listing: every file parsed.
func BenchmarkReadCatalog500Cold(b *testing.B) {
	srv := syntheticCatalog(b, 500)
	b.ResetTimer()
	for b.Loop() {
		infos.keepOnly(srv.BackupDirectory, nil)
		xlogdbs.mu.Lock()
		clear(xlogdbs.files)
		xlogdbs.mu.Unlock()
		if _, err := ReadCatalog(srv); err != nil {
			b.Fatal(err)
		}
	}
}

func TestSyntheticCatalog(t *testing.T) {
	cat, err := ReadCatalog(syntheticCatalog(t, 10))
	if err != nil {
		t.Fatal(err)
	}
	if len(cat.Backups) != 10 || !cat.WALKnown || cat.Window == nil {
		t.Fatalf("ReadCatalog = %d backups, WALKnown %v, window %v", len(cat.Backups), cat.WALKnown, cat.Window)
	}
	// 48 segments after each end WAL up to the next backup's end; the
	// last backup has the 46 archived after its own end.
	for i, b := range cat.Backups {
		want := int64(48 * 16777216)
		if i == len(cat.Backups)-1 {
			want = 46 * 16777216
		}
		if b.WALSize != want {
			t.Errorf("backup %d: WAL size %d, want %d", i, b.WALSize, want)
		}
	}
}
