package cli_test

import (
	"net/http/httptest"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/cli"
	"github.com/pg-backup-api/pg-backup-api/httpd/httpdtest"
)

// One view over several Barman hosts: list, status, backups and inspect
// with -r a,b or -r all, against serves in this process.

// fleetEnv is a config file with remotes east and west, answering over two
// stores with the reference operations, and down, which nobody answers for.
func fleetEnv(t *testing.T) (e *env, config string, east, west *httptest.Server, downURL string) {
	t.Helper()
	e = newEnv(t, true)
	e2 := newEnv(t, true)
	east, west = httpdtest.Reader(t, e.Conf), httpdtest.Reader(t, e2.Conf)
	downURL = closedURL(t)
	config = writeFile(t, e.Root, "fleet.toml",
		"[remotes.west]\nurl = \""+west.URL+"\"\n\n[remotes.east]\nurl = \""+east.URL+"\"\n\n[remotes.down]\nurl = \""+downURL+"\"\n", 0o644)
	return e, config, east, west, downURL
}

func TestFleetList(t *testing.T) {
	_, config, east, _, downURL := fleetEnv(t)
	one := runApp(t, "", "--config", config, "-r", "east", "list")
	if one.Code != cli.ExitOK {
		t.Fatalf("list -r east: %v", one)
	}

	t.Run("-r all with one remote down", func(t *testing.T) {
		r := runApp(t, "", "--config", config, "-r", "all", "list")
		if r.Code != cli.ExitSomeRemotes {
			t.Fatalf("want exit %d, got %v", cli.ExitSomeRemotes, r)
		}
		// Sorted: down (failed, so no rows), east, west; each remote's rows
		// are what -r NAME alone prints, behind its name.
		if want := rowsOfEach(one.Stdout, "east", "west"); r.Stdout != want {
			t.Errorf("stdout:\n%s\nwant:\n%s", r.Stdout, want)
		}
		if !strings.Contains(r.Stderr, "remote down: ") || !strings.Contains(r.Stderr, "cannot reach "+downURL) {
			t.Errorf("stderr does not say that remote down failed and why: %q", r.Stderr)
		}
		if strings.Contains(r.Stderr, "remote east") || strings.Contains(r.Stderr, "remote west") {
			t.Errorf("stderr names remotes that answered: %q", r.Stderr)
		}
		if !strings.Contains(r.Msg, "1 of 3 remotes failed (down)") {
			t.Errorf("message: %q", r.Msg)
		}
	})

	t.Run("-r west,east keeps the order given", func(t *testing.T) {
		r := runApp(t, "", "--config", config, "list", "-r", "west,east", "--limit", "1")
		if r.Code != cli.ExitOK {
			t.Fatalf("%v", r)
		}
		if !regexp.MustCompile(`^west\t\S+\t.*\neast\t\S+\t.*\n$`).MatchString(r.Stdout) {
			t.Errorf("want one row of west then one of east:\n%s", r.Stdout)
		}
		r = runApp(t, "", "--config", config, "list", "-r", "west,east", "--limit", "1", "-o", "table")
		if !regexp.MustCompile(`^REMOTE +ID +SCOPE +TYPE +STATUS +STARTED +DURATION\nwest +\S+ .*\neast +\S+ .*\n$`).MatchString(r.Stdout) {
			t.Errorf("-o table: want a REMOTE column first:\n%s", r.Stdout)
		}
	})

	t.Run("JSON", func(t *testing.T) {
		r := runApp(t, "", "--config", config, "-r", "east,down,west", "list", "-o", "json")
		if r.Code != cli.ExitSomeRemotes {
			t.Fatalf("want exit %d, got %v", cli.ExitSomeRemotes, r)
		}
		var got []struct {
			Remote string `json:"remote"`
			Result *struct {
				Operations []listedOp `json:"operations"`
			} `json:"result"`
			Error *string `json:"error"`
		}
		decodeJSON(t, r.Stdout, &got)
		if len(got) != 3 || got[0].Remote != "east" || got[1].Remote != "down" || got[2].Remote != "west" {
			t.Fatalf("want east, down, west:\n%s", r.Stdout)
		}
		for _, i := range []int{0, 2} {
			if got[i].Error != nil || got[i].Result == nil || len(got[i].Result.Operations) != len(fixtureOps) {
				t.Errorf("%s: want every operation and no error:\n%s", got[i].Remote, r.Stdout)
			}
		}
		if got[1].Result != nil || got[1].Error == nil || !strings.Contains(*got[1].Error, "cannot reach "+downURL) {
			t.Errorf("down: want its error and no result:\n%s", r.Stdout)
		}
		// What each remote's result is: list -r NAME -o json.
		single := runApp(t, "", "--config", config, "-r", "east", "list", "-o", "json")
		var want struct {
			Operations []listedOp `json:"operations"`
		}
		decodeJSON(t, single.Stdout, &want)
		for i, op := range want.Operations {
			if g := got[0].Result.Operations[i]; g.ID != op.ID || g.server() != op.server() || g.Status != op.Status {
				t.Errorf("operation %d: %+v, want %+v", i, g, op)
			}
		}
	})

	t.Run("one -r prints what it always has", func(t *testing.T) {
		for _, args := range [][]string{{"list"}, {"list", "-o", "json"}, {"list", "-o", "table"}, {"inspect", "20261125T080805"}, {"backups", "-s", "db_server_two"}} {
			byURL := runApp(t, "", append([]string{"--url", east.URL}, args...)...)
			byName := runApp(t, "", append([]string{"--config", config, "-r", "east"}, args...)...)
			if byURL.Code != cli.ExitOK || byName.Stdout != byURL.Stdout || byName.Stderr != byURL.Stderr || strings.Contains(byName.Stdout, "REMOTE") {
				t.Errorf("%q: -r east differs from --url:\n%v\n%v", args, byName, byURL)
			}
		}
		if r := runApp(t, "", "--config", config, "-r", "east", "status"); r.Code != cli.ExitOK || r.Stdout != "OK\n" {
			t.Errorf("status -r east: %v", r)
		}
	})

	t.Run("bad -r", func(t *testing.T) {
		for _, tt := range []struct {
			args []string
			code int
			msg  string
		}{
			{[]string{"-r", "east,nope", "list"}, cli.ExitNotFound, `remote "nope" is not in`},
			{[]string{"-r", "east,,west", "list"}, cli.ExitUsage, "empty name"},
			{[]string{"-r", "east,east", "list"}, cli.ExitUsage, "twice"},
			{[]string{"-r", "east,west", "--url", east.URL, "list"}, cli.ExitUsage, "not both"},
			{[]string{"-r", "east,west", "cancel", "20261125T080805"}, cli.ExitUsage, "works through one"},
			{[]string{"-r", "east,west", "inspect", "-f", "20261125T080805"}, cli.ExitUsage, "inspect -f follows one operation"},
		} {
			r := runApp(t, "", append([]string{"--config", config}, tt.args...)...)
			if r.Code != tt.code || !strings.Contains(r.allErr(), tt.msg) || r.Stdout != "" {
				t.Errorf("%q: want exit %d mentioning %q and no output, got %v", tt.args, tt.code, tt.msg, r)
			}
		}
		empty := writeFile(t, t.TempDir(), "empty.toml", "", 0o644)
		if r := runApp(t, "", "--config", empty, "-r", "all", "list"); r.Code != cli.ExitNotFound || !strings.Contains(r.Msg, "no [remotes.NAME]") {
			t.Errorf("-r all without remotes: %v", r)
		}
	})
}

