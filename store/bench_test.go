package store

// Benchmarks of the store ("Fast at any size").
//
//	go test -run '^$' -bench . -benchmem ./store/
//
// The stores are synthetic (package bench/storegen, which bench/run uses
// too): N finished operations of server db1 written straight to disk in the
// reference's format, with our pg_backup_api key so they count as ours, and
// dated an hour back, as in a settled store, so neither the index nor the
// caches take them for racy.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/bench/storegen"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// benchStore writes n finished operations of server db1 under home.
func benchStore(tb testing.TB, home string, n int) []string {
	tb.Helper()
	ids, err := storegen.WriteOperations(home, n, "/etc/barman.conf")
	if err != nil {
		tb.Fatal(err)
	}
	return ids
}

var benchSizes = []int{1000, 10000}

func BenchmarkStoreList(b *testing.B) {
	for _, n := range benchSizes {
		home := filepath.Join(b.TempDir(), "home")
		benchStore(b, home, n)
		// The first listing writes the index that "cold" reads.
		if ops, _, err := newStore(home).List("db1", ops.ListOptions{}); err != nil || len(ops) != n {
			b.Fatalf("List: %d operations, %v; want %d", len(ops), err, n)
		}
		indexPath := filepath.Join(home, "db1", StateDirName, indexFileName)
		if _, err := os.Stat(indexPath); err != nil {
			b.Fatal(err)
		}
		check := func(b *testing.B, ops []*ops.Operation, err error) {
			if err != nil || len(ops) != n {
				b.Fatalf("List: %d operations, %v; want %d", len(ops), err, n)
			}
		}
		b.Run(fmt.Sprintf("ops=%d/warm", n), func(b *testing.B) {
			st := newStore(home)
			st.List("db1", ops.ListOptions{})
			b.ReportAllocs()
			for b.Loop() {
				ops, _, err := st.List("db1", ops.ListOptions{})
				check(b, ops, err)
			}
		})
		// As `list` and ?detail=true: status of every operation (all
		// finished here, so the index answers).
		b.Run(fmt.Sprintf("ops=%d/warm-status", n), func(b *testing.B) {
			st := newStore(home)
			st.List("db1", ops.ListOptions{Status: true})
			b.ReportAllocs()
			for b.Loop() {
				ops, _, err := st.List("db1", ops.ListOptions{Status: true})
				check(b, ops, err)
			}
		})
		// A new process: the index is on disk, nothing in memory.
		b.Run(fmt.Sprintf("ops=%d/cold", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				ops, _, err := newStore(home).List("db1", ops.ListOptions{})
				check(b, ops, err)
			}
		})
		// One operation recorded since the last listing, as between two
		// requests of a busy serve: the index is brought up to date.
		b.Run(fmt.Sprintf("ops=%d/one-new", n), func(b *testing.B) {
			st := newStore(home)
			st.List("db1", ops.ListOptions{})
			jobs := filepath.Join(home, "db1", "jobs")
			job := []byte(`{"type": "config_switch", "reset": true, "operation_type": "config_switch", "start_time": "2026-11-26T00:00:00.000000"}`)
			i := 0
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				i++
				id := fmt.Sprintf("20261126T%06d", i)
				if err := os.WriteFile(filepath.Join(jobs, id+".json"), job, FileMode); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				ops, _, err := st.List("db1", ops.ListOptions{})
				if err != nil || len(ops) != n+i {
					b.Fatalf("List: %d operations, %v; want %d", len(ops), err, n+i)
				}
			}
			b.StopTimer()
			for j := 1; j <= i; j++ {
				os.Remove(filepath.Join(jobs, fmt.Sprintf("20261126T%06d.json", j)))
			}
			// Leave the directories settled again for the next benchmark.
			past := time.Now().Add(-time.Hour)
			os.Chtimes(jobs, past, past)
			newStore(home).List("db1", ops.ListOptions{})
		})
		// No index: every job and output file is read, and the index written.
		b.Run(fmt.Sprintf("ops=%d/rebuild", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				b.StopTimer()
				if err := os.Remove(indexPath); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				ops, _, err := newStore(home).List("db1", ops.ListOptions{})
				check(b, ops, err)
			}
		})
	}
}

func BenchmarkStoreGet(b *testing.B) {
	home := filepath.Join(b.TempDir(), "home")
	ids := benchStore(b, home, 10000)
	id := ids[len(ids)/2]
	get := func(b *testing.B, st *Store) {
		op, err := st.Get("db1", id)
		if err != nil || op.Status == ops.StatusInProgress {
			b.Fatalf("Get: %+v, %v", op, err)
		}
	}
	b.Run("warm", func(b *testing.B) {
		st := newStore(home)
		get(b, st)
		b.ReportAllocs()
		for b.Loop() {
			get(b, st)
		}
	})
	b.Run("cold", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			get(b, newStore(home))
		}
	})
	// GetIfChanged with the stamp of the answer at hand is what GET
	// /servers/{name}/operations/{id} does for a finished operation whose
	// answer serve keeps (httpd's response cache): checked by a stat of the
	// output file, or trusted while serve's watch stands.
	var stamp ops.Stamp
	memo := func(b *testing.B, st *Store) {
		op, now, err := st.GetIfChanged("db1", id, stamp)
		if err != nil || now == 0 || op != nil && op.Status == ops.StatusInProgress {
			b.Fatalf("GetIfChanged: %+v, %v, %v", op, now, err)
		}
		stamp = now
	}
	b.Run("memo", func(b *testing.B) {
		st := newStore(home)
		memo(b, st)
		b.ReportAllocs()
		for b.Loop() {
			memo(b, st)
		}
	})
	b.Run("memo-watched", func(b *testing.B) {
		st := newStore(home)
		stop, err := st.WatchChanges()
		if err != nil {
			b.Fatal(err)
		}
		defer stop()
		memo(b, st)
		memo(b, st)
		b.ReportAllocs()
		for b.Loop() {
			memo(b, st)
		}
	})
}

