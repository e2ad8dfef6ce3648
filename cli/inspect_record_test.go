package cli_test

import (
	"os/user"
	"reflect"
	"strings"
	"testing"
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