func TestFleetStatusBackupsInspect(t *testing.T) {
	_, config, _, _, _ := fleetEnv(t)

	r := runApp(t, "", "--config", config, "status", "-r", "all")
	if r.Code != cli.ExitSomeRemotes || r.Stdout != "east\tOK\nwest\tOK\n" || !strings.Contains(r.Stderr, "remote down: ") {
		t.Errorf("status -r all: %v", r)
	}
	r = runApp(t, "", "--config", config, "status", "-r", "west,east", "-o", "json")
	if r.Code != cli.ExitOK || r.Stdout != "[\n  {\n    \"remote\": \"west\",\n    \"result\": \"OK\"\n  },\n  {\n    \"remote\": \"east\",\n    \"result\": \"OK\"\n  }\n]\n" {
		t.Errorf("status -o json: %v", r)
	}

	one := runApp(t, "", "--config", config, "-r", "east", "backups", "-s", "db_server_two")
	r = runApp(t, "", "--config", config, "-r", "east,west", "backups", "-s", "db_server_two")
	if r.Code != cli.ExitOK || one.Stdout == "" || r.Stdout != prefixLines("east\t", one.Stdout)+prefixLines("west\t", one.Stdout) {
		t.Errorf("backups -r east,west:\n%v\n-r east alone:\n%v", r, one)
	}

	one = runApp(t, "", "--config", config, "-r", "east", "backups", "show", "latest", "-s", "db_server_two")
	r = runApp(t, "", "--config", config, "-r", "east,west", "backups", "show", "latest", "-s", "db_server_two")
	if r.Code != cli.ExitOK || one.Code != cli.ExitOK || r.Stdout != "Remote:    east\n"+one.Stdout+"\nRemote:    west\n"+one.Stdout {
		t.Errorf("backups show -r east,west:\n%v\n-r east alone:\n%v", r, one)
	}

	r = runApp(t, "", "--config", config, "-r", "all", "inspect", "db_server_two/20261125T080805")
	if r.Code != cli.ExitSomeRemotes || !strings.HasPrefix(r.Stdout, "Remote:    east\nID:        20261125T080805\n") || !strings.Contains(r.Stdout, "\n\nRemote:    west\n") {
		t.Errorf("inspect -r all: %v", r)
	}
	// A remote without the operation is no failure; none with it is.
	r = runApp(t, "", "--config", config, "-r", "east,west", "inspect", "20991231T000000")
	if r.Code != cli.ExitNotFound || !strings.Contains(r.Msg, "on none of the remotes east, west") {
		t.Errorf("inspect of an ID no remote has: %v", r)
	}
}

