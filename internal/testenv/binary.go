package testenv

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// The stamps every test binary carries (-ldflags -X, as the release build
// stamps its own), so a test can tell the binary it runs from a default.
const (
	BinaryVersion = "9.8.7-test"
	BinaryCommit  = "c0ffee1"
	BinaryDate    = "2026-01-02T03:04:05Z"
)

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// Binary returns the pg-backup-api binary, built on the first call in this
// test process and shared by every later one (a build takes seconds). It
// fails the test when the build fails. A TestMain that lets tests call it
// calls RemoveBinary after m.Run.
func Binary(t testing.TB) string {
	t.Helper()
	p, err := BuildBinary()
	if err != nil {
		t.Fatalf("building the pg-backup-api binary: %v", err)
	}
	return p
}

// BuildBinary is Binary for a TestMain, which has no testing.T: the path of
// the binary, or why it could not be built (the same answer on every call).
func BuildBinary() (string, error) {
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "pg-backup-api-testbin-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "pg-backup-api")
		buildErr = build(binPath)
	})
	return binPath, buildErr
}

// RemoveBinary removes what BuildBinary built; nothing when it built nothing.
func RemoveBinary() {
	if binDir != "" {
		os.RemoveAll(binDir)
	}
}

// build builds the module's main package into out as the release does
// (CGO_ENABLED=0), with the Binary* stamps.
func build(out string) error {
	// go test puts its own GOROOT/bin first in PATH: the go running the
	// tests builds the binary.
	goTool, err := exec.LookPath("go")
	if err != nil {
		return fmt.Errorf("building pg-backup-api needs go on PATH: %v", err)
	}
	root, err := repoRoot()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	ldflags := fmt.Sprintf("-X main.version=%s -X main.commit=%s -X main.date=%s", BinaryVersion, BinaryCommit, BinaryDate)
	cmd := exec.CommandContext(ctx, goTool, "build", "-o", out, "-ldflags", ldflags, ".")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build -o %s (in %s): %v\n%s", out, root, err, stderr.String())
	}
	return nil
}
