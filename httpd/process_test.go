package httpd_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// binPath is the pg-backup-api binary TestMain builds for the tests that run
// the real thing; buildErr says why there is none.
var (
	binPath  string
	buildErr error
)

func TestMain(m *testing.M) {
	binPath, buildErr = testenv.BuildBinary()
	code := m.Run()
	testenv.RemoveBinary()
	os.Exit(code)
}

func needBinary(t *testing.T) {
	t.Helper()
	if buildErr != nil {
		t.Fatalf("no pg-backup-api binary: %v", buildErr)
	}
}

// procEnv is the environment of the processes we start (testenv.ProcEnv),
// with a configuration file of ours (inherited by the runners serve and
// create start) and extra.
func (e *env) procEnv(t *testing.T, extra ...string) []string {
	t.Helper()
	conf := filepath.Join(e.Dir, "pg-backup-api.toml")
	// No background `barman check` (tested in metrics and cli): these
	// tests count the Barman runs of operations.
	if err := os.WriteFile(conf, []byte("[metrics]\nbarman_check = false\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return testenv.ProcEnv(append([]string{"PG_BACKUP_API_CONFIG=" + conf}, extra...)...)
}

// cliArgs are the global flags that point the binary at e.
func (e *env) cliArgs(args ...string) []string {
	return append([]string{"--barman-config", e.ConfPath, "--barman-command", e.FakeBarman}, args...)
}

// runCLI runs the binary to completion and returns its standard output.
func (e *env) runCLI(t *testing.T, procEnv []string, args ...string) string {
	t.Helper()
	run := testenv.RunBinary(binPath, procEnv, "", e.cliArgs(args...)...)
	if run.Err != nil || run.Code != 0 {
		t.Fatalf("pg-backup-api %s: exit %d (%v)\nstdout: %s\nstderr: %s", strings.Join(args, " "), run.Code, run.Err, run.Stdout, run.Stderr)
	}
	return run.Stdout
}

// serveProc is a running `pg-backup-api serve`.
type serveProc = testenv.Serve

// startServe starts serve over e on a free loopback port and waits until
// GET /status answers. It is stopped, and every process started for e
// killed, when the test ends.
func startServe(t *testing.T, e *env, procEnv []string) *serveProc {
	t.Helper()
	needBinary(t)
	// Registered first, so it runs after serve is stopped.
	testenv.KillStrays(t, e.Dir)
	return testenv.StartServe(t, testenv.ServeOptions{
		Binary:  binPath,
		Args:    e.cliArgs("serve"),
		Env:     procEnv,
		LogPath: filepath.Join(e.Dir, "serve.log"),
	})
}

// detailOf is GET <url>?detail=true of one operation.
type opDetail struct {
	OperationID string `json:"operation_id"`
	Status      string `json:"status"`
	Phase       string `json:"phase"`
	ExitCode    *int   `json:"exit_code"`
	Output      string `json:"output"`
}

func getDetail(t *testing.T, client *http.Client, url string) opDetail {
	t.Helper()
	var d opDetail
	testenv.GetJSON(t, client, url+"?detail=true", &d)
	return d
}

// TestProcess runs the real binary: serve, its runners, the fake Barman,
// and the CLI beside it on the same store.
func TestProcess(t *testing.T) {
	needBinary(t)
	e := newEnv(t)
	argvLog := filepath.Join(e.Dir, "barman-argv.log")
	penv := e.procEnv(t, "FAKE_BARMAN_ARGV_LOG="+argvLog)
	srv := startServe(t, e, penv)
	client := &http.Client{Timeout: 30 * time.Second}
	fixtureOutputs := map[string]string{}
	for id := range fixtureServerOps {
		p := filepath.Join(e.Home, "db_server_two", "output", id+".json")
		fixtureOutputs[p] = readFile(p)
	}

	t.Run("concurrent_recoveries", func(t *testing.T) {
		const n = 50
		ids := make([]string, n)
		errs := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				req, _ := http.NewRequest("POST", srv.URL+srvOps, strings.NewReader(exampleRecovery))
				req.Header.Set("content-type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					errs[i] = err.Error()
					return
				}
				defer resp.Body.Close()
				body, _ := io.ReadAll(resp.Body)
				var created struct {
					OperationID string `json:"operation_id"`
				}
				if resp.StatusCode != http.StatusAccepted || json.Unmarshal(body, &created) != nil {
					errs[i] = fmt.Sprintf("%d %s", resp.StatusCode, body)
					return
				}
				if loc := resp.Header.Get("Location"); loc != srvOps+"/"+created.OperationID {
					errs[i] = "Location " + loc
				}
				ids[i] = created.OperationID
			}()
		}
		wg.Wait()
		seen := map[string]bool{}
		for i := range n {
			if errs[i] != "" {
				t.Errorf("POST %d: %s", i, errs[i])
				continue
			}
			if seen[ids[i]] || !idPattern.MatchString(ids[i]) {
				t.Errorf("POST %d: ID %q is a duplicate or malformed", i, ids[i])
			}
			seen[ids[i]] = true
			if !testenv.FileExists(e.jobPath("db_server_two", ids[i])) {
				t.Errorf("no job file for %s", ids[i])
			}
		}
		if t.Failed() {
			t.FailNow()
		}
		jobs, _ := filepath.Glob(filepath.Join(e.Home, "db_server_two", "jobs", "*.json"))
		if len(jobs) != n+len(fixtureServerOps) {
			t.Errorf("%d job files, want %d", len(jobs), n+len(fixtureServerOps))
		}

		// The runner works through all of them, one at a time.
		pending := map[string]bool{}
		for id := range seen {
			pending[id] = true
		}
		testenv.WaitFor(t, 60*time.Second, "all 50 operations to be DONE", func() bool {
			for id := range pending {
				code, _, body := testenv.HTTPDo(t, client, "GET", srv.URL+srvOps+"/"+id, "")
				var st struct{ Status string }
				json.Unmarshal(body, &st)
				switch {
				case code != 200:
					t.Fatalf("GET %s: %d %s", id, code, body)
				case st.Status == "DONE":
					delete(pending, id)
				case st.Status == "FAILED":
					d := getDetail(t, client, srv.URL+srvOps+"/"+id)
					t.Fatalf("operation %s FAILED: %+v\nrunner.err: %s", id, d, readFile(filepath.Join(e.Home, "db_server_two", ".pg-backup-api", "runner.err")))
				}
			}
			return len(pending) == 0
		})

		d := getDetail(t, client, srv.URL+srvOps+"/"+ids[0])
		if d.ExitCode == nil || *d.ExitCode != 0 || d.Phase != "done" ||
			!strings.Contains(d.Output, "Starting remote restore for server db_server_two using backup 20261125T080758") {
			t.Errorf("detail of a finished recovery: %+v", d)
		}

		// Barman ran exactly once per operation, as the command table says.
		recovers := 0
		for _, call := range strings.Split(readFile(argvLog), "--\n") {
			if call == "" {
				continue
			}
			want := fmt.Sprintf("-c\n%s\nrecover\ndb_server_two\n20261125T080758\n/var/lib/pgdata\n--remote-ssh-command=ssh postgres@db_server_two.my.org\n", e.ConfPath)
			if call != want {
				t.Errorf("barman was run with\n%s\nwant\n%s", call, want)
			}
			recovers++
		}
		if recovers != n {
			t.Errorf("barman recover ran %d times for %d operations", recovers, n)
		}
		// The Python implementation's operations were left alone.
		for p, content := range fixtureOutputs {
			if content == "" || readFile(p) != content {
				t.Errorf("fixture output %s changed", p)
			}
		}
	})

	t.Run("corrupt_job_file", func(t *testing.T) {
		for _, scope := range []struct{ server, path string }{{"", "/operations"}, {"db_server_two", srvOps}} {
			bad := "20000101T000000"
			if err := os.WriteFile(e.jobPath(scope.server, bad), []byte(`{"operation_type": "reco`), 0o644); err != nil {
				t.Fatal(err)
			}
			code, hdr, body := testenv.HTTPDo(t, client, "GET", srv.URL+scope.path, "")
			if code != 200 || hdr.Get("Content-Type") != "application/json" {
				t.Fatalf("list with a corrupt job file: %d %s", code, body)
			}
			var list struct{ Operations []struct{ ID string } }
			if err := json.Unmarshal(body, &list); err != nil || len(list.Operations) == 0 {
				t.Fatalf("list: %v %s", err, body)
			}
			for _, op := range list.Operations {
				if op.ID == bad {
					t.Errorf("the corrupt file %s is listed", bad)
				}
			}
			// By ID it reads FAILED with the reason, never 500.
			code, _, body = testenv.HTTPDo(t, client, "GET", srv.URL+scope.path+"/"+bad+"?detail=true", "")
			var op struct {
				Status, Reason string
			}
			json.Unmarshal(body, &op)
			if code != 200 || op.Status != "FAILED" || !strings.Contains(op.Reason, "is damaged") {
				t.Errorf("GET of the corrupt operation: %d %s, want 200, FAILED and the reason", code, body)
			}
		}
	})

	t.Run("cli_and_http_share_the_store", func(t *testing.T) {
		// Created by the CLI, seen over HTTP.
		out := e.runCLI(t, penv, "create", "config-update", "--changes", `[{"scope": "server", "server_name": "db_server_two", "archiver": "on"}]`)
		cliID := strings.TrimSpace(out)
		if !idPattern.MatchString(cliID) {
			t.Fatalf("create printed %q, want an operation ID", out)
		}
		code, _, body := testenv.HTTPDo(t, client, "GET", srv.URL+"/operations", "")
		if code != 200 || !bytes.Contains(body, []byte(`{"id":"`+cliID+`","type":"config_update"}`)) {
			t.Errorf("HTTP list does not show the CLI's operation %s: %d %s", cliID, code, body)
		}
		testenv.WaitFor(t, 30*time.Second, "the CLI's operation to be DONE over HTTP", func() bool {
			return getDetail(t, client, srv.URL+"/operations/"+cliID).Status == "DONE"
		})

		// Created over HTTP, seen by the CLI.
		code, _, body = testenv.HTTPDo(t, client, "POST", srv.URL+"/operations", exampleConfigUpdate)
		var created struct {
			OperationID string `json:"operation_id"`
		}
		if code != 202 || json.Unmarshal(body, &created) != nil {
			t.Fatalf("POST: %d %s", code, body)
		}
		code, _, body = testenv.HTTPDo(t, client, "POST", srv.URL+srvOps, exampleConfigSwitch)
		var createdSwitch struct {
			OperationID string `json:"operation_id"`
		}
		if code != 202 || json.Unmarshal(body, &createdSwitch) != nil {
			t.Fatalf("POST: %d %s", code, body)
		}
		var list struct {
			Operations []struct {
				ID     string  `json:"id"`
				Server *string `json:"server"`
				Type   string  `json:"type"`
			} `json:"operations"`
		}
		if err := json.Unmarshal([]byte(e.runCLI(t, penv, "list", "-o", "json")), &list); err != nil {
			t.Fatalf("list -o json: %v", err)
		}
		found := map[string]string{}
		for _, op := range list.Operations {
			scope := "(instance)"
			if op.Server != nil {
				scope = *op.Server
			}
			found[scope+" "+op.ID] = op.Type
		}
		for key, typ := range map[string]string{
			"(instance) " + created.OperationID:          "config_update",
			"(instance) " + cliID:                        "config_update",
			"db_server_two " + createdSwitch.OperationID: "config_switch",
			"db_server_two 20261125T080805":              "recovery",
		} {
			if found[key] != typ {
				t.Errorf("CLI list: %s is %q, want %q", key, found[key], typ)
			}
		}
		testenv.WaitFor(t, 30*time.Second, "the config_update to be DONE", func() bool {
			return getDetail(t, client, srv.URL+"/operations/"+created.OperationID).Status == "DONE"
		})
		testenv.WaitFor(t, 30*time.Second, "the config_switch to be DONE", func() bool {
			return getDetail(t, client, srv.URL+srvOps+"/"+createdSwitch.OperationID).Status == "DONE"
		})
	})
}

