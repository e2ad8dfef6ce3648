package ops

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// DefaultBarmanConfig is where Barman and the reference implementation look
// when nothing else is said.
const DefaultBarmanConfig = "/etc/barman.conf"

// BarmanConfig is what we need of Barman's configuration: where it keeps
// things and which servers and models exist.
type BarmanConfig struct {
	Path       string   // the main configuration file
	Files      []string // every file read, in the order Barman reads them
	IncludeDir string   // configuration_files_directory, if set
	BarmanHome string
	BarmanUser string
	Servers    map[string]*BarmanServer
	Models     map[string]*BarmanModel
}

// BarmanServer is one server section.
type BarmanServer struct {
	Name            string
	Cluster         string
	BackupDirectory string
}

// BarmanModel is one model section (model = true).
type BarmanModel struct {
	Name    string
	Cluster string
}

const barmanAutoConf = ".barman.auto.conf"

// LoadBarmanConfig reads path, then every *.conf in its
// configuration_files_directory, then <barman_home>/.barman.auto.conf, in the
// order Barman does.
func LoadBarmanConfig(path string) (*BarmanConfig, error) {
	ini := newIniFile()
	cfg := &BarmanConfig{Path: path, Servers: map[string]*BarmanServer{}, Models: map[string]*BarmanModel{}}

	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Errorf(EUNAVAILABLE, "cannot read Barman configuration: %v (set --barman-config or PG_BACKUP_API_BARMAN_CONF to the barman.conf Barman uses)", err)
	}
	if err := ini.parse(data, path); err != nil {
		return nil, Errorf(EUNAVAILABLE, "Barman configuration is not valid: %v", err)
	}
	cfg.Files = append(cfg.Files, path)
	if !ini.has("barman") {
		return nil, Errorf(EUNAVAILABLE, "%s has no [barman] section; is it Barman's configuration file?", path)
	}

	if dir, ok, err := ini.get("barman", "configuration_files_directory", nil); err != nil {
		return nil, Errorf(EUNAVAILABLE, "Barman configuration: %v", err)
	} else if ok && dir != "" {
		cfg.IncludeDir = expandHome(dir)
		matches, err := filepath.Glob(filepath.Join(cfg.IncludeDir, "*.conf"))
		if err != nil {
			return nil, Errorf(EUNAVAILABLE, "%s: configuration_files_directory %q: %v", path, dir, err)
		}
		sort.Strings(matches)
		for _, m := range matches {
			if err := cfg.readExtra(ini, m, false); err != nil {
				return nil, err
			}
		}
	}

	home, ok, err := ini.get("barman", "barman_home", nil)
	if err != nil {
		return nil, Errorf(EUNAVAILABLE, "Barman configuration: %v", err)
	}
	if !ok || home == "" {
		return nil, Errorf(EUNAVAILABLE, "%s: [barman] has no barman_home; Barman needs it and so do we", path)
	}
	cfg.BarmanHome = filepath.Clean(expandHome(home))
	if err := cfg.readExtra(ini, filepath.Join(cfg.BarmanHome, barmanAutoConf), true); err != nil {
		return nil, err
	}
	// .barman.auto.conf may not override [barman]; only servers and models.
	if user, ok, _ := ini.get("barman", "barman_user", nil); ok {
		cfg.BarmanUser = user
	} else {
		cfg.BarmanUser = "barman"
	}

	for _, name := range ini.order {
		if name == "barman" {
			continue
		}
		vars := map[string]string{"name": name, "barman_home": cfg.BarmanHome}
		get := func(key string) (string, bool, error) { return ini.get(name, key, vars) }
		modelFlag, _, err := get("model")
		if err != nil {
			return nil, Errorf(EUNAVAILABLE, "Barman configuration: %v", err)
		}
		cluster, hasCluster, err := get("cluster")
		if err != nil {
			return nil, Errorf(EUNAVAILABLE, "Barman configuration: %v", err)
		}
		if parseBool(modelFlag) {
			if !hasCluster || cluster == "" {
				// Barman refuses such a model; we skip it rather than fail
				// every request because of one bad section.
				continue
			}
			cfg.Models[name] = &BarmanModel{Name: name, Cluster: cluster}
			continue
		}
		if !hasCluster || cluster == "" {
			cluster = name
		}
		backupDir, ok, err := get("backup_directory")
		if err != nil {
			return nil, Errorf(EUNAVAILABLE, "Barman configuration: %v", err)
		}
		if !ok || backupDir == "" {
			backupDir = filepath.Join(cfg.BarmanHome, name)
		}
		cfg.Servers[name] = &BarmanServer{Name: name, Cluster: cluster, BackupDirectory: filepath.Clean(expandHome(backupDir))}
	}
	return cfg, nil
}

func (cfg *BarmanConfig) readExtra(ini *iniFile, path string, optional bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		if optional && errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return Errorf(EUNAVAILABLE, "cannot read Barman configuration file: %v", err)
	}
	if err := ini.parse(data, path); err != nil {
		return Errorf(EUNAVAILABLE, "Barman configuration is not valid: %v", err)
	}
	cfg.Files = append(cfg.Files, path)
	return nil
}

// Server returns the named server or a not-found error listing the known ones.
func (cfg *BarmanConfig) Server(name string) (*BarmanServer, error) {
	if s, ok := cfg.Servers[name]; ok {
		return s, nil
	}
	if _, ok := cfg.Models[name]; ok {
		return nil, Errorf(ENOTFOUND, "%q is a model, not a server, in %s (servers: %s)", name, cfg.Path, cfg.serverList())
	}
	return nil, Errorf(ENOTFOUND, "server %q is not in %s (known: %s)", name, cfg.Path, cfg.serverList())
}

// Model returns the named model or a not-found error listing the known ones.
func (cfg *BarmanConfig) Model(name string) (*BarmanModel, error) {
	if m, ok := cfg.Models[name]; ok {
		return m, nil
	}
	return nil, Errorf(ENOTFOUND, "model %q is not in %s (known: %s)", name, cfg.Path, listOrNone(sortedKeys(cfg.Models)))
}

// ServerNames returns the server names, sorted.
func (cfg *BarmanConfig) ServerNames() []string { return sortedKeys(cfg.Servers) }

func (cfg *BarmanConfig) serverList() string { return listOrNone(sortedKeys(cfg.Servers)) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func listOrNone(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, ", ")
}

func parseBool(v string) bool {
	switch strings.ToLower(strings.TrimSpace(v)) {
	case "1", "yes", "true", "on":
		return true
	}
	return false
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, strings.TrimPrefix(p, "~"))
		}
	}
	return p
}
