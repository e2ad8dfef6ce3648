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
