package runner

import (
	"bufio"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// drillTablespace is one tablespace of a backup, as its backup.info names
// it.
type drillTablespace struct {
	Name     string
	OID      int64
	Location string
}

// drillTablespaceArgs are the --tablespace options that restore each of
// the backup's tablespaces into dir/tablespaces/NAME. Without them Barman
// restores a tablespace where the original server had it: on the Barman
// host, outside the drill's directory, where it fails for want of
// permission, or writes into a directory of the host's own (a live
// tablespace of a PostgreSQL there) and is left behind.
func (r *Runner) drillTablespaceArgs(op *ops.Operation, backupID, dir string) (args []string, moved []drillTablespace, err error) {
	conf := op.BarmanConfigPath()
	if conf == "" {
		conf = r.BarmanConfig
	}
	cfg, err := barman.LoadConfig(conf)
	if err != nil {
		return nil, nil, fmt.Errorf("reading Barman's configuration for the backup's tablespaces: %v", err)
	}
	server, err := cfg.Server(op.Server)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the backup's tablespaces: %s", ops.ErrorMessage(err))
	}
	backups, err := barman.ListBackups(server)
	if err != nil {
		return nil, nil, fmt.Errorf("reading the backup's tablespaces: %s", ops.ErrorMessage(err))
	}
	info := ""
	for _, b := range backups {
		if b.ID == backupID {
			info = b.Path
		}
	}
	if info == "" {
		return nil, nil, fmt.Errorf("backup %s of server %s is no longer in Barman's catalog", backupID, op.Server)
	}
	tbs, err := readTablespaces(info)
	if err != nil {
		return nil, nil, err
	}
	for _, ts := range tbs {
		// Barman splits a rule at its first ':'; a NAME with one cannot
		// be relocated, and restoring it in place is what must not happen.
		if strings.Contains(ts.Name, ":") || ts.Name == "" {
			return nil, nil, fmt.Errorf("the backup's tablespace %q cannot be restored into the drill's directory: Barman's --tablespace NAME:LOCATION takes no ':' in NAME", ts.Name)
		}
		loc := filepath.Join(dir, "tablespaces", strconv.FormatInt(ts.OID, 10))
		args = append(args, "--tablespace="+ts.Name+":"+loc)
		moved = append(moved, drillTablespace{ts.Name, ts.OID, loc})
	}
	return args, moved, nil
}

// readTablespaces reads the tablespaces= line of a backup.info: None, or
// Python's repr of a list of (name, oid, location) tuples.
func readTablespaces(info string) ([]drillTablespace, error) {
	f, err := os.Open(info)
	if err != nil {
		return nil, fmt.Errorf("reading the backup's tablespaces: %v", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), "=")
		if !ok || strings.TrimSpace(k) != "tablespaces" {
			continue
		}
		v = strings.TrimSpace(v)
		if v == "" || v == "None" {
			return nil, nil
		}
		tbs, err := parseTablespaces(v)
		if err != nil {
			return nil, fmt.Errorf("%s: tablespaces= cannot be read (%v), so they cannot be restored into the drill's directory: %.200q", info, err, v)
		}
		return tbs, nil
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the backup's tablespaces: %s: %v", info, err)
	}
	return nil, nil
}

// parseTablespaces reads [('name', 16400, '/path'), ...] as Python's repr
// writes it.
func parseTablespaces(s string) ([]drillTablespace, error) {
	p := &pyRepr{s: s}
	var out []drillTablespace
	if !p.eat('[') {
		return nil, p.fail("'['")
	}
	for !p.eat(']') {
		if len(out) > 0 && !p.eat(',') {
			return nil, p.fail("',' or ']'")
		}
		if p.eat(']') { // a trailing comma
			break
		}
		var ts drillTablespace
		var err error
		if !p.eat('(') {
			return nil, p.fail("'('")
		}
		if ts.Name, err = p.str(); err != nil {
			return nil, err
		}
		if !p.eat(',') {
			return nil, p.fail("','")
		}
		if ts.OID, err = p.int(); err != nil {
			return nil, err
		}
		if !p.eat(',') {
			return nil, p.fail("','")
		}
		if ts.Location, err = p.str(); err != nil {
			return nil, err
		}
		p.eat(',')
		if !p.eat(')') {
			return nil, p.fail("')'")
		}
		out = append(out, ts)
	}
	if p.skip(); p.i != len(p.s) {
		return nil, p.fail("the end")
	}
	return out, nil
}

type pyRepr struct {
	s string
	i int
}

func (p *pyRepr) skip() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *pyRepr) eat(c byte) bool {
	p.skip()
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *pyRepr) fail(want string) error {
	return fmt.Errorf("expected %s at byte %d", want, p.i)
}

func (p *pyRepr) int() (int64, error) {
	p.skip()
	j := p.i
	for j < len(p.s) && p.s[j] >= '0' && p.s[j] <= '9' {
		j++
	}
	n, err := strconv.ParseInt(p.s[p.i:j], 10, 64)
	if err != nil {
		return 0, p.fail("an OID")
	}
	p.i = j
	return n, nil
}

// str reads a Python string literal in single or double quotes, with the
// escapes repr writes.
func (p *pyRepr) str() (string, error) {
	p.skip()
	if p.i >= len(p.s) || (p.s[p.i] != '\'' && p.s[p.i] != '"') {
		return "", p.fail("a quoted string")
	}
	q := p.s[p.i]
	var b strings.Builder
	for j := p.i + 1; j < len(p.s); {
		c := p.s[j]
		switch {
		case c == q:
			p.i = j + 1
			if !utf8.ValidString(b.String()) {
				return "", fmt.Errorf("the string at byte %d is not UTF-8", j)
			}
			return b.String(), nil
		case c != '\\':
			b.WriteByte(c)
			j++
			continue
		}
		if j+1 >= len(p.s) {
			break
		}
		e := p.s[j+1]
		width := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
		switch {
		case width > 0:
			if j+2+width > len(p.s) {
				return "", p.fail("a complete escape")
			}
			n, err := strconv.ParseUint(p.s[j+2:j+2+width], 16, 32)
			if err != nil {
				return "", p.fail("a hexadecimal escape")
			}
			b.WriteRune(rune(n))
			j += 2 + width
		case strings.IndexByte(`\'"`, e) >= 0:
			b.WriteByte(e)
			j += 2
		case e == 'n' || e == 't' || e == 'r':
			b.WriteByte(map[byte]byte{'n': '\n', 't': '\t', 'r': '\r'}[e])
			j += 2
		default:
			return "", fmt.Errorf("unknown escape \\%c at byte %d", e, j)
		}
	}
	return "", p.fail("a closing quote")
}
