package store

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/ops/opstest"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// envCreator makes the test binary a process that creates operations (see
// creatorProcess) rather than run the tests.
const envCreator = "PG_BACKUP_API_STORE_TEST_CREATOR"

func TestMain(m *testing.M) {
	if spec := os.Getenv(envCreator); spec != "" {
		os.Exit(creatorProcess(spec))
	}
	os.Exit(m.Run())
}

// creatorProcess creates operations as a `create` process would, from
// "HOME|CLOCK|N|SERVER,SERVER,...": N operations, in turn in each scope
// ("-" is the instance), all at CLOCK. It prints "SERVER ID" a line.
func creatorProcess(spec string) int {
	parts := strings.Split(spec, "|")
	if len(parts) != 4 {
		fmt.Fprintf(os.Stderr, "bad %s %q\n", envCreator, spec)
		return 2
	}
	n, err := strconv.Atoi(parts[2])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	st := newStore(parts[0])
	st.Now = fixedClock(parts[1])
	servers := strings.Split(parts[3], ",")
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	for i := 0; i < n; i++ {
		server := servers[i%len(servers)]
		scope := server
		if scope == "-" {
			scope = ""
		}
		id, err := st.Create(idReq(scope), ops.Extension{})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Fprintf(out, "%s %s\n", server, id)
	}
	return 0
}

// idReq is a request for scope server ("" is the instance).
func idReq(server string) *ops.Request {
	if server == "" {
		return &ops.Request{Type: ops.ConfigUpdate, Payload: pyjson.NewObject()}
	}
	return &ops.Request{Server: server, Type: ops.ConfigSwitch, Payload: pyjson.NewObject()}
}

// TestCreateIDsUniqueAcrossScopes: operations of different scopes created
// in the same second get different IDs, in the order they were created, so
// a bare ID names one operation of the store.
func TestCreateIDsUniqueAcrossScopes(t *testing.T) {
	st := newStore(t.TempDir())
	st.Now = fixedClock("2026-12-06T18:35:26.100000")
	var ids []string
	for _, server := range []string{"db1", "db3", "", "db1"} {
		id, err := st.Create(idReq(server), ops.Extension{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
		if _, err := st.Get(server, id); err != nil {
			t.Errorf("Get(%q, %s): %v", server, id, err)
		}
	}
	want := []string{"20261206T183526", "20261206T183526-0001", "20261206T183526-0002", "20261206T183526-0003"}
	if strings.Join(ids, " ") != strings.Join(want, " ") {
		t.Errorf("IDs = %q, want %q", ids, want)
	}
	// Another process: its own Store, nothing in memory.
	other := newStore(st.Home)
	other.Now = st.Now
	if id, err := other.Create(idReq("db3"), ops.Extension{}); err != nil || id != "20261206T183526-0004" {
		t.Errorf("another process's Create = %s, %v; want the -0004 suffix", id, err)
	}
}

// TestCreateIDAvoidsOtherScopesWithoutHint: the lock file's hint is only a
// hint. Operations recorded without it -- by the reference implementation,
// by an older pg-backup-api, or before a crash lost the hint -- are found in
// every scope, configured or not, and a garbled hint is ignored.
func TestCreateIDAvoidsOtherScopesWithoutHint(t *testing.T) {
	home := t.TempDir()
	const second = "20261206T183526"
	testenv.WriteFile(t, filepath.Join(home, "jobs", second+".json"), `{"operation_type": "config_update"}`)
	testenv.WriteFile(t, filepath.Join(home, "db3", "jobs", second+"-0001.json"), `{"operation_type": "backup"}`)
	testenv.WriteFile(t, filepath.Join(home, "gone", "jobs", second+"-0002.json"), `{"operation_type": "backup"}`)
	// A server directory on another disk, reached by a symbolic link.
	elsewhere := t.TempDir()
	testenv.WriteFile(t, filepath.Join(elsewhere, "jobs", second+"-0003.json"), `{"operation_type": "backup"}`)
	if err := os.Symlink(elsewhere, filepath.Join(home, "db4")); err != nil {
		t.Fatal(err)
	}
	// Neither a plain file nor our hidden directory is a scope.
	testenv.WriteFile(t, filepath.Join(home, "notes.txt"), "x")
	testenv.WriteFile(t, filepath.Join(home, StateDirName, IDLockName), "garbage\x00")

	st := newStore(home)
	st.Now = fixedClock("2026-12-06T18:35:26.500000")
	id, err := st.Create(idReq("db1"), ops.Extension{})
	if err != nil || id != second+"-0004" {
		t.Fatalf("Create = %s, %v; want %s-0004, past every scope's IDs", id, err, second)
	}

	// The clock went back to a second whose hint is gone: the IDs of that
	// second are still found.
	st.Now = fixedClock("2026-12-06T18:35:27.000000")
	if id, err := st.Create(idReq("db1"), ops.Extension{}); err != nil || id != "20261206T183527" {
		t.Fatalf("Create = %s, %v", id, err)
	}
	st.Now = fixedClock("2026-12-06T18:35:26.900000")
	if id, err := st.Create(idReq("db3"), ops.Extension{}); err != nil || id != second+"-0005" {
		t.Fatalf("Create after the clock went back = %s, %v; want %s-0005", id, err, second)
	}
}

// TestCreateIDsConcurrentAcrossScopes: many creators at once, each with a
// Store of its own as separate processes have, all in one second and over
// several scopes, get distinct IDs, and each job file is in its scope.
func TestCreateIDsConcurrentAcrossScopes(t *testing.T) {
	home := t.TempDir()
	clock := fixedClock("2026-12-06T02:00:00.000000")
	servers := []string{"", "db1", "db2", "db3"}
	const workers, each = 8, 25
	type made struct{ server, id string }
	results := make(chan made, workers*each)
	errs := make(chan error, workers*each)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			st := newStore(home)
			st.Now = clock
			for i := 0; i < each; i++ {
				server := servers[(w+i)%len(servers)]
				id, err := st.Create(idReq(server), ops.Extension{})
				if err != nil {
					errs <- err
					continue
				}
				results <- made{server, id}
			}
		}(w)
	}
	wg.Wait()
	close(results)
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	var all []made
	for r := range results {
		all = append(all, r)
	}
	checkUniqueIDs(t, newStore(home), workers*each, func(yield func(server, id string)) {
		for _, r := range all {
			yield(r.server, r.id)
		}
	})
}

