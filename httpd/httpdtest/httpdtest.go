// Package httpdtest serves the HTTP API in a test's own process, for the
// tests of the packages that talk to it (the CLI's --url, the fault
// tests). It sits beside httpd rather than in internal/testenv because it
// imports the product's packages, and nothing under internal/ imports a
// package above it. Only tests import it.
package httpdtest

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// Reader serves the HTTP API over the Barman configuration barmanConf and
// the store under its barman_home on a loopback port until the test ends,
// with no launcher: a reader that starts no runner, whose log is
// discarded.
func Reader(t testing.TB, barmanConf string) *httptest.Server {
	t.Helper()
	s := &httpd.Server{
		Service: &ops.Service{Barman: barman.NewReader(barmanConf), OpenStore: store.Opener(), Version: "test"},
		Log:     slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	return srv
}
