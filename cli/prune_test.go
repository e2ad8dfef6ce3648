package cli_test

import (
	endian "encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/cli"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
	"golang.org/x/sys/unix"
)

// prune and serve.retention on the reference store, whose operations ended
// on 2026-11-25 between 08:04:48 and 08:09:21; ages are worked out from now.

// pruneAge is an age in whole minutes that reaches back to just after cut
// (up to a minute later), and so prunes what ended before cut.
func pruneAge(t *testing.T, cut string) string {
	t.Helper()
	m := int(time.Since(testenv.LocalTime(t, cut)) / time.Minute)
	if m < 1 {
		t.Fatalf("the clock is before %s", cut)
	}
	return strconv.Itoa(m) + "m"
}

// The two operations that ended before 08:07: one per scope.
var prunedBefore0807 = []prunedItem{{ID: "20261125T080447"}, {ID: "20261125T080500", Server: ptr("db_server_two")}}

type prunedItem struct {
	ID     string  `json:"id"`
	Server *string `json:"server"`
}

type pruneDoc struct {
	DryRun bool         `json:"dry_run"`
	Pruned []prunedItem `json:"pruned"`
}

func (p prunedItem) String() string {
	if p.Server == nil {
		return p.ID + "@(instance)"
	}
	return p.ID + "@" + *p.Server
}

func prunedString(items []prunedItem) string {
	s := make([]string, len(items))
	for i, it := range items {
		s[i] = it.String()
	}
	return strings.Join(s, ", ")
}

// storeFiles is the snapshot of the jobs/ and output/ files of e's store.
func storeFiles(t *testing.T, e *env) map[string]string {
	t.Helper()
	files := map[string]string{}
	for p, d := range testenv.Snapshot(t, e.Home) {
		if strings.Contains(p, "/jobs/") || strings.Contains(p, "/output/") {
			files[p] = d
		}
	}
	return files
}

