package barman

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// seg names WAL segment n of timeline tli.
func seg(tli, n int) string { return fmt.Sprintf("%08X%08X%08X", tli, 0, n) }

// walTime is when the synthetic segment n was archived.
func walTime(n int) time.Time { return time.Date(2026, 1, 1, 0, n, 0, 0, time.UTC) }

// writeInfo writes a backup.info with WAL names and an end time.
func writeInfo(t *testing.T, dir, id, status string, begin, end int) {
	t.Helper()
	content := fmt.Sprintf("backup_name=None\nstatus=%s\nbegin_time=2026-01-01 00:%02d:00+00:00\nend_time=2026-01-01 00:%02d:30+00:00\n"+
		"begin_wal=%s\nend_wal=%s\ntimeline=1\nsize=1000\n", status, begin, end, seg(1, begin), seg(1, end))
	testenv.WriteFile(t, filepath.Join(dir, "meta", id+"-backup.info"), content)
}

// TestReadCatalogWALSize checks wal_size as Barman's list-backups computes
// it (Server.get_wal_info): the WAL after a backup's end WAL, up to and
// including the end WAL of the next backup whose copy is done, on the
// backup's timeline or an earlier one; 0 for a backup whose copy is not
// done. Segment n is 1<<n bytes so every sum names its segments.
func TestReadCatalogWALSize(t *testing.T) {
	var lines []string
	for n := 1; n <= 12; n++ {
		lines = append(lines, fmt.Sprintf("%s\t%d\t%d.5\tNone", seg(1, n), 1<<n, walTime(n).Unix()))
		if n == 3 {
			// Not WAL segments: a history file and a backup label.
			lines = append(lines, "00000002.history\t42\t1767225780.0\tNone", seg(1, 3)+".00000028.backup\t999\t1767225780.0\tNone")
		}
	}
	lines = append(lines, fmt.Sprintf("%s\t%d\t%d.25\tgzip", seg(2, 12), 1<<20, walTime(13).Unix()))
	swapped := append([]string{}, lines...)
	swapped[4], swapped[5] = swapped[5], swapped[4] // 04 after 05: Barman's file-order walk

	wantSizes := map[string]int64{
		"20260101T000000": 1<<4 | 1<<5 | 1<<6 | 1<<7 | 1<<8, // after 03, up to C's end 08
		"20260102T000000": 0,                                // FAILED
		"20260103T000000": 1<<9 | 1<<10,                     // up to D's end 0A
		"20260104T000000": 1<<11 | 1<<12,                    // to the end of timeline 1
	}
	for _, tc := range []struct {
		name, file string
		lines      []string
		// where the configuration moves the WAL directories ("" for
		// Barman's default, <backup_directory>/wals)
		walsDir, xlogdbDir string
	}{
		{name: "sorted, Barman 3.13 name", file: "wals/pg-xlog.db", lines: lines},
		{name: "five fields, as Barman 3.14 and later write", file: "wals/pg-xlog.db", lines: withField(lines, "None")},
		{name: "three fields, as Barman 1.0 wrote", file: "wals/xlog.db", lines: withoutLastField(lines)},
		{name: "sorted, older name", file: "wals/xlog.db", lines: lines},
		{name: "file order", file: "wals/xlog.db", lines: swapped},
		{name: "xlogdb_directory elsewhere", file: "xlogdb/pg-xlog.db", lines: lines, xlogdbDir: "xlogdb"},
		{name: "wals_directory elsewhere, older name", file: "archive/xlog.db", lines: lines, walsDir: "archive"},
		{name: "wals_directory elsewhere, 3.13 name there too", file: "archive/pg-xlog.db", lines: lines, walsDir: "archive"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			writeInfo(t, dir, "20260101T000000", "DONE", 2, 3)
			writeInfo(t, dir, "20260102T000000", "FAILED", 5, 5)
			writeInfo(t, dir, "20260103T000000", "DONE", 7, 8)
			writeInfo(t, dir, "20260104T000000", "WAITING_FOR_WALS", 10, 10)
			testenv.WriteFile(t, filepath.Join(dir, tc.file), strings.Join(tc.lines, "\n")+"\nnot a line\n")
			srv := &ops.BarmanServer{Name: "pg", BackupDirectory: dir}
			if tc.walsDir != "" {
				srv.WALsDirectory = filepath.Join(dir, tc.walsDir)
			}
			if tc.xlogdbDir != "" {
				srv.XLogDBDirectory = filepath.Join(dir, tc.xlogdbDir)
			}
			cat, err := ReadCatalog(srv)
			if err != nil {
				t.Fatal(err)
			}
			if !cat.WALKnown {
				t.Fatal("WALKnown is false with an xlog.db")
			}
			got := map[string]int64{}
			for _, b := range cat.Backups {
				got[b.ID] = b.WALSize
			}
			if !reflect.DeepEqual(got, wantSizes) {
				t.Errorf("WAL sizes = %v, want %v", got, wantSizes)
			}
			want := &ops.RecoveryWindow{
				Earliest:  time.Date(2026, 1, 1, 0, 3, 30, 0, time.UTC), // the oldest DONE backup's end
				Latest:    walTime(13).Add(250 * time.Millisecond),      // the newest segment, on timeline 2
				LatestWAL: seg(2, 12),
			}
			if !sameWindow(cat.Window, want) {
				t.Errorf("window = %+v, want %+v", cat.Window, want)
			}
		})
	}
}

