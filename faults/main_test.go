// Package faults tests the robustness guarantees of README.md ("Nothing
// lost, nothing stuck") by injecting each fault for real: processes are
// killed with signals, stores are made full, read-only or missing on real
// tmpfs mounts, files are damaged, and the real binary is driven under load.
//
// It needs root (for mount), like CI. The binary is built once by TestMain;
// every test runs it (serve, create, cancel, run, inspect) with the
// repository's fake Barman, testdata/fake-barman.
package faults

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// binPath is the pg-backup-api binary built by TestMain.
var binPath string

func TestMain(m *testing.M) {
	flag.Parse()
	// Most of these tests wait on sleeping fake Barmans, not on the CPU:
	// run more of them at once than there are cores, unless told otherwise.
	explicit := false
	flag.Visit(func(f *flag.Flag) { explicit = explicit || f.Name == "test.parallel" })
	if !explicit {
		flag.Set("test.parallel", "6")
	}
	dir, err := os.MkdirTemp("", "pg-backup-api-faults-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binPath = filepath.Join(dir, "pg-backup-api")
	if err := build(binPath); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.RemoveAll(dir)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// build runs `go build -o out ..`: the module's main package.
func build(out string) error {
	goCmd := "go"
	if root := os.Getenv("GOROOT"); root != "" {
		if p := filepath.Join(root, "bin", "go"); fileExists(p) {
			goCmd = p
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCmd, "build", "-o", out, "..")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("go build -o %s ..: %v\n%s", out, err, stderr.String())
	}
	return nil
}
