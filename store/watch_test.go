package store

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/filestamp"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// writeFinished writes a finished config_switch operation of db1 as the
// reference implementation does, its files an hour old (past the racy
// window, so its answer may be cached).
func writeFinished(t *testing.T, st *Store, id string, success bool) {
	t.Helper()
	job := `{"operation_type": "config_switch", "start_time": "2026-11-25T08:05:00.474759", "model_name": "m", "reset": false}`
	out := `{"success": true, "end_time": "2026-11-25T08:05:01.121805", "output": "ok\n", "exit_code": 0}`
	if !success {
		out = `{"success": false, "end_time": "2026-11-25T08:05:01.121805", "output": "ERROR\n", "exit_code": 1}`
	}
	testenv.WriteFile(t, st.JobPath("db1", id), job)
	// Written aside and renamed, as every writer of the store does.
	tmp := st.OutputPath("db1", id) + ".tmp"
	testenv.WriteFile(t, tmp, out)
	past := time.Now().Add(-time.Hour)
	for _, p := range []string{st.JobPath("db1", id), tmp} {
		if err := os.Chtimes(p, past, past); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.Rename(tmp, st.OutputPath("db1", id)); err != nil {
		t.Fatal(err)
	}
}

// countStats counts the output stats of get until the test ends.
func countStats(t *testing.T) *atomic.Int64 {
	var n atomic.Int64
	old := statOutput
	statOutput = func(path string) (filestamp.Stamp, bool) {
		n.Add(1)
		return old(path)
	}
	t.Cleanup(func() { statOutput = old })
	return &n
}

// statusOf answers as serve does (httpd's response cache): the status kept
// under the operation's stamp while GetIfChanged says it is unchanged, else
// the status read.
func statusOf(t *testing.T, st *Store, id string) string {
	t.Helper()
	answersMu.Lock()
	held, ok := answers[st]
	answersMu.Unlock()
	op, stamp, err := st.GetIfChanged("db1", id, held.stamp)
	if err != nil {
		return "error: " + err.Error()
	}
	if op == nil {
		if !ok || stamp != held.stamp {
			t.Fatalf("GetIfChanged(%d) said unchanged with nothing held", held.stamp)
		}
		return held.status
	}
	answersMu.Lock()
	if stamp != 0 {
		answers[st] = heldAnswer{stamp, string(op.Status)}
	} else {
		delete(answers, st)
	}
	answersMu.Unlock()
	return string(op.Status)
}

// heldAnswer is what statusOf keeps of a store's operation (one per store:
// the tests look at one operation each).
type heldAnswer struct {
	stamp  ops.Stamp
	status string
}

var (
	answersMu sync.Mutex
	answers   = map[*Store]heldAnswer{}
)

func watching(t *testing.T, st *Store) {
	t.Helper()
	stop, err := st.WatchChanges()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
}

// eventually polls until statusOf begins with want; changes made by another
// process reach a watching store as the kernel delivers the event.
func eventually(t *testing.T, st *Store, id, want string, within time.Duration) {
	t.Helper()
	var got string
	testenv.Eventually(t, within, func() bool {
		got = statusOf(t, st, id)
		return strings.HasPrefix(got, want)
	}, func() string {
		return fmt.Sprintf("operation %s is %q %v after the change, want %q", id, got, within, want)
	})
}

func TestWatchedAnswersNeedNoStat(t *testing.T) {
	st := newStore(t.TempDir())
	const id = "20261125T080500"
	writeFinished(t, st, id, true)
	stats := countStats(t)

	// Without a watch, each answer looks at the output file's stamp.
	for range 3 {
		if got := statusOf(t, st, id); got != "DONE" {
			t.Fatalf("status %q, want DONE", got)
		}
	}
	if n := stats.Load(); n != 3 {
		t.Fatalf("%d stats for 3 unwatched answers, want 3", n)
	}

	watching(t, st)
	stats.Store(0)
	for range 100 {
		if got := statusOf(t, st, id); got != "DONE" {
			t.Fatalf("status %q, want DONE", got)
		}
	}
	// The entry cached before the watch is confirmed by one stat, then
	// trusted while the kernel reports nothing.
	if n := stats.Load(); n != 1 {
		t.Errorf("%d stats for 100 watched answers, want 1 (the first, confirming the entry)", n)
	}
}

func TestWatchSeesChangesMadeByOthers(t *testing.T) {
	tests := []struct {
		name   string
		change func(t *testing.T, st *Store, id string)
		want   string
	}{
		{"output replaced by a rename", func(t *testing.T, st *Store, id string) { writeFinished(t, st, id, false) }, "FAILED"},
		{"output rewritten in place", func(t *testing.T, st *Store, id string) {
			// Same size, same hour-old time: only the event tells.
			f, err := os.OpenFile(st.OutputPath("db1", id), os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := f.WriteAt([]byte(`{"success": false`), 0); err != nil {
				t.Fatal(err)
			}
			f.Close()
			past := time.Now().Add(-time.Hour)
			os.Chtimes(st.OutputPath("db1", id), past, past)
		}, "FAILED"},
		{"output removed", func(t *testing.T, st *Store, id string) {
			if err := os.Remove(st.OutputPath("db1", id)); err != nil {
				t.Fatal(err)
			}
		}, "IN_PROGRESS"},
		{"operation removed", func(t *testing.T, st *Store, id string) {
			os.Remove(st.JobPath("db1", id))
			if err := os.Remove(st.OutputPath("db1", id)); err != nil {
				t.Fatal(err)
			}
		}, "error: operation 20261125T080500 does not exist"},
		{"output directory moved aside and made anew", func(t *testing.T, st *Store, id string) {
			dir := filepath.Dir(st.OutputPath("db1", id))
			if err := os.Rename(dir, dir+".old"); err != nil {
				t.Fatal(err)
			}
			writeFinished(t, st, id, false)
		}, "FAILED"},
		{"scope directory moved aside and put back", func(t *testing.T, st *Store, id string) {
			// No event reaches a watch on a child of a renamed directory:
			// the periodic recheck of the watched path notices.
			scope := st.ScopeDir("db1")
			if err := os.Rename(scope, scope+".old"); err != nil {
				t.Fatal(err)
			}
			writeFinished(t, st, id, false)
		}, "FAILED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			st := newStore(t.TempDir())
			const id = "20261125T080500"
			writeFinished(t, st, id, true)
			watching(t, st)
			for range 2 {
				if got := statusOf(t, st, id); got != "DONE" {
					t.Fatalf("status %q, want DONE", got)
				}
			}
			tc.change(t, st, id)
			eventually(t, st, id, tc.want, 3*recheckEvery)
		})
	}
}

// A change reported between the stat and the caching of what was read
// leaves the entry to be checked by stamp, not trusted on the watch's word.
func TestWatchEventDuringReadIsNotTrusted(t *testing.T) {
	st := newStore(t.TempDir())
	const id = "20261125T080500"
	writeFinished(t, st, id, true)
	watching(t, st)
	scope, gen := st.watchScope("db1")
	if scope == nil {
		t.Fatal("no watch on db1's output directory")
	}
	// An event about another file of the scope, as the kernel queues it.
	ev := make([]byte, syscall.SizeofInotifyEvent+16)
	binary.NativeEndian.PutUint32(ev[0:], uint32(scope.wd))
	binary.NativeEndian.PutUint32(ev[4:], syscall.IN_CLOSE_WRITE)
	binary.NativeEndian.PutUint32(ev[12:], 16)
	copy(ev[syscall.SizeofInotifyEvent:], "other.json")
	st.mu.Lock()
	st.applyEvents(st.watch, ev)
	current := scope.current(gen)
	st.mu.Unlock()
	if current {
		t.Fatal("the scope's generation did not move on an event")
	}

	// Queue overflow: nothing cached on the watch's word survives.
	statusOf(t, st, id)
	st.mu.Lock()
	e := st.finished[opKey{"db1", id}]
	st.mu.Unlock()
	if e == nil || !e.watched {
		t.Fatal("a settled finished operation was not cached as watched")
	}
	overflow := make([]byte, syscall.SizeofInotifyEvent)
	binary.NativeEndian.PutUint32(overflow[0:], ^uint32(0)) // wd -1
	binary.NativeEndian.PutUint32(overflow[4:], syscall.IN_Q_OVERFLOW)
	st.mu.Lock()
	st.applyEvents(st.watch, overflow)
	_, kept := st.finished[opKey{"db1", id}]
	st.mu.Unlock()
	if kept {
		t.Error("an entry survived a queue overflow")
	}
	if got := statusOf(t, st, id); got != "DONE" {
		t.Errorf("after an overflow: %q, want DONE (read again)", got)
	}
}

func TestWatchStopsCleanly(t *testing.T) {
	st := newStore(t.TempDir())
	const id = "20261125T080500"
	writeFinished(t, st, id, true)
	fds := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	before := fds()
	stop, err := st.WatchChanges()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.WatchChanges(); err == nil {
		t.Error("a second watch on one store was accepted")
	}
	statusOf(t, st, id)
	stop()
	stop() // twice is harmless
	if after := fds(); after != before {
		t.Errorf("%d open files after the watch stopped, %d before: the inotify descriptor leaked", after, before)
	}
	stats := countStats(t)
	statusOf(t, st, id)
	if stats.Load() != 1 {
		t.Errorf("%d stats after the watch stopped, want 1: answers are checked by stamp again", stats.Load())
	}
}
