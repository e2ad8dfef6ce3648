package ops

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
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
	// ActiveModelFiles are the <backup_directory>/.active-model.auto files
	// consulted, present or not; config-switch changes them.
	ActiveModelFiles []string
}

// BarmanServer is one server section, as Barman resolves it.
type BarmanServer struct {
	Name            string
	Cluster         string // "" when the configuration sets cluster to None or empty
	BackupDirectory string
	// ActiveModel is the model named in <backup_directory>/.active-model.auto
	// and applied to Values, or "" when none is applied.
	ActiveModel string
	// Values holds the options of trackedOptions that are set, after the
	// active model's overrides.
	Values map[string]string
	// Problem says why Barman would disable the server or not apply its
	// active model (a model that does not exist or belongs to another
	// cluster); "" when there is none.
	Problem string
}

// BarmanModel is one model section (model = true).
type BarmanModel struct {
	Name    string
	Cluster string
	Values  map[string]string // the trackedOptions the model overrides
}

// trackedOptions are the plain string options whose resolved values we keep,
// so that a model's overrides are visible and comparable with Barman's.
var trackedOptions = []string{"conninfo", "description", "ssh_command", "streaming_conninfo"}

const (
	barmanAutoConf  = ".barman.auto.conf"
	activeModelFile = ".active-model.auto"
)

// barmanParser is the merged configuration of Barman 3.10 and later
// (ConfigMapping): every file is parsed on its own, its values interpolated
// within that file (its [DEFAULT] copied into each of its sections), and the
// results stored section by section into one parser that has no [DEFAULT].
type barmanParser struct {
	sections map[string]*iniSection
	order    []string
	where    map[string]string // section\x00key -> "file:line" that set it
}

func (p *barmanParser) merge(doc *iniDoc) error {
	for _, name := range doc.order {
		src := doc.sections[name]
		keys := append([]string{}, src.keys...)
		for _, k := range doc.defaults.keys {
			if _, ok := src.values[k]; !ok {
				keys = append(keys, k)
			}
		}
		lookup := func(k string) (string, bool) {
			if v, ok := src.values[k]; ok {
				return v, true
			}
			v, ok := doc.defaults.values[k]
			return v, ok
		}
		dst := p.sections[name]
		if dst == nil {
			dst = newIniSection()
			p.sections[name] = dst
			p.order = append(p.order, name)
		}
		for _, k := range keys {
			raw, _ := lookup(k)
			v, err := interpolate(k, raw, lookup)
			if err == nil {
				err = checkSettable(k, v)
			}
			if err != nil {
				return fmt.Errorf("%s: [%s] %v", doc.location(name, k), name, err)
			}
			dst.set(k, v, 0)
			p.where[name+"\x00"+k] = doc.location(name, k)
		}
	}
	return nil
}

// get is Barman's Config.get on the merged parser: the option interpolated
// (vars first, then the section), "None" read as unset, then one pair of
// matching quotes stripped. set is false when the option is absent or None.
func (p *barmanParser) get(section, key string, vars map[string]string) (value string, set bool, err error) {
	sect := p.sections[section]
	if sect == nil {
		return "", false, nil
	}
	lookup := func(k string) (string, bool) {
		if v, ok := vars[k]; ok {
			return v, true
		}
		v, ok := sect.values[k]
		return v, ok
	}
	raw, ok := lookup(key)
	if !ok {
		return "", false, nil
	}
	v, err := interpolate(key, raw, lookup)
	if err != nil {
		return "", false, fmt.Errorf("%s: [%s] %v", p.where[section+"\x00"+key], section, err)
	}
	if v == "None" {
		return "", false, nil
	}
	return stripQuotes(v), true, nil
}

// items interpolates every option of section, as configparser's items()
// does when Barman validates a section; an unresolvable reference fails.
func (p *barmanParser) items(section string) (map[string]string, error) {
	sect := p.sections[section]
	out := map[string]string{}
	for _, k := range sect.keys {
		v, err := interpolate(k, sect.values[k], func(r string) (string, bool) {
			v, ok := sect.values[r]
			return v, ok
		})
		if err != nil {
			return nil, fmt.Errorf("%s: [%s] %v", p.where[section+"\x00"+k], section, err)
		}
		out[k] = v
	}
	return out, nil
}

// stripQuotes is Barman's _QUOTE_RE, ^(["'])(.*)\1$: one pair of matching
// quotes around a single-line value goes.
func stripQuotes(v string) string {
	if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] && !strings.Contains(v, "\n") {
		return v[1 : len(v)-1]
	}
	return v
}

