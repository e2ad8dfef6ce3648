// Package opstest holds test helpers about the domain's errors, for the
// tests of ops and of the packages that use it. It sits beside ops rather
// than in internal/testenv because it imports ops, and nothing under
// internal/ imports a package above it. Only tests import it.
package opstest

import (
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

// WantError checks err's code (ops.ErrorCode) and that its message
// contains every part.
func WantError(t testing.TB, err error, code string, parts ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %s error containing %q", code, parts)
	}
	if got := ops.ErrorCode(err); got != code {
		t.Errorf("error code = %q, want %q (error: %v)", got, code, err)
	}
	for _, p := range parts {
		if !strings.Contains(err.Error(), p) {
			t.Errorf("error %q does not contain %q", err.Error(), p)
		}
	}
}
