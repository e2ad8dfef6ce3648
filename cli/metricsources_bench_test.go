package cli

import (
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/bench/storegen"
	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/metrics"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// scrapeEnv is a store of n finished operations and a Barman configuration
// of servers servers, each with a backup in its catalog.
func scrapeEnv(b *testing.B, n, servers int) *ops.Service {
	b.Helper()
	e, err := storegen.Generate(b.TempDir(), n)
	if err != nil {
		b.Fatal(err)
	}
	confDir := filepath.Join(e.Dir, "barman.d")
	for i := 2; i <= servers; i++ {
		name := fmt.Sprintf("db%d", i)
		files := map[string]string{
			filepath.Join(confDir, name+".conf"): "[" + name + "]\nconninfo = host=127.0.0.1 user=barman dbname=postgres\nbackup_method = postgres\n",
			filepath.Join(e.Home, name, "meta", "20261124T230000-backup.info"): "backup_id=20261124T230000\nstatus=DONE\nsize=1000\n" +
				"begin_time=2026-11-24 23:00:00.000000+00:00\nend_time=2026-11-24 23:00:07.000000+00:00\n",
		}
		for p, data := range files {
			if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
				b.Fatal(err)
			}
			if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
				b.Fatal(err)
			}
		}
	}
	return &ops.Service{Barman: barman.NewReader(e.BarmanConf), OpenStore: store.Opener(), Version: "bench"}
}

// BenchmarkMetricsScrape is one GET /metrics with 10,000 operations and 20
// servers, the operations listed afresh for every scrape (the target: under
// 20 ms). "catalog cold" re-reads the 20 catalogs too, as a scrape does once
// every CatalogTTL.
func BenchmarkMetricsScrape(b *testing.B) {
	svc := scrapeEnv(b, 10000, 20)
	for _, c := range []struct {
		name string
		ttl  time.Duration
	}{{"catalog cached", time.Hour}, {"catalog cold", time.Nanosecond}} {
		b.Run(c.name, func(b *testing.B) {
			source := &operationSource{svc: svc, start: time.Now()}
			m, err := metrics.New(metrics.Options{Operations: source, Catalog: catalogSource{svc: svc}, CatalogTTL: c.ttl,
				Routes: httpd.RoutePatterns(), Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
			if err != nil {
				b.Fatal(err)
			}
			h := m.Handler()
			scrape := func() {
				source.mu.Lock()
				source.at = time.Time{} // list afresh, as a scrape 500 ms later would
				source.mu.Unlock()
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
				if rec.Code != 200 {
					b.Fatalf("GET /metrics: %d", rec.Code)
				}
			}
			scrape() // builds the index, as serve's first scrape does
			b.ResetTimer()
			for range b.N {
				scrape()
			}
		})
	}
}