func invalid(format string, args ...any) error {
	return Errorf(EUNAVAILABLE, "Barman configuration is not valid: "+format+"; Barman refuses it too, fix it there", args...)
}

// LoadBarmanConfig reads path, then every *.conf in its
// configuration_files_directory in name order, then
// <barman_home>/.barman.auto.conf, then each server's active model, the way
// Barman 3.10 and later do.
func LoadBarmanConfig(path string) (*BarmanConfig, error) {
	p := &barmanParser{sections: map[string]*iniSection{}, where: map[string]string{}}
	cfg := &BarmanConfig{Path: path, Servers: map[string]*BarmanServer{}, Models: map[string]*BarmanModel{}}

	data, err := os.ReadFile(path)
	if err != nil {
		return nil, Errorf(EUNAVAILABLE, "cannot read Barman configuration: %v (set --barman-config or PG_BACKUP_API_BARMAN_CONF to the barman.conf Barman uses)", err)
	}
	if err := cfg.readInto(p, path, data); err != nil {
		return nil, err
	}
	if _, ok := p.sections["barman"]; !ok {
		return nil, Errorf(EUNAVAILABLE, "%s has no [barman] section; is it Barman's configuration file?", path)
	}
	global, err := p.items("barman")
	if err != nil {
		return nil, invalid("%v", err)
	}
	barmanGet := func(key string) (string, bool, error) {
		v, ok, err := p.get("barman", key, nil)
		if err != nil {
			return "", false, invalid("%v", err)
		}
		return v, ok, nil
	}
	home, ok, err := barmanGet("barman_home")
	if err != nil {
		return nil, err
	}
	if !ok || home == "" {
		return nil, Errorf(EUNAVAILABLE, "%s: [barman] has no barman_home; Barman needs it and so do we", path)
	}
	// Barman does not expand "~" in barman_home, so neither do we.
	cfg.BarmanHome = filepath.Clean(home)

	if dir, ok, err := barmanGet("configuration_files_directory"); err != nil {
		return nil, err
	} else if ok && dir != "" {
		cfg.IncludeDir = expandHome(dir)
		// Barman ignores (with a warning) a directory that is not one.
		if st, err := os.Stat(cfg.IncludeDir); err == nil && st.IsDir() {
			// Python's glob skips hidden files; Go's does not.
			matches, err := filepath.Glob(filepath.Join(cfg.IncludeDir, "*.conf"))
			if err != nil {
				return nil, Errorf(EUNAVAILABLE, "%s: configuration_files_directory %q: %v", path, dir, err)
			}
			sort.Strings(matches)
			for _, m := range matches {
				if strings.HasPrefix(filepath.Base(m), ".") {
					continue
				}
				if err := cfg.readExtra(p, m, global); err != nil {
					return nil, err
				}
			}
		}
	}
	// Barman builds this path from the unquoted barman_home as written.
	if err := cfg.readExtra(p, home+"/"+barmanAutoConf, global); err != nil {
		return nil, err
	}
	if user, ok, err := barmanGet("barman_user"); err != nil {
		return nil, err
	} else if ok && user != "" {
		cfg.BarmanUser = user
	} else {
		cfg.BarmanUser = "barman"
	}
	lockDir, ok, err := barmanGet("barman_lock_directory")
	if err != nil {
		return nil, err
	}
	if !ok || lockDir == "" {
		lockDir = home
	}

	var servers []*BarmanServer
	for _, name := range p.order {
		if name == "barman" {
			continue
		}
		if name == "all" {
			return nil, invalid("[all] is reserved and cannot name a server or model; rename the section")
		}
		if _, err := p.items(name); err != nil {
			return nil, invalid("%v", err)
		}
		vars := map[string]string{"name": name, "barman_home": home, "barman_lock_directory": lockDir}
		get := func(key string) (string, bool, error) {
			v, ok, err := p.get(name, key, vars)
			if err != nil {
				return "", false, invalid("%v", err)
			}
			return v, ok, nil
		}
		values := func() (map[string]string, error) {
			out := map[string]string{}
			for _, k := range trackedOptions {
				if v, ok, err := get(k); err != nil {
					return nil, err
				} else if ok && v != "" {
					out[k] = v
				}
			}
			return out, nil
		}
		isModel, err := p.isModel(name)
		if err != nil {
			return nil, err
		}
		if isModel {
			sect := p.sections[name]
			if _, ok := sect.values["cluster"]; !ok {
				return nil, invalid("model [%s] has no cluster option, which Barman requires of a model", name)
			}
			cluster, _, err := get("cluster")
			if err != nil {
				return nil, err
			}
			vals, err := values()
			if err != nil {
				return nil, err
			}
			cfg.Models[name] = &BarmanModel{Name: name, Cluster: cluster, Values: vals}
			continue
		}
		s := &BarmanServer{Name: name}
		if _, present := p.sections[name].values["cluster"]; !present {
			s.Cluster = name
		} else if s.Cluster, _, err = get("cluster"); err != nil {
			return nil, err
		}
		backupDir, ok, err := get("backup_directory")
		if err != nil {
			return nil, err
		}
		if _, present := p.sections[name].values["backup_directory"]; !present {
			backupDir, ok = home+"/"+name, true
		}
		if !ok || backupDir == "" {
			return nil, invalid("%s: [%s] backup_directory is empty or None, which Barman cannot use; remove the line for the default <barman_home>/%s", p.where[name+"\x00backup_directory"], name, name)
		}
		s.BackupDirectory = filepath.Clean(backupDir)
		if s.Values, err = values(); err != nil {
			return nil, err
		}
		cfg.Servers[name] = s
		servers = append(servers, s)
		// The active model file is joined to backup_directory as Barman
		// resolved it, before any cleaning.
		cfg.ActiveModelFiles = append(cfg.ActiveModelFiles, filepath.Join(backupDir, activeModelFile))
	}
	for i, s := range servers {
		if err := cfg.applyActiveModel(s, cfg.ActiveModelFiles[i]); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// isModel is Barman's _is_model: the interpolated "model" option, quotes
// and all, must be one of its boolean words.
func (p *barmanParser) isModel(name string) (bool, error) {
	raw, ok := p.sections[name].values["model"]
	if !ok {
		return false, nil
	}
	v, err := interpolate("model", raw, func(r string) (string, bool) {
		v, ok := p.sections[name].values[r]
		return v, ok
	})
	if err != nil {
		return false, invalid("%s: [%s] %v", p.where[name+"\x00model"], name, err)
	}
	switch strings.ToLower(v) {
	case "true", "t", "yes", "1", "on":
		return true, nil
	case "false", "f", "no", "0", "off":
		return false, nil
	}
	return false, invalid("%s: [%s] model = %q is not a boolean (true|t|yes|1|on or false|f|no|0|off, unquoted)", p.where[name+"\x00model"], name, v)
}

// applyActiveModel applies the model config-switch recorded for s, as
// Barman's _apply_models does.
func (cfg *BarmanConfig) applyActiveModel(s *BarmanServer, file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return Errorf(EUNAVAILABLE, "cannot read the active model of server %q: %v (Barman cannot either)", s.Name, err)
	}
	name := pyStrip(string(data))
	if name == "" {
		return nil
	}
	m, ok := cfg.Models[name]
	if !ok {
		s.Problem = fmt.Sprintf("model %q is set as the active model of server %q in %s but does not exist; Barman disables the server", name, s.Name, file)
		return nil
	}
	if m.Cluster != s.Cluster {
		s.Problem = fmt.Sprintf("active model %q has cluster %q, server %q has cluster %q; Barman does not apply it", name, m.Cluster, s.Name, s.Cluster)
		return nil
	}
	for k, v := range m.Values {
		s.Values[k] = v
	}
	s.ActiveModel = name
	return nil
}

// readInto parses one file on its own and merges it into p.
func (cfg *BarmanConfig) readInto(p *barmanParser, path string, data []byte) error {
	doc, err := parseIni(data, path)
	if err != nil {
		return invalid("%v", err)
	}
	if err := p.merge(doc); err != nil {
		return invalid("%v", err)
	}
	cfg.Files = append(cfg.Files, path)
	return nil
}

// readExtra reads a file of the configuration directory or the auto conf:
// only a regular file (after symlinks) counts, and it may not change
// [barman].
func (cfg *BarmanConfig) readExtra(p *barmanParser, path string, global map[string]string) error {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		// Barman skips what is missing or not a file, with a warning.
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return Errorf(EUNAVAILABLE, "cannot read Barman configuration file: %v", err)
	}
	if err := cfg.readInto(p, path, data); err != nil {
		return err
	}
	now, err := p.items("barman")
	if err != nil {
		return invalid("%v", err)
	}
	if !maps.Equal(now, global) {
		return invalid("%s changes the [barman] section, which only the main configuration file may set", path)
	}
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

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, strings.TrimPrefix(p, "~"))
		}
	}
	return p
}
