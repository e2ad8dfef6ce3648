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

// TestPackagedConfigSaysReload: the file an operator edits tells them how
// serve takes an edit. It said "restart it after an edit" after serve had
// learnt to reload on SIGHUP.
func TestPackagedConfigSaysReload(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(docsRepoRoot, "packaging", "pg-backup-api.toml"))
	if err != nil {
		t.Fatal(err)
	}
	header, _, _ := strings.Cut(string(data), "\n\n")
	header = strings.Join(strings.Fields(strings.ReplaceAll(header, "#", " ")), " ")
	if !strings.Contains(header, "systemctl reload pg-backup-api") {
		t.Errorf("the packaged config's header does not say that systemctl reload pg-backup-api applies an edit:\n%s", header)
	}
	if strings.Contains(header, "restart it (systemctl restart pg-backup-api) after an edit") {
		t.Errorf("the packaged config's header still asks for a restart after every edit:\n%s", header)
	}
}
