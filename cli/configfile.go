package cli

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/BurntSushi/toml"
	"github.com/urfave/cli/v2"
)

// userConfigPath is the user's configuration file, as the XDG base
// directory specification places it: $XDG_CONFIG_HOME/pg-backup-api/config.toml,
// else ~/.config/pg-backup-api/config.toml; "" when neither says where. A
// relative XDG_CONFIG_HOME is ignored, as the specification asks.
func userConfigPath() string {
	dir := os.Getenv("XDG_CONFIG_HOME")
	if !filepath.IsAbs(dir) {
		home := os.Getenv("HOME")
		if !filepath.IsAbs(home) {
			return ""
		}
		dir = filepath.Join(home, ".config")
	}
	return filepath.Join(dir, "pg-backup-api", "config.toml")
}

// configSearchPath lists the files looked for, in order, when neither
// --config nor PG_BACKUP_API_CONFIG names one.
func configSearchPath() []string {
	var paths []string
	if p := userConfigPath(); p != "" {
		paths = append(paths, p)
	}
	return append(paths, systemConfigPath)
}

// findConfig says which configuration file this process reads: --config,
// else PG_BACKUP_API_CONFIG (both must exist), else the first of
// configSearchPath that exists; "" when there is none. The first found is
// the whole configuration: files are never merged, so what one file says
// is all there is to read. A file that exists but cannot be read is an
// error rather than a reason to look further.
func findConfig(c *cli.Context) (path string, required bool) {
	if c.IsSet("config") {
		return c.String("config"), true
	}
	for _, p := range configSearchPath() {
		// ENOTDIR is absence too: XDG_CONFIG_HOME (or a directory on the
		// way) names a file, so nothing can be under it.
		if _, err := os.Lstat(p); err == nil || !(os.IsNotExist(err) || errors.Is(err, syscall.ENOTDIR)) {
			return p, true
		}
	}
	return "", false
}

// configName names the configuration file in messages about what it holds
// or lacks.
func (s settings) configName() string {
	if s.configPath != "" {
		return s.configPath
	}
	return "the configuration file (none found; looked in " + strings.Join(configSearchPath(), ", ") + ")"
}

// tokenConfigPath is the file serve's tokens go in: the one this command
// read, else the system-wide one.
func (s settings) tokenConfigPath() string {
	if s.configPath != "" {
		return s.configPath
	}
	return DefaultConfigPath
}

// unknownKeys reports the keys of a file that no setting reads, each with
// its line and the known key it most likely meant.
func unknownKeys(path, data string, undecoded []toml.Key) error {
	if len(undecoded) == 0 {
		return nil
	}
	seen := map[string]bool{}
	for _, k := range undecoded {
		seen[strings.Join(k, ".")] = true
	}
	lines := keyLines(data)
	type problem struct {
		line int
		msg  string
	}
	var problems []problem
	for _, k := range undecoded {
		// A table nobody reads makes every key in it unknown; name the
		// table alone.
		parent := false
		for i := 1; i < len(k); i++ {
			parent = parent || seen[strings.Join(k[:i], ".")]
		}
		if parent {
			continue
		}
		name := strings.Join(k, ".")
		msg := fmt.Sprintf("unknown key %s", name)
		if s := suggestKey(k); s != "" {
			msg += fmt.Sprintf(" (did you mean %s?)", s)
		}
		line := 0
		for i := len(k); i > 0 && line == 0; i-- {
			line = lines[strings.Join(k[:i], ".")]
		}
		problems = append(problems, problem{line, msg})
	}
	sort.SliceStable(problems, func(i, j int) bool { return problems[i].line < problems[j].line })
	msgs := make([]string, len(problems))
	for i, p := range problems {
		if p.line > 0 {
			msgs[i] = fmt.Sprintf("%s:%d: %s", path, p.line, p.msg)
		} else {
			msgs[i] = fmt.Sprintf("%s: %s", path, p.msg)
		}
	}
	return fmt.Errorf("%s; every key is listed in docs/configuration.md", strings.Join(msgs, "; "))
}

