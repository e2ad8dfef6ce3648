package barman

import (
	"fmt"
	"github.com/pg-backup-api/pg-backup-api/ops/opstest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

func TestListBackupsFixtures(t *testing.T) {
	tests := []struct {
		fixture, server, id, layout string
		begin, end                  string // as backup.info writes them
		wal                         string // begin_wal = end_wal
		endLSN                      string // end_xlog
		size                        int64
	}{
		{"barman-3.17", "db_server_two", "20261125T080758", "meta/20261125T080758-backup.info",
			"2026-11-25 08:07:58.142640+00:00", "2026-11-25 08:07:58.436364+00:00", "000000010000000000000005", "0/6000000", 23232529},
		{"barman-3.4", "pg", "20261125T080951", "base/20261125T080951/backup.info",
			"2026-11-25 08:09:51.336701+00:00", "2026-11-25 08:09:51.612384+00:00", "000000010000000000000008", "0/9000000", 23233183},
	}
	for _, tc := range tests {
		t.Run(tc.fixture, func(t *testing.T) {
			env := testenv.NewBarman(t, tc.fixture)
			cfg, err := LoadConfig(env.Conf)
			if err != nil {
				t.Fatal(err)
			}
			srv, err := cfg.Server(tc.server)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ListBackups(srv)
			if err != nil {
				t.Fatal(err)
			}
			want := []ops.CatalogBackup{{ID: tc.id, Status: ops.BackupDone, Path: filepath.Join(env.Home, tc.server, tc.layout),
				BeginTime: parseInfoTime(tc.begin), EndTime: parseInfoTime(tc.end), BeginWAL: tc.wal, EndWAL: tc.wal, EndLSN: tc.endLSN, Timeline: 1, Size: tc.size,
				// Both fixtures write tablespaces=None: known, none.
				Tablespaces: []string{}, TablespacesKnown: true, WALSegmentSize: 16 << 20}}
			if want[0].BeginTime.IsZero() || want[0].EndTime.IsZero() || want[0].Size == 0 {
				t.Fatalf("the expected times %q, %q or size %d do not parse", tc.begin, tc.end, tc.size)
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("ListBackups = %+v, want %+v", got, want)
			}
			for _, ref := range []string{tc.id, "latest", "last", "oldest", "first"} {
				b, err := ResolveBackup(srv, ref)
				if err != nil || b.ID != tc.id {
					t.Errorf("ResolveBackup(%q) = %+v, %v; want %s", ref, b, err, tc.id)
				}
			}
			_, err = ResolveBackup(srv, "last-failed")
			opstest.WantError(t, err, ops.ENOTFOUND, `backup "last-failed" does not exist for server "`+tc.server+`"`, tc.id+" DONE")

			// The recorded fixtures hold no WAL database: the catalog
			// says so and the window is the one backup's end.
			cat, err := ReadCatalog(srv)
			if err != nil {
				t.Fatal(err)
			}
			if cat.Server != tc.server || cat.WALKnown || !reflect.DeepEqual(cat.Backups, want) {
				t.Errorf("ReadCatalog = %+v, want server %s, WALKnown false, backups %+v", cat, tc.server, want)
			}
			wantWindow := &ops.RecoveryWindow{Earliest: want[0].EndTime, Latest: want[0].EndTime}
			if !reflect.DeepEqual(cat.Window, wantWindow) {
				t.Errorf("window = %+v, want %+v", cat.Window, wantWindow)
			}
		})
	}
}

// writeBackupInfo adds one backup to a catalog in the given layout.
func writeBackupInfo(t *testing.T, dir, layout, id, status, name string) {
	t.Helper()
	content := fmt.Sprintf("backup_label=None\nbackup_name=%s\nbegin_time=2026-01-01 00:00:00+00:00\nstatus=%s\nserver_name=s\n", name, status)
	var path string
	switch layout {
	case "meta":
		path = filepath.Join(dir, "meta", id+"-backup.info")
	case "base":
		path = filepath.Join(dir, "base", id, "backup.info")
	default:
		t.Fatalf("unknown layout %q", layout)
	}
	testenv.WriteFile(t, path, content)
}

func TestResolveBackupSynthetic(t *testing.T) {
	// The catalog, oldest first. Both layouts are mixed on purpose: Barman
	// moves old base/ files to meta/, so a server can have both.
	catalog := []struct{ layout, id, status, name string }{
		{"base", "20260101T000000", "FAILED", "None"},
		{"meta", "20260102T000000", "DONE", "first-good"},
		{"base", "20260103T000000", "FAILED", "None"},
		{"meta", "20260104T000000", "DONE", "None"},
		{"base", "20260105T000000", "DONE", "weekly"},
		{"meta", "20260106T000000", "FAILED", "broken"},
		{"meta", "20260107T000000", "STARTED", "None"},
	}
	dir := t.TempDir()
	for _, b := range catalog {
		writeBackupInfo(t, dir, b.layout, b.id, b.status, b.name)
	}
	// Noise that is not a backup.
	testenv.WriteFile(t, filepath.Join(dir, "meta", "README"), "x")
	testenv.WriteFile(t, filepath.Join(dir, "meta", "-backup.info"), "status=DONE\n")
	testenv.WriteFile(t, filepath.Join(dir, "base", "stray-file"), "status=DONE\n")
	if err := os.MkdirAll(filepath.Join(dir, "base", "20260108T000000"), 0o755); err != nil { // no backup.info
		t.Fatal(err)
	}
	srv := &ops.BarmanServer{Name: "s", Cluster: "s", BackupDirectory: dir}

	list, err := ListBackups(srv)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != len(catalog) {
		t.Fatalf("ListBackups returned %d backups, want %d: %+v", len(list), len(catalog), list)
	}
	for i, b := range catalog {
		wantName := b.name
		if wantName == "None" {
			wantName = ""
		}
		if list[i].ID != b.id || list[i].Status != b.status || list[i].Name != wantName {
			t.Errorf("backup %d = %+v, want id %s status %s name %q", i, list[i], b.id, b.status, wantName)
		}
	}

	tests := []struct {
		ref    string
		wantID string // "" for not found
	}{
		{"latest", "20260105T000000"},
		{"last", "20260105T000000"},
		{"oldest", "20260102T000000"},
		{"first", "20260102T000000"},
		{"last-failed", "20260106T000000"},
		{"20260103T000000", "20260103T000000"}, // by ID, whatever its status
		{"20260107T000000", "20260107T000000"},
		{"weekly", "20260105T000000"}, // by backup_name
		{"first-good", "20260102T000000"},
		{"broken", "20260106T000000"},
		{"None", ""}, // the Python repr of "no name" is not a name
		{"", ""},
		{"20260108T000000", ""}, // a directory without backup.info
		{"2026", ""},
		{"LATEST", ""},
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			b, err := ResolveBackup(srv, tc.ref)
			if tc.wantID == "" {
				// A few of the newest are named, not all of them.
				opstest.WantError(t, err, ops.ENOTFOUND, fmt.Sprintf("backup %q does not exist for server %q", tc.ref, "s"),
					"(backups: 20260103T000000 FAILED, 20260104T000000 DONE", "20260107T000000 STARTED, and 2 older; `pg-backup-api backups --server s` lists them all)")
				if strings.Contains(err.Error(), "20260101T000000") {
					t.Errorf("error %q names the oldest backup; it should name only the 5 newest", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ResolveBackup(%q): %v", tc.ref, err)
			}
			if b.ID != tc.wantID {
				t.Errorf("ResolveBackup(%q) = %s, want %s", tc.ref, b.ID, tc.wantID)
			}
		})
	}
}

func TestResolveBackupPrefersMetaOverBase(t *testing.T) {
	dir := t.TempDir()
	writeBackupInfo(t, dir, "base", "20260101T000000", "FAILED", "old")
	writeBackupInfo(t, dir, "meta", "20260101T000000", "DONE", "new")
	list, err := ListBackups(&ops.BarmanServer{Name: "s", BackupDirectory: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 1 || list[0].Status != "DONE" || list[0].Name != "new" || filepath.Base(filepath.Dir(list[0].Path)) != "meta" {
		t.Errorf("ListBackups = %+v, want the meta/ copy only", list)
	}
}

func TestResolveBackupEmptyCatalog(t *testing.T) {
	for _, name := range []string{"missing", "empty"} {
		t.Run(name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "catalog")
			if name == "empty" {
				for _, d := range []string{"meta", "base"} {
					if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
						t.Fatal(err)
					}
				}
			}
			srv := &ops.BarmanServer{Name: "pg", BackupDirectory: dir}
			list, err := ListBackups(srv)
			if err != nil || len(list) != 0 {
				t.Fatalf("ListBackups = %+v, %v; want empty", list, err)
			}
			for _, ref := range []string{"latest", "oldest", "last-failed", "20260101T000000"} {
				_, err := ResolveBackup(srv, ref)
				opstest.WantError(t, err, ops.ENOTFOUND, fmt.Sprintf("backup %q does not exist for server \"pg\" (backups: none in the catalog)", ref))
			}
		})
	}
}

