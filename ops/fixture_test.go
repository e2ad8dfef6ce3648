package ops_test

import (
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

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

// barmanEnv is a writable copy of a Barman fixture.
type barmanEnv struct {
	Conf    string // barman.conf
	ConfDir string // its configuration_files_directory
	Home    string // barman_home, holding the backup catalog
}

// newBarmanEnv copies fixtures/<name>/etc and barman_home into a temporary
// directory and points the configuration at the copies.
func newBarmanEnv(t testing.TB, name string) *barmanEnv {
	t.Helper()
	src := fixturePath(t, name)
	tmp := t.TempDir()
	env := &barmanEnv{
		Conf:    filepath.Join(tmp, "etc", "barman.conf"),
		ConfDir: filepath.Join(tmp, "etc", "barman.d"),
		Home:    filepath.Join(tmp, "home"),
	}
	rewrite := func(data []byte) []byte {
		data = bytes.ReplaceAll(data, []byte("/etc/barman.d"), []byte(env.ConfDir))
		return bytes.ReplaceAll(data, []byte("/var/lib/barman"), []byte(env.Home))
	}
	copyTree(t, filepath.Join(src, "etc"), filepath.Join(tmp, "etc"), rewrite)
	copyTree(t, filepath.Join(src, "barman_home"), env.Home, nil)
	for _, p := range []string{env.Conf, env.ConfDir, env.Home} {
		if _, err := os.Stat(p); err != nil {
			t.Fatalf("fixture %s is not laid out as expected: %v", name, err)
		}
	}
	return env
}

// withStore adds the reference implementation's operation store to the
// environment's barman_home.
func (env *barmanEnv) withStore(t testing.TB) *barmanEnv {
	t.Helper()
	copyTree(t, fixturePath(t, "pg-backup-api-2.2", "barman_home"), env.Home, nil)
	return env
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

// treeSnapshot describes every entry under dir: path, type, mode and
// content, so two snapshots differ when anything was written.
func treeSnapshot(t testing.TB, dir string) string {
	t.Helper()
	var lines []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		fi, err := d.Info()
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		line := fmt.Sprintf("%s %v", rel, fi.Mode())
		if fi.Mode().IsRegular() {
			data, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			line += fmt.Sprintf(" %q", data)
		}
		lines = append(lines, line)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(lines)
	return strings.Join(lines, "\n")
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
