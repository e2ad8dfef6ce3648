package cli_test

import (
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/cli"
	"github.com/pg-backup-api/pg-backup-api/httpd/httpdtest"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
)

// The recorded Barman 3.17 backup of db_server_two, as the catalog shows it.
const (
	fixtureBackupPlain = "20261125T080758\t-\tDONE\t2026-11-25T08:07:58Z\t2026-11-25T08:07:58Z\t000000010000000000000005\t000000010000000000000005\t1\t23232529\t-\t-\n"
	fixtureBackupJSON  = `{
  "server": "db_server_two",
  "backups": [
    {
      "backup_id": "20261125T080758",
      "name": null,
      "status": "DONE",
      "begin_time": "2026-11-25T08:07:58.14264Z",
      "end_time": "2026-11-25T08:07:58.436364Z",
      "begin_wal": "000000010000000000000005",
      "end_wal": "000000010000000000000005",
      "timeline": 1,
      "size": 23232529,
      "wal_size": null,
      "keep": null
    }
  ],
  "recovery_window": {
    "earliest": "2026-11-25T08:07:58.436364Z",
    "latest": "2026-11-25T08:07:58.436364Z",
    "latest_wal": null
  }
}
`
	fixtureShowJSON = `{
  "backup_id": "20261125T080758",
  "name": null,
  "status": "DONE",
  "begin_time": "2026-11-25T08:07:58.14264Z",
  "end_time": "2026-11-25T08:07:58.436364Z",
  "begin_wal": "000000010000000000000005",
  "end_wal": "000000010000000000000005",
  "timeline": 1,
  "size": 23232529,
  "wal_size": null,
  "keep": null
}
`
)

