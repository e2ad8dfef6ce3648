package faults

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/httpd/httpdtest"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// outputFile reads an operation's output file; nil while there is none.
func (e *env) outputFile(t *testing.T, server, id string) *pyjson.Object {
	t.Helper()
	path := e.store().OutputPath(server, id)
	if !testenv.FileExists(path) {
		return nil
	}
	obj, err := store.ReadJSONFile(path)
	if err != nil {
		t.Fatalf("output file of %s: %v", id, err)
	}
	return obj
}

// endReason is pg_backup_api.end_reason of an output file.
func endReason(out *pyjson.Object) string {
	ext, _ := out.Get("pg_backup_api")
	if o, ok := ext.(*pyjson.Object); ok {
		s, _ := o.String("end_reason")
		return s
	}
	return ""
}

func scopePath(server string) string {
	if server == "" {
		return "/operations"
	}
	return "/servers/" + server + "/operations"
}

// waitIdle waits until no process started for e is left but keep.
func waitIdle(t *testing.T, e *env, within time.Duration, keep ...int) {
	t.Helper()
	testenv.WaitFor(t, within, "the runners to exit", func() bool {
		for _, pid := range testenv.ProcessesNaming(e.Dir) {
			if !slices.Contains(keep, pid) {
				return false
			}
		}
		return true
	})
}

