package barman

import (
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/pg-backup-api/pg-backup-api/internal/ini"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

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
	Sections map[string]*ini.Section
	Order    []string
	where    map[string]string // section\x00key -> "file:line" that set it
	// broken are the sections that cannot be read, with why; the first
	// fault found is kept.
	broken map[string]string
}

func (p *barmanParser) markBroken(section, why string) {
	if _, ok := p.broken[section]; !ok {
		p.broken[section] = why
	}
}

func (p *barmanParser) merge(doc *ini.Doc) error {
	for _, name := range doc.Order {
		src := doc.Sections[name]
		keys := append([]string{}, src.Keys...)
		for _, k := range doc.Defaults.Keys {
			if _, ok := src.Values[k]; !ok {
				keys = append(keys, k)
			}
		}
		lookup := func(k string) (string, bool) {
			if v, ok := src.Values[k]; ok {
				return v, true
			}
			v, ok := doc.Defaults.Values[k]
			return v, ok
		}
		dst := p.Sections[name]
		if dst == nil {
			dst = ini.NewSection()
			p.Sections[name] = dst
			p.Order = append(p.Order, name)
		}
		for _, k := range keys {
			raw, _ := lookup(k)
			v, err := ini.Interpolate(k, raw, lookup)
			if err == nil {
				err = ini.CheckSettable(k, v)
			}
			if err != nil {
				err = fmt.Errorf("%s: [%s] %v", doc.Location(name, k), name, err)
				if name == "barman" {
					return err
				}
				// One server's fault leaves the others usable.
				p.markBroken(name, err.Error())
				break
			}
			dst.Set(k, v, 0)
			p.where[name+"\x00"+k] = doc.Location(name, k)
		}
	}
	return nil
}

