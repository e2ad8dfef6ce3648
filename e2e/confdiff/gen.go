// Package confdiff generates Barman configurations and compares what
// ops.LoadBarmanConfig resolves from them with what a real Barman reports,
// so that our reading of barman.conf is proven against Barman's own parser.
package confdiff

import (
	"fmt"
	"math/rand"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// Features says which parts of the configuration language a Barman version
// shares with the reader. Barman 3.4 has no models, no cluster option, no
// .barman.auto.conf, and reads every file into one parser (so a [DEFAULT]
// reaches all files); the generator keeps those out of its configurations.
type Features struct {
	Models   bool // model sections, cluster, .active-model.auto
	AutoConf bool // <barman_home>/.barman.auto.conf
	// FileDefaults allows a [DEFAULT] in the files of
	// configuration_files_directory (3.4 refuses it: it changes [barman]).
	FileDefaults bool
	// XLogDBDirectory: the xlogdb_directory option (3.13; earlier
	// versions keep xlog.db in wals_directory and ignore the option).
	XLogDBDirectory bool
}

// FeaturesFor returns the features of a Barman version string such as
// "3.4.0" or "3.13.3".
func FeaturesFor(version string) Features {
	var major, minor int
	fmt.Sscanf(version, "%d.%d", &major, &minor)
	modern := major > 3 || (major == 3 && minor >= 10)
	xlogdb := major > 3 || (major == 3 && minor >= 13)
	return Features{Models: modern, AutoConf: modern, FileDefaults: modern, XLogDBDirectory: xlogdb}
}

// Config is one generated configuration, written under Root.
type Config struct {
	Index int
	Root  string
	Main  string            // path of barman.conf
	Files map[string]string // path -> content, every file written
	// WantRefusal is true when the generator broke the configuration on
	// purpose; the comparison does not rely on it, it only documents.
	WantRefusal bool
}

// Text renders every file of c, for a failure report.
func (c *Config) Text() string {
	var paths []string
	for p := range c.Files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var b strings.Builder
	for _, p := range paths {
		fmt.Fprintf(&b, "----- %s\n%s", p, c.Files[p])
		if !strings.HasSuffix(c.Files[p], "\n") {
			b.WriteString("\n")
		}
	}
	return b.String()
}

type gen struct {
	r    *rand.Rand
	f    Features
	root string
}

func (g *gen) pick(options ...string) string { return options[g.r.Intn(len(options))] }
func (g *gen) chance(p float64) bool         { return g.r.Float64() < p }

// quote wraps v in one pair of matching quotes, sometimes.
func (g *gen) quote(v string) string {
	switch g.r.Intn(4) {
	case 0:
		return `"` + v + `"`
	case 1:
		return "'" + v + "'"
	}
	return v
}

func (g *gen) key(k string) string {
	switch g.r.Intn(6) {
	case 0:
		return strings.ToUpper(k)
	case 1:
		return strings.ToUpper(k[:1]) + k[1:]
	}
	return k
}

func (g *gen) sep() string { return g.pick(" = ", "=", ": ", " : ", "\t=  ") }

func (g *gen) comment() string {
	return g.pick("# a comment\n", "; another comment\n", "   # indented comment\n", "\n", "")
}

// section is a section's lines, built up then split across files.
type section struct {
	name  string
	lines []string
}

func (s *section) add(line string) { s.lines = append(s.lines, line) }

// Generate writes configuration number i of the run seeded with seed under
// dir, restricted to f.
func Generate(dir string, seed int64, i int, f Features) (*Config, error) {
	g := &gen{r: rand.New(rand.NewSource(seed*1_000_003 + int64(i))), f: f}
	root := filepath.Join(dir, fmt.Sprintf("c%03d", i))
	g.root = root
	c := &Config{Index: i, Root: root, Main: filepath.Join(root, "barman.conf"), Files: map[string]string{}}
	homeDir := filepath.Join(root, g.pick("home", "barman home", "h-1"))
	confDir := filepath.Join(root, g.pick("barman.d", "conf d"))
	for _, d := range []string{homeDir, confDir} {
		if err := os.MkdirAll(d, 0o777); err != nil {
			return nil, err
		}
	}

	var main strings.Builder
	useDefault := g.chance(0.5)
	homeValue := g.quote(homeDir)
	if useDefault {
		fmt.Fprintf(&main, "[DEFAULT]\nroot%s%s\n%s", g.sep(), root, g.comment())
		if g.chance(0.5) && !strings.Contains(homeDir, " ") {
			homeValue = g.quote("%(root)s/" + filepath.Base(homeDir))
		}
	}
	fmt.Fprintf(&main, "[barman]\n%s%s%s\n", g.key("barman_home"), g.sep(), homeValue)
	main.WriteString(g.comment())
	main.WriteString("barman_user = barman\nlog_level = ERROR\n")
	if g.f.XLogDBDirectory && g.chance(0.2) {
		// Inherited by every server that sets none of its own.
		fmt.Fprintf(&main, "%s%s%s\n", g.key("xlogdb_directory"), g.sep(), g.quote(filepath.Join(root, "xlogdb all")))
	}
	useConfDir := g.chance(0.7)
	if useConfDir {
		fmt.Fprintf(&main, "configuration_files_directory%s%s\n", g.sep(), g.quote(confDir))
	}

	// Clusters shared by servers and models.
	clusters := []string{"alpha", "beta", "gamma"}
	names := []string{"pg", "db_two", "main-db", "Replica", "pg.3", "srv9"}
	g.r.Shuffle(len(names), func(a, b int) { names[a], names[b] = names[b], names[a] })
	nServers := 1 + g.r.Intn(4)
	var sections []*section
	type serverInfo struct{ name, cluster, backupDir string }
	var servers []serverInfo
	for k := 0; k < nServers; k++ {
		s := &section{name: names[k]}
		s.add(g.comment())
		s.add(fmt.Sprintf("%s%shost=/nonexistent dbname=%s\n", g.key("conninfo"), g.sep(), g.quote(s.name)))
		if g.chance(0.5) {
			switch g.r.Intn(4) {
			case 0:
				s.add(fmt.Sprintf("description = %s\n", g.quote("server "+s.name)))
			case 1:
				s.add("description = first line\n    second line\n\n    after a blank line\n# comment inside\n    last\n")
			case 2:
				s.add("description = None\n")
			default:
				s.add("label = lbl-" + s.name + "\ndescription = %(label)s and more\n")
			}
		}
		info := serverInfo{name: s.name, cluster: s.name, backupDir: filepath.Join(homeDir, s.name)}
		switch g.r.Intn(4) {
		case 1:
			info.backupDir = filepath.Join(root, "bk dir", s.name)
			s.add(fmt.Sprintf("%s%s%s\n", g.key("backup_directory"), g.sep(), g.quote(info.backupDir)))
		case 2:
			info.backupDir = filepath.Join(root, "bk", s.name)
			s.add(fmt.Sprintf("base = %s\nbackup_directory = %s\n", filepath.Join(root, "bk"), g.quote("%(base)s/"+s.name)))
		case 3:
			// A first value overridden by a later line of the same section.
			info.backupDir = filepath.Join(root, "second", s.name)
			s.add(fmt.Sprintf("backup_directory = %s\n", filepath.Join(root, "first", s.name)))
			s.add(g.comment())
			s.add(fmt.Sprintf("Backup_Directory = %s\n", info.backupDir))
		}
		// The catalog's directories: set outright, or interpolated from a
		// key of the same chunk (lines of a section may land in other
		// files, and Barman 3.10 and later interpolate within a file).
		switch g.r.Intn(5) {
		case 1:
			s.add(fmt.Sprintf("%s%s%s\n", g.key("wals_directory"), g.sep(), g.quote(filepath.Join(root, "wals", s.name))))
		case 2:
			s.add(fmt.Sprintf("catalog = %s\nbasebackups_directory%s%s\nwals_directory = %%(catalog)s/archive\n",
				filepath.Join(root, "catalog", s.name), g.sep(), g.quote("%(catalog)s/bb")))
		case 3:
			if g.f.XLogDBDirectory {
				s.add(fmt.Sprintf("%s%s%s\n", g.key("xlogdb_directory"), g.sep(), g.quote(filepath.Join(root, "xlogdb", s.name))))
			}
		}
		if g.f.Models && g.chance(0.7) {
			info.cluster = g.pick(clusters...)
			s.add(fmt.Sprintf("cluster%s%s\n", g.sep(), g.quote(info.cluster)))
		}
		if err := os.MkdirAll(info.backupDir, 0o777); err != nil {
			return nil, err
		}
		servers = append(servers, info)
		sections = append(sections, s)
	}
	var models []string
	if g.f.Models {
		for k := 0; k < g.r.Intn(4); k++ {
			m := &section{name: fmt.Sprintf("model-%d", k)}
			m.add(fmt.Sprintf("model = %s\n", g.pick("true", "on", "1", "Yes")))
			// Mostly the cluster of a server, so it can be its active model.
			cl := g.pick(clusters...)
			if g.chance(0.8) {
				cl = servers[g.r.Intn(len(servers))].cluster
			}
			m.add(fmt.Sprintf("cluster = %s\n", g.quote(cl)))
			if g.chance(0.7) {
				m.add(fmt.Sprintf("conninfo = %s\n", g.quote("host=/nonexistent dbname=via-"+m.name)))
			}
			if g.chance(0.4) {
				m.add("description = model " + m.name + "\n")
			}
			if g.chance(0.2) {
				m.add("conninfo = None\n")
			}
			models = append(models, m.name)
			sections = append(sections, m)
		}
		for _, s := range servers {
			file := filepath.Join(s.backupDir, ".active-model.auto")
			switch {
			case len(models) > 0 && g.chance(0.5):
				c.Files[file] = g.pick("", "\n", "  ") + models[g.r.Intn(len(models))] + g.pick("", "\n", " \n")
			case g.chance(0.1):
				c.Files[file] = g.pick("", "\n")
			}
		}
	}

	// Place each section's lines: in barman.conf, in a file of the conf
	// directory, or split between two places (the later part overrides).
	extra := map[string]*strings.Builder{}
	extraName := func() string { return g.pick("10-a.conf", "20-b.conf", "Z.conf", "a b.conf") }
	auto := &strings.Builder{}
	for _, s := range sections {
		body := strings.Join(s.lines, "")
		head := "[" + s.name + "]\n"
		place := g.r.Intn(3)
		if !useConfDir {
			place = 0
		}
		switch place {
		case 0:
			main.WriteString(head + body)
		case 1:
			n := extraName()
			if extra[n] == nil {
				extra[n] = &strings.Builder{}
			}
			extra[n].WriteString(head + body)
		case 2:
			cut := g.r.Intn(len(s.lines) + 1)
			main.WriteString(head + strings.Join(s.lines[:cut], ""))
			n := extraName()
			if extra[n] == nil {
				extra[n] = &strings.Builder{}
			}
			extra[n].WriteString(head + strings.Join(s.lines[cut:], ""))
		}
		if g.f.AutoConf && g.chance(0.15) {
			fmt.Fprintf(auto, "[%s]\ndescription = from auto conf\n", s.name)
		}
	}
	extraNames := make([]string, 0, len(extra))
	for n := range extra {
		extraNames = append(extraNames, n)
	}
	sort.Strings(extraNames)
	for _, n := range extraNames {
		text := extra[n].String()
		if g.f.FileDefaults && g.chance(0.3) {
			text = "[DEFAULT]\nlocal = here\n" + text
		}
		c.Files[filepath.Join(confDir, n)] = text
	}
	if auto.Len() > 0 {
		c.Files[filepath.Join(homeDir, ".barman.auto.conf")] = auto.String()
	}
	// Files Barman must skip: hidden, wrong suffix.
	if useConfDir && g.chance(0.3) {
		c.Files[filepath.Join(confDir, ".hidden.conf")] = "not a configuration\n"
		c.Files[filepath.Join(confDir, "notes.txt")] = "[nope\n"
	}
	c.Files[c.Main] = main.String()

	// Break one configuration in ten, in a way Barman refuses.
	if g.chance(0.1) {
		c.WantRefusal = true
		target := c.Main
		if len(extraNames) > 0 && g.chance(0.5) {
			target = filepath.Join(confDir, extraNames[g.r.Intn(len(extraNames))])
		}
		switch g.r.Intn(3) {
		case 0:
			c.Files[target] += "[" + servers[0].name + "]\njust some words\n"
		case 1:
			c.Files[target] += "[" + servers[0].name + "]\nbroken = %(no_such_key)s\n"
		default:
			c.Files[target] = "orphan = before any section\n" + c.Files[target]
		}
	}
	for p, text := range c.Files {
		if err := os.MkdirAll(filepath.Dir(p), 0o777); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, []byte(text), 0o666); err != nil {
			return nil, err
		}
	}
	return c, nil
}