func TestBackupsCommand(t *testing.T) {
	e := newEnv(t, false)
	before := testenv.Snapshot(t, e.Root)
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string   // exact, when not ""
		has    []string // in stdout, or in the message for errors
	}{
		{"pipe", []string{"backups", "--server", "db_server_two"}, cli.ExitOK, fixtureBackupPlain, nil},
		{"flags first", []string{"backups", "-o", "plain", "-s", "db_server_two"}, cli.ExitOK, fixtureBackupPlain, nil},
		{"json", []string{"backups", "--server", "db_server_two", "-o", "json"}, cli.ExitOK, fixtureBackupJSON, nil},
		{"table", []string{"backups", "--server", "db_server_two", "-o", "table"}, cli.ExitOK, "",
			[]string{"22.2 MiB", "Recovery window: ", "(newest backup's end; no WAL database found)"}},
		{"show latest", []string{"backups", "show", "latest", "--server", "db_server_two"}, cli.ExitOK,
			"ID:        20261125T080758\nName:      -\nStatus:    DONE\nBegan:     2026-11-25T08:07:58Z\nEnded:     2026-11-25T08:07:58Z\n" +
				"Begin WAL: 000000010000000000000005\nEnd WAL:   000000010000000000000005\nTimeline:  1\nSize:      23232529\nWAL size:  -\nKeep:      -\n", nil},
		{"show json", []string{"backups", "show", "20261125T080758", "-o", "json", "--server", "db_server_two"}, cli.ExitOK,
			fixtureShowJSON, nil},
		{"no server", []string{"backups"}, cli.ExitUsage, "", []string{"backups needs --server NAME"}},
		{"show, no server", []string{"backups", "show", "latest"}, cli.ExitUsage, "", []string{"backups show needs --server NAME"}},
		{"show, no ID", []string{"backups", "show", "--server", "db_server_two"}, cli.ExitUsage, "", []string{"takes one backup ID"}},
		{"an argument", []string{"backups", "latest", "--server", "db_server_two"}, cli.ExitUsage, "", []string{`no arguments (got "latest")`, "backups show"}},
		{"unknown server", []string{"backups", "--server", "nope"}, cli.ExitNotFound, "", []string{`server "nope" is not in`, "known: db_server_two"}},
		{"unknown backup", []string{"backups", "show", "20990101T000000", "--server", "db_server_two"}, cli.ExitNotFound, "",
			[]string{`backup "20990101T000000" does not exist for server "db_server_two"`, "20261125T080758 DONE"}},
		{"no failed backup", []string{"backups", "show", "last-failed", "--server", "db_server_two"}, cli.ExitNotFound, "", []string{`"last-failed" does not exist`}},
		{"bad format", []string{"backups", "--server", "db_server_two", "-o", "yaml"}, cli.ExitUsage, "", []string{`unknown output format "yaml"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := e.run(t, tc.args...)
			if r.Code != tc.code {
				t.Fatalf("exit %d, want %d\n%s", r.Code, tc.code, r)
			}
			if tc.stdout != "" && r.Stdout != tc.stdout {
				t.Errorf("stdout\n%s\nwant\n%s", r.Stdout, tc.stdout)
			}
			out := r.Stdout
			if tc.code != cli.ExitOK {
				out = r.allErr()
				if r.Stdout != "" {
					t.Errorf("an error printed on stdout: %q", r.Stdout)
				}
			}
			for _, s := range tc.has {
				if !strings.Contains(out, s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
		})
	}
	if diff := testenv.DiffSnapshots(before, testenv.Snapshot(t, e.Root)); diff != "" {
		t.Errorf("reading the catalog changed files:\n%s", diff)
	}
}

// TestBackupsTableColumns: the terminal table has its header and one row a
// backup, aligned.
func TestBackupsTableColumns(t *testing.T) {
	e := newEnv(t, false)
	r := e.run(t, "backups", "--server", "db_server_two", "-o", "table")
	if r.Code != cli.ExitOK {
		t.Fatal(r)
	}
	lines := strings.Split(strings.TrimRight(r.Stdout, "\n"), "\n")
	header := regexp.MustCompile(`^ID +NAME +STATUS +BEGAN +ENDED +BEGIN WAL +END WAL +TLI +SIZE +WAL SIZE +KEEP$`)
	if len(lines) != 4 || !header.MatchString(lines[0]) || lines[2] != "" {
		t.Fatalf("table:\n%s", r.Stdout)
	}
	row := regexp.MustCompile(`^20261125T080758 +- +DONE +2026-11-2[45] \d\d:\d\d:58 +2026-11-2[45] \d\d:\d\d:58 +000000010000000000000005 +000000010000000000000005 +1 +22\.2 MiB +- +-$`)
	if !row.MatchString(lines[1]) {
		t.Errorf("row %q does not match %s", lines[1], row)
	}
	if i := strings.Index(lines[0], "STATUS"); i != strings.Index(lines[1], "DONE") {
		t.Errorf("STATUS at %d, DONE at %d: not aligned\n%s", i, strings.Index(lines[1], "DONE"), r.Stdout)
	}
}

// TestBackupsKeep: a kept backup shows its keep annotation's target in
// every format, locally and through a server alike; the others show none.
func TestBackupsKeep(t *testing.T) {
	e := newEnv(t, false)
	testenv.WriteFile(t, filepath.Join(e.Home, "db_server_two", "meta", "20261125T080758-keep"), "standalone")
	srv := httpdtest.Reader(t, e.Conf)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"backups", "--server", "db_server_two"}, strings.Replace(fixtureBackupPlain, "\t-\n", "\tstandalone\n", 1)},
		{[]string{"backups", "--server", "db_server_two", "-o", "json"}, strings.Replace(fixtureBackupJSON, `"keep": null`, `"keep": "standalone"`, 1)},
		{[]string{"backups", "show", "latest", "--server", "db_server_two", "-o", "json"}, strings.Replace(fixtureShowJSON, `"keep": null`, `"keep": "standalone"`, 1)},
	} {
		for _, remote := range []bool{false, true} {
			var r result
			if remote {
				r = runApp(t, "", append(tc.args, "--url", srv.URL)...)
			} else {
				r = e.run(t, tc.args...)
			}
			if r.Code != cli.ExitOK || r.Stdout != tc.want {
				t.Errorf("%q (remote %v): exit %d\n%s\nwant\n%s", tc.args, remote, r.Code, r.Stdout, tc.want)
			}
		}
	}
	r := e.run(t, "backups", "show", "latest", "--server", "db_server_two")
	if !strings.Contains(r.Stdout, "\nKeep:      standalone\n") {
		t.Errorf("backups show does not show the keep:\n%s", r.Stdout)
	}
}

// TestBackupsRemote: through a server (--url) the command prints what it
// prints locally, in every format, and errors keep their exit codes.
func TestBackupsRemote(t *testing.T) {
	e := newEnv(t, false)
	srv := httpdtest.Reader(t, e.Conf)
	for _, args := range [][]string{
		{"backups", "--server", "db_server_two"},
		{"backups", "--server", "db_server_two", "-o", "json"},
		{"backups", "--server", "db_server_two", "-o", "table"},
		{"backups", "show", "latest", "--server", "db_server_two"},
		{"backups", "show", "oldest", "--server", "db_server_two", "-o", "json"},
	} {
		local := e.run(t, args...)
		remote := runApp(t, "", append(args, "--url", srv.URL)...)
		if local.Code != cli.ExitOK || !reflect.DeepEqual(local, remote) {
			t.Errorf("%q: local and remote differ\nlocal: %s\nremote: %s", args, local, remote)
		}
	}
	for _, tc := range []struct {
		args []string
		code int
		has  string
	}{
		{[]string{"backups", "--server", "nope"}, cli.ExitNotFound, "known: db_server_two"},
		{[]string{"backups", "show", "20990101T000000", "--server", "db_server_two"}, cli.ExitNotFound, "20261125T080758 DONE"},
	} {
		r := runApp(t, "", append(tc.args, "--url", srv.URL)...)
		if r.Code != tc.code || !strings.Contains(r.allErr(), tc.has) {
			t.Errorf("%q: exit %d, want %d with %q\n%s", tc.args, r.Code, tc.code, tc.has, r)
		}
	}
}