// TestRunnerKilledOperationReadsLostThenIsRecorded: SIGKILL the runner while
// Barman (and a child of Barman's) runs. The very next read, through the
// store, `inspect -o json` or HTTP ?detail=true, says FAILED, phase lost;
// the next runner of the scope writes the output file (end_reason lost) and
// kills what Barman left behind.
func TestRunnerKilledOperationReadsLostThenIsRecorded(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name    string
		server  string
		printed string // what Barman printed before it was killed
		create  func(t *testing.T, e *env, penv []string) string
		// nextRunner starts the next runner of the scope.
		nextRunner func(t *testing.T, e *env, penv []string)
	}{
		{
			name:    "server scope, next runner by run --server",
			server:  srv,
			printed: "Starting remote restore for server db_server_two",
			create: func(t *testing.T, e *env, penv []string) string {
				return e.createRecovery(t, penv, "/srv/restore/lost")
			},
			nextRunner: func(t *testing.T, e *env, penv []string) {
				e.mustCLI(t, penv, "run", "--server", srv)
			},
		},
		{
			name:    "instance scope, next runner by creating another operation",
			server:  "",
			printed: `config-update [{"scope": "server", "server_name": "db_server_two", "archiver": "lost"}]`,
			create: func(t *testing.T, e *env, penv []string) string {
				return e.mustCLI(t, penv, "create", "config-update", "--changes", `[{"scope": "server", "server_name": "db_server_two", "archiver": "lost"}]`)
			},
			nextRunner: func(t *testing.T, e *env, penv []string) {
				next := e.mustCLI(t, penv, "create", "config-update", "--changes", `[{"scope": "server", "server_name": "db_server_two", "archiver": "next"}]`)
				testenv.WaitFor(t, 10*time.Second, "the next operation to be DONE", func() bool {
					return e.get(t, "", next).Status == ops.StatusDone
				})
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := newEnv(t, envConfig{})
			pidFile := filepath.Join(e.Dir, "barman.pid")
			penv := e.procEnv("FAKE_BARMAN_SLEEP=30", "FAKE_BARMAN_PIDFILE="+pidFile)
			id := tc.create(t, e, penv)

			var barman int
			testenv.WaitFor(t, 10*time.Second, "Barman to start", func() bool { barman = testenv.ReadPid(pidFile); return barman > 0 })
			testenv.WaitFor(t, 10*time.Second, "the operation to read running", func() bool { return e.get(t, tc.server, id).Phase == ops.PhaseRunning })
			_, runnerPid, _, _ := testenv.ProcStat(barman)
			if cl := testenv.Cmdline(runnerPid); !strings.Contains(cl, " run ") {
				t.Fatalf("Barman's parent %d is not a runner: %q", runnerPid, cl)
			}
			var child int
			testenv.WaitFor(t, 5*time.Second, "Barman's child (sleep) to start", func() bool {
				kids := childrenOf(barman)
				if len(kids) > 0 {
					child = kids[0]
				}
				return child > 0
			})
			marker := e.marker(tc.server, id)
			if marked := markedProcesses(marker); !slices.Contains(marked, barman) || !slices.Contains(marked, child) {
				t.Fatalf("processes marked %s = %v, want Barman %d and its child %d among them", marker, marked, barman, child)
			}

			if err := syscall.Kill(runnerPid, syscall.SIGKILL); err != nil {
				t.Fatal(err)
			}
			testenv.WaitFor(t, 5*time.Second, "the runner to die", func() bool { return !testenv.Alive(runnerPid) })
			testenv.WaitFor(t, 5*time.Second, "Barman to die with its runner", func() bool { return !testenv.Alive(barman) })
			if !testenv.Alive(child) {
				t.Fatalf("Barman's child %d died with the runner; the test needs a straggler for the next runner to kill", child)
			}

			// The next read, three ways: FAILED, phase lost, at once.
			if op := e.get(t, tc.server, id); op.Status != ops.StatusFailed || op.Phase != ops.PhaseLost || op.Reason != ops.LostReason {
				t.Errorf("Store.Get: %s/%s reason %q, want FAILED/lost", op.Status, op.Phase, op.Reason)
			}
			if v := e.inspectJSON(t, penv, id); v.Status != "FAILED" || v.Phase != "lost" || v.Reason != ops.LostReason {
				t.Errorf("inspect -o json: %+v, want FAILED/lost", v)
			}
			api := httpdtest.Reader(t, e.Conf)
			url := api.URL + scopePath(tc.server) + "/" + id
			if v := getDetail(t, url); v.Status != "FAILED" || v.Phase != "lost" || v.Reason != ops.LostReason {
				t.Errorf("GET ?detail=true: %+v, want FAILED/lost", v)
			}
			if code, _, body := testenv.HTTPDo(t, client, "GET", url, ""); code != 200 || !strings.Contains(string(body), `"status":"FAILED"`) {
				t.Errorf("GET %s: %d %s", url, code, body)
			}
			if e.outputFile(t, tc.server, id) != nil {
				t.Fatal("an output file exists before any runner ran again; the test proves nothing")
			}

			tc.nextRunner(t, e, e.procEnv())

			testenv.WaitFor(t, 5*time.Second, "the output file (end_reason lost) and no process left for the operation", func() bool {
				out := e.outputFile(t, tc.server, id)
				return out != nil && endReason(out) == "lost" && len(markedProcesses(marker)) == 0
			})
			out := e.outputFile(t, tc.server, id)
			if success, _ := out.Get("success"); success != false {
				t.Errorf("output file: success = %v, want false", success)
			}
			if code, _ := out.Get("exit_code"); fmt.Sprint(code) != "-1" {
				t.Errorf("output file: exit_code = %v, want -1", code)
			}
			if output, _ := out.String("output"); !strings.Contains(output, tc.printed) {
				t.Errorf("output file %q lacks what Barman printed before it was killed (%q)", output, tc.printed)
			}
			if testenv.Alive(child) {
				t.Errorf("Barman's child %d still runs after the next runner", child)
			}
			if op := e.get(t, tc.server, id); op.Status != ops.StatusFailed || op.Phase != ops.PhaseLost {
				t.Errorf("after the next runner: %s/%s, want FAILED/lost", op.Status, op.Phase)
			}
		})
	}
}

