package faults

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

// attempt is one create that the store must refuse, or accept once fixed:
// over HTTP (path and body) or with the CLI (args).
type attempt struct {
	server string // the scope
	path   string
	body   string
	args   []string
}

// storeAttempts are a recovery and a config_update over HTTP and the same
// with the CLI.
func storeAttempts(tag string) []attempt {
	changes := fmt.Sprintf(`[{"scope": "server", "server_name": "db_server_two", "archiver": "cli-%s"}]`, tag)
	return []attempt{
		{server: srv, path: srvOps, body: recoveryBody("/srv/restore/http-" + tag)},
		{server: "", path: "/operations", body: configUpdateBody("http-" + tag)},
		{server: srv, args: []string{"create", "recovery", "-s", srv, "-b", "latest", "--remote-ssh-command", "ssh postgres@target", "-d", "/srv/restore/cli-" + tag}},
		{server: "", args: []string{"create", "config-update", "--changes", changes}},
	}
}

// refused makes every attempt and requires 503 JSON (HTTP) or exit 5 (CLI)
// with a message containing each of want(a).
func refused(t *testing.T, e *env, s *serveProc, penv []string, attempts []attempt, want func(a attempt) []string) {
	t.Helper()
	for _, a := range attempts {
		var msg, what string
		if a.args == nil {
			what = "POST " + a.path
			code, hdr, body := testenv.HTTPDo(t, client, "POST", s.URL+a.path, a.body)
			msg = apiError(t, what, code, hdr, body, 503)
			var full map[string]any
			if json.Unmarshal(body, &full) != nil || full["request_id"] == nil {
				t.Errorf("%s: 503 without a request_id: %s", what, body)
			}
		} else {
			what = "pg-backup-api " + strings.Join(a.args[:2], " ")
			r := e.cli(t, penv, a.args...)
			if r.code != 5 {
				t.Fatalf("%s: %s; want exit 5", what, r)
			}
			msg = r.stderr
		}
		for _, w := range want(a) {
			if !strings.Contains(msg, w) {
				t.Errorf("%s: message %q does not contain %q", what, msg, w)
			}
		}
	}
}

// accepted makes every attempt, requires 202 or exit 0, and waits for every
// operation to be DONE.
func accepted(t *testing.T, e *env, s *serveProc, penv []string, attempts []attempt) {
	t.Helper()
	type created struct{ server, id string }
	var all []created
	for _, a := range attempts {
		if a.args == nil {
			all = append(all, created{a.server, postCreate(t, s.URL+a.path, a.body)})
		} else {
			all = append(all, created{a.server, e.mustCLI(t, penv, a.args...)})
		}
	}
	testenv.WaitFor(t, 20*time.Second, "the operations to be DONE", func() bool {
		for _, c := range all {
			op := e.get(t, c.server, c.id)
			if op.Status == ops.StatusFailed {
				t.Fatalf("%s FAILED: %s\n%s", c.id, op.Reason, op.Output)
			}
			if op.Status != ops.StatusDone {
				return false
			}
		}
		return true
	})
}

// jobIDs returns the job files of both scopes, checking that each is a
// complete operation file.
func jobIDs(t *testing.T, e *env) []string {
	t.Helper()
	ids := checkJobsComplete(t, filepath.Join(e.Home, "jobs"))
	for _, id := range checkJobsComplete(t, filepath.Join(e.Home, srv, "jobs")) {
		ids = append(ids, srv+"/"+id)
	}
	return ids
}

// TestFullStoreRefusesCleanlyAndRecovers: on a full file system, creates
// answer 503 JSON (CLI: exit 5) naming the cause, leave no partial or
// temporary file, and work again once there is room.
func TestFullStoreRefusesCleanlyAndRecovers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{tmpfs: "1m"})
	penv := e.procEnv()
	s := e.startServe(t, penv)
	accepted(t, e, s, penv, storeAttempts("before"))
	waitIdle(t, e, 10*time.Second, s.Cmd.Process.Pid)
	before := jobIDs(t, e)

	filler := fill(t, e.Home)
	refused(t, e, s, penv, storeAttempts("full"), func(attempt) []string { return []string{"no space left on device"} })
	if after := jobIDs(t, e); !slices.Equal(after, before) {
		t.Errorf("job files changed on a full store:\nbefore %q\nafter  %q", before, after)
	}
	if tmp := tempFiles(t, e.Home); len(tmp) != 0 {
		t.Errorf("temporary files left behind: %q", tmp)
	}
	// Reading still works.
	if code, _, body := testenv.HTTPDo(t, client, "GET", s.URL+srvOps+"?detail=true", ""); code != 200 {
		t.Errorf("GET %s on a full store: %d %s", srvOps, code, body)
	}

	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	accepted(t, e, s, penv, storeAttempts("after"))
}

