package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestPackagedConfigPermissions: the packages install /etc/pg-backup-api.toml,
// where the README puts remote tokens and webhook secrets, as root:barman
// 0640 (readable by serve, which runs as barman, not by every user), and
// the postinstall script sets that again on a fresh install in case the
// barman group did not exist when the file was unpacked.
func TestPackagedConfigPermissions(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(docsRepoRoot, "goreleaser.yml"))
	if err != nil {
		t.Fatal(err)
	}
	yml := string(data)
	start := strings.Index(yml, "dst: "+DefaultConfigPath+"\n")
	if start < 0 {
		t.Fatalf("goreleaser.yml installs no %s", DefaultConfigPath)
	}
	entry := yml[start:]
	if end := strings.Index(entry, "- src:"); end > 0 {
		entry = entry[:end]
	}
	for _, want := range []string{"type: config|noreplace", "mode: 0640", "owner: root", "group: barman"} {
		if !strings.Contains(entry, want+"\n") {
			t.Errorf("goreleaser.yml's %s entry lacks %q:\n%s", DefaultConfigPath, want, entry)
		}
	}
	script, err := os.ReadFile(filepath.Join(docsRepoRoot, "packaging", "scripts", "postinstall.sh"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"chown root:barman " + DefaultConfigPath, "chmod 0640 " + DefaultConfigPath} {
		if !strings.Contains(string(script), want) {
			t.Errorf("postinstall.sh does not %s", want)
		}
	}
}
