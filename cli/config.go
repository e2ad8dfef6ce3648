package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// DefaultConfigPath is read when present and nothing else is said.
const DefaultConfigPath = "/etc/pg-backup-api.toml"

// FileConfig is our own configuration file. Every key is documented in
// README.md and in the commented default config shipped with the packages;
// flags override the environment, which overrides this file.
type FileConfig struct {
	// BarmanConfig is Barman's configuration file (default /etc/barman.conf).
	BarmanConfig string `toml:"barman_config"`
	// BarmanCommand runs Barman (default "barman"); split on spaces, no shell.
	BarmanCommand string      `toml:"barman_command"`
	Serve         ServeConfig `toml:"serve"`
}

// ServeConfig is the [serve] table.
type ServeConfig struct {
	// Listen is the address serve listens on (default 127.0.0.1:7480).
	Listen string `toml:"listen"`
	// MaxBodyBytes limits a request body (default 1 MiB).
	MaxBodyBytes int64 `toml:"max_body_bytes"`
}

// LoadFileConfig reads path. A missing file is an error only when required.
func LoadFileConfig(path string, required bool) (*FileConfig, error) {
	var cfg FileConfig
	data, err := os.ReadFile(path)
	if err != nil {
		if !required && errors.Is(err, fs.ErrNotExist) {
			return &cfg, nil
		}
		return nil, fmt.Errorf("cannot read configuration file: %v", err)
	}
	md, err := toml.Decode(string(data), &cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if undecoded := md.Undecoded(); len(undecoded) > 0 {
		keys := make([]string, len(undecoded))
		for i, k := range undecoded {
			keys[i] = k.String()
		}
		sort.Strings(keys)
		return nil, fmt.Errorf("%s: unknown key %s (known: barman_config, barman_command, serve.listen, serve.max_body_bytes)", path, strings.Join(keys, ", "))
	}
	return &cfg, nil
}
