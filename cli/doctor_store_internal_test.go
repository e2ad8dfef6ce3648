package cli

import (
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestDoctorStoreOwner: operation files of any scope that the runners'
// user does not own fail the check, which names them and the chown that
// fixes it; Barman's own directories beside them are not looked at.
func TestDoctorStoreOwner(t *testing.T) {
	home := t.TempDir()
	for _, p := range []string{"jobs/20261206T010203.json", "db1/output/20261206T010203.json", "db1/.pg-backup-api/index", "db1/base/20261206T000000/backup.info"} {
		path := filepath.Join(home, p)
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte("{}"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	me := strconv.Itoa(os.Geteuid())
	owner := &user.User{Uid: me, Username: "owner"}
	foreign, _, err := foreignStoreEntries(home, owner)
	if err != nil || len(foreign) != 0 {
		t.Fatalf("every file is the owner's, yet: %v %v", foreign, err)
	}
	stranger := &user.User{Uid: "4242424", Username: "barman-test"}
	foreign, roots, err := foreignStoreEntries(home, stranger)
	if err != nil {
		t.Fatal(err)
	}
	joined := strings.Join(foreign, "\n")
	for _, want := range []string{filepath.Join(home, "jobs", "20261206T010203.json"), filepath.Join(home, "db1", "output"), filepath.Join(home, "db1", ".pg-backup-api", "index")} {
		if !strings.Contains(joined, want) {
			t.Errorf("%s not reported:\n%s", want, joined)
		}
	}
	if strings.Contains(joined, "base") {
		t.Errorf("Barman's own directory reported:\n%s", joined)
	}
	wantRoots := []string{filepath.Join(home, "jobs"), filepath.Join(home, "db1", "output"), filepath.Join(home, "db1", ".pg-backup-api")}
	if strings.Join(roots, " ") != strings.Join(wantRoots, " ") {
		t.Errorf("roots %v, want %v", roots, wantRoots)
	}

	// The report: one failed check naming the count, the user and the fix.
	r := &doctorReport{}
	reportStoreOwner(r, home, stranger)
	if len(r.checks) != 1 || r.checks[0].Status != checkFail || !strings.HasPrefix(r.checks[0].Message, "6 files and directories of the operations") ||
		!strings.Contains(r.checks[0].Message, "are not barman-test's") || !strings.Contains(r.checks[0].Message, "chown -R barman-test: "+filepath.Join(home, "jobs")) {
		t.Errorf("report: %+v", r.checks)
	}
	r = &doctorReport{}
	reportStoreOwner(r, home, owner)
	if len(r.checks) != 1 || r.checks[0].Status != checkOK {
		t.Errorf("report for the owner: %+v", r.checks)
	}
}
