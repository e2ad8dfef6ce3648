package barman

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// tablespaceNames reads the names of backup.info's tablespaces line, which
// Barman writes as Python's repr of a list of (name, oid, location) tuples
// (infofile.output_tablespace_list: "[('tbs1', 16387, '/srv/tbs1')]"), or
// None when the backup has none. ok is false for anything else, so that a
// line this reader does not understand leaves the names unchecked rather
// than wrongly refused.
func tablespaceNames(v string) (names []string, ok bool) {
	v = strings.TrimSpace(v)
	if v == "None" || v == "[]" {
		return []string{}, true
	}
	s := &pyScanner{s: v}
	if !s.eat('[') {
		return nil, false
	}
	for {
		s.space()
		if s.eat(']') {
			return names, s.done()
		}
		if !s.eat('(') && !s.eat('[') {
			return nil, false
		}
		s.space()
		name, ok := s.str()
		if !ok {
			return nil, false
		}
		names = append(names, name)
		// The oid and the location: skipped, strings read as strings so
		// that a ')' or ',' in a location does not end the tuple.
		for {
			s.space()
			if s.eat(')') || s.eat(']') {
				break
			}
			if s.peekQuote() {
				if _, ok := s.str(); !ok {
					return nil, false
				}
				continue
			}
			if s.i >= len(s.s) {
				return nil, false
			}
			s.i++
		}
		s.space()
		s.eat(',')
	}
}

// pyScanner reads the Python literals repr writes.
type pyScanner struct {
	s string
	i int
}

func (p *pyScanner) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

func (p *pyScanner) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *pyScanner) done() bool {
	p.space()
	return p.i == len(p.s)
}

func (p *pyScanner) peekQuote() bool {
	j := p.i
	if j < len(p.s) && (p.s[j] == 'u' || p.s[j] == 'b') {
		j++
	}
	return j < len(p.s) && (p.s[j] == '\'' || p.s[j] == '"')
}

// str reads a string literal, 'x' or "x" with an optional u prefix (Python
// 2's Barman), and its backslash escapes.
func (p *pyScanner) str() (string, bool) {
	if !p.peekQuote() {
		return "", false
	}
	if p.s[p.i] == 'u' || p.s[p.i] == 'b' {
		p.i++
	}
	quote := p.s[p.i]
	p.i++
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == quote:
			p.i++
			return b.String(), true
		case c != '\\':
			b.WriteByte(c)
			p.i++
			continue
		}
		if p.i+1 >= len(p.s) {
			return "", false
		}
		e := p.s[p.i+1]
		p.i += 2
		switch e {
		case '\\', '\'', '"':
			b.WriteByte(e)
		case 'n':
			b.WriteByte('\n')
		case 't':
			b.WriteByte('\t')
		case 'r':
			b.WriteByte('\r')
		case 'x', 'u', 'U':
			n := map[byte]int{'x': 2, 'u': 4, 'U': 8}[e]
			if p.i+n > len(p.s) {
				return "", false
			}
			r, err := strconv.ParseUint(p.s[p.i:p.i+n], 16, 32)
			if err != nil || r > utf8.MaxRune {
				return "", false
			}
			b.WriteRune(rune(r))
			p.i += n
		default:
			return "", false
		}
	}
	return "", false
}