// TestCreateIDsConcurrentAcrossProcesses is the same with processes, which
// share no memory: only the store-wide lock keeps their IDs apart.
func TestCreateIDsConcurrentAcrossProcesses(t *testing.T) {
	home := t.TempDir()
	const procs, each = 4, 40
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for p := 0; p < procs; p++ {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		// Each process starts in a different scope, so they collide.
		servers := []string{"-", "db1", "db2", "db3"}
		servers = append(servers[p:], servers[:p]...)
		cmd.Env = append(os.Environ(), fmt.Sprintf("%s=%s|2026-12-06T02:00:00.000000|%d|%s", envCreator, home, each, strings.Join(servers, ",")))
		out := &bytes.Buffer{}
		cmd.Stdout, cmd.Stderr = out, os.Stderr
		cmds, outs = append(cmds, cmd), append(outs, out)
	}
	for _, cmd := range cmds {
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
	}
	for _, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Errorf("creator process: %v", err)
		}
	}
	checkUniqueIDs(t, newStore(home), procs*each, func(yield func(server, id string)) {
		for _, out := range outs {
			for _, line := range strings.Split(strings.TrimSpace(out.String()), "\n") {
				server, id, _ := strings.Cut(line, " ")
				if server == "-" {
					server = ""
				}
				yield(server, id)
			}
		}
	})
}

// checkUniqueIDs checks that the creates reported want distinct IDs, each
// with its job file in its own scope and in no other.
func checkUniqueIDs(t *testing.T, st *Store, want int, each func(func(server, id string))) {
	t.Helper()
	seen := map[string]string{}
	n := 0
	each(func(server, id string) {
		n++
		if prev, dup := seen[id]; dup {
			t.Errorf("ID %s given twice: in scope %q and in scope %q", id, prev, server)
		}
		seen[id] = server
		if !idPattern.MatchString(id) {
			t.Errorf("ID %q has the wrong form", id)
		}
		if _, err := st.Get(server, id); err != nil {
			t.Errorf("Get(%q, %s): %v", server, id, err)
		}
	})
	if n != want || len(seen) != want {
		t.Errorf("%d creates reported, %d distinct IDs; want %d", n, len(seen), want)
	}
	for _, server := range []string{"", "db1", "db2", "db3"} {
		entries, _ := os.ReadDir(filepath.Join(st.ScopeDir(server), "jobs"))
		for _, en := range entries {
			id, ok := strings.CutSuffix(en.Name(), ".json")
			if !ok || strings.HasPrefix(id, ".") {
				if strings.HasPrefix(en.Name(), ".") {
					t.Errorf("temporary file left: %s", en.Name())
				}
				continue
			}
			if s, ok := seen[id]; !ok || s != server {
				t.Errorf("job file %s in scope %q; reported in scope %q (%v)", id, server, s, ok)
			}
		}
	}
}

// TestCreateWaitsForTheIDLock: a create waits while another process holds
// the ID lock, goes on once it is let go, and gives up with a message that
// names the lock when it is held too long.
func TestCreateWaitsForTheIDLock(t *testing.T) {
	st := newStore(t.TempDir())
	st.Now = fixedClock("2026-12-06T18:35:26.100000")
	if err := MkdirAllDurable(st.StateDir(""), DirMode); err != nil {
		t.Fatal(err)
	}
	holder, err := os.OpenFile(st.IDLockPath(), os.O_RDWR|os.O_CREATE, FileMode)
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if ok, err := TryLock(holder); !ok || err != nil {
		t.Fatalf("TryLock = %v, %v", ok, err)
	}

	saved := idLockWait
	idLockWait = 200 * time.Millisecond
	defer func() { idLockWait = saved }()
	_, err = st.Create(idReq("db1"), ops.Extension{})
	opstest.WantError(t, err, ops.EUNAVAILABLE, "another process has held the ID lock", st.IDLockPath(), "retry")
	if entries, _ := os.ReadDir(filepath.Join(st.ScopeDir("db1"), "jobs")); len(entries) != 0 {
		t.Errorf("a create that gave up left %d files in jobs/", len(entries))
	}

	idLockWait = 10 * time.Second
	done := make(chan error, 1)
	go func() {
		_, err := st.Create(idReq("db1"), ops.Extension{})
		done <- err
	}()
	select {
	case err := <-done:
		t.Fatalf("Create did not wait for the lock: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	if err := Unlock(holder); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