// TestProcessGracefulShutdown: SIGTERM stops serve at once with exit status
// 0, and an operation whose Barman is still running finishes DONE after
// serve is gone, since runners are processes of their own.
func TestProcessGracefulShutdown(t *testing.T) {
	needBinary(t)
	e := newEnv(t)
	pidFile := filepath.Join(e.Dir, "barman.pid")
	penv := e.procEnv(t, "FAKE_BARMAN_SLEEP=3", "FAKE_BARMAN_PIDFILE="+pidFile)
	srv := startServe(t, e, penv)
	client := &http.Client{Timeout: 10 * time.Second}

	code, _, body := testenv.HTTPDo(t, client, "POST", srv.URL+srvOps, exampleRecovery)
	var created struct {
		OperationID string `json:"operation_id"`
	}
	if code != 202 || json.Unmarshal(body, &created) != nil {
		t.Fatalf("POST: %d %s", code, body)
	}
	id := created.OperationID
	opURL := srv.URL + srvOps + "/" + id
	testenv.WaitFor(t, 15*time.Second, "Barman to be running for "+id, func() bool {
		return getDetail(t, client, opURL).Phase == "running" && testenv.FileExists(pidFile)
	})

	start := time.Now()
	if err := srv.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-srv.Done():
	case <-time.After(5 * time.Second):
		t.Fatalf("serve did not exit within 5s of SIGTERM; log:\n%s", srv.Log())
	}
	stopped := time.Since(start)
	if srv.Err() != nil {
		t.Errorf("serve exited with %v after SIGTERM, want status 0; log:\n%s", srv.Err(), srv.Log())
	}
	if _, err := http.Get(srv.URL + "/status"); err == nil {
		t.Error("serve still answers after it exited")
	}

	// Barman is still at work: the runner did not die with serve.
	output := filepath.Join(e.Home, "db_server_two", "output", id+".json")
	if testenv.FileExists(output) {
		t.Fatalf("operation %s finished within %s of SIGTERM, before its Barman's 3s: the test proves nothing", id, stopped)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(readFile(pidFile)))
	if pid <= 0 || syscall.Kill(pid, 0) != nil {
		t.Errorf("fake Barman (pid %d) is gone right after serve exited", pid)
	}

	st := store.Open(&ops.BarmanConfig{BarmanHome: e.Home})
	var op *ops.Operation
	testenv.WaitFor(t, 20*time.Second, "the operation to finish after serve exited", func() bool {
		var err error
		op, err = st.Get("db_server_two", id)
		if err != nil {
			t.Fatal(err)
		}
		return op.Status != ops.StatusInProgress
	})
	if op.Status != ops.StatusDone || op.ExitCode == nil || *op.ExitCode != 0 {
		t.Errorf("operation %s ended %s (exit %v, reason %q), want DONE; output:\n%s", id, op.Status, op.ExitCode, op.Reason, op.Output)
	}
}

func readFile(p string) string {
	data, err := os.ReadFile(p)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return err.Error()
	}
	return string(data)
}
