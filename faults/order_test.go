package faults

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"

	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// watchQueue samples GET listURL?detail=true every 50 ms until every
// operation in ids (oldest first) has ended. Each sample must show at most
// limit of them running, and every other unfinished one IN_PROGRESS,
// queued; with limit 1 the running one must be the oldest unfinished. It
// returns the most seen running at once.
func watchQueue(t *testing.T, listURL string, ids []string, limit int, within time.Duration) int {
	t.Helper()
	most, samples := 0, 0
	deadline := time.Now().Add(within)
	for {
		byID := map[string]opView{}
		for _, v := range listDetail(t, listURL) {
			byID[v.ID] = v
		}
		// A list is read one operation after another, not at one instant:
		// an older operation read running may have ended before a newer
		// one was read. Read the older ones again, after: one that is
		// still unfinished really overlapped.
		newestRunning := -1
		for i, id := range ids {
			if byID[id].Phase == "running" {
				newestRunning = i
			}
		}
		for i := 0; i < newestRunning; i++ {
			if v := byID[ids[i]]; v.Status == "IN_PROGRESS" {
				again := getDetail(t, listURL+"/"+ids[i])
				again.ID = ids[i]
				byID[ids[i]] = again
			}
		}
		samples++
		running, ended := 0, 0
		firstUnfinished := -1
		for i, id := range ids {
			v, ok := byID[id]
			if !ok {
				t.Fatalf("%s is not listed", id)
			}
			switch {
			case v.Status == "FAILED":
				t.Fatalf("%s FAILED: %+v", id, v)
			case v.Status == "DONE":
				ended++
				continue
			case v.Status != "IN_PROGRESS":
				t.Fatalf("%s has status %q", id, v.Status)
			}
			if firstUnfinished < 0 {
				firstUnfinished = i
			}
			switch v.Phase {
			case "running":
				running++
				if limit == 1 && i != firstUnfinished {
					t.Fatalf("sample %d: %s runs while the older %s has not finished (%+v)", samples, id, ids[firstUnfinished], byID[ids[firstUnfinished]])
				}
			case "queued":
			default:
				t.Fatalf("sample %d: %s is IN_PROGRESS in phase %q, want running or queued", samples, id, v.Phase)
			}
		}
		if running > limit {
			t.Fatalf("sample %d: %d operations run at once, at most %d may", samples, running, limit)
		}
		most = max(most, running)
		if ended == len(ids) {
			t.Logf("%d samples; at most %d running at once", samples, most)
			return most
		}
		if time.Now().After(deadline) {
			t.Fatalf("after %s, %d of %d operations have ended", within, ended, len(ids))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkEndOrder fails unless the operations ended in the order given.
func checkEndOrder(t *testing.T, e *env, server string, ids []string) {
	t.Helper()
	var last time.Time
	for _, id := range ids {
		op := e.get(t, server, id)
		if op.EndTime.IsZero() || !op.EndTime.After(last) {
			t.Errorf("%s ended at %s, not after the operation before it (%s)", id, op.EndTime.Format(time.RFC3339Nano), last.Format(time.RFC3339Nano))
		}
		last = op.EndTime
	}
}

// TestOneRecoveryAtATimePerServerInIDOrder: five recoveries of one server
// created at once run one at a time, oldest first; while they wait they read
// IN_PROGRESS, phase queued, over HTTP and in `inspect -o json`.
func TestOneRecoveryAtATimePerServerInIDOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	penv := e.procEnv("FAKE_BARMAN_SLEEP=1")
	s := e.startServe(t, penv)
	var ids, dests []string
	for i := 1; i <= 5; i++ {
		dest := fmt.Sprintf("/srv/restore/%d", i)
		ids = append(ids, postCreate(t, s.URL+srvOps, recoveryBody(dest)))
		dests = append(dests, dest)
	}
	if !slices.IsSorted(ids) {
		t.Fatalf("IDs %q are not in creation order", ids)
	}
	last := ids[len(ids)-1]
	if v := getDetail(t, s.URL+srvOps+"/"+last); v.Status != "IN_PROGRESS" || v.Phase != "queued" {
		t.Errorf("the last operation over HTTP: %s/%s, want IN_PROGRESS/queued", v.Status, v.Phase)
	}
	if code, _, body := testenv.HTTPDo(t, client, "GET", s.URL+srvOps+"/"+last, ""); code != 200 || !strings.Contains(string(body), `"status":"IN_PROGRESS"`) {
		t.Errorf("GET %s: %d %s", last, code, body)
	}
	if v := e.inspectJSON(t, penv, last); v.Status != "IN_PROGRESS" || v.Phase != "queued" {
		t.Errorf("the last operation in inspect -o json: %s/%s, want IN_PROGRESS/queued", v.Status, v.Phase)
	}

	if most := watchQueue(t, s.URL+srvOps, ids, 1, 40*time.Second); most != 1 {
		t.Errorf("never saw an operation running (at most %d at once)", most)
	}
	if got := e.recoverDests(t); !slices.Equal(got, dests) {
		t.Errorf("Barman recovered %q, want %q (ID order)", got, dests)
	}
	checkEndOrder(t, e, srv, ids)
}

// TestOneConfigUpdateAtATimeInIDOrder: instance operations are serialised
// the same way.
func TestOneConfigUpdateAtATimeInIDOrder(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	penv := e.procEnv("FAKE_BARMAN_SLEEP=1")
	s := e.startServe(t, penv)
	var ids, values []string
	for i := 1; i <= 4; i++ {
		v := fmt.Sprintf("value-%d", i)
		ids = append(ids, postCreate(t, s.URL+"/operations", configUpdateBody(v)))
		values = append(values, v)
	}
	last := ids[len(ids)-1]
	if v := getDetail(t, s.URL+"/operations/"+last); v.Status != "IN_PROGRESS" || v.Phase != "queued" {
		t.Errorf("the last operation over HTTP: %s/%s, want IN_PROGRESS/queued", v.Status, v.Phase)
	}
	if v := e.inspectJSON(t, penv, last); v.Status != "IN_PROGRESS" || v.Phase != "queued" {
		t.Errorf("the last operation in inspect -o json: %s/%s, want IN_PROGRESS/queued", v.Status, v.Phase)
	}
	if most := watchQueue(t, s.URL+"/operations", ids, 1, 40*time.Second); most != 1 {
		t.Errorf("never saw an operation running (at most %d at once)", most)
	}
	var got []string
	for _, c := range testenv.ArgvCalls(t, e.ArgvLog) {
		for _, v := range values {
			if slices.Contains(c, "config-update") && strings.Contains(c[len(c)-1], `"`+v+`"`) {
				got = append(got, v)
			}
		}
	}
	if !slices.Equal(got, values) {
		t.Errorf("Barman applied %q, want %q (ID order)", got, values)
	}
	checkEndOrder(t, e, "", ids)
}

// TestRunnerParallelTwoAtMost: with [runner] parallel = 2, two operations
// of one server run at once, never three.
func TestRunnerParallelTwoAtMost(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	conf := e.Dir + "/parallel.toml"
	testenv.WriteFile(t, conf, "[runner]\nparallel = 2\n")
	penv := e.procEnv("FAKE_BARMAN_SLEEP=2")
	s := e.startServe(t, penv, "--config", conf)
	var ids []string
	for i := 1; i <= 5; i++ {
		ids = append(ids, postCreate(t, s.URL+srvOps, recoveryBody(fmt.Sprintf("/srv/restore/%d", i))))
	}
	if most := watchQueue(t, s.URL+srvOps, ids, 2, 40*time.Second); most != 2 {
		t.Errorf("at most %d operations ran at once with parallel = 2, want 2 at some point", most)
	}
	if got := e.recoverDests(t); len(got) != len(ids) {
		t.Errorf("Barman ran %d recoveries for %d operations: %q", len(got), len(ids), got)
	}
}

// TestQueuedOperationsSurviveRestartOfEverything: operations queued while no
// runner could start (the runner locks are held), by a serve that is then
// killed and by the CLI, wait on disk with nothing running; the next serve's
// start-up sweep runs them all to DONE, oldest first.
func TestQueuedOperationsSurviveRestartOfEverything(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	st := e.store()
	var locks []*os.File
	for _, server := range []string{srv, ""} {
		if err := st.EnsureScope(server); err != nil {
			t.Fatal(err)
		}
		f, err := os.OpenFile(st.RunnerLockPath(server), os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if ok, err := store.TryLock(f); !ok || err != nil {
			t.Fatalf("TryLock(%s) = %v, %v", f.Name(), ok, err)
		}
		locks = append(locks, f)
	}
	penv := e.procEnv()

	s := e.startServe(t, penv)
	srvIDs := []string{
		postCreate(t, s.URL+srvOps, recoveryBody("/srv/restore/http-1")),
		postCreate(t, s.URL+srvOps, recoveryBody("/srv/restore/http-2")),
	}
	instIDs := []string{postCreate(t, s.URL+"/operations", configUpdateBody("http"))}
	s.Cmd.Process.Kill()
	<-s.Done()
	srvIDs = append(srvIDs, e.createRecovery(t, penv, "/srv/restore/cli-1"), e.createRecovery(t, penv, "/srv/restore/cli-2"))
	instIDs = append(instIDs, e.mustCLI(t, penv, "create", "config-update", "--changes", `[{"scope": "server", "server_name": "db_server_two", "archiver": "cli"}]`))

	checkQueued := func(when string) {
		t.Helper()
		for _, id := range srvIDs {
			if op := e.get(t, srv, id); op.Phase != ops.PhaseQueued {
				t.Fatalf("%s: %s is %s, want queued", when, id, op.Phase)
			}
		}
		for _, id := range instIDs {
			if op := e.get(t, "", id); op.Phase != ops.PhaseQueued {
				t.Fatalf("%s: %s is %s, want queued", when, id, op.Phase)
			}
		}
		if pids := testenv.ProcessesNaming(e.Dir); len(pids) != 0 {
			t.Fatalf("%s: processes %v run; nothing should", when, pids)
		}
		if calls := testenv.ArgvCalls(t, e.ArgvLog); len(calls) != 0 {
			t.Fatalf("%s: Barman ran: %q", when, calls)
		}
	}
	checkQueued("with the runner locks held")
	for _, f := range locks {
		f.Close()
	}
	time.Sleep(300 * time.Millisecond)
	checkQueued("after the locks were let go")

	s2 := e.startServe(t, penv)
	testenv.WaitFor(t, 30*time.Second, "the start-up sweep to run every queued operation", func() bool {
		for _, id := range srvIDs {
			if e.get(t, srv, id).Status == ops.StatusInProgress {
				return false
			}
		}
		for _, id := range instIDs {
			if e.get(t, "", id).Status == ops.StatusInProgress {
				return false
			}
		}
		return true
	})
	for _, id := range srvIDs {
		if v := getDetail(t, s2.URL+srvOps+"/"+id); v.Status != "DONE" {
			t.Errorf("%s: %+v, want DONE", id, v)
		}
	}
	for _, id := range instIDs {
		if v := getDetail(t, s2.URL+"/operations/"+id); v.Status != "DONE" {
			t.Errorf("%s: %+v, want DONE", id, v)
		}
	}
	if got, want := e.recoverDests(t), []string{"/srv/restore/http-1", "/srv/restore/http-2", "/srv/restore/cli-1", "/srv/restore/cli-2"}; !slices.Equal(got, want) {
		t.Errorf("Barman recovered %q, want %q", got, want)
	}
}