// removedFiles is what diffSnapshots reports for removing ops' files.
func removedFiles(e *env, items []prunedItem) string {
	var lines []string
	for _, it := range items {
		scope := e.Home
		if it.Server != nil {
			scope = filepath.Join(e.Home, *it.Server)
		}
		for _, dir := range []string{"jobs", "output"} {
			lines = append(lines, "removed "+filepath.Join(scope, dir, it.ID+".json"))
		}
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

func fixturePruned(keep func(fixtureOp) bool) []prunedItem {
	var items []prunedItem
	for _, op := range fixtureOpsWhere(keep) {
		it := prunedItem{ID: op.ID}
		if op.Server != "" {
			it.Server = ptr(op.Server)
		}
		items = append(items, it)
	}
	sort.Slice(items, func(i, j int) bool { return items[i].ID < items[j].ID })
	return items
}

func TestPruneDryRunThenReal(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	age := pruneAge(t, "2026-11-25T08:07:00.000000")
	before := storeFiles(t, e)

	// A dry run lists, in a stable order, and removes nothing. Go's order
	// of two map keys is random but lopsided, hence many runs.
	for i := 0; i < 50; i++ {
		r := e.run(t, "prune", "--older-than", age, "--dry-run")
		if r.Code != 0 || r.Stdout != "20261125T080447\t(instance)\n20261125T080500\tdb_server_two\n" ||
			r.Stderr != "would remove 2 operations that ended more than "+age+" ago\n" {
			t.Fatalf("prune --dry-run: %v", r)
		}
	}
	r := e.run(t, "prune", "--older-than", age, "--dry-run", "-o", "json")
	if keys := objectKeys(t, r.Stdout); !slices.Equal(keys, []string{"dry_run", "pruned"}) {
		t.Errorf("prune -o json keys: %q", keys)
	}
	if !strings.Contains(r.Stdout, `{
      "id": "20261125T080447",
      "server": null
    }`) {
		t.Errorf("an instance operation's server is not null:\n%s", r.Stdout)
	}
	var doc pruneDoc
	decodeJSON(t, r.Stdout, &doc)
	if !doc.DryRun || prunedString(doc.Pruned) != prunedString(prunedBefore0807) {
		t.Errorf("prune --dry-run -o json: %s", r.Stdout)
	}
	if d := testenv.DiffSnapshots(before, storeFiles(t, e)); d != "" {
		t.Fatalf("a dry run changed the store:\n%s", d)
	}

	r = e.run(t, "prune", "--older-than", age, "-o", "json")
	doc = pruneDoc{}
	decodeJSON(t, r.Stdout, &doc)
	if r.Code != 0 || doc.DryRun || prunedString(doc.Pruned) != prunedString(prunedBefore0807) {
		t.Fatalf("prune -o json: %v", r)
	}
	if d, want := testenv.DiffSnapshots(before, storeFiles(t, e)), removedFiles(e, prunedBefore0807); d != want {
		t.Errorf("prune changed the store by:\n%s\nwant:\n%s", d, want)
	}
	// Nothing left that old: an empty list, not null.
	r = e.run(t, "prune", "--older-than", age, "-o", "json")
	if r.Code != 0 || r.Stdout != "{\n  \"dry_run\": false,\n  \"pruned\": []\n}\n" {
		t.Errorf("prune with nothing to prune: %v", r)
	}
	r = e.run(t, "prune", "--older-than", age)
	if r.Code != 0 || r.Stdout != "" || r.Stderr != "removed 0 operations that ended more than "+age+" ago\n" {
		t.Errorf("prune with nothing to prune: %v", r)
	}
	if r := e.run(t, "list"); strings.Contains(r.Stdout, "20261125T080447") || strings.Contains(r.Stdout, "20261125T080500") || !strings.Contains(r.Stdout, "20261125T080805") {
		t.Errorf("list after prune:\n%s", r.Stdout)
	}
}

// deletions records the files deleted in some directories, in order.
type deletions struct {
	fd   int
	dirs map[int32]string
}

func watchDeletions(t *testing.T, dirs ...string) *deletions {
	t.Helper()
	fd, err := unix.InotifyInit1(unix.IN_CLOEXEC | unix.IN_NONBLOCK)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { unix.Close(fd) })
	d := &deletions{fd: fd, dirs: map[int32]string{}}
	for _, dir := range dirs {
		wd, err := unix.InotifyAddWatch(fd, dir, unix.IN_DELETE|unix.IN_MOVED_FROM)
		if err != nil {
			t.Fatalf("watching %s: %v", dir, err)
		}
		d.dirs[int32(wd)] = dir
	}
	return d
}

// read returns the paths deleted so far, in the order of their deletion.
func (d *deletions) read(t *testing.T) []string {
	t.Helper()
	var paths []string
	buf := make([]byte, 64<<10)
	for {
		n, err := unix.Read(d.fd, buf)
		if errors.Is(err, unix.EAGAIN) {
			return paths
		}
		if err != nil {
			t.Fatal(err)
		}
		for off := 0; off+unix.SizeofInotifyEvent <= n; {
			wd := int32(endian.NativeEndian.Uint32(buf[off:]))
			mask := endian.NativeEndian.Uint32(buf[off+4:])
			size := int(endian.NativeEndian.Uint32(buf[off+12:]))
			name := strings.TrimRight(string(buf[off+unix.SizeofInotifyEvent:off+unix.SizeofInotifyEvent+size]), "\x00")
			if mask&unix.IN_Q_OVERFLOW != 0 {
				t.Fatal("inotify queue overflowed")
			}
			if dir, ok := d.dirs[wd]; ok && name != "" {
				paths = append(paths, filepath.Join(dir, name))
			}
			off += unix.SizeofInotifyEvent + size
		}
	}
}

// TestPruneKeepsUnfinished prunes everything that ended more than a second
// ago while one operation is queued and another runs, both started before
// that: neither may go.
func TestPruneKeepsUnfinished(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	holdRunnerLock(t, e, "")
	queued := queueOp(t, e, "", "create", "config-update", "--changes", instanceChanges)
	running := createOp(t, e, []string{"FAKE_BARMAN_SLEEP=30"}, "db_server_two", "create", "config-switch", "-s", "db_server_two", "--reset")
	waitPhase(t, e, "db_server_two", running, ops.PhaseRunning)
	for _, op := range []*ops.Operation{opState(t, e, "", queued), opState(t, e, "db_server_two", running)} {
		time.Sleep(time.Until(op.StartTime.Add(1100 * time.Millisecond)))
	}

	st := store.Open(&ops.BarmanConfig{BarmanHome: e.Home})
	var dirs []string
	for _, scope := range []string{"", "db_server_two"} {
		dirs = append(dirs, filepath.Join(st.ScopeDir(scope), "jobs"), filepath.Join(st.ScopeDir(scope), "output"))
	}
	watch := watchDeletions(t, dirs...)
	before := storeFiles(t, e)

	r := e.exec(t, nil, "", "prune", "--older-than", "1s", "-o", "json")
	var doc pruneDoc
	decodeJSON(t, r.Stdout, &doc)
	want := fixturePruned(func(fixtureOp) bool { return true })
	if r.Code != 0 || prunedString(doc.Pruned) != prunedString(want) {
		t.Fatalf("prune: want %s, got %v", prunedString(want), r)
	}
	if d, wantDiff := testenv.DiffSnapshots(before, storeFiles(t, e)), removedFiles(e, want); d != wantDiff {
		t.Errorf("prune changed the store by:\n%s\nwant:\n%s", d, wantDiff)
	}
	for _, p := range []string{st.JobPath("", queued), st.JobPath("db_server_two", running)} {
		if _, err := os.Stat(p); err != nil {
			t.Errorf("prune removed an unfinished operation's job: %v", err)
		}
	}
	if op := opState(t, e, "", queued); op.Phase != ops.PhaseQueued {
		t.Errorf("the queued operation is now %s", op.Phase)
	}
	if op := opState(t, e, "db_server_two", running); op.Phase != ops.PhaseRunning {
		t.Errorf("the running operation is now %s", op.Phase)
	}

	// Each job file went before its output file: a job without its output
	// reads as queued and would run again.
	order := watch.read(t)
	at := map[string]int{}
	for i, p := range order {
		at[p] = i
	}
	for _, it := range want {
		server := ""
		if it.Server != nil {
			server = *it.Server
		}
		job, okJob := at[st.JobPath(server, it.ID)]
		out, okOut := at[st.OutputPath(server, it.ID)]
		if !okJob || !okOut || job > out {
			t.Errorf("%s: job file deleted at %d (%v), output file at %d (%v); want the job first\n%s",
				it, job, okJob, out, okOut, strings.Join(order, "\n"))
		}
	}
}

func TestPruneScopesAndErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	age := "1m" // every fixture operation ended longer ago
	before := storeFiles(t, e)
	for _, tt := range []struct {
		args []string
		want []prunedItem
	}{
		{[]string{"--server", "db_server_two"}, fixturePruned(func(op fixtureOp) bool { return op.Server == "db_server_two" })},
		{[]string{"-s", "db_server_two"}, fixturePruned(func(op fixtureOp) bool { return op.Server == "db_server_two" })},
		{[]string{"--instance"}, fixturePruned(func(op fixtureOp) bool { return op.Server == "" })},
		{nil, fixturePruned(func(fixtureOp) bool { return true })},
	} {
		r := e.run(t, append([]string{"prune", "--older-than", age, "--dry-run", "-o", "json"}, tt.args...)...)
		var doc pruneDoc
		decodeJSON(t, r.Stdout, &doc)
		if r.Code != 0 || !doc.DryRun || prunedString(doc.Pruned) != prunedString(tt.want) {
			t.Errorf("prune --dry-run %q: want %s, got %v", tt.args, prunedString(tt.want), r)
		}
	}

	for _, tt := range []struct {
		args     []string
		wantCode int
		wantMsg  string
	}{
		{[]string{"--older-than", "soon"}, cli.ExitUsage, `--older-than "soon"`},
		{[]string{"--older-than", "0m"}, cli.ExitUsage, `--older-than "0m"`},
		{[]string{"--older-than", "0d"}, cli.ExitUsage, `--older-than "0d"`},
		{[]string{"--older-than", "-5m"}, cli.ExitUsage, `--older-than "-5m"`},
		{[]string{"--older-than", "2026-11-25"}, cli.ExitUsage, `--older-than "2026-11-25"`},
		{[]string{"--older-than", ""}, cli.ExitUsage, `--older-than ""`},
		{[]string{"--dry-run"}, cli.ExitUsage, "older-than"},
		{[]string{"--older-than", age, "--server", "db9"}, cli.ExitNotFound, `server "db9"`},
		{[]string{"--older-than", age, "--server", "db_server_two", "--instance"}, cli.ExitUsage, "not both"},
		{[]string{"--older-than", age, "-o", "yaml"}, cli.ExitUsage, `"yaml"`},
	} {
		r := e.run(t, append([]string{"prune"}, tt.args...)...)
		if r.Code != tt.wantCode || !strings.Contains(r.allErr(), tt.wantMsg) {
			t.Errorf("prune %q: want exit %d mentioning %q, got %v", tt.args, tt.wantCode, tt.wantMsg, r)
		}
	}
	// prune is local: given a server to work through, it must not prune
	// this host's store instead.
	for _, global := range [][]string{{"--url", "http://127.0.0.1:1"}, {"--remote", "barman2"}} {
		r := e.run(t, append(global, "prune", "--older-than", age)...)
		if r.Code != cli.ExitUsage || !strings.Contains(r.Msg, "local store only") {
			t.Errorf("prune with %q: want exit %d, got %v", global, cli.ExitUsage, r)
		}
	}
	if d := testenv.DiffSnapshots(before, storeFiles(t, e)); d != "" {
		t.Fatalf("dry runs and refused prunes changed the store:\n%s", d)
	}

	// A real prune of one scope leaves the other alone.
	r := e.run(t, "prune", "--older-than", age, "--instance")
	instance := fixturePruned(func(op fixtureOp) bool { return op.Server == "" })
	if r.Code != 0 || r.Stdout != "20261125T080447\t(instance)\n20261125T080919\t(instance)\n" {
		t.Fatalf("prune --instance: %v", r)
	}
	if d, want := testenv.DiffSnapshots(before, storeFiles(t, e)), removedFiles(e, instance); d != want {
		t.Errorf("prune --instance changed the store by:\n%s\nwant:\n%s", d, want)
	}
}