// TestReadOnlyStoreRefusesThenRecovers: on a read-only file system creates
// answer 503 (CLI: exit 5) and write nothing; once it is writable again they
// work.
func TestReadOnlyStoreRefusesThenRecovers(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{tmpfs: "4m"})
	penv := e.procEnv()
	s := e.startServe(t, penv)
	accepted(t, e, s, penv, storeAttempts("before"))
	waitIdle(t, e, 10*time.Second, s.Cmd.Process.Pid)
	before := jobIDs(t, e)

	remount(t, e.Home, "4m", true)
	refused(t, e, s, penv, storeAttempts("ro"), func(attempt) []string { return []string{"read-only file system"} })
	if after := jobIDs(t, e); !slices.Equal(after, before) {
		t.Errorf("job files changed on a read-only store:\nbefore %q\nafter  %q", before, after)
	}
	if code, _, body := testenv.HTTPDo(t, client, "GET", s.URL+"/operations?detail=true", ""); code != 200 {
		t.Errorf("GET /operations on a read-only store: %d %s", code, body)
	}

	remount(t, e.Home, "4m", false)
	accepted(t, e, s, penv, storeAttempts("rw"))
}

// TestMissingBarmanHomeRefusesNamingIt: with barman_home missing, creates
// answer 503 (CLI: exit 5) naming it, and never create it: it is Barman's.
func TestMissingBarmanHomeRefusesNamingIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{noHome: true})
	penv := e.procEnv()
	s := e.startServe(t, penv)
	// Recoveries need the backup catalog, which lives in barman_home too;
	// config_switch needs only the configuration.
	attempts := []attempt{
		{server: srv, path: srvOps, body: `{"type": "config_switch", "reset": true}`},
		{server: "", path: "/operations", body: configUpdateBody("http")},
		{server: srv, args: []string{"create", "config-switch", "-s", srv, "--reset"}},
		{server: "", args: []string{"create", "config-update", "--changes", `[{"scope": "server", "server_name": "db_server_two", "archiver": "cli"}]`}},
	}
	refused(t, e, s, penv, attempts, func(attempt) []string { return []string{e.Home} })
	if testenv.FileExists(e.Home) {
		t.Errorf("barman_home %s was created", e.Home)
	}
	if err := os.Mkdir(e.Home, 0o755); err != nil {
		t.Fatal(err)
	}
	accepted(t, e, s, penv, attempts)
}

// TestJobsPathIsAFileRefusesNamingIt: when a scope's jobs/ is a regular
// file, creates answer 503 (CLI: exit 5) naming it and leave it alone; once
// it is moved away they work.
func TestJobsPathIsAFileRefusesNamingIt(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	penv := e.procEnv()
	s := e.startServe(t, penv)
	jobsOf := func(server string) string { return filepath.Join(e.store().ScopeDir(server), "jobs") }
	for _, server := range []string{srv, ""} {
		testenv.WriteFile(t, jobsOf(server), "not a directory\n")
	}
	refused(t, e, s, penv, storeAttempts("file"), func(a attempt) []string { return []string{jobsOf(a.server)} })
	for _, server := range []string{srv, ""} {
		if data, err := os.ReadFile(jobsOf(server)); err != nil || string(data) != "not a directory\n" {
			t.Errorf("%s was changed: %q %v", jobsOf(server), data, err)
		}
		os.Remove(jobsOf(server))
	}
	accepted(t, e, s, penv, storeAttempts("fixed"))
}

// damaged are files that are not operations of ours, put where operations
// are kept, by name and content ("" content: see kind).
var damaged = []struct {
	name, content string
	kind          string // "file", "fifo", "dir", "dangling symlink"
}{
	{"20200101T000001.json", `{"operation_type": "recov`, "file"},                   // truncated
	{"20200101T000002.json", "this is not JSON\n", "file"},                          // not JSON
	{"20200101T000003.json", "", "file"},                                            // empty
	{"20200101T000004.json", `{"hello": "world"}`, "file"},                          // JSON, not an operation
	{"20200101T000005.json", `[1, 2, 3]`, "file"},                                   // not an object
	{"20200101T000006.json", "{\"operation_type\": \"\xff\xfe\"}", "file"},          // not UTF-8
	{"20200101T000007.json", `{"operation_type": "recovery"} trailing`, "file"},     // garbage after
	{"not an id!.json", `{"operation_type": "recovery", "start_time": ""}`, "file"}, // not an ID
	{"20200101T000008.json", "", "fifo"},
	{"20200101T000009.json", "", "dir"},
	{"20200101T000010.json", "", "dangling symlink"},
}

func plant(t *testing.T, path, content, kind string) {
	t.Helper()
	var err error
	switch kind {
	case "file":
		err = os.WriteFile(path, []byte(content), 0o600)
	case "fifo":
		err = syscall.Mkfifo(path, 0o600)
	case "dir":
		err = os.Mkdir(path, 0o700)
	case "dangling symlink":
		err = os.Symlink(path+".nowhere", path)
	}
	if err != nil {
		t.Fatal(err)
	}
}

