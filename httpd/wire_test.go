package httpd

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

// TestErrorCodesRoundTrip sends every engine error code through the server's
// error answer and reads it back with the Client: the code that left is the
// code that arrives, so remote commands exit as local ones do.
func TestErrorCodesRoundTrip(t *testing.T) {
	codes := []string{ops.EINVALID, ops.ENOTFOUND, ops.ECONFLICT, ops.EUNAVAILABLE, ops.EINTERNAL}
	if len(codes) != len(errorStatuses) {
		t.Fatalf("the table has %d rows for %d codes", len(errorStatuses), len(codes))
	}
	seen := map[int]string{}
	for _, e := range errorStatuses {
		if other, dup := seen[e.status]; dup {
			t.Errorf("status %d stands for both %s and %s", e.status, other, e.code)
		}
		seen[e.status] = e.code
	}
	s := &Server{Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	for _, code := range codes {
		t.Run(code, func(t *testing.T) {
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				s.fail(w, r, ops.Errorf(code, "the %s message", code))
			}))
			defer ts.Close()
			c, err := NewClient(ClientConfig{URL: ts.URL})
			if err != nil {
				t.Fatal(err)
			}
			_, err = c.Get("db1", "20261125T080447")
			if got := ops.ErrorCode(err); got != code {
				t.Errorf("sent %s, read back %s (%v)", code, got, err)
			}
			if code != ops.EINTERNAL && !strings.Contains(err.Error(), "the "+code+" message") {
				t.Errorf("the message did not arrive: %v", err)
			}
		})
	}
}

// TestCodeForOutsideTheTable: statuses the table does not hold, from
// net/http, the auth layer or a proxy, still mean something to a client.
func TestCodeForOutsideTheTable(t *testing.T) {
	for status, want := range map[int]string{
		http.StatusRequestEntityTooLarge: ops.EINVALID,
		http.StatusUnauthorized:          ops.EUNAVAILABLE,
		http.StatusForbidden:             ops.EUNAVAILABLE,
		http.StatusBadGateway:            ops.EUNAVAILABLE,
		http.StatusGatewayTimeout:        ops.EUNAVAILABLE,
		http.StatusMethodNotAllowed:      ops.EINTERNAL,
	} {
		if got := codeFor(status); got != want {
			t.Errorf("codeFor(%d) = %s, want %s", status, got, want)
		}
	}
}
