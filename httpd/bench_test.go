package httpd_test

// Benchmarks of the HTTP handlers in process (no sockets), for profiling
// what bench/run measures over the network:
//
//	go test -run '^$' -bench Handler -benchmem -cpuprofile cpu.out ./httpd/
//
// The access log is formatted as in serve but written to io.Discard.

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/bench/storegen"
	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/internal/jsonlog"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

func benchHandler(b *testing.B, n int) (http.Handler, *storegen.Env) {
	b.Helper()
	return benchHandlerLog(b, n, io.Discard)
}

func benchHandlerLog(b *testing.B, n int, log io.Writer) (http.Handler, *storegen.Env) {
	b.Helper()
	e, err := storegen.Generate(b.TempDir(), n)
	if err != nil {
		b.Fatal(err)
	}
	api := &httpd.Server{
		AllowedHosts: testHosts,
		Service:      &ops.Service{Barman: barman.NewReader(e.BarmanConf), OpenStore: store.Opener(), Version: "bench"},
	}
	// As serve: the access log by hand, the rest through slog.
	api.Log, _ = jsonlog.New(log, jsonlog.Text, slog.LevelInfo)
	api.AccessLog, _ = jsonlog.NewLines(log, jsonlog.Text, slog.LevelInfo)
	return api.Handler(), e
}

func benchServe(b *testing.B, h http.Handler, method, target, body string, want int) {
	b.Helper()
	serve := func() *httptest.ResponseRecorder {
		var r *http.Request
		if body != "" {
			r = httptest.NewRequest(method, target, strings.NewReader(body))
			r.Header.Set("Content-Type", "application/json")
		} else {
			r = httptest.NewRequest(method, target, nil)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w
	}
	if w := serve(); w.Code != want { // also warms the caches and the index
		b.Fatalf("%s %s: %d %s", method, target, w.Code, w.Body)
	}
	b.ReportAllocs()
	for b.Loop() {
		if w := serve(); w.Code != want {
			b.Fatalf("%s %s: %d %s", method, target, w.Code, w.Body)
		}
	}
}

func BenchmarkHandlerGet(b *testing.B) {
	h, e := benchHandler(b, 10000)
	b.Run("plain", func(b *testing.B) { benchServe(b, h, "GET", "/servers/db1/operations/"+e.SampleID, "", 200) })
	b.Run("detail", func(b *testing.B) {
		benchServe(b, h, "GET", "/servers/db1/operations/"+e.SampleID+"?detail=true", "", 200)
	})
}

func BenchmarkHandlerList(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		h, _ := benchHandler(b, n)
		b.Run(fmt.Sprintf("ops=%d/plain", n), func(b *testing.B) { benchServe(b, h, "GET", "/servers/db1/operations", "", 200) })
		b.Run(fmt.Sprintf("ops=%d/detail", n), func(b *testing.B) { benchServe(b, h, "GET", "/servers/db1/operations?detail=true", "", 200) })
	}
}

// BenchmarkHandlerCreate records recoveries (fsynced, on the real disk) with
// no runner.
func BenchmarkHandlerCreate(b *testing.B) {
	h, _ := benchHandler(b, 1000)
	body := `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh -p 22 postgres@db1-new", "destination_directory": "/var/lib/postgresql/restore"}`
	benchServe(b, h, "POST", "/servers/db1/operations", body, 202)
}

// BenchmarkHandlerListPage is one page of 100 of the detailed list, the
// newest and one half-way down 10,000: the same cost wherever it is.
func BenchmarkHandlerListPage(b *testing.B) {
	h, e := benchHandler(b, 10000)
	b.Run("newest", func(b *testing.B) { benchServe(b, h, "GET", "/servers/db1/operations?limit=100&detail=true", "", 200) })
	b.Run("deep", func(b *testing.B) {
		benchServe(b, h, "GET", "/servers/db1/operations?limit=100&detail=true&before="+e.SampleID, "", 200)
	})
}

// BenchmarkHandlerStatus is GET /status, the lightest route: what the
// middleware (request ID, access log, authentication) costs.
func BenchmarkHandlerStatus(b *testing.B) {
	h, _ := benchHandler(b, 1)
	benchServe(b, h, "GET", "/status", "", 200)
}

// BenchmarkHandlerStatusLogFile is BenchmarkHandlerStatus with the access
// log written to a file, as serve's standard error often is: the write per
// request counts.
func BenchmarkHandlerStatusLogFile(b *testing.B) {
	f, err := os.Create(filepath.Join(b.TempDir(), "serve.log"))
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	h, _ := benchHandlerLog(b, 1, f)
	benchServe(b, h, "GET", "/status", "", 200)
}