// TestDamagedStoreFilesAreSkippedAndReported: truncated, non-JSON, foreign
// and non-regular files in jobs/ and output/ are skipped and reported (the
// CLI warns on stderr, serve logs them, HTTP lists answer 200), never fatal
// and never stuck: runners go on running new operations beside them.
func TestDamagedStoreFilesAreSkippedAndReported(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{reference: true})
	penv := e.procEnv()
	var planted []string
	for _, server := range []string{srv, ""} {
		dir := e.store().ScopeDir(server)
		for _, d := range damaged {
			p := filepath.Join(dir, "jobs", d.name)
			plant(t, p, d.content, d.kind)
			planted = append(planted, p)
		}
		// A job whose output is truncated never reads DONE; one whose
		// output is a FIFO must not hang; stray outputs without a job are
		// ignored.
		job := `{"type": "config_switch", "reset": true, "operation_type": "config_switch", "start_time": "2020-01-01T00:00:20.000000"}`
		testenv.WriteFile(t, filepath.Join(dir, "jobs", "20200101T000020.json"), job)
		testenv.WriteFile(t, filepath.Join(dir, "output", "20200101T000020.json"), `{"success": tr`)
		testenv.WriteFile(t, filepath.Join(dir, "jobs", "20200101T000021.json"), job)
		plant(t, filepath.Join(dir, "output", "20200101T000021.json"), "", "fifo")
		testenv.WriteFile(t, filepath.Join(dir, "output", "20200101T000022.json"), "garbage")
		plant(t, filepath.Join(dir, "output", "20200101T000023.json"), "", "fifo")
	}

	// The CLI lists, warning about each damaged job file.
	for _, args := range [][]string{{"list", "-o", "json"}, {"list", "--server", srv}, {"list", "--instance", "-o", "json"}} {
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		cmd := exec.CommandContext(ctx, binPath, e.globalArgs(args...)...)
		cmd.Env = penv
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		hung := ctx.Err() != nil
		cancel()
		if hung {
			t.Fatalf("%s hung on the damaged store", strings.Join(args, " "))
		}
		if err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, stderr.String())
		}
		for _, p := range planted {
			inScope := args[1] == "-o" || (args[1] == "--server") == strings.Contains(p, "/"+srv+"/")
			if inScope && !strings.Contains(stderr.String(), "warning: skipped "+p) {
				t.Errorf("%s does not warn about %s; stderr:\n%s", strings.Join(args, " "), p, stderr.String())
			}
		}
		if strings.Contains(args[len(args)-1], "json") {
			var list struct {
				Operations []opView `json:"operations"`
			}
			if err := json.Unmarshal([]byte(stdout.String()), &list); err != nil {
				t.Fatalf("%s: %v\n%s", strings.Join(args, " "), err, stdout.String())
			}
			for _, v := range list.Operations {
				if strings.HasPrefix(v.ID, "20200101T0000") && v.ID != "20200101T000020" && v.ID != "20200101T000021" {
					t.Errorf("%s lists the damaged %s", strings.Join(args, " "), v.ID)
				}
				if v.ID == "20200101T000020" && v.Status != "FAILED" {
					t.Errorf("an operation whose output file is damaged reads %s, want FAILED", v.Status)
				}
			}
		}
	}

	s := e.startServe(t, penv)
	for _, path := range []string{"/operations", srvOps} {
		for _, q := range []string{"", "?detail=true"} {
			code, _, body := testenv.HTTPDo(t, client, "GET", s.URL+path+q, "")
			if code != 200 || !json.Valid(body) {
				t.Errorf("GET %s%s: %d %s", path, q, code, body)
			}
			if strings.Contains(string(body), `"20200101T000001"`) {
				t.Errorf("GET %s%s lists a damaged file: %s", path, q, body)
			}
		}
		for _, d := range damaged {
			// One damaged operation answers quickly: FAILED with why (a
			// dangling symlink is no file at all: 404), never a 500.
			id := strings.TrimSuffix(d.name, ".json")
			if !idPattern.MatchString(id) {
				continue
			}
			code, hdr, body := testenv.HTTPDo(t, client, "GET", s.URL+path+"/"+id, "")
			want := http.StatusOK
			if d.kind == "dangling symlink" {
				want = http.StatusNotFound
			}
			if code != want || hdr.Get("Content-Type") != "application/json" {
				t.Errorf("GET %s/%s: %d %s, want %d", path, id, code, body, want)
			}
			if want == http.StatusOK {
				if v := getDetail(t, s.URL+path+"/"+id); v.Status != "FAILED" || !strings.Contains(v.Reason, "is damaged") {
					t.Errorf("GET %s/%s?detail=true: %+v, want FAILED naming the damage", path, id, v)
				}
			}
		}
	}
	if v := getDetail(t, s.URL+srvOps+"/20200101T000020"); v.Status != "FAILED" || !strings.Contains(v.Reason, "damaged") {
		t.Errorf("an operation whose output file is damaged: %+v, want FAILED naming the damage", v)
	}
	for _, p := range planted {
		if !strings.Contains(s.Log(), p) {
			t.Errorf("serve does not report %s", p)
		}
	}

	// Runners pass over them: new operations in both scopes end DONE.
	accepted(t, e, s, penv, storeAttempts("beside"))
}
