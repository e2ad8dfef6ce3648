package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/bench/storegen"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// BenchmarkDrain is a runner working through a deep queue of one server
// with a Barman that exits at once (/bin/true): what is left is the
// runner's own cost per operation, which must not grow with the queue.
// Each b.N is one operation; the queue holds at least 2,000.
//
//	go test -run '^$' -bench Drain -benchtime 2000x ./runner/
func BenchmarkDrain(b *testing.B) {
	for _, finished := range []int{0, 10000} {
		b.Run(fmt.Sprintf("finished=%d", finished), func(b *testing.B) {
			home := filepath.Join(b.TempDir(), "home")
			if finished > 0 {
				if _, err := storegen.WriteOperations(home, finished, "/etc/barman.conf"); err != nil {
					b.Fatal(err)
				}
			}
			queued := max(b.N, 2000)
			if _, err := storegen.WriteQueued(home, finished, queued, "/etc/barman.conf"); err != nil {
				b.Fatal(err)
			}
			// Dated back, as in a store whose queue filled a while ago.
			past := time.Now().Add(-time.Hour)
			if err := os.Chtimes(filepath.Join(home, storegen.Server, "jobs"), past, past); err != nil {
				b.Fatal(err)
			}
			st := store.Open(&ops.BarmanConfig{BarmanHome: home})
			r := &Runner{Store: st, Server: storegen.Server, Barman: barman.NewCommand("/bin/true")}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			outputs := filepath.Join(home, storegen.Server, "output")
			done := make(chan error, 1)
			b.ResetTimer()
			start := time.Now()
			go func() { done <- r.Run(ctx, nil) }()
			// Stop the runner once b.N operations have finished.
			for {
				names, _ := os.ReadDir(outputs)
				if len(names)-finished >= b.N {
					break
				}
				time.Sleep(50 * time.Millisecond)
			}
			cancel()
			b.StopTimer()
			if err := <-done; err != nil && err != context.Canceled {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "ops/s")
		})
	}
}
