package ops_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

// A socket path of 107 bytes is the longest the kernel takes (sun_path is
// 108 with its NUL); one byte more is refused, naming the path, its length,
// the limit and the fix. Before an operation has an ID, the longest ID the
// store gives (20 bytes) is assumed.
func TestCheckDrillSocketLimit(t *testing.T) {
	const id = "20261125T080758-0001" // the longest ID the store gives
	rest := len("/db/" + id + "/.s.PGSQL.5432")
	at := "/" + strings.Repeat("d", ops.MaxSocketPath-rest-1) // socket path of exactly 107 bytes
	if got := len(ops.DrillSocketPath(ops.DrillDir(at, "db", id))); got != ops.MaxSocketPath {
		t.Fatalf("the test's path is %d bytes, want %d", got, ops.MaxSocketPath)
	}
	for _, which := range []string{id, ""} {
		if err := ops.CheckDrillSocket(at, "db", which); err != nil {
			t.Errorf("id %q: a 107-byte socket path is refused: %v", which, err)
		}
	}
	over := at + "x"
	for _, c := range []struct{ id, path string }{
		{id, filepath.Join(over, "db", id, ".s.PGSQL.5432")},
		{"", filepath.Join(over, "db", "<operation ID>", ".s.PGSQL.5432")},
	} {
		err := ops.CheckDrillSocket(over, "db", c.id)
		if err == nil {
			t.Fatalf("id %q: a 108-byte socket path is accepted", c.id)
		}
		msg := ops.ErrorMessage(err)
		for _, want := range []string{c.path, "would be 108 bytes long", "at most 107 bytes", "set a shorter [drills] directory (at most " + fmt.Sprint(len(at)) + " bytes for this server)"} {
			if !strings.Contains(msg, want) {
				t.Errorf("id %q: the error lacks %q: %s", c.id, want, msg)
			}
		}
		if ops.ErrorCode(err) != ops.EUNAVAILABLE {
			t.Errorf("id %q: error code %s, want %s", c.id, ops.ErrorCode(err), ops.EUNAVAILABLE)
		}
	}
	// A server name that leaves no room for any directory says so.
	long := strings.Repeat("s", 100)
	if err := ops.CheckDrillSocket("/d", long, ""); err == nil || !strings.Contains(ops.ErrorMessage(err), "the server's name alone is too long") {
		t.Errorf("a 100-byte server name: %v", err)
	}
}
