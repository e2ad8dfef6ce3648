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
	"flag"
	"fmt"
	"os"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
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
	var err error
	if binPath, err = testenv.BuildBinary(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		testenv.RemoveBinary()
		os.Exit(1)
	}
	code := m.Run()
	testenv.RemoveBinary()
	os.Exit(code)
}
