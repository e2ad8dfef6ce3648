package cli

import (
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

func doctorDrillsReport(t *testing.T, dir string, free uint64, tweak ...func(*ops.BarmanConfig)) string {
	t.Helper()
	return doctorDrillsReportOf(t, &FileConfig{Drills: DrillsConfig{Directory: dir}}, free, tweak...)
}

func doctorDrillsReportOf(t *testing.T, file *FileConfig, free uint64, tweak ...func(*ops.BarmanConfig)) string {
	t.Helper()
	b := testenv.NewBarman(t, "barman-3.17") // db_server_two: a DONE backup of PostgreSQL 15 (version=150018), 22.2 MiB
	cfg, err := barman.LoadConfig(b.Conf)
	if err != nil {
		t.Fatal(err)
	}
	if os.Geteuid() == 0 {
		// As root, doctor checks the directory for Barman's user; the
		// test's directories are root's.
		cfg.BarmanUser = "root"
	}
	for _, f := range tweak {
		f(cfg)
	}
	old := ops.FreeBytes
	ops.FreeBytes = func(string) (uint64, error) { return free, nil }
	t.Cleanup(func() { ops.FreeBytes = old })
	r := &doctorReport{}
	doctorDrills(r, file, cfg)
	var lines []string
	for _, c := range r.checks {
		lines = append(lines, c.Status+" "+c.Check+": "+c.Message)
	}
	return strings.Join(lines, "\n")
}

func TestDoctorDrills(t *testing.T) {
	bin := t.TempDir()
	old := doctorPostgresBin
	doctorPostgresBin = filepath.Join(bin, "%s", "bin")
	t.Cleanup(func() { doctorPostgresBin = old })
	dir := t.TempDir()

	if got := doctorDrillsReport(t, "", 0); got != "ok drills: not configured ([drills] directory is unset): drills are refused" {
		t.Errorf("unconfigured: %s", got)
	}
	got := doctorDrillsReport(t, filepath.Join(dir, "nosuch"), 0)
	if !strings.Contains(got, "fail drills: [drills] directory "+filepath.Join(dir, "nosuch")+": no such file or directory; create it") {
		t.Errorf("missing directory: %s", got)
	}
	got = doctorDrillsReport(t, dir, 1<<30)
	for _, want := range []string{
		"ok drills: [drills] directory " + dir + " exists, 1.0 GiB free",
		"fail drills: server db_server_two: its newest backup 20261125T080758 is of PostgreSQL 15, whose server " + filepath.Join(bin, "15", "bin", "postgres") + " is not installed: install postgresql-15",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
	os.MkdirAll(filepath.Join(bin, "15", "bin"), 0o755)
	os.WriteFile(filepath.Join(bin, "15", "bin", "postgres"), nil, 0o755)
	got = doctorDrillsReport(t, dir, 1<<20)
	for _, want := range []string{
		"ok drills: server db_server_two: PostgreSQL 15's server for its newest backup 20261125T080758 is installed",
		"warn drills: server db_server_two: its newest backup 20261125T080758 needs 22.2 MiB (the backup and its WAL), more than the 1.0 MiB free in " + dir + ": a drill of it would be refused",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("report lacks %q:\n%s", want, got)
		}
	}
}

// A drills directory too long for a drill's PostgreSQL socket fails the
// check for each server, with the length the directory may have.
func TestDoctorDrillsSocketTooLong(t *testing.T) {
	long := filepath.Join(t.TempDir(), strings.Repeat("d", 90))
	if err := os.Mkdir(long, 0o700); err != nil {
		t.Fatal(err)
	}
	got := doctorDrillsReport(t, long, 1<<30)
	if !strings.Contains(got, "fail drills: a drill of server \"db_server_two\" cannot run under [drills] directory "+long) ||
		!strings.Contains(got, "at most 107 bytes") || !strings.Contains(got, "set a shorter [drills] directory") {
		t.Errorf("report:\n%s", got)
	}
}

func TestBackupMajor(t *testing.T) {
	dir := t.TempDir()
	for v, want := range map[string]string{"150005": "15", "90624": "9.6", "100000": "10", "x": "", "": ""} {
		p := filepath.Join(dir, "backup.info")
		os.WriteFile(p, []byte("status=DONE\nversion="+v+"\n"), 0o600)
		if got := backupMajor(p); got != want {
			t.Errorf("version=%s: major %q, want %q", v, got, want)
		}
	}
}

// A drills directory that the user drills run as cannot write to fails
// the check: every drill would be recorded, then fail at its first step.
func TestDoctorDrillsDirectoryNotWritable(t *testing.T) {
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o500); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Chmod(dir, 0o700) })
	who := ""
	got := doctorDrillsReport(t, dir, 1<<30, func(cfg *ops.BarmanConfig) {
		if os.Geteuid() == 0 {
			cfg.BarmanUser = "nobody" // root may write anywhere; Barman's user may not
			who = "nobody"
		}
	})
	if who == "" {
		me, err := user.Current()
		if err != nil {
			t.Fatal(err)
		}
		who = me.Username
	}
	want := "fail drills: [drills] directory " + dir + " is not writable by " + who + ", whom drills run as"
	if !strings.Contains(got, want) || strings.Contains(got, "ok drills: [drills] directory") {
		t.Errorf("report lacks %q:\n%s", want, got)
	}
}

// The room a drill needs is the backup and its WAL, as a create counts it:
// doctor warns when the WAL tips it over, rather than pass a directory
// whose drills would be refused.
func TestDoctorDrillsCountsWAL(t *testing.T) {
	bin := t.TempDir()
	old := doctorPostgresBin
	doctorPostgresBin = filepath.Join(bin, "%s", "bin")
	t.Cleanup(func() { doctorPostgresBin = old })
	dir := t.TempDir()
	// 22.2 MiB of backup and the two 16 MiB segments archived after it
	// (Barman's wal_size): 54.2 MiB.
	got := doctorDrillsReport(t, dir, 40<<20, func(cfg *ops.BarmanConfig) {
		srv := cfg.Servers["db_server_two"]
		db := filepath.Join(srv.XLogDBDir(), srv.Name+"-xlog.db")
		if err := os.MkdirAll(filepath.Dir(db), 0o700); err != nil {
			t.Fatal(err)
		}
		wal := "000000010000000000000005 16777216 1795680478.5 None\n000000010000000000000006 16777216 1795680500.0 None\n000000010000000000000007 16777216 1795680600.0 None\n"
		if err := os.WriteFile(db, []byte(wal), 0o600); err != nil {
			t.Fatal(err)
		}
	})
	want := "warn drills: server db_server_two: its newest backup 20261125T080758 needs 54.2 MiB (the backup and its WAL), more than the 40.0 MiB free in " + dir
	if !strings.Contains(got, want) {
		t.Errorf("report lacks %q:\n%s", want, got)
	}
}

// A schedule of a server Barman's configuration lacks fails the check, as
// it stops serve from starting; doctor passed it.
func TestDoctorDrillsScheduleUnknownServer(t *testing.T) {
	dir := t.TempDir()
	file := &FileConfig{Drills: DrillsConfig{Directory: dir, Schedule: []DrillScheduleConfig{{Server: "db_server_two"}, {Server: "nosuch"}}}}
	got := doctorDrillsReportOf(t, file, 1<<30)
	want := `fail drills: drills.schedule[1]: server "nosuch" is not in `
	if !strings.Contains(got, want) || !strings.Contains(got, "(known: db_server_two); serve refuses to start (or reload) with it") || strings.Contains(got, "drills.schedule[0]") {
		t.Errorf("report lacks %q:\n%s", want, got)
	}
}
