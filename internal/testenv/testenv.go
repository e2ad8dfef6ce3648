// Package testenv is the test set-up every package shares: writable copies
// of the recorded Barman fixtures (testdata/fixtures) with barman.conf
// pointed at the copies, the fake barman, and a real `serve` started and
// waited for (StartServe). Only tests import it.
package testenv

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// RepoRoot is the repository root: the nearest directory above the working
// directory (a package's, under go test) that holds go.mod.
func RepoRoot(t testing.TB) string {
	t.Helper()
	dir, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("testenv: no go.mod above the working directory; run the tests from the repository")
		}
		dir = parent
	}
}

// Fixture returns the absolute path of testdata/fixtures/<elem...>, failing
// the test when it is missing.
func Fixture(t testing.TB, elem ...string) string {
	t.Helper()
	p := filepath.Join(append([]string{RepoRoot(t), "testdata", "fixtures"}, elem...)...)
	if _, err := os.Stat(p); err != nil {
		t.Fatalf("fixture missing: %v (the fixtures live in testdata/fixtures)", err)
	}
	return p
}

// FakeBarman returns the path of testdata/fake-barman, the stand-in for
// Barman in unit tests, failing the test when it is missing or not
// executable.
func FakeBarman(t testing.TB) string {
	t.Helper()
	p := filepath.Join(RepoRoot(t), "testdata", "fake-barman")
	if fi, err := os.Stat(p); err != nil || fi.Mode()&0o111 == 0 {
		t.Fatalf("fake barman %s missing or not executable: %v", p, err)
	}
	return p
}

// ArgvCalls reads the argv log a fake Barman writes (FAKE_BARMAN_ARGV_LOG):
// the argv of every call, in order; nil when there was none.
func ArgvCalls(t testing.TB, path string) [][]string {
	t.Helper()
	data, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	// One argument a line, then "--": an empty line is an empty argument.
	var calls [][]string
	var cur []string
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		if line == "--" {
			calls = append(calls, cur)
			cur = nil
			continue
		}
		cur = append(cur, line)
	}
	return calls
}

// CopyTree copies the files under src into dst (created as needed, merged
// with what is there), every file 0644 and directory 0755 whatever the
// fixture's modes, so a test may modify them. rewrite, when not nil, edits
// each file.
func CopyTree(t testing.TB, src, dst string, rewrite func([]byte) []byte) {
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

// Barman is a writable Barman set-up: Dir/etc/barman.conf, its
// configuration_files_directory Dir/etc/barman.d, and barman_home Dir/home.
type Barman struct {
	Dir     string
	Conf    string // barman.conf
	ConfDir string // its configuration_files_directory
	Home    string // barman_home: the backup catalog, and the store
	// LogFile is Barman's log_file; nothing creates it.
	LogFile string
}

// Layout names the paths of a set-up under dir and copies nothing.
func Layout(dir string) *Barman {
	return &Barman{
		Dir:     dir,
		Conf:    filepath.Join(dir, "etc", "barman.conf"),
		ConfDir: filepath.Join(dir, "etc", "barman.d"),
		Home:    filepath.Join(dir, "home"),
		LogFile: filepath.Join(dir, "log", "barman.log"),
	}
}

// NewBarman copies fixture name's configuration and catalog (for example
// "barman-3.17") into a temporary directory.
func NewBarman(t testing.TB, name string) *Barman {
	t.Helper()
	b := Layout(t.TempDir())
	b.CopyConfig(t, name)
	b.CopyCatalog(t, name)
	return b
}

// CopyConfig copies fixture name's etc/ to b.Dir/etc, with the recorded
// paths (/etc/barman.d, /var/lib/barman, /var/log/barman/barman.log)
// pointed at b's; a fixture that no longer mentions them fails the test,
// since it would then point at the machine's own Barman.
func (b *Barman) CopyConfig(t testing.TB, name string) *Barman {
	t.Helper()
	src := Fixture(t, name, "etc")
	conf, err := os.ReadFile(filepath.Join(src, "barman.conf"))
	if err != nil {
		t.Fatal(err)
	}
	for _, old := range []string{"/etc/barman.d", "/var/lib/barman", "/var/log/barman/barman.log"} {
		if !bytes.Contains(conf, []byte(old)) {
			t.Fatalf("fixture %s barman.conf no longer mentions %s: update internal/testenv", name, old)
		}
	}
	CopyTree(t, src, filepath.Join(b.Dir, "etc"), func(data []byte) []byte {
		data = bytes.ReplaceAll(data, []byte("/etc/barman.d"), []byte(b.ConfDir))
		data = bytes.ReplaceAll(data, []byte("/var/log/barman/barman.log"), []byte(b.LogFile))
		return bytes.ReplaceAll(data, []byte("/var/lib/barman"), []byte(b.Home))
	})
	return b
}

// CopyCatalog copies fixture name's barman_home (the backup catalog) into
// b.Home.
func (b *Barman) CopyCatalog(t testing.TB, name string) *Barman {
	t.Helper()
	CopyTree(t, Fixture(t, name, "barman_home"), b.Home, nil)
	return b
}

// WithStore adds the Python pg-backup-api 2.2's operation store (fixture
// pg-backup-api-2.2) to b.Home.
func (b *Barman) WithStore(t testing.TB) *Barman {
	t.Helper()
	return b.CopyCatalog(t, "pg-backup-api-2.2")
}

// BarmanConf copies the named Barman fixture (with the Python
// implementation's store when withStore) and returns its barman.conf.
func BarmanConf(t testing.TB, name string, withStore bool) string {
	t.Helper()
	b := NewBarman(t, name)
	if withStore {
		b.WithStore(t)
	}
	return b.Conf
}

// EmptyConfig is an empty pg-backup-api config file, so that no
// /etc/pg-backup-api.toml of the machine running the tests is read.
func EmptyConfig(t testing.TB) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "pg-backup-api.toml")
	if err := os.WriteFile(p, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
