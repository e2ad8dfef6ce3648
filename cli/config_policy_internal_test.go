package cli

import (
	"os"
	"path/filepath"
	"testing"
)

// TestConfigUpdateAllowNewServers: [config_update] allow_new_servers reaches
// the policy, and is off by default.
func TestConfigUpdateAllowNewServers(t *testing.T) {
	for _, tc := range []struct {
		text string
		want bool
	}{
		{"[config_update]\nallow_new_servers = true\n", true},
		{"[config_update]\nallow_keys = [\"retention_policy\"]\n", false},
	} {
		path := filepath.Join(t.TempDir(), "c.toml")
		if err := os.WriteFile(path, []byte(tc.text), 0o600); err != nil {
			t.Fatal(err)
		}
		f, err := LoadFileConfig(path, true)
		if err != nil {
			t.Fatalf("%q: %v", tc.text, err)
		}
		if got := f.policy().AllowNewServers; got != tc.want {
			t.Errorf("%q: AllowNewServers = %v, want %v", tc.text, got, tc.want)
		}
	}
}

// TestServeLimitKeys: serve.creates_per_minute and serve.min_free_bytes
// load (a key the file reader did not know would stop serve).
func TestServeLimitKeys(t *testing.T) {
	path := filepath.Join(t.TempDir(), "c.toml")
	if err := os.WriteFile(path, []byte("[serve]\ncreates_per_minute = 5\nmin_free_bytes = -1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	f, err := LoadFileConfig(path, true)
	if err != nil {
		t.Fatal(err)
	}
	if f.Serve.CreatesPerMinute != 5 || f.Serve.MinFreeBytes != -1 {
		t.Errorf("creates_per_minute %d, min_free_bytes %d; want 5, -1", f.Serve.CreatesPerMinute, f.Serve.MinFreeBytes)
	}
}