// TestServeRetention starts serve with serve.retention on the reference
// store: its first sweep, at start, removes the old finished operations and
// leaves a recent one.
func TestServeRetention(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	r := e.exec(t, nil, "", "create", "config-update", "--changes", instanceChanges, "--wait")
	recent := strings.TrimSpace(r.Stdout)
	if r.Code != 0 {
		t.Fatalf("create: %v", r)
	}
	config := writeFile(t, e.Root, "serve.toml", "[serve]\nretention = \"1m\"\n", 0o644)
	srv := startServe(t, e, config)

	st := store.Open(&ops.BarmanConfig{BarmanHome: e.Home})
	remaining := func() []string {
		var left []string
		for _, op := range fixtureOps {
			for _, p := range []string{st.JobPath(op.Server, op.ID), st.OutputPath(op.Server, op.ID)} {
				if _, err := os.Stat(p); err == nil {
					left = append(left, p)
				}
			}
		}
		return left
	}
	logged := regexp.MustCompile(`msg="retention: removed finished operations" scope=(\S+) count=(\d+) older_than=1m`)
	testenv.Eventually(t, 10*time.Second, func() bool { return len(remaining()) == 0 && len(logged.FindAllString(srv.Log(), -1)) == 2 },
		func() string {
			return "retention left:\n" + strings.Join(remaining(), "\n") + "\nserve logged:\n" + srv.Log()
		})
	counts := map[string]string{}
	for _, m := range logged.FindAllStringSubmatch(srv.Log(), -1) {
		counts[strings.Trim(m[1], `"`)] = m[2]
	}
	if counts["(instance)"] != "2" || counts["db_server_two"] != "5" {
		t.Errorf("retention logged counts %v, want 2 for (instance) and 5 for db_server_two:\n%s", counts, srv.Log())
	}
	if op := opState(t, e, "", recent); op.Status != ops.StatusDone {
		t.Errorf("retention touched an operation that ended just now: %s", op.Status)
	}
	if r := execBinary(t, nil, "", "status", "--url", srv.URL); r.Code != 0 {
		t.Errorf("serve does not answer after its sweep: %v", r)
	}
}
