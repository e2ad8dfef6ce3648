package faults

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// TestLoadThousandCreatesAllDone: 1,000 creates in the same seconds, 800
// from 50 concurrent HTTP clients and 200 from 4 CLI processes creating 50
// each, all on one store: 1,000 distinct operations, 1,000 job files, no
// 5xx, and every operation DONE, the runners draining one per scope.
//
// It is not parallel: it runs alone, before the parallel tests.
func TestLoadThousandCreatesAllDone(t *testing.T) {
	const (
		httpClients = 50
		httpCreates = 800
		cliProcs    = 4
		cliCreates  = 50
		total       = httpCreates + cliProcs*cliCreates
		deadline    = 120 * time.Second
	)
	e := newEnv(t, envConfig{})
	// No argv log: two scopes' Barmans would interleave their lines.
	penv := e.procEnv("FAKE_BARMAN_ARGV_LOG=")
	s := e.startServe(t, penv)

	type created struct{ scope, id string }
	var (
		mu       sync.Mutex
		ids      []created
		problems []string
		fiveXX   int
	)
	record := func(c created, problem string, status int) {
		mu.Lock()
		defer mu.Unlock()
		if status >= 500 {
			fiveXX++
		}
		if problem != "" {
			if len(problems) < 20 {
				problems = append(problems, problem)
			}
			return
		}
		ids = append(ids, c)
	}

	hc := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: httpClients}}
	post := func(i int) {
		scope, path, body := "", "/operations", configUpdateBody(fmt.Sprintf("http-%d", i))
		if i%2 == 1 {
			scope, path, body = srv, srvOps, recoveryBody(fmt.Sprintf("/srv/restore/http-%d", i))
		}
		req, _ := http.NewRequest("POST", s.URL+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			record(created{}, fmt.Sprintf("POST %s: %v", path, err), 0)
			return
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		var c struct {
			OperationID string `json:"operation_id"`
		}
		if resp.StatusCode != http.StatusAccepted || json.Unmarshal(data, &c) != nil || !idPattern.MatchString(c.OperationID) {
			record(created{}, fmt.Sprintf("POST %s: %d %s", path, resp.StatusCode, data), resp.StatusCode)
			return
		}
		record(created{scope, c.OperationID}, "", resp.StatusCode)
	}
	create := func(p, i int) {
		scope := ""
		args := []string{"create", "config-update", "--changes", fmt.Sprintf(`[{"scope": "server", "server_name": "db_server_two", "archiver": "cli-%d-%d"}]`, p, i)}
		if i%2 == 1 {
			scope = srv
			args = []string{"create", "recovery", "-s", srv, "-b", "latest", "--remote-ssh-command", "ssh postgres@target", "-d", fmt.Sprintf("/srv/restore/cli-%d-%d", p, i)}
		}
		run := testenv.RunBinary(binPath, penv, "", e.globalArgs(args...)...)
		if run.Err != nil || run.Code != 0 {
			record(created{}, fmt.Sprintf("CLI create: exit %d (%v): %s", run.Code, run.Err, run.Stderr), 0)
			return
		}
		id := strings.TrimSpace(run.Stdout)
		if !idPattern.MatchString(id) {
			record(created{}, fmt.Sprintf("CLI create printed %q", id), 0)
			return
		}
		record(created{scope, id}, "", 0)
	}

	start := time.Now()
	var wg sync.WaitGroup
	work := make(chan int, httpCreates)
	for i := range httpCreates {
		work <- i
	}
	close(work)
	for range httpClients {
		wg.Go(func() {
			for i := range work {
				post(i)
			}
		})
	}
	for p := range cliProcs {
		wg.Go(func() {
			for i := range cliCreates {
				create(p, i)
			}
		})
	}
	wg.Wait()
	createTook := time.Since(start)

	if fiveXX != 0 || len(problems) != 0 {
		t.Fatalf("%d answers were 5xx; problems (first 20):\n%s", fiveXX, strings.Join(problems, "\n"))
	}
	distinct := map[created]bool{}
	for _, c := range ids {
		distinct[c] = true
	}
	if len(ids) != total || len(distinct) != total {
		t.Fatalf("%d creates succeeded with %d distinct operations, want %d", len(ids), len(distinct), total)
	}
	jobs := jobIDs(t, e)
	if len(jobs) != total {
		t.Fatalf("%d job files, want %d", len(jobs), total)
	}
	for c := range distinct {
		if !testenv.FileExists(e.store().JobPath(c.scope, c.id)) {
			t.Errorf("no job file for %s %s", c.scope, c.id)
		}
	}

	outputs := func() int {
		n := 0
		for _, scope := range []string{"", srv} {
			entries, _ := os.ReadDir(filepath.Join(e.store().ScopeDir(scope), "output"))
			n += len(entries)
		}
		return n
	}
	testenv.WaitFor(t, deadline-time.Since(start), fmt.Sprintf("all %d operations to end", total), func() bool {
		time.Sleep(200 * time.Millisecond)
		return outputs() >= total
	})
	drained := time.Since(start)
	st := e.store()
	done := 0
	for _, scope := range []string{"", srv} {
		list, skipped, err := st.List(scope, ops.ListOptions{Status: true})
		if err != nil || len(skipped) != 0 {
			t.Fatalf("listing %q: %v %v", scope, err, skipped)
		}
		for _, op := range list {
			if op.Status == ops.StatusDone {
				done++
			} else {
				t.Errorf("%s %s ended %s/%s: %s", scope, op.ID, op.Status, op.Phase, op.Reason)
			}
		}
	}
	if done != total {
		t.Errorf("%d operations DONE, want %d", done, total)
	}
	t.Logf("%d creates (%d over HTTP from %d clients, %d by %d CLI processes) took %s; all DONE %s after the start",
		total, httpCreates, httpClients, cliProcs*cliCreates, cliProcs, createTook.Round(time.Millisecond), drained.Round(time.Millisecond))
}
