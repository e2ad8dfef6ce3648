package store

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/ops/opstest"

	"github.com/pg-backup-api/pg-backup-api/internal/atomicfile"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson/pyjsontest"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// A missing fsync loses nothing until the power goes, so these tests watch
// the fsync calls themselves: each one records what it made durable, as the
// file system saw it at that moment.

// syncEvent is one fsync: of a file (its inode and size then) or of a
// directory (the names it held then).
type syncEvent struct {
	path    string
	dir     bool
	ino     uint64
	size    int64
	entries []string
}

type syncLog struct {
	mu     sync.Mutex
	events []syncEvent
}

// recordSyncs makes every fsync of the store, for the rest of the test,
// record an event before doing the real fsync; fail, when set, makes the
// ones it matches fail instead.
func recordSyncs(t *testing.T, fail func(syncEvent) error) *syncLog {
	t.Helper()
	real := atomicfile.Sync
	log := &syncLog{}
	atomicfile.Sync = func(f *os.File) error {
		fi, err := f.Stat()
		if err != nil {
			t.Errorf("fsync of %s: stat: %v", f.Name(), err)
			return real(f)
		}
		ev := syncEvent{path: f.Name(), dir: fi.IsDir(), ino: fi.Sys().(*syscall.Stat_t).Ino, size: fi.Size()}
		if ev.dir {
			entries, err := os.ReadDir(f.Name())
			if err != nil {
				t.Errorf("fsync of %s: listing: %v", f.Name(), err)
			}
			for _, e := range entries {
				ev.entries = append(ev.entries, e.Name())
			}
		}
		log.mu.Lock()
		log.events = append(log.events, ev)
		log.mu.Unlock()
		if fail != nil {
			if err := fail(ev); err != nil {
				return err
			}
		}
		return real(f)
	}
	t.Cleanup(func() { atomicfile.Sync = real })
	return log
}

func (l *syncLog) snapshot() []syncEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return slices.Clone(l.events)
}

// assertDurable checks that the file at path was fsynced with all its bytes
// (same inode, same size: the temporary file it was published from), and
// that afterwards its directory was fsynced while holding its name.
func assertDurable(t *testing.T, events []syncEvent, path string) {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	ino := fi.Sys().(*syscall.Stat_t).Ino
	fileAt := -1
	for i, ev := range events {
		if !ev.dir && ev.ino == ino && ev.size == fi.Size() {
			fileAt = i
			break
		}
	}
	if fileAt < 0 {
		t.Errorf("%s (%d bytes) was never fsynced with all its bytes before the write returned; fsyncs: %+v", path, fi.Size(), events)
		return
	}
	dir, name := filepath.Dir(path), filepath.Base(path)
	for _, ev := range events[fileAt+1:] {
		if ev.dir && ev.path == dir && slices.Contains(ev.entries, name) {
			return
		}
	}
	t.Errorf("%s: its directory %s was not fsynced after the file got its name, before the write returned; fsyncs: %+v", path, dir, events)
}

// assertDirSyncedWithout checks that dir was fsynced at a moment when it no
// longer held name.
func assertDirSyncedWithout(t *testing.T, events []syncEvent, dir, name string) {
	t.Helper()
	for _, ev := range events {
		if ev.dir && ev.path == dir && !slices.Contains(ev.entries, name) {
			return
		}
	}
	t.Errorf("%s was not fsynced after %s was removed from it; fsyncs: %+v", dir, name, events)
}

func durableStore(t *testing.T) *Store {
	t.Helper()
	home := filepath.Join(t.TempDir(), "home")
	if err := os.Mkdir(home, 0o700); err != nil {
		t.Fatal(err)
	}
	st := newStore(home)
	now := time.Date(2026, 11, 25, 8, 0, 0, 0, time.Local)
	st.Now = func() time.Time { return now }
	return st
}