// withField appends a field to each xlog.db line.
func withField(lines []string, field string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l + "\t" + field
	}
	return out
}

// withoutLastField drops each xlog.db line's last field (compression).
func withoutLastField(lines []string) []string {
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = l[:strings.LastIndexByte(l, '\t')]
	}
	return out
}

func TestRecoveryWindowWithoutWAL(t *testing.T) {
	dir := t.TempDir()
	writeInfo(t, dir, "20260101T000000", "FAILED", 2, 3)
	srv := &ops.BarmanServer{Name: "pg", BackupDirectory: dir}
	cat, err := ReadCatalog(srv)
	if err != nil {
		t.Fatal(err)
	}
	if cat.Window != nil || cat.WALKnown {
		t.Errorf("no DONE backup and no xlog.db: window %+v, WALKnown %v; want nil, false", cat.Window, cat.WALKnown)
	}
	writeInfo(t, dir, "20260102T000000", "DONE", 5, 6)
	writeInfo(t, dir, "20260103T000000", "DONE", 8, 9)
	if cat, err = ReadCatalog(srv); err != nil {
		t.Fatal(err)
	}
	want := &ops.RecoveryWindow{Earliest: time.Date(2026, 1, 1, 0, 6, 30, 0, time.UTC), Latest: time.Date(2026, 1, 1, 0, 9, 30, 0, time.UTC)}
	if !sameWindow(cat.Window, want) {
		t.Errorf("window = %+v, want %+v (backup ends only)", cat.Window, want)
	}
	// WAL older than the oldest DONE backup does not widen the window.
	testenv.WriteFile(t, filepath.Join(dir, "wals", "pg-xlog.db"), fmt.Sprintf("%s\t16\t%d\tNone\n", seg(1, 1), walTime(50).Unix()))
	if cat, err = ReadCatalog(srv); err != nil {
		t.Fatal(err)
	}
	if !cat.WALKnown || !sameWindow(cat.Window, want) {
		t.Errorf("window = %+v (WALKnown %v), want %+v", cat.Window, cat.WALKnown, want)
	}
}

// TestListBackupsSeesChanges: the cache never hides a change, whether a
// backup.info is rewritten (STARTED, then DONE), added or removed.
func TestListBackupsSeesChanges(t *testing.T) {
	dir := t.TempDir()
	srv := &ops.BarmanServer{Name: "pg", BackupDirectory: dir}
	status := func() string {
		t.Helper()
		list, err := ListBackups(srv)
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		for _, b := range list {
			parts = append(parts, b.ID+" "+b.Status)
		}
		return strings.Join(parts, ", ")
	}
	// Files older than the racy window, so the cache trusts their stamps.
	info := filepath.Join(dir, "meta", "20260101T000000-backup.info")
	age := func(d time.Duration) {
		t.Helper()
		if err := os.Chtimes(info, time.Now().Add(-d), time.Now().Add(-d)); err != nil {
			t.Fatal(err)
		}
	}
	writeInfo(t, dir, "20260101T000000", "STARTED", 1, 1)
	age(time.Hour)
	for range 2 { // read, then served from the cache
		if got := status(); got != "20260101T000000 STARTED" {
			t.Fatalf("catalog = %q", got)
		}
	}
	writeInfo(t, dir, "20260101T000000", "DONE", 1, 1)
	age(time.Hour - time.Second)
	writeBackupInfo(t, dir, "base", "20260102T000000", "FAILED", "None")
	if got := status(); got != "20260101T000000 DONE, 20260102T000000 FAILED" {
		t.Fatalf("after the changes, catalog = %q", got)
	}
	removeAll(t, filepath.Join(dir, "base", "20260102T000000"))
	if got := status(); got != "20260101T000000 DONE" {
		t.Fatalf("after removing a backup, catalog = %q", got)
	}
}

func removeAll(t *testing.T, path string) {
	t.Helper()
	if err := os.RemoveAll(path); err != nil {
		t.Fatal(err)
	}
}

// sameWindow compares instants, whatever the zone they are written in.
func sameWindow(a, b *ops.RecoveryWindow) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Earliest.Equal(b.Earliest) && a.Latest.Equal(b.Latest) && a.LatestWAL == b.LatestWAL
}