// TestServeKilledOperationsStillFinish: SIGKILL serve while one operation
// runs and two wait; runners are detached, so all three end DONE, and a
// restarted serve lists them DONE.
func TestServeKilledOperationsStillFinish(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	penv := e.procEnv("FAKE_BARMAN_SLEEP=2")
	s := e.startServe(t, penv)
	var ids []string
	for i := 1; i <= 3; i++ {
		ids = append(ids, postCreate(t, s.URL+srvOps, recoveryBody(fmt.Sprintf("/srv/restore/%d", i))))
	}
	testenv.WaitFor(t, 10*time.Second, "the first operation to run", func() bool {
		return getDetail(t, s.URL+srvOps+"/"+ids[0]).Phase == "running"
	})
	if err := s.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-s.Done()
	for _, id := range ids[1:] {
		if op := e.get(t, srv, id); op.Status != ops.StatusInProgress {
			t.Fatalf("%s is %s right after serve died; the test needs queued operations", id, op.Status)
		}
	}
	testenv.WaitFor(t, 30*time.Second, "the three operations to end", func() bool {
		for _, id := range ids {
			if e.get(t, srv, id).Status == ops.StatusInProgress {
				return false
			}
		}
		return true
	})
	for _, id := range ids {
		if op := e.get(t, srv, id); op.Status != ops.StatusDone {
			t.Errorf("%s ended %s/%s (%s), want DONE", id, op.Status, op.Phase, op.Reason)
		}
	}
	if got, want := e.recoverDests(t), []string{"/srv/restore/1", "/srv/restore/2", "/srv/restore/3"}; !slices.Equal(got, want) {
		t.Errorf("Barman recovered %q, want %q", got, want)
	}

	s2 := e.startServe(t, penv)
	listed := map[string]string{}
	for _, v := range listDetail(t, s2.URL+srvOps) {
		listed[v.ID] = v.Status
	}
	for _, id := range ids {
		if listed[id] != "DONE" {
			t.Errorf("restarted serve lists %s as %q, want DONE", id, listed[id])
		}
		if v := getDetail(t, s2.URL+srvOps+"/"+id); v.Status != "DONE" || v.ExitCode == nil || *v.ExitCode != 0 {
			t.Errorf("restarted serve: %s is %+v", id, v)
		}
	}
}

// slowDiagnoseBarman writes a Barman command that is the fake Barman but
// for `diagnose`, which first touches $SLOW_DIAGNOSE_STARTED and sleeps
// $SLOW_DIAGNOSE_SLEEP seconds: a request that stays in flight.
func slowDiagnoseBarman(t *testing.T, e *env) string {
	t.Helper()
	path := filepath.Join(e.Dir, "slow-diagnose-barman")
	script := fmt.Sprintf(`#!/bin/sh
for a in "$@"; do
  if [ "$a" = diagnose ]; then
    [ -n "${SLOW_DIAGNOSE_STARTED:-}" ] && : >"$SLOW_DIAGNOSE_STARTED"
    sleep "${SLOW_DIAGNOSE_SLEEP:-2}"
  fi
done
exec %q "$@"
`, e.Fake)
	if err := os.WriteFile(path, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestServeSIGTERMFinishesRequestsInFlight: SIGTERM stops serve from
// accepting connections, lets the requests in flight (a slow GET /diagnose
// and a POST whose body is still arriving) complete, and then exits 0.
func TestServeSIGTERMFinishesRequestsInFlight(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	e.Barman = slowDiagnoseBarman(t, e)
	started := filepath.Join(e.Dir, "diagnose.started")
	penv := e.procEnv("SLOW_DIAGNOSE_STARTED="+started, "SLOW_DIAGNOSE_SLEEP=2")
	s := e.startServe(t, penv)
	host := strings.TrimPrefix(s.URL, "http://")

	type answer struct {
		code int
		body []byte
		err  error
		at   time.Time
	}
	diag := make(chan answer, 1)
	go func() {
		resp, err := client.Get(s.URL + "/diagnose")
		if err != nil {
			diag <- answer{err: err, at: time.Now()}
			return
		}
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		diag <- answer{code: resp.StatusCode, body: body, err: err, at: time.Now()}
	}()

	body := recoveryBody("/srv/restore/in-flight")
	conn, err := net.Dial("tcp", host)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "POST %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s", srvOps, host, len(body), body[:10])

	testenv.WaitFor(t, 10*time.Second, "GET /diagnose to be in flight", func() bool { return testenv.FileExists(started) })
	time.Sleep(100 * time.Millisecond) // serve reads the POST's headers
	sigterm := time.Now()
	if err := s.Cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 5*time.Second, "serve to refuse new connections", func() bool {
		c, err := net.DialTimeout("tcp", host, 200*time.Millisecond)
		if err != nil {
			return true
		}
		c.Close()
		return false
	})
	if s.Exited() {
		t.Fatalf("serve exited with two requests in flight; log:\n%s", s.Log())
	}

	// The POST's body arrives after the SIGTERM: it is still served.
	if _, err := io.WriteString(conn, body[10:]); err != nil {
		t.Fatal(err)
	}
	conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("the POST in flight got no answer: %v; log:\n%s", err, s.Log())
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	var created struct {
		OperationID string `json:"operation_id"`
	}
	if resp.StatusCode != http.StatusAccepted || json.Unmarshal(data, &created) != nil || !idPattern.MatchString(created.OperationID) {
		t.Fatalf("the POST in flight: %d %s, want 202", resp.StatusCode, data)
	}

	var d answer
	select {
	case d = <-diag:
	case <-time.After(15 * time.Second):
		t.Fatal("GET /diagnose in flight got no answer")
	}
	if d.err != nil || d.code != 200 || !json.Valid(d.body) {
		t.Fatalf("GET /diagnose in flight: %d %s %v", d.code, d.body, d.err)
	}
	if d.at.Before(sigterm) {
		t.Fatal("GET /diagnose finished before the SIGTERM; the test proves nothing")
	}
	select {
	case <-s.Done():
	case <-time.After(10 * time.Second):
		t.Fatalf("serve did not exit after its requests in flight; log:\n%s", s.Log())
	}
	if s.Err() != nil {
		t.Errorf("serve exited with %v after SIGTERM, want status 0; log:\n%s", s.Err(), s.Log())
	}
	// The operation accepted while stopping runs in its own runner.
	testenv.WaitFor(t, 15*time.Second, "the operation accepted during shutdown to be DONE", func() bool {
		return e.get(t, srv, created.OperationID).Status == ops.StatusDone
	})
}