// TestStoreWritesAreDurable: a job file, an output file and a cancel request
// are each fsynced whole, and then their directory is fsynced with the new
// name in it, before the write reports success.
func TestStoreWritesAreDurable(t *testing.T) {
	for _, server := range []string{"", "db_server_two"} {
		t.Run("scope "+server, func(t *testing.T) {
			st := durableStore(t)
			typ, payload := ops.ConfigUpdate, `{"type": "config_update", "changes": []}`
			if server != "" {
				typ, payload = ops.ConfigSwitch, `{"type": "config_switch", "reset": true}`
			}
			log := recordSyncs(t, nil)

			id, err := st.Create(&ops.Request{Server: server, Type: typ, Payload: pyjsontest.MustDecode(t, payload)}, ops.Extension{Version: "test"})
			if err != nil {
				t.Fatal(err)
			}
			assertDurable(t, log.snapshot(), st.JobPath(server, id))

			// Taken second: the link that publishes the job is retried under
			// the next name, and that name is the one made durable.
			other := newStore(st.Home)
			other.Now = st.Now
			id2, err := other.Create(&ops.Request{Server: server, Type: typ, Payload: pyjsontest.MustDecode(t, payload)}, ops.Extension{Version: "test"})
			if err != nil {
				t.Fatal(err)
			}
			if id2 != id+"-0001" {
				t.Fatalf("second ID in the same second = %s, want %s-0001", id2, id)
			}
			assertDurable(t, log.snapshot(), st.JobPath(server, id2))

			if err := st.End(server, id, nil, ops.Result{Success: true, Output: "done\n"}); err != nil {
				t.Fatal(err)
			}
			assertDurable(t, log.snapshot(), st.OutputPath(server, id))

			if err := WriteFileAtomic(st.StateDir(server), id2+".cancel", []byte("tester\n")); err != nil {
				t.Fatal(err)
			}
			assertDurable(t, log.snapshot(), st.CancelPath(server, id2))
			// Replacing a file makes the replacement durable too.
			if err := WriteFileAtomic(st.StateDir(server), id2+".cancel", []byte("someone else\n")); err != nil {
				t.Fatal(err)
			}
			assertDurable(t, log.snapshot(), st.CancelPath(server, id2))
		})
	}
}

// TestStorePruneIsDurable: the removal of pruned operations is fsynced in
// both directories, so a crash cannot bring back a job without its output
// (which would read queued and run again).
func TestStorePruneIsDurable(t *testing.T) {
	st := durableStore(t)
	const server = "db_server_two"
	id, err := st.Create(&ops.Request{Server: server, Type: ops.ConfigSwitch, Payload: pyjsontest.MustDecode(t, `{"type": "config_switch", "reset": true}`)}, ops.Extension{Version: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.End(server, id, nil, ops.Result{Success: true}); err != nil {
		t.Fatal(err)
	}
	log := recordSyncs(t, nil)
	pruned, err := st.Prune(server, time.Date(2027, 1, 1, 0, 0, 0, 0, time.Local), false)
	if err != nil || len(pruned) != 1 || pruned[0] != id {
		t.Fatalf("Prune = %v, %v; want [%s]", pruned, err, id)
	}
	events := log.snapshot()
	assertDirSyncedWithout(t, events, filepath.Join(st.ScopeDir(server), "jobs"), id+".json")
	assertDirSyncedWithout(t, events, filepath.Join(st.ScopeDir(server), "output"), id+".json")
}

// TestStoreFailedFsyncRecordsNothing: when the data cannot be made durable,
// Create says so and leaves neither the job nor a temporary file behind.
func TestStoreFailedFsyncRecordsNothing(t *testing.T) {
	st := durableStore(t)
	eio := errors.New("input/output error (injected)")
	recordSyncs(t, func(ev syncEvent) error {
		if !ev.dir {
			return eio
		}
		return nil
	})
	_, err := st.Create(&ops.Request{Type: ops.ConfigUpdate, Payload: pyjsontest.MustDecode(t, `{"type": "config_update", "changes": []}`)}, ops.Extension{Version: "test"})
	opstest.WantError(t, err, ops.EUNAVAILABLE, "input/output error (injected)")
	entries, err := os.ReadDir(filepath.Join(st.Home, "jobs"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 0 {
		t.Errorf("jobs/ holds %v after a failed fsync; want nothing", entries)
	}
}

// TestNewScopeDirectoriesAreDurable: the directories a first operation of a
// scope creates are each fsynced into their parent, or a power cut could
// take a whole new scope, acknowledged operations and all.
func TestNewScopeDirectoriesAreDurable(t *testing.T) {
	st := durableStore(t)
	log := recordSyncs(t, nil)
	if err := st.EnsureScope("db_server_two"); err != nil {
		t.Fatal(err)
	}
	events := log.snapshot()
	for _, dir := range []string{
		st.ScopeDir("db_server_two"),
		filepath.Join(st.ScopeDir("db_server_two"), "jobs"),
		filepath.Join(st.ScopeDir("db_server_two"), "output"),
		st.StateDir("db_server_two"),
	} {
		parent, name := filepath.Dir(dir), filepath.Base(dir)
		found := false
		for _, ev := range events {
			if ev.dir && ev.path == parent && slices.Contains(ev.entries, name) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s was created but %s was not fsynced holding it; fsyncs: %+v", dir, parent, events)
		}
	}
	// A second call finds them all and syncs nothing.
	before := len(log.snapshot())
	if err := st.EnsureScope("db_server_two"); err != nil {
		t.Fatal(err)
	}
	if after := len(log.snapshot()); after != before {
		t.Errorf("EnsureScope on existing directories fsynced %d times; want none", after-before)
	}
}