// keyLines maps each dotted key and table of a TOML document to the first
// line that defines it. It reads the document line by line, as people
// write configuration files; a key it cannot place is reported without a
// line.
func keyLines(data string) map[string]int {
	lines := map[string]int{}
	table := ""
	note := func(key string, n int) {
		if _, ok := lines[key]; !ok {
			lines[key] = n
		}
	}
	for i, raw := range strings.Split(data, "\n") {
		line := strings.TrimSpace(raw)
		switch {
		case strings.HasPrefix(line, "[["):
			if end := strings.Index(line, "]]"); end > 0 {
				table = dotted(line[2:end])
				note(table, i+1)
			}
		case strings.HasPrefix(line, "["):
			if end := strings.Index(line, "]"); end > 0 {
				table = dotted(line[1:end])
				note(table, i+1)
			}
		default:
			key, _, ok := strings.Cut(line, "=")
			if !ok || strings.HasPrefix(line, "#") || strings.ContainsAny(key, ",{}[]") {
				continue
			}
			key = dotted(key)
			if table != "" {
				key = table + "." + key
			}
			note(key, i+1)
		}
	}
	return lines
}

// dotted normalises a TOML key as written (a."b".c, spaces around dots) to
// its parts joined by dots.
func dotted(key string) string {
	parts := strings.Split(key, ".")
	for i, p := range parts {
		parts[i] = strings.Trim(strings.TrimSpace(p), `"'`)
	}
	return strings.Join(parts, ".")
}

// suggestKey is the known key an unknown one most likely meant: one a
// typing slip away, else one of the same name in another table (listen at
// the top rather than under [serve]); "" when none is close.
// knownNames are knownKeys and the tables that hold them, since a
// misspelt table ([[notify.webhook]]) is reported as a key of its own.
func knownNames() []string {
	names := append([]string(nil), knownKeys...)
	seen := map[string]bool{}
	for _, k := range knownKeys {
		for i := strings.LastIndex(k, "."); i > 0; i = strings.LastIndex(k[:i], ".") {
			if t := k[:i]; !seen[t] {
				seen[t] = true
				names = append(names, t)
			}
		}
	}
	return names
}

func suggestKey(k toml.Key) string {
	name := strings.Join(k, ".")
	last := k[len(k)-1]
	best, bestDist := "", len(name)/3+1
	if bestDist < 2 {
		bestDist = 2
	}
	sameName := ""
	for _, known := range knownNames() {
		if len(k) >= 2 && k[0] == "remotes" {
			known = strings.Replace(known, "remotes.NAME.", "remotes."+k[1]+".", 1)
		}
		if strings.HasPrefix(name, known+".") {
			continue // the table the key is in, which is known
		}
		if d := editDistance(name, known); d < bestDist {
			best, bestDist = known, d
		}
		if sameName == "" && strings.HasSuffix(known, "."+last) {
			sameName = known
		}
	}
	if best != "" {
		return best
	}
	return sameName
}

// secretKeys names the settings of cfg that hold secrets: remote tokens,
// webhook secrets, and passwords written into webhook URLs.
func (cfg *FileConfig) secretKeys() []string {
	var keys []string
	names := make([]string, 0, len(cfg.Remotes))
	for name := range cfg.Remotes {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		if cfg.Remotes[name].Token != "" {
			keys = append(keys, "remotes."+name+".token")
		}
	}
	for i, w := range cfg.Notify.Webhooks {
		if w.Secret != "" {
			keys = append(keys, fmt.Sprintf("notify.webhooks[%d].secret", i))
		}
		if u, err := url.Parse(w.URL); err == nil && u.User != nil {
			if _, ok := u.User.Password(); ok {
				keys = append(keys, fmt.Sprintf("notify.webhooks[%d].url (a password)", i))
			}
		}
	}
	return keys
}

// secretsWarning is the warning for a configuration file that holds
// secrets and that every user of the machine may read; "" when there is
// nothing to say.
func secretsWarning(path string, cfg *FileConfig) string {
	if path == "" {
		return ""
	}
	keys := cfg.secretKeys()
	if len(keys) == 0 {
		return ""
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm()&0o004 == 0 {
		return ""
	}
	return fmt.Sprintf("%s holds secrets (%s) and every user of this machine may read it (mode %04o): "+
		"chmod o-rwx %s, and give it to Barman's group (chgrp barman %s) if serve runs as barman",
		path, strings.Join(keys, ", "), fi.Mode().Perm(), path, path)
}