// get is Barman's Config.get on the merged parser: the option interpolated
// (vars first, then the section), "None" read as unset, then one pair of
// matching quotes stripped. set is false when the option is absent or None.
func (p *barmanParser) get(section, key string, vars map[string]string) (value string, set bool, err error) {
	sect := p.Sections[section]
	if sect == nil {
		return "", false, nil
	}
	lookup := func(k string) (string, bool) {
		if v, ok := vars[k]; ok {
			return v, true
		}
		v, ok := sect.Values[k]
		return v, ok
	}
	raw, ok := lookup(key)
	if !ok {
		return "", false, nil
	}
	v, err := ini.Interpolate(key, raw, lookup)
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
	sect := p.Sections[section]
	out := map[string]string{}
	for _, k := range sect.Keys {
		v, err := ini.Interpolate(k, sect.Values[k], func(r string) (string, bool) {
			v, ok := sect.Values[r]
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
	return ops.Errorf(ops.EUNAVAILABLE, "Barman configuration is not valid: "+format+"; Barman refuses it too, fix it there", args...)
}

// LoadConfig reads path, then every *.conf in its
// configuration_files_directory in name order, then
// <barman_home>/.barman.auto.conf, then each server's active model, the way
// Barman 3.10 and later do.
func LoadConfig(path string) (*ops.BarmanConfig, error) {
	p := &barmanParser{Sections: map[string]*ini.Section{}, where: map[string]string{}, broken: map[string]string{}}
	cfg := &ops.BarmanConfig{Path: path, Servers: map[string]*ops.BarmanServer{}, Models: map[string]*ops.BarmanModel{}}

	data, err := os.ReadFile(path)
	if err != nil {
		return nil, ops.Errorf(ops.EUNAVAILABLE, "cannot read Barman configuration: %v (set --barman-config or PG_BACKUP_API_BARMAN_CONF to the barman.conf Barman uses)", err)
	}
	if err := readInto(cfg, p, path, data, true); err != nil {
		return nil, err
	}
	if _, ok := p.Sections["barman"]; !ok {
		return nil, ops.Errorf(ops.EUNAVAILABLE, "%s has no [barman] section; is it Barman's configuration file?", path)
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
		return nil, ops.Errorf(ops.EUNAVAILABLE, "%s: [barman] has no barman_home; Barman needs it and so do we", path)
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
				return nil, ops.Errorf(ops.EUNAVAILABLE, "%s: configuration_files_directory %q: %v", path, dir, err)
			}
			sort.Strings(matches)
			for _, m := range matches {
				if strings.HasPrefix(filepath.Base(m), ".") {
					continue
				}
				if err := readExtra(cfg, p, m, global); err != nil {
					return nil, err
				}
			}
		}
	}
	// Barman builds this path from the unquoted barman_home as written.
	if err := readExtra(cfg, p, home+"/"+barmanAutoConf, global); err != nil {
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

	var servers []*ops.BarmanServer
	for _, name := range p.Order {
		if name == "barman" {
			continue
		}
		if name == "all" {
			return nil, invalid("[all] is reserved and cannot name a server or model; rename the section")
		}
		if _, broken := p.broken[name]; broken {
			continue
		}
		s, backupDir, err := loadSection(cfg, p, name, home, lockDir)
		if err != nil {
			p.markBroken(name, err.Error())
			continue
		}
		if s == nil {
			continue
		}
		cfg.Servers[name] = s
		servers = append(servers, s)
		// The active model file is joined to backup_directory as Barman
		// resolved it, before any cleaning.
		cfg.ActiveModelFiles = append(cfg.ActiveModelFiles, filepath.Join(backupDir, activeModelFile))
	}
	for i, s := range servers {
		if err := applyActiveModel(cfg, s, cfg.ActiveModelFiles[i]); err != nil {
			return nil, err
		}
	}
	if len(p.broken) > 0 {
		cfg.Broken = p.broken
	}
	return cfg, nil
}

// loadSection resolves one server or model section: a server is returned
// with its backup_directory as Barman resolved it, a model is added to
// cfg.Models. An error is this section's fault alone and starts with the
// file:line at fault where one is known.
func loadSection(cfg *ops.BarmanConfig, p *barmanParser, name, home, lockDir string) (*ops.BarmanServer, string, error) {
	{
		if _, err := p.items(name); err != nil {
			return nil, "", err
		}
		vars := map[string]string{"name": name, "barman_home": home, "barman_lock_directory": lockDir}
		get := func(key string) (string, bool, error) {
			return p.get(name, key, vars)
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
			return nil, "", err
		}
		if isModel {
			sect := p.Sections[name]
			if _, ok := sect.Values["cluster"]; !ok {
				return nil, "", fmt.Errorf("%s: model [%s] has no cluster option, which Barman requires of a model", p.where[name+"\x00model"], name)
			}
			cluster, _, err := get("cluster")
			if err != nil {
				return nil, "", err
			}
			vals, err := values()
			if err != nil {
				return nil, "", err
			}
			cfg.Models[name] = &ops.BarmanModel{Name: name, Cluster: cluster, Values: vals}
			return nil, "", nil
		}
		s := &ops.BarmanServer{Name: name}
		if _, present := p.Sections[name].Values["cluster"]; !present {
			s.Cluster = name
		} else if s.Cluster, _, err = get("cluster"); err != nil {
			return nil, "", err
		}
		backupDir, ok, err := get("backup_directory")
		if err != nil {
			return nil, "", err
		}
		if _, present := p.Sections[name].Values["backup_directory"]; !present {
			backupDir, ok = home+"/"+name, true
		}
		if !ok || backupDir == "" {
			return nil, "", fmt.Errorf("%s: [%s] backup_directory is empty or None, which Barman cannot use; remove the line for the default <barman_home>/%s", p.where[name+"\x00backup_directory"], name, name)
		}
		s.BackupDirectory = filepath.Clean(backupDir)
		// Barman resolves its keys in turn, alphabetically, each
		// interpolated with the values resolved before it (ServerConfig's
		// self.__dict__): the options read below see these directories.
		vars["backup_directory"] = backupDir
		if s.BaseBackupsDirectory, err = catalogDir(p, name, "basebackups_directory", backupDir+"/base", false, vars); err != nil {
			return nil, "", err
		}
		vars["basebackups_directory"] = s.BaseBackupsDirectory
		if s.Values, err = values(); err != nil {
			return nil, "", err
		}
		if s.WALsDirectory, err = catalogDir(p, name, "wals_directory", backupDir+"/wals", false, vars); err != nil {
			return nil, "", err
		}
		vars["wals_directory"] = s.WALsDirectory
		if s.XLogDBDirectory, err = catalogDir(p, name, "xlogdb_directory", s.WALsDirectory, true, vars); err != nil {
			return nil, "", err
		}
		s.BaseBackupsDirectory = filepath.Clean(s.BaseBackupsDirectory)
		s.WALsDirectory = filepath.Clean(s.WALsDirectory)
		s.XLogDBDirectory = filepath.Clean(s.XLogDBDirectory)
		return s, backupDir, nil
	}
}

// catalogDir resolves one of the directories of a server's catalog as
// Barman's ServerConfig does: the server's own line, then (for the keys
// Barman inherits) the [barman] section's, both interpolated with vars,
// else def, the default as Barman derives it. A None or empty value, which
// Barman cannot use, is read as the default. Models cannot set these.
func catalogDir(p *barmanParser, server, key, def string, inherited bool, vars map[string]string) (string, error) {
	v, ok, err := p.get(server, key, vars)
	if err != nil {
		return "", err
	}
	if !ok && inherited {
		if v, ok, err = p.get("barman", key, vars); err != nil {
			return "", err
		}
	}
	if !ok || v == "" {
		return def, nil
	}
	return v, nil
}

// isModel is Barman's _is_model: the interpolated "model" option, quotes
// and all, must be one of its boolean words.
func (p *barmanParser) isModel(name string) (bool, error) {
	raw, ok := p.Sections[name].Values["model"]
	if !ok {
		return false, nil
	}
	v, err := ini.Interpolate("model", raw, func(r string) (string, bool) {
		v, ok := p.Sections[name].Values[r]
		return v, ok
	})
	if err != nil {
		return false, fmt.Errorf("%s: [%s] %v", p.where[name+"\x00model"], name, err)
	}
	switch strings.ToLower(v) {
	case "true", "t", "yes", "1", "on":
		return true, nil
	case "false", "f", "no", "0", "off":
		return false, nil
	}
	return false, fmt.Errorf("%s: [%s] model = %q is not a boolean (true|t|yes|1|on or false|f|no|0|off, unquoted)", p.where[name+"\x00model"], name, v)
}

// applyActiveModel applies the model config-switch recorded for s, as
// Barman's _apply_models does.
func applyActiveModel(cfg *ops.BarmanConfig, s *ops.BarmanServer, file string) error {
	data, err := os.ReadFile(file)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return ops.Errorf(ops.EUNAVAILABLE, "cannot read the active model of server %q: %v (Barman cannot either)", s.Name, err)
	}
	name := ini.PyStrip(string(data))
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

// readInto parses one file on its own and merges it into p. A syntax error
// in the main file, which holds [barman], refuses the whole configuration;
// in any other file it breaks the sections that file names, so the other
// servers stay usable. The file is recorded either way, so that fixing it is
// noticed.
func readInto(cfg *ops.BarmanConfig, p *barmanParser, path string, data []byte, main bool) error {
	doc, err := ini.Parse(data, path)
	if err != nil {
		names := sectionNames(data)
		if main || len(names) == 0 || slices.Contains(names, "barman") {
			return invalid("%v", err)
		}
		cfg.Files = append(cfg.Files, path)
		for _, name := range names {
			p.markBroken(name, err.Error())
		}
		return nil
	}
	if err := p.merge(doc); err != nil {
		return invalid("%v", err)
	}
	cfg.Files = append(cfg.Files, path)
	return nil
}

// sectionNames are the section headers of a file that does not parse, read
// line by line as configparser would read a header.
func sectionNames(data []byte) []string {
	var names []string
	for _, line := range strings.Split(string(data), "\n") {
		if line == "" || ini.PyStrip(line) != strings.TrimRight(line, "\r") && strings.TrimLeft(line, " \t") != line {
			continue // an indented line continues a value
		}
		if name, ok := headerName(ini.PyStrip(line)); ok && name != ini.DefaultSection && !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	return names
}

// headerName is configparser's SECTCRE applied to a stripped line.
func headerName(s string) (string, bool) {
	end := strings.LastIndex(s, "]")
	if !strings.HasPrefix(s, "[") || end < 2 {
		return "", false
	}
	return s[1:end], true
}

// readExtra reads a file of the configuration directory or the auto conf:
// only a regular file (after symlinks) counts, and it may not change
// [barman].
func readExtra(cfg *ops.BarmanConfig, p *barmanParser, path string, global map[string]string) error {
	st, err := os.Stat(path)
	if err != nil || !st.Mode().IsRegular() {
		// Barman skips what is missing or not a file, with a warning.
		return nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return ops.Errorf(ops.EUNAVAILABLE, "cannot read Barman configuration file: %v", err)
	}
	if err := readInto(cfg, p, path, data, false); err != nil {
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

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if home, err := os.UserHomeDir(); err == nil {
			return filepath.Join(home, strings.TrimPrefix(p, "~"))
		}
	}
	return p
}

// DefaultLogFormat is Barman's log_format when barman.conf sets none
// (barman/config.py, DEFAULT_LOG_FORMAT).
const DefaultLogFormat = "%(asctime)s [%(process)s] %(name)s %(levelname)s: %(message)s"

// LogSettings are where and how Barman writes its log, as the [barman]
// section of its configuration says.
type LogSettings struct {
	// File is log_file as set: "" when unset (or None), in which case Barman
	// logs to its standard error. A relative path is Barman's working
	// directory's (it calls os.path.abspath).
	File string
	// Format is log_format, interpolated, or DefaultLogFormat.
	Format string
}

// ReadLogSettings reads log_file and log_format from the [barman] section of
// the configuration file path. Only the main file counts: Barman refuses a
// configuration_files_directory file that changes [barman].
func ReadLogSettings(path string) (LogSettings, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return LogSettings{}, fmt.Errorf("cannot read Barman configuration: %v", err)
	}
	p := &barmanParser{Sections: map[string]*ini.Section{}, where: map[string]string{}, broken: map[string]string{}}
	if err := readInto(&ops.BarmanConfig{}, p, path, data, true); err != nil {
		return LogSettings{}, err
	}
	var s LogSettings
	if s.File, _, err = p.get("barman", "log_file", nil); err != nil {
		return LogSettings{}, invalid("%v", err)
	}
	// Barman's "or DEFAULT_LOG_FORMAT": an empty value is the default too.
	if s.Format, _, err = p.get("barman", "log_format", nil); err != nil {
		return LogSettings{}, invalid("%v", err)
	}
	if s.Format == "" {
		s.Format = DefaultLogFormat
	}
	return s, nil
}