// BenchmarkStoreCreate records config_update operations on the real disk
// (each fsyncs its file and the directory). The clock moves a second per
// operation so that IDs never run out within one second.
func BenchmarkStoreCreate(b *testing.B) {
	home := filepath.Join(b.TempDir(), "home")
	if err := os.Mkdir(home, DirMode); err != nil {
		b.Fatal(err)
	}
	st := newStore(home)
	now := storegen.Epoch
	st.Now = func() time.Time { now = now.Add(time.Second); return now }
	payload, err := pyjson.DecodeObject([]byte(`{"type": "config_update", "changes": [{"scope": "server", "server_name": "db1", "archiver": "on"}]}`), pyjson.DecodeOptions{})
	if err != nil {
		b.Fatal(err)
	}
	req := &ops.Request{Type: ops.ConfigUpdate, Payload: payload}
	ext := ops.Extension{Version: "1.0.0", BarmanConfig: "/etc/barman.conf", RequestedBy: "http:ci", Client: "127.0.0.1:40000"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := st.Create(req, ext); err != nil {
			b.Fatal(err)
		}
	}
}

// TestBenchStoreReads keeps the synthetic store honest: the store reads
// every operation back as ours and finished, with the mix intended.
func TestBenchStoreReads(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	ids := benchStore(t, home, 70)
	st := newStore(home)
	list, skipped, err := st.List("db1", ops.ListOptions{Status: true})
	if err != nil || len(skipped) != 0 || len(list) != len(ids) {
		t.Fatalf("List: %d operations, skipped %v, %v", len(list), skipped, err)
	}
	count := map[string]int{}
	for i, op := range list {
		if op.ID != ids[i] {
			t.Fatalf("operation %d is %s, want %s", i, op.ID, ids[i])
		}
		count[string(op.Type)+" "+string(op.Status)]++
	}
	if count["recovery DONE"] == 0 || count["recovery FAILED"] == 0 || count["config_switch DONE"] == 0 || count["config_switch FAILED"] == 0 {
		t.Errorf("mix = %v, want both types DONE and FAILED", count)
	}
	op, err := st.Get("db1", ids[3])
	if err != nil {
		t.Fatal(err)
	}
	if !op.Ours() || op.Status != ops.StatusFailed || op.ExitCode == nil || *op.ExitCode != 1 || len(op.Output) < 300 || !strings.HasPrefix(op.Output, "ERROR") {
		t.Errorf("Get(%s) = %+v (ours %v)", ids[3], op, op.Ours())
	}
	if ids[0] != "20261125T000000" || ids[61] != "20261125T000101" {
		t.Errorf("IDs %s, %s", ids[0], ids[61])
	}
}

// BenchmarkStorePendingIDs is what a runner does before each operation it
// runs: both directories of the scope are read in full, so its cost grows
// with the finished operations kept.
func BenchmarkStorePendingIDs(b *testing.B) {
	for _, n := range benchSizes {
		home := filepath.Join(b.TempDir(), "home")
		benchStore(b, home, n)
		st := newStore(home)
		b.Run(fmt.Sprintf("ops=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if ids, err := st.PendingIDs("db1"); err != nil || len(ids) != 0 {
					b.Fatalf("PendingIDs: %v, %v", ids, err)
				}
			}
		})
	}
}

// BenchmarkStoreRebuild100k is the first start on a store of 100,000
// finished operations: no index, every job and output file read once, the
// index written. BENCH_REBUILD_N changes the size.
func BenchmarkStoreRebuild100k(b *testing.B) {
	n := 100000
	if v := os.Getenv("BENCH_REBUILD_N"); v != "" {
		fmt.Sscan(v, &n)
	}
	home := filepath.Join(b.TempDir(), "home")
	benchStore(b, home, n)
	indexPath := filepath.Join(home, "db1", StateDirName, indexFileName)
	b.ReportAllocs()
	// CPU time is less disturbed than wall time on a shared machine.
	var cpu time.Duration
	for b.Loop() {
		b.StopTimer()
		os.Remove(indexPath)
		c0 := processCPU()
		b.StartTimer()
		list, _, err := newStore(home).List("db1", ops.ListOptions{})
		if err != nil || len(list) != n {
			b.Fatalf("List: %d operations, %v; want %d", len(list), err, n)
		}
		b.StopTimer()
		cpu += processCPU() - c0
		b.StartTimer()
	}
	b.ReportMetric(float64(cpu.Milliseconds())/float64(b.N), "cpu-ms/op")
}

// processCPU is the user and system time this process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
