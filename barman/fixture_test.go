package barman

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

func writeFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func readFile(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

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