func prefixLines(prefix, s string) string {
	var b strings.Builder
	for _, line := range strings.SplitAfter(s, "\n") {
		if line != "" {
			b.WriteString(prefix + line)
		}
	}
	return b.String()
}

func TestRemoteInOperationArg(t *testing.T) {
	_, config, east, _, _ := fleetEnv(t)
	want := runApp(t, "", "--url", east.URL, "wait", "db_server_two/20261125T080805")
	if want.Code != cli.ExitOK {
		t.Fatalf("wait through --url: %v", want)
	}
	for _, args := range [][]string{
		{"wait", "east:db_server_two/20261125T080805"},
		{"-r", "east", "wait", "east:db_server_two/20261125T080805"},
		{"wait", "east:20261125T080805", "--server", "db_server_two"},
	} {
		r := runApp(t, "", append([]string{"--config", config}, args...)...)
		if r.Code != want.Code || r.Stdout != want.Stdout {
			t.Errorf("%q: want as -r east, got %v", args, r)
		}
	}
	if r := runApp(t, "", "--config", config, "logs", "east:db_server_two/20261125T080805"); r.Code != cli.ExitOK ||
		r.Stdout != runApp(t, "", "--url", east.URL, "logs", "db_server_two/20261125T080805").Stdout {
		t.Errorf("logs east:SERVER/ID: %v", r)
	}
	if r := runApp(t, "", "--config", config, "inspect", "east:db_server_two/20261125T080805"); r.Code != cli.ExitOK ||
		r.Stdout != runApp(t, "", "--url", east.URL, "inspect", "db_server_two/20261125T080805").Stdout {
		t.Errorf("inspect east:SERVER/ID: %v", r)
	}
	for _, tt := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"-r", "west", "wait", "east:db_server_two/20261125T080805"}, cli.ExitUsage, "names remote east but -r says west"},
		{[]string{"--url", east.URL, "wait", "east:db_server_two/20261125T080805"}, cli.ExitUsage, "names remote east but --url says"},
		{[]string{"wait", "nope:db_server_two/20261125T080805"}, cli.ExitNotFound, `remote "nope" is not in`},
		{[]string{"-r", "east,west", "inspect", "east:db_server_two/20261125T080805"}, cli.ExitUsage, "names remote east but -r says east,west"},
		{[]string{"wait", ":db_server_two/20261125T080805"}, cli.ExitUsage, "REMOTE:SERVER/ID"},
	} {
		r := runApp(t, "", append([]string{"--config", config}, tt.args...)...)
		if r.Code != tt.code || !strings.Contains(r.allErr(), tt.msg) {
			t.Errorf("%q: want exit %d mentioning %q, got %v", tt.args, tt.code, tt.msg, r)
		}
	}
}