func TestListBackupsUnreadableCatalog(t *testing.T) {
	dir := t.TempDir()
	// meta is a file, not a directory: reading it must fail loudly, not
	// look like an empty catalog.
	testenv.WriteFile(t, filepath.Join(dir, "meta"), "not a directory")
	_, err := ListBackups(&ops.BarmanServer{Name: "pg", BackupDirectory: dir})
	opstest.WantError(t, err, ops.EUNAVAILABLE, `cannot read backup catalog of server "pg"`)

	dir = t.TempDir()
	// A backup.info that is a directory cannot be read.
	if err := os.MkdirAll(filepath.Join(dir, "meta", "20260101T000000-backup.info", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeBackupInfo(t, dir, "base", "20260102T000000", "DONE", "None")
	if err := os.MkdirAll(filepath.Join(dir, "base", "20260103T000000", "backup.info"), 0o755); err != nil {
		t.Fatal(err)
	}
	_, err = ListBackups(&ops.BarmanServer{Name: "pg", BackupDirectory: dir})
	opstest.WantError(t, err, ops.EUNAVAILABLE, `cannot read backup catalog of server "pg"`)
}

func TestParseBackupInfo(t *testing.T) {
	data := "status=DONE\nbackup_label='a=b\\nc'\n  spaced  =  value  \nno separator\nempty=\nbackup_name=None\n"
	got := ParseBackupInfo([]byte(data))
	want := map[string]string{
		"status":       "DONE",
		"backup_label": `'a=b\nc'`,
		"spaced":       "value",
		"empty":        "",
		"backup_name":  "None",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseBackupInfo = %q, want %q", got, want)
	}
	// The real fixture file.
	info := ParseBackupInfo([]byte(testenv.ReadFile(t, testenv.Fixture(t, "barman-3.17", "barman_home", "db_server_two", "meta", "20261125T080758-backup.info"))))
	for k, v := range map[string]string{"status": "DONE", "server_name": "db_server_two", "end_wal": "000000010000000000000005", "parent_backup_id": "None"} {
		if info[k] != v {
			t.Errorf("fixture backup.info: %s = %q, want %q", k, info[k], v)
		}
	}
}

// basebackups_directory moves the older layout; Barman reads only there.
func TestListBackupsFollowsBasebackupsDirectory(t *testing.T) {
	dir := t.TempDir()
	info := "backup_name=None\nstatus=DONE\nbegin_time=2026-01-01 00:00:00+00:00\nend_time=2026-01-01 00:00:30+00:00\n"
	testenv.WriteFile(t, filepath.Join(dir, "elsewhere", "20260101T000000", "backup.info"), info)
	testenv.WriteFile(t, filepath.Join(dir, "base", "20250101T000000", "backup.info"), info) // not Barman's any more
	srv := &ops.BarmanServer{Name: "pg", BackupDirectory: dir, BaseBackupsDirectory: filepath.Join(dir, "elsewhere")}
	got, err := ListBackups(srv)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || got[0].ID != "20260101T000000" {
		t.Errorf("ListBackups = %+v, want only 20260101T000000 from basebackups_directory", got)
	}
}

// TestListBackupsKeepAnnotation: the catalog reads each backup's keep
// annotation as `barman keep` writes it (the target, no newline): in
// meta/<ID>-keep since Barman 3.13.3, in <ID>/annotations/keep before, on
// the recorded fixtures of both layouts; and where a Barman 3.13.3 has not
// yet moved an older annotation, in the old place.
func TestListBackupsKeepAnnotation(t *testing.T) {
	tests := []struct {
		fixture, server, id string
		annotation, content string // relative to the server's backup directory
		want                string
	}{
		{"barman-3.17", "db_server_two", "20261125T080758", "meta/20261125T080758-keep", "full", "full"},
		{"barman-3.17", "db_server_two", "20261125T080758", "meta/20261125T080758-keep", "standalone", "standalone"},
		{"barman-3.17", "db_server_two", "20261125T080758", "base/20261125T080758/annotations/keep", "standalone", "standalone"},
		{"barman-3.17", "db_server_two", "20261125T080758", "meta/20261125T080758-keep", "", "unknown"},
		{"barman-3.17", "db_server_two", "20261125T080758", "meta/20261125T080758-backup.info.keep", "full", ""},
		{"barman-3.4", "pg", "20261125T080951", "base/20261125T080951/annotations/keep", "full", "full"},
		{"barman-3.4", "pg", "20261125T080951", "base/20261125T080951/annotations/keep", "standalone\n", "standalone"},
		{"barman-3.4", "pg", "20261125T080951", "base/20261125T080951/annotations/other", "full", ""},
		{"barman-3.4", "pg", "20261125T080951", "", "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.fixture+"/"+tc.annotation+"="+tc.content, func(t *testing.T) {
			env := testenv.NewBarman(t, tc.fixture)
			cfg, err := LoadConfig(env.Conf)
			if err != nil {
				t.Fatal(err)
			}
			srv, err := cfg.Server(tc.server)
			if err != nil {
				t.Fatal(err)
			}
			if tc.annotation != "" {
				testenv.WriteFile(t, filepath.Join(srv.BackupDirectory, tc.annotation), tc.content)
			}
			got, err := ListBackups(srv)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 1 || got[0].ID != tc.id || got[0].Keep != tc.want {
				t.Fatalf("ListBackups = %+v, want %s with keep %q", got, tc.id, tc.want)
			}
			// Read again: the backup.info cache must not keep a stale
			// annotation once it is released.
			if tc.annotation != "" {
				if err := os.Remove(filepath.Join(srv.BackupDirectory, tc.annotation)); err != nil {
					t.Fatal(err)
				}
				if got, err = ListBackups(srv); err != nil || got[0].Keep != "" {
					t.Fatalf("after the annotation is removed: ListBackups = %+v, %v; want no keep", got, err)
				}
			}
		})
	}
}
