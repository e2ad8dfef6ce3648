package store

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// sharedFixtures is the repository's copy of the recorded fixtures (testdata/fixtures)
// (package tests run from the package directory).
const sharedFixtures = "../testdata/fixtures"

// fixturePath returns the absolute path of a shared fixture and fails the
// test when it is missing.
func fixturePath(t testing.TB, elem ...string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join(append([]string{sharedFixtures}, elem...)...))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("fixture missing: %v (the fixtures live in testdata/fixtures)", err)
	}
	return p
}

// copyTree copies the files under src into dst (created as needed), giving
// them modes a test may modify. rewrite, when not nil, edits each file.
func copyTree(t testing.TB, src, dst string, rewrite func([]byte) []byte) {
	t.Helper()
	err := filepath.WalkDir(src, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, path)
		if err != nil {
			return err
		}
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o755)
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if rewrite != nil {
			data = rewrite(data)
		}
		return os.WriteFile(target, data, 0o644)
	})
	if err != nil {
		t.Fatalf("copying fixture %s: %v", src, err)
	}
}

// newStoreCopy returns a copy of the reference store alone.
func newStoreCopy(t testing.TB) string {
	t.Helper()
	home := filepath.Join(t.TempDir(), "home")
	copyTree(t, fixturePath(t, "pg-backup-api-2.2", "barman_home"), home, nil)
	return home
}

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

// mustDecode decodes a JSON object or fails the test.
func mustDecode(t testing.TB, s string) *pyjson.Object {
	t.Helper()
	o, err := pyjson.DecodeObject([]byte(s), pyjson.DecodeOptions{RejectDuplicateKeys: true})
	if err != nil {
		t.Fatalf("decoding %s: %v", s, err)
	}
	return o
}

// fixedClock returns a clock stuck at the given local time.
func fixedClock(s string) func() time.Time {
	tm, err := time.ParseInLocation(ops.TimeLayout, s, time.Local)
	if err != nil {
		panic(err)
	}
	return func() time.Time { return tm }
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

// jsonValid reports whether data is one valid JSON document.
func jsonValid(data []byte) bool { return json.Valid(data) }
