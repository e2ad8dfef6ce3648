package cli

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestPackageUpgradesPythonPackage: EDB's Python pg-backup-api is packaged
// under our package's name with versions up to 2.x and no epoch. Ours
// installs over it as an upgrade only if its version compares above theirs
// whatever our tag says, which epoch 1 guarantees; a relation on our own
// name would mean nothing to dpkg and rpm (or make dpkg refuse the
// package), so there is none. release-check expects the epoch in the .deb.
func TestPackageUpgradesPythonPackage(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(docsRepoRoot, "goreleaser.yml"))
	if err != nil {
		t.Fatal(err)
	}
	yml := string(data)
	start := strings.Index(yml, "\nnfpms:\n")
	if start < 0 {
		t.Fatal("goreleaser.yml has no nfpms section")
	}
	nfpms := yml[start+1:]
	if end := regexp.MustCompile(`\n[a-z_]+:\n`).FindStringIndex(nfpms[len("nfpms:\n"):]); end != nil {
		nfpms = nfpms[:len("nfpms:\n")+end[0]]
	}
	for _, want := range []string{"    package_name: pg-backup-api\n", "    epoch: \"1\"\n"} {
		if !strings.Contains(nfpms, want) {
			t.Errorf("goreleaser.yml's nfpms section lacks %q", strings.TrimSpace(want))
		}
	}
	self := regexp.MustCompile(`(?m)^\s+(replaces|conflicts|breaks|provides|obsoletes):\s*\n(\s+- .*\n)*\s+- "?pg-backup-api\b`)
	if m := self.FindString(nfpms); m != "" {
		t.Errorf("goreleaser.yml declares a relation on our own package name:\n%s", m)
	}
	script, err := os.ReadFile(filepath.Join(docsRepoRoot, "scripts", "release-check"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(script), `"Version: 1:${version`) {
		t.Error("scripts/release-check does not expect the .deb's version with epoch 1")
	}
	readme, err := os.ReadFile(filepath.Join(docsRepoRoot, "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), "(docs/migration.md)") {
		t.Error("README.md does not link docs/migration.md")
	}
	if _, err := os.Stat(filepath.Join(docsRepoRoot, "docs", "migration.md")); err != nil {
		t.Error(err)
	}
}