// TestRunnerNeverRunsFinishedOrClaimedOperations: a runner started for a
// scope whose operations are already finished, or claimed by someone else
// (their log exists and is locked), does not run Barman for them.
func TestRunnerNeverRunsFinishedOrClaimedOperations(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	st := e.store()
	for _, server := range []string{srv, ""} {
		body := recoveryBody("/srv/restore/finished")
		if server == "" {
			body = configUpdateBody("finished")
		}
		finished := e.createDirect(t, server, body)
		if err := st.End(server, finished, nil, ops.Result{Success: true, Output: "earlier\n"}); err != nil {
			t.Fatal(err)
		}
		claimedBody := recoveryBody("/srv/restore/claimed")
		if server == "" {
			claimedBody = configUpdateBody("claimed")
		}
		claimed := e.createDirect(t, server, claimedBody)
		claim, err := st.Claim(server, claimed)
		if err != nil {
			t.Fatal(err)
		}

		args := []string{"run"}
		if server != "" {
			args = append(args, "--server", server)
		}
		start := time.Now()
		e.mustCLI(t, e.procEnv(), args...)
		if d := time.Since(start); d > 10*time.Second {
			t.Errorf("run took %s with nothing to run", d)
		}
		if calls := testenv.ArgvCalls(t, e.ArgvLog); len(calls) != 0 {
			t.Errorf("scope %q: Barman ran for finished or claimed operations: %q", server, calls)
		}
		if op := e.get(t, server, finished); op.Status != ops.StatusDone || op.Output != "earlier\n" {
			t.Errorf("finished operation: %s output %q", op.Status, op.Output)
		}
		if op := e.get(t, server, claimed); op.Phase != ops.PhaseRunning {
			t.Errorf("claimed operation reads %s, want running (its claim is held)", op.Phase)
		}

		// The claim was all that kept it from running.
		st.Release(server, claimed, claim)
		e.mustCLI(t, e.procEnv(), args...)
		if op := e.get(t, server, claimed); op.Status != ops.StatusDone {
			t.Errorf("once released, the operation ended %s", op.Status)
		}
		if calls := testenv.ArgvCalls(t, e.ArgvLog); len(calls) != 1 {
			t.Errorf("scope %q: Barman calls %q, want one, for the released operation", server, calls)
		}
		os.Remove(e.ArgvLog)
	}
}
