package cli_test

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/cli"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// TestCreateIDsUniqueAcrossProcesses: many processes creating at once, most
// of them within the same second, get distinct IDs, lose no operation, and
// the instance scope's queue drains through one runner at a time.
func TestCreateIDsUniqueAcrossProcesses(t *testing.T) {
	t.Parallel()
	const workers, perWorker = 8, 100
	const total = workers * perWorker
	e := newEnv(t, false)

	// Count the runners of this store, from outside, while it all happens.
	var maxRunners, samples atomic.Int64
	stopSampling := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			n := int64(countRunners(e.Conf))
			samples.Add(1)
			for {
				m := maxRunners.Load()
				if n <= m || maxRunners.CompareAndSwap(m, n) {
					break
				}
			}
			select {
			case <-stopSampling:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	defer func() {
		select {
		case <-stopSampling:
		default:
			close(stopSampling)
		}
		<-sampled
	}()

	// Each worker runs perWorker creates one after the other; each create
	// is a process of its own. The marker tells each Barman call apart.
	ids := make([][]string, workers)
	var wg sync.WaitGroup
	failures := make(chan string, total)
	start := time.Now()
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < perWorker; i++ {
				changes := fmt.Sprintf(`[{"scope": "server", "server_name": "db_server_two", "description": "w%d-i%03d"}]`, w, i)
				r := e.exec(t, nil, "", "create", "config-update", "--changes", changes)
				id := strings.TrimSuffix(r.Stdout, "\n")
				if r.Code != cli.ExitOK || !idPattern.MatchString(id) {
					failures <- fmt.Sprintf("worker %d create %d: %v", w, i, r)
					continue
				}
				ids[w] = append(ids[w], id)
			}
		}(w)
	}
	wg.Wait()
	close(failures)
	created := time.Since(start)
	for f := range failures {
		t.Error(f)
	}
	if t.Failed() {
		t.FailNow()
	}

	// Every printed ID is distinct and has its job file.
	seen := map[string]string{}
	suffixed := 0
	for w, list := range ids {
		for _, id := range list {
			if prev, dup := seen[id]; dup {
				t.Errorf("ID %s printed twice: %s and worker %d", id, prev, w)
			}
			seen[id] = fmt.Sprintf("worker %d", w)
			if strings.Contains(id, "-") {
				suffixed++
			}
		}
	}
	if len(seen) != total {
		t.Fatalf("want %d distinct IDs, got %d", total, len(seen))
	}
	entries, err := os.ReadDir(filepath.Join(e.Home, "jobs"))
	if err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, en := range entries {
		if strings.HasSuffix(en.Name(), ".json") && !strings.HasPrefix(en.Name(), ".") {
			files = append(files, strings.TrimSuffix(en.Name(), ".json"))
		}
	}
	if len(files) != total {
		t.Errorf("want %d job files, got %d", total, len(files))
	}
	for _, id := range files {
		if _, ok := seen[id]; !ok {
			t.Errorf("job file %s was never reported to its creator", id)
		}
	}
	t.Logf("%d creates in %s, %d with a -NNNN suffix", total, created.Round(time.Millisecond), suffixed)
	if suffixed == 0 {
		t.Logf("no two creates met in one second: the suffix path went untested this run")
	}

	// IDs sort as their start times do. Within one second the suffix
	// follows the order in which processes claimed the name, which may
	// differ from the microseconds of start_time; across seconds it must
	// not.
	st := store.Open(&ops.BarmanConfig{BarmanHome: e.Home})
	sort.Strings(files)
	var prev time.Time
	inversions := 0
	for _, id := range files {
		op, err := st.Get("", id)
		if err != nil {
			t.Fatalf("operation %s: %v", id, err)
		}
		if base := op.StartTime.Format(store.IDLayout); !strings.HasPrefix(id, base) {
			t.Errorf("ID %s does not carry its start time %s", id, op.StartTime.Format(ops.TimeLayout))
		}
		if op.StartTime.Before(prev) {
			inversions++
			if op.StartTime.Truncate(time.Second).Before(prev.Truncate(time.Second)) {
				t.Errorf("ID %s sorts after an operation of a later second (%s > %s)", id, prev.Format(ops.TimeLayout), op.StartTime.Format(ops.TimeLayout))
			}
		}
		prev = op.StartTime
	}
	t.Logf("%d sub-second inversions between ID order and start_time order", inversions)

	// The runners drain the queue: every operation ends DONE, each Barman
	// call happens exactly once. Counting output files is cheap enough not
	// to slow the runner down; list has the last word.
	deadline := time.Now().Add(90 * time.Second)
	for {
		out, _ := os.ReadDir(filepath.Join(e.Home, "output"))
		if len(out) >= total || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	r := e.run(t, "list", "--instance", "-o", "json")
	var got struct {
		Operations []listedOp `json:"operations"`
	}
	decodeJSON(t, r.Stdout, &got)
	if len(got.Operations) != total {
		t.Fatalf("want %d operations listed, got %d", total, len(got.Operations))
	}
	statuses := map[string]int{}
	for _, op := range got.Operations {
		statuses[op.Status]++
	}
	if statuses["DONE"] != total {
		t.Fatalf("%s after the first create, want all %d DONE, got %v", time.Since(start).Round(time.Second), total, statuses)
	}
	t.Logf("all %d DONE %s after the first create", total, time.Since(start).Round(100*time.Millisecond))
	e.waitIdle(t, 10*time.Second)
	close(stopSampling)
	<-sampled

	calls := testenv.ArgvCalls(t, e.ArgvLog)
	markers := map[string]int{}
	for _, c := range calls {
		if len(c) != 4 || c[2] != "config-update" {
			t.Errorf("unexpected Barman call %q", c)
			continue
		}
		i := strings.Index(c[3], `"description": "`)
		if i < 0 {
			t.Errorf("unexpected changes %q", c[3])
			continue
		}
		markers[c[3][i:]]++
	}
	for w := 0; w < workers; w++ {
		for i := 0; i < perWorker; i++ {
			if m := fmt.Sprintf(`"description": "w%d-i%03d"}]`, w, i); markers[m] != 1 {
				t.Errorf("changes of worker %d create %d ran %d times, want once", w, i, markers[m])
			}
		}
	}
	if len(calls) != total {
		t.Errorf("want %d Barman calls, got %d", total, len(calls))
	}

	// One runner works the scope; a second may exist for a moment while an
	// old one that just let go of the lock finds it taken and exits.
	t.Logf("at most %d runners at once over %d samples", maxRunners.Load(), samples.Load())
	if m := maxRunners.Load(); m > 2 {
		t.Errorf("saw %d runner processes for the instance scope at once; want at most 2", m)
	}
	if samples.Load() < 10 {
		t.Errorf("only %d samples of the runner count: the check saw nothing", samples.Load())
	}
}

// countRunners counts the `pg-backup-api run` processes working for the
// Barman configuration conf.
func countRunners(conf string) int {
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	n := 0
	for _, p := range procs {
		data, err := os.ReadFile(p)
		if err != nil || !bytes.Contains(data, []byte(conf)) {
			continue
		}
		args := strings.Split(strings.TrimRight(string(data), "\x00"), "\x00")
		isRun, hasLock := false, false
		for _, a := range args {
			isRun = isRun || a == "run"
			hasLock = hasLock || a == "--lock-fd"
		}
		if isRun && hasLock && filepath.Base(args[0]) == filepath.Base(binary) {
			n++
		}
	}
	return n
}
