package cli_test

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestCreateDrillDryRun: create drill turns its flags into the documented
// payload ("QUERY => EXPECTED" splits at the last " => "), and the drill's
// Barman command is a local recover into the drills directory.
func TestCreateDrillDryRun(t *testing.T) {
	e := newEnv(t, true)
	drills := t.TempDir()
	config := writeFile(t, t.TempDir(), "pg-backup-api.toml", fmt.Sprintf("barman_config = %q\n[drills]\ndirectory = %q\n", e.Conf, drills), 0o600)
	r := runApp(t, "", "--config", config, "--barman-command", fakeBarman, "create", "drill", "-s", "db_server_two", "--sql", "select count(*) from t => 3",
		"--sql", "select 1 = 1", "--sql", "select count(*), max(id) from t => 3|9", "--database", "shop", "--timeout", "30m", "--jobs", "2", "--dry-run", "-o", "json")
	if r.Code != 0 {
		t.Fatalf("dry run: %s", r)
	}
	var j struct {
		DryRun    bool `json:"dry_run"`
		Operation struct {
			Type       string         `json:"type"`
			BarmanArgv []string       `json:"barman_argv"`
			Payload    map[string]any `json:"payload"`
		} `json:"operation"`
	}
	decodeJSON(t, r.Stdout, &j)
	if !j.DryRun || j.Operation.Type != "drill" {
		t.Fatalf("dry run -o json: %s", r.Stdout)
	}
	argv := strings.Join(j.Operation.BarmanArgv, " ")
	wantPrefix := " recover db_server_two 20261125T080758 " + filepath.Join(drills, "db_server_two") + "/"
	if !strings.Contains(argv, wantPrefix) || !strings.HasSuffix(argv, "/data --jobs=2") || strings.Contains(argv, "remote-ssh-command") {
		t.Errorf("barman argv %q, want a local recover into %s", argv, drills)
	}
	for _, want := range []string{`"query": "select count(*) from t"`, `"expect": "3"`, `"query": "select 1 = 1"`, `"query": "select count(*), max(id) from t"`, `"expect": "3|9"`, `"database": "shop"`, `"timeout": "30m"`} {
		if !strings.Contains(r.Stdout, want) {
			t.Errorf("dry run lacks %s:\n%s", want, r.Stdout)
		}
	}

	// runner.drill_timeout is the timeout of a drill that gives none,
	// recorded in its job (the runner reads the job, not this file); the
	// drill's own --timeout wins.
	config = writeFile(t, t.TempDir(), "pg-backup-api.toml", fmt.Sprintf("barman_config = %q\n[runner]\ndrill_timeout = \"3h\"\n[drills]\ndirectory = %q\n", e.Conf, drills), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{{nil, `"timeout": "3h0m0s"`}, {[]string{"--timeout", "30m"}, `"timeout": "30m"`}} {
		r = runApp(t, "", append([]string{"--config", config, "--barman-command", fakeBarman, "create", "drill", "-s", "db_server_two", "--dry-run", "-o", "json"}, tc.args...)...)
		if r.Code != 0 || !strings.Contains(r.Stdout, tc.want) {
			t.Errorf("dry run with runner.drill_timeout and %v: want %s in\n%s", tc.args, tc.want, r)
		}
	}

	r = e.run(t, "create", "drill", "-s", "db_server_two", "--dry-run")
	if r.Code == 0 || !strings.Contains(r.allErr(), "set [drills] directory") {
		t.Errorf("a drill without [drills] directory: %s", r)
	}
}

// TestServeCreatesScheduledDrill: serve started with a [[drills.schedule]]
// entry and no drill recorded creates one through the same path as the
// API (recorded as asked by the schedule, in `list --type drill`), logs
// it with its ID, and a restart within the period creates none more. A
// schedule of a server Barman lacks keeps serve from starting, naming
// the servers there are.
func TestServeCreatesScheduledDrill(t *testing.T) {
	e := newEnv(t, false)
	drills := t.TempDir()
	conf := writeConfig(t, e, "drills.toml", fmt.Sprintf("[runner]\ndrill_timeout = \"3h\"\n[drills]\ndirectory = %q\n\n[[drills.schedule]]\nserver = \"db_server_two\"\nevery = \"24h\"\nsql = [\"select 1 => 1\"]\n", drills))
	listDrills := func() []map[string]any {
		t.Helper()
		r := runApp(t, "", "--config", conf, "--barman-config", e.Conf, "--barman-command", fakeBarman, "list", "--type", "drill", "-s", "db_server_two", "-o", "json")
		if r.Code != 0 {
			t.Fatalf("list --type drill: %s", r)
		}
		var out struct{ Operations []map[string]any }
		decodeJSON(t, r.Stdout, &out)
		return out.Operations
	}
	srv := mustServe(t, e, conf, nil)
	var id string
	deadline := time.Now().Add(20 * time.Second)
	for {
		if l := srv.log(); strings.Contains(l, "drill schedule: created a drill") {
			m := regexp.MustCompile(`created a drill.*operation_id=(\S+)`).FindStringSubmatch(l)
			if m == nil {
				t.Fatalf("the created drill's log line has no operation_id:\n%s", l)
			}
			id = m[1]
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve created no scheduled drill within 20 s; log:\n%s", srv.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	listed := listDrills()
	if len(listed) != 1 || listed[0]["id"] != id || listed[0]["type"] != "drill" {
		t.Fatalf("list --type drill shows %v, want the one drill %s", listed, id)
	}
	if by := readAudit(t, e.jobFile("db_server_two", id)).RequestedBy; by != "serve:drills.schedule" {
		t.Errorf("the scheduled drill is recorded as requested by %q", by)
	}
	if job, _ := os.ReadFile(e.jobFile("db_server_two", id)); !strings.Contains(string(job), `"expect": "1"`) || !strings.Contains(string(job), `"timeout": "3h0m0s"`) {
		t.Errorf("the job lacks the schedule's query or runner.drill_timeout:\n%s", job)
	}
	if code := srv.stop(t); code != 0 {
		t.Fatalf("serve exited with %d; log:\n%s", code, srv.log())
	}

	srv = mustServe(t, e, conf, nil)
	deadline = time.Now().Add(20 * time.Second)
	for !strings.Contains(srv.log(), "drill schedule: not due yet") {
		if time.Now().After(deadline) {
			t.Fatalf("the restarted serve did not log its schedule within 20 s; log:\n%s", srv.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if l := srv.log(); strings.Contains(l, "created a drill") || !strings.Contains(l, "newest_drill="+id) {
		t.Errorf("after a restart within the period:\n%s", l)
	}
	if n := len(listDrills()); n != 1 {
		t.Errorf("%d drills after a restart, want 1", n)
	}
	if code := srv.stop(t); code != 0 {
		t.Fatalf("serve exited with %d; log:\n%s", code, srv.log())
	}

	bad := writeConfig(t, e, "bad.toml", fmt.Sprintf("[drills]\ndirectory = %q\n\n[[drills.schedule]]\nserver = \"db9\"\nevery = \"24h\"\n", drills))
	s, ok := secStartServe(t, e, bad, nil, secFreePort(t))
	if ok {
		t.Fatalf("serve started with a schedule of an unknown server; log:\n%s", s.log())
	}
	if l := s.log(); !strings.Contains(l, bad+`: drills.schedule[0]: server "db9" is not in `+e.Conf+" (known: ") || !strings.Contains(l, "db_server_two") {
		t.Errorf("serve's refusal does not name the entry and the known servers:\n%s", l)
	}
}

// TestServeReloadsDrillSchedule: a schedule added by a reload (SIGHUP) is
// taken up at once; one of a server Barman lacks refuses the reload.
func TestServeReloadsDrillSchedule(t *testing.T) {
	e := newEnv(t, false)
	drills := t.TempDir()
	base := fmt.Sprintf("[drills]\ndirectory = %q\n", drills)
	conf := writeConfig(t, e, "reload-drills.toml", base)
	srv := mustServe(t, e, conf, nil)
	if strings.Contains(srv.log(), "drill schedule") {
		t.Fatalf("serve without a schedule logs one:\n%s", srv.log())
	}
	rewrite(t, conf, base+"\n[[drills.schedule]]\nserver = \"db9\"\nevery = \"24h\"\n")
	line := sighup(t, srv.cmd.Process.Pid, srv.log, "reload refused")
	if !strings.Contains(line, `server \"db9\" is not in`) || !strings.Contains(line, "db_server_two") {
		t.Errorf("the refused reload does not name the server and those known: %s", line)
	}
	rewrite(t, conf, base+"\n[[drills.schedule]]\nserver = \"db_server_two\"\nevery = \"24h\"\n")
	line = sighup(t, srv.cmd.Process.Pid, srv.log, `msg="configuration reloaded"`)
	if !strings.Contains(line, "drills.schedule (now 1 entries)") {
		t.Errorf("the reload's log line does not say the schedule changed: %s", line)
	}
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(srv.log(), "drill schedule: created a drill") {
		if time.Now().After(deadline) {
			t.Fatalf("no drill created within 20 s of the reload; log:\n%s", srv.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	if code := srv.stop(t); code != 0 {
		t.Fatalf("serve exited with %d; log:\n%s", code, srv.log())
	}
}
