package cli_test

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
)

// TestBarmanUserCheck: running as anyone but Barman's barman_user warns on
// create, and --require-barman-user refuses before anything is written.
func TestBarmanUserCheck(t *testing.T) {
	e := newEnv(t, false)
	conf, err := os.ReadFile(e.Conf)
	if err != nil {
		t.Fatal(err)
	}
	// "nobody" exists on every Debian machine and is never who runs tests.
	other := strings.Replace(string(conf), "barman_user = ", "barman_user = nobody\n#", 1)
	if err := os.WriteFile(e.Conf, []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	change := `[{"scope": "server", "server_name": "db_server_two", "archiver": "on"}]`

	r := e.exec(t, nil, "", "create", "config-update", "--changes", change)
	if r.Code != 0 || !strings.Contains(r.allErr(), "not as Barman's user nobody") {
		t.Errorf("create as another user: %v; want exit 0 and a warning naming nobody", r)
	}
	e.waitIdle(t, 30*time.Second)
	before := testenv.Snapshot(t, e.Home)
	r = e.exec(t, nil, "", "--require-barman-user", "create", "config-update", "--changes", change)
	if r.Code != 2 || !strings.Contains(r.allErr(), "refusing") {
		t.Errorf("--require-barman-user: %v; want exit 2 and a refusal", r)
	}
	if after := testenv.Snapshot(t, e.Home); !reflect.DeepEqual(before, after) {
		t.Errorf("a refused create changed the store")
	}
}
