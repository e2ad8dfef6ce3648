package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/ops/opstest"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson/pyjsontest"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// TestConcurrentCreatesAreEachDurable: creates racing in one scope share
// directory fsyncs, yet each one returns only after its own file was
// fsynced whole and a directory fsync holding its name finished.
func TestConcurrentCreatesAreEachDurable(t *testing.T) {
	st := durableStore(t)
	if err := st.EnsureScope(""); err != nil {
		t.Fatal(err)
	}
	// Slow directory fsyncs, so that creates pile up behind one.
	log := recordSyncs(t, func(ev syncEvent) error {
		if ev.dir {
			time.Sleep(2 * time.Millisecond)
		}
		return nil
	})
	const workers, each = 8, 10
	ids := make(chan string, workers*each)
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				id, err := st.Create(&ops.Request{Type: ops.ConfigUpdate, Payload: pyjsontest.MustDecode(t, `{"type": "config_update", "changes": []}`)}, ops.Extension{Version: "test"})
				if err != nil {
					t.Error(err)
					return
				}
				// The events so far: whatever made it durable happened
				// before Create returned.
				events := log.snapshot()
				assertDurable(t, events, st.JobPath("", id))
				ids <- id
			}
		})
	}
	wg.Wait()
	close(ids)
	seen := map[string]bool{}
	for id := range ids {
		if seen[id] {
			t.Errorf("ID %s given twice", id)
		}
		seen[id] = true
	}
	if len(seen) != workers*each {
		t.Fatalf("%d IDs, want %d", len(seen), workers*each)
	}
	dirSyncs := 0
	for _, ev := range log.snapshot() {
		if ev.dir && ev.path == filepath.Join(st.Home, "jobs") {
			dirSyncs++
		}
	}
	if dirSyncs >= workers*each {
		t.Errorf("%d directory fsyncs for %d concurrent creates: none were shared", dirSyncs, workers*each)
	}
}

// TestGroupSyncDirErrorReachesTheWholeBatch: when the directory fsync a
// create waited for fails, that create fails, and its job file is gone (an
// operation nobody was told about must not run).
func TestGroupSyncDirErrorReachesTheWholeBatch(t *testing.T) {
	st := durableStore(t)
	if err := st.EnsureScope(""); err != nil {
		t.Fatal(err)
	}
	var failing atomic.Bool
	failing.Store(true)
	eio := errors.New("input/output error (injected)")
	recordSyncs(t, func(ev syncEvent) error {
		if ev.dir && failing.Load() {
			time.Sleep(time.Millisecond)
			return eio
		}
		return nil
	})
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for range 6 {
		wg.Go(func() {
			_, err := st.Create(&ops.Request{Type: ops.ConfigUpdate, Payload: pyjsontest.MustDecode(t, `{"type": "config_update", "changes": []}`)}, ops.Extension{Version: "test"})
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		opstest.WantError(t, err, ops.EUNAVAILABLE, "input/output error (injected)")
	}
	if left, err := os.ReadDir(filepath.Join(st.Home, "jobs")); err != nil || len(left) != 0 {
		t.Errorf("jobs/ holds %v (%v) after failed directory fsyncs; want nothing", left, err)
	}
	// The next batch, once fsync works again, succeeds.
	failing.Store(false)
	if _, err := st.Create(&ops.Request{Type: ops.ConfigUpdate, Payload: pyjsontest.MustDecode(t, `{"type": "config_update", "changes": []}`)}, ops.Extension{Version: "test"}); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkStoreCreateParallel is BenchmarkStoreCreate from 8 goroutines,
// as serve sees 8 concurrent POST clients: they share directory fsyncs.
func BenchmarkStoreCreateParallel(b *testing.B) {
	home := filepath.Join(b.TempDir(), "home")
	st := newStore(home)
	if err := os.Mkdir(home, DirMode); err != nil {
		b.Fatal(err)
	}
	var sec atomic.Int64
	// A fresh second every 1,000 creates keeps IDs from running out.
	var n atomic.Int64
	st.Now = func() time.Time {
		if n.Add(1)%1000 == 0 {
			sec.Add(1)
		}
		return time.Unix(1764028800+sec.Load(), 0)
	}
	payload, err := pyjson.DecodeObject([]byte(`{"type": "config_update", "changes": [{"scope": "server", "server_name": "db1", "archiver": "on"}]}`), pyjson.DecodeOptions{})
	if err != nil {
		b.Fatal(err)
	}
	req := &ops.Request{Type: ops.ConfigUpdate, Payload: payload}
	ext := ops.Extension{Version: "1.0.0", BarmanConfig: "/etc/barman.conf", RequestedBy: "http:ci", Client: "127.0.0.1:40000"}
	b.SetParallelism(max(1, 8/runtime.GOMAXPROCS(0)))
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := st.Create(req, ext); err != nil {
				panic(fmt.Sprint("Create: ", err))
			}
		}
	})
}
