package ops_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/bench/storegen"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// Benchmarks of the Service over the real store and configuration cache
// ("Fast at any size"):
//
//	go test -run '^$' -bench . -benchmem ./ops/
//
// The stores are synthetic (package bench/storegen, which bench/run uses
// too): N finished operations of server db1 written straight to disk.

var benchSizes = []int{1000, 10000}

// benchEnv is a Barman configuration with server db1 (one DONE backup), a
// model and a configuration_files_directory, and n operations of db1.
func benchEnv(tb testing.TB, n int) *storegen.Env {
	tb.Helper()
	e, err := storegen.Generate(tb.TempDir(), n)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

func BenchmarkServiceConfig(b *testing.B) {
	svc := newService(benchEnv(b, 0).BarmanConf)
	first, err := svc.Config(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		cfg, err := svc.Config(context.Background())
		if err != nil || cfg != first {
			b.Fatalf("Config: %p, %v; want the cached %p", cfg, err, first)
		}
	}
}

// BenchmarkServiceGet and BenchmarkServiceList are what the HTTP handlers
// call: the configuration check, then the store.
func BenchmarkServiceGet(b *testing.B) {
	e := benchEnv(b, 10000)
	svc := newService(e.BarmanConf)
	id := e.SampleID
	b.ReportAllocs()
	for b.Loop() {
		if _, err := svc.Get(context.Background(), "db1", id); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkServiceList(b *testing.B) {
	for _, n := range benchSizes {
		svc := newService(benchEnv(b, n).BarmanConf)
		b.Run(fmt.Sprintf("ops=%d", n), func(b *testing.B) {
			svc.List(context.Background(), "db1", ops.ListOptions{})
			b.ReportAllocs()
			for b.Loop() {
				list, _, err := svc.List(context.Background(), "db1", ops.ListOptions{})
				if err != nil || len(list) != n {
					b.Fatalf("List: %d, %v", len(list), err)
				}
			}
		})
	}
}

// newService is the Service as the command line wires it, over the real
// store and Barman configuration reader.
func newService(barmanConf string) *ops.Service {
	return &ops.Service{Barman: barman.NewReader(barmanConf), OpenStore: store.Opener()}
}