// TestFleetListThreeServesOneStopped is issue 24's acceptance case with
// real processes: `list -r all` over three serves of the binary, one of
// them stopped, prints the rows of the two that answer, names the stopped
// one with why, and exits 8 (ExitSomeRemotes, docs/cli.md's Exit status).
func TestFleetListThreeServesOneStopped(t *testing.T) {
	t.Parallel()
	if cli.ExitSomeRemotes != 8 {
		t.Fatalf("ExitSomeRemotes is %d; docs/cli.md documents 8", cli.ExitSomeRemotes)
	}
	east, north, west := newEnv(t, true), newEnv(t, true), newEnv(t, true)
	eastServe, northServe, westServe := startServe(t, east, ""), startServe(t, north, ""), startServe(t, west, "")
	northServe.Cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-northServe.Done():
	case <-time.After(15 * time.Second):
		t.Fatalf("serve did not stop within 15 s of SIGTERM; log:\n%s", northServe.Log())
	}
	config := writeFile(t, t.TempDir(), "fleet.toml",
		"[remotes.west]\nurl = \""+westServe.URL+"\"\n\n[remotes.north]\nurl = \""+northServe.URL+"\"\n\n[remotes.east]\nurl = \""+eastServe.URL+"\"\n", 0o644)

	one := execBinary(t, nil, "", "--config", config, "-r", "east", "list")
	if one.Code != cli.ExitOK || strings.Count(one.Stdout, "\n") != len(fixtureOps) {
		t.Fatalf("list -r east: want %d rows, got %v", len(fixtureOps), one)
	}
	r := execBinary(t, nil, "", "--config", config, "-r", "all", "list")
	if r.Code != cli.ExitSomeRemotes {
		t.Errorf("want exit %d (some remotes failed), got %v", cli.ExitSomeRemotes, r)
	}
	// Sorted: east, north (stopped: no operation rows), west.
	if want := rowsOfEach(one.Stdout, "east", "west"); r.Stdout != want {
		t.Errorf("stdout:\n%s\nwant the rows of east then west:\n%s", r.Stdout, want)
	}
	if !strings.Contains(r.Stderr, "remote north: cannot reach "+northServe.URL) {
		t.Errorf("stderr does not name the stopped remote and why: %q", r.Stderr)
	}
	if !strings.Contains(r.Stderr, "1 of 3 remotes failed (north); the others are shown") {
		t.Errorf("stderr does not sum up: %q", r.Stderr)
	}
	if strings.Contains(r.Stderr, "remote east") || strings.Contains(r.Stderr, "remote west") {
		t.Errorf("stderr names remotes that answered: %q", r.Stderr)
	}
}

// TestFleetFailedRemoteHasItsRow: on a terminal (-o table) each command's
// table or blocks hold a row for the remote that did not answer, with its
// error, where it sorts, so the table alone says which host is missing;
// -o plain keeps answers only (standard error names the remote in both).
// backups over a fleet with a remote down answered with a panic (the
// failed remote's typed-nil catalog was taken for an answer).
func TestFleetFailedRemoteHasItsRow(t *testing.T) {
	_, config, _, _, downURL := fleetEnv(t)
	for _, tt := range []struct {
		args []string
		row  *regexp.Regexp
	}{
		{[]string{"list"}, regexp.MustCompile(`(?m)^down +(- +){5}error: cannot reach ` + regexp.QuoteMeta(downURL) + `.*\neast +`)},
		{[]string{"status"}, regexp.MustCompile(`(?m)^REMOTE +STATUS\ndown +error: no answer from ` + regexp.QuoteMeta(downURL) + `.*\neast +OK\nwest +OK\n$`)},
		{[]string{"backups", "-s", "db_server_two"}, regexp.MustCompile(`(?m)^down +(- +){10}error: cannot reach ` + regexp.QuoteMeta(downURL) + `.*\neast +`)},
		{[]string{"inspect", "db_server_two/20261125T080805"}, regexp.MustCompile(`(?m)^Remote: +down\nError: +cannot reach ` + regexp.QuoteMeta(downURL) + `.*\n\nRemote: +east\nID: +20261125T080805\n`)},
	} {
		r := execBinary(t, nil, "", append(append([]string{"--config", config, "-r", "all"}, tt.args...), "-o", "table")...)
		if r.Code != cli.ExitSomeRemotes || !tt.row.MatchString(r.Stdout) || !strings.Contains(r.Stderr, "remote down: ") {
			t.Errorf("%q -o table: want exit %d, the row of down with its error, and down named on stderr; got %v", tt.args, cli.ExitSomeRemotes, r)
		}
		r = execBinary(t, nil, "", append([]string{"--config", config, "-r", "all"}, tt.args...)...)
		if r.Code != cli.ExitSomeRemotes || strings.Contains(r.Stdout, "down") || !strings.Contains(r.Stdout, "east") || !strings.Contains(r.Stderr, "remote down: ") {
			t.Errorf("%q (plain): want exit %d, the answers without a row of down, down named on stderr; got %v", tt.args, cli.ExitSomeRemotes, r)
		}
	}
}

// rowsOfEach is what a fleet listing prints when each remote of names
// answers rows: every row behind its remote's name, remote by remote.
func rowsOfEach(rows string, names ...string) string {
	var want strings.Builder
	for _, name := range names {
		for _, line := range strings.SplitAfter(rows, "\n") {
			if line != "" {
				want.WriteString(name + "\t" + line)
			}
		}
	}
	return want.String()
}
