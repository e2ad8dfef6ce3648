package barman

import (
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

// wantError checks err's code and that its message contains every part.
func wantError(t testing.TB, err error, code string, parts ...string) {
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
