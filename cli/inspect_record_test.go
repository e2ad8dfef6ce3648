package cli_test

import (
	"os/user"
	"reflect"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
)

// TestInspectShowsRecordAndArgv: inspect shows the backup a shortcut
// resolved to, who asked, and the argv that runs Barman (passwords
// masked), which were only in the job file and runner.err; -o json too.
func TestInspectShowsRecordAndArgv(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	r := e.run(t, "create", "recovery", "-s", "db_server_two", "-b", "latest", "--remote-ssh-command", "ssh postgres@db2", "-d", "/srv/pg", "--wait")
	if r.Code != 0 {
		t.Fatalf("create: %s", r)
	}
	id := strings.TrimSpace(strings.SplitN(r.Stdout, "\n", 2)[0])
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	r = e.run(t, "inspect", "db_server_two/"+id)
	if r.Code != 0 {
		t.Fatalf("inspect: %s", r)
	}
	for _, want := range []string{
		"\nBackup:    20261125T080758\n",
		"\nBy:        cli:" + me.Username + "\n",
		"\nBarman:    " + fakeBarman + " -c " + e.Conf + " recover db_server_two 20261125T080758 /srv/pg '--remote-ssh-command=ssh postgres@db2'\n",
	} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("inspect lacks %q:\n%s", want, r.Stdout)
		}
	}

	r = e.run(t, "inspect", "db_server_two/"+id, "-o", "json")
	var j struct {
		ResolvedBackupID string   `json:"resolved_backup_id"`
		RequestedBy      string   `json:"requested_by"`
		BarmanArgv       []string `json:"barman_argv"`
	}
	decodeJSON(t, r.Stdout, &j)
	want := []string{fakeBarman, "-c", e.Conf, "recover", "db_server_two", "20261125T080758", "/srv/pg", "--remote-ssh-command=ssh postgres@db2"}
	if j.ResolvedBackupID != "20261125T080758" || j.RequestedBy != "cli:"+me.Username || !reflect.DeepEqual(j.BarmanArgv, want) {
		t.Errorf("inspect -o json: %+v, want argv %q", j, want)
	}
}

// TestCreateDryRun: create --dry-run checks the request, prints the
// operation and Barman's argv and records nothing; a refused request is
// refused as create refuses it.
func TestCreateDryRun(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	before := testenv.Snapshot(t, e.Root)
	r := e.run(t, "create", "recovery", "-s", "db_server_two", "-b", "latest", "--remote-ssh-command", "ssh postgres@db2", "-d", "/srv/pg", "--dry-run")
	if r.Code != 0 {
		t.Fatalf("dry run: %s", r)
	}
	wantLine := "Barman:    " + fakeBarman + " -c " + e.Conf + " recover db_server_two 20261125T080758 /srv/pg '--remote-ssh-command=ssh postgres@db2'\n"
	if !strings.Contains(r.Stdout, "nothing was recorded") || !strings.Contains(r.Stdout, wantLine) || !strings.Contains(r.Stdout, "Backup:    20261125T080758\n") {
		t.Errorf("dry run printed:\n%s\nwant a line %q", r.Stdout, wantLine)
	}

	r = e.run(t, "create", "config-update", "--changes", `[{"scope": "server", "server_name": "db_server_two", "conninfo": "host=db1 password=s3cretOne"}]`, "--dry-run", "-o", "json")
	if r.Code != 0 {
		t.Fatalf("dry run: %s", r)
	}
	var j struct {
		DryRun    bool `json:"dry_run"`
		Operation struct {
			Server     *string  `json:"server"`
			Type       string   `json:"type"`
			BarmanArgv []string `json:"barman_argv"`
		} `json:"operation"`
	}
	decodeJSON(t, r.Stdout, &j)
	if !j.DryRun || j.Operation.Server != nil || j.Operation.Type != "config_update" || len(j.Operation.BarmanArgv) < 4 || j.Operation.BarmanArgv[3] != "config-update" {
		t.Errorf("dry run -o json: %s", r.Stdout)
	}
	if strings.Contains(r.Stdout, "s3cretOne") {
		t.Errorf("dry run shows the password: %s", r.Stdout)
	}

	r = e.run(t, "create", "recovery", "-s", "db_server_two", "-b", "20990101T000000", "--remote-ssh-command", "ssh x", "-d", "/d", "--dry-run")
	if r.Code == 0 || !strings.Contains(r.allErr(), "20990101T000000") {
		t.Errorf("dry run of an unknown backup: %s", r)
	}
	r = e.run(t, "create", "backup", "-s", "db_server_two", "--dry-run", "--wait")
	if r.Code != 2 {
		t.Errorf("--dry-run --wait: %s, want a usage error", r)
	}
	if d := testenv.DiffSnapshots(before, testenv.Snapshot(t, e.Root)); d != "" {
		t.Errorf("a dry run wrote:\n%s", d)
	}
}
