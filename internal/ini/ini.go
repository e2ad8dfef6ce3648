// Package ini reads INI files the way Python's configparser does, which is how
// Barman reads its configuration: the same keys, continuations, DEFAULT
// section and %(name)s interpolation, and the same errors.
package ini

import (
	"fmt"
	"strings"
	"unicode"
)

// Doc is one file read the way Python's configparser.ConfigParser
// (strict=False, the defaults otherwise) reads it, which is what Barman uses:
// keys are lower-cased, "=" or ":" separate a key from its value, a line whose
// stripped text starts with "#" or ";" is a comment, a line indented deeper
// than its option line continues the value (blank lines inside are kept,
// trailing ones dropped), a section or key given twice merges with the later
// one winning, and [DEFAULT] is kept apart from the sections.
//
// We parse by hand rather than through a general INI library because the
// libraries differ from configparser exactly where Barman configurations rely
// on it.
type Doc struct {
	file     string
	Sections map[string]*Section
	Order    []string
	Defaults *Section
}

type Section struct {
	Values map[string]string
	Keys   []string       // first-set order, as configparser's dicts keep it
	line   map[string]int // the line that last set each key
}

func NewSection() *Section {
	return &Section{Values: map[string]string{}, line: map[string]int{}}
}

func (s *Section) Set(key, value string, line int) {
	if _, ok := s.Values[key]; !ok {
		s.Keys = append(s.Keys, key)
	}
	s.Values[key] = value
	s.line[key] = line
}

const DefaultSection = "DEFAULT"

// PyStrip is Python's str.strip(): Unicode whitespace plus the separator
// controls Python also counts as whitespace.
func PyStrip(s string) string {
	return strings.TrimFunc(s, isPySpace)
}

func isPySpace(r rune) bool {
	return unicode.IsSpace(r) || (r >= 0x1c && r <= 0x1f)
}

// splitPyLines splits like Python's text mode with universal newlines:
// "\n", "\r\n" and a lone "\r" all end a line.
func splitPyLines(data string) []string {
	data = strings.ReplaceAll(data, "\r\n", "\n")
	data = strings.ReplaceAll(data, "\r", "\n")
	lines := strings.Split(data, "\n")
	if len(lines) > 0 && lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	return lines
}

// Parse reads one file. Like configparser it refuses a line before any
// section header at once, and otherwise reports the first line that is
// neither a section header, an option nor a continuation.
func Parse(data []byte, file string) (*Doc, error) {
	doc := &Doc{file: file, Sections: map[string]*Section{}, Defaults: NewSection()}
	if strings.ContainsRune(string(data), 0) {
		return nil, fmt.Errorf("%s: NUL byte in configuration; Barman cannot read it either", file)
	}
	type pending struct {
		sect  *Section
		key   string
		parts []string
	}
	var cur *Section
	var opt *pending
	var all []*pending
	var firstBad error
	indentLevel := 0
	flush := func() {
		if opt != nil {
			all = append(all, opt)
		}
		opt = nil
	}
	for i, line := range splitPyLines(string(data)) {
		lineNo := i + 1
		stripped := PyStrip(line)
		if strings.HasPrefix(stripped, "#") || strings.HasPrefix(stripped, ";") {
			// A comment neither ends a value nor adds a line to it.
			continue
		}
		if stripped == "" {
			if opt != nil {
				opt.parts = append(opt.parts, "")
			}
			continue
		}
		indent := len(line) - len(strings.TrimLeftFunc(line, isPySpace))
		if cur != nil && opt != nil && indent > indentLevel {
			opt.parts = append(opt.parts, stripped)
			continue
		}
		indentLevel = indent
		if name, ok := sectionHeader(stripped); ok {
			flush()
			switch {
			case name == DefaultSection:
				cur = doc.Defaults
			case doc.Sections[name] != nil:
				cur = doc.Sections[name]
			default:
				cur = NewSection()
				doc.Sections[name] = cur
				doc.Order = append(doc.Order, name)
			}
			continue
		}
		if cur == nil {
			return nil, fmt.Errorf("%s:%d: %q comes before any [section] header", file, lineNo, stripped)
		}
		sep := strings.IndexAny(stripped, "=:")
		if sep < 0 || PyStrip(stripped[:sep]) == "" {
			// configparser keeps reading and raises at the end; we report
			// the first such line.
			if firstBad == nil {
				firstBad = fmt.Errorf("%s:%d: %q is neither a [section] header, a \"key = value\" option nor an indented continuation", file, lineNo, stripped)
			}
			flush()
			continue
		}
		flush()
		key := strings.ToLower(strings.TrimRightFunc(stripped[:sep], isPySpace))
		opt = &pending{sect: cur, key: key, parts: []string{PyStrip(stripped[sep+1:])}}
		cur.Set(key, "", lineNo)
	}
	flush()
	if firstBad != nil {
		return nil, firstBad
	}
	// A later assignment of the same key replaced the earlier one; only the
	// last pending value of each key counts, which is the last in "all".
	for _, p := range all {
		p.sect.Values[p.key] = strings.TrimRightFunc(strings.Join(p.parts, "\n"), isPySpace)
	}
	return doc, nil
}

// sectionHeader matches configparser's SECTCRE, r"\[(?P<header>.+)\]" applied
// with re.match: anchored at the start only, greedy up to the last "]".
func sectionHeader(s string) (string, bool) {
	if !strings.HasPrefix(s, "[") {
		return "", false
	}
	end := strings.LastIndex(s, "]")
	if end < 2 {
		return "", false
	}
	name := s[1:end]
	if strings.ContainsAny(name, "\n") {
		return "", false
	}
	return name, true
}

// location is "file:line" of key in section of doc, or just the file.
func (doc *Doc) Location(section, key string) string {
	s := doc.Sections[section]
	if section == DefaultSection {
		s = doc.Defaults
	}
	if s != nil {
		if n, ok := s.line[key]; ok {
			return fmt.Sprintf("%s:%d", doc.file, n)
		}
	}
	if n, ok := doc.Defaults.line[key]; ok {
		return fmt.Sprintf("%s:%d", doc.file, n)
	}
	return doc.file
}

// maxInterpolationDepth matches configparser's MAX_INTERPOLATION_DEPTH.
const maxInterpolationDepth = 10

// Interpolate expands value as configparser's BasicInterpolation does:
// "%%" is "%", "%(name)s" is the value of name as lookup finds it (names are
// lower-cased), anything else after "%" is an error.
func Interpolate(key, value string, lookup func(string) (string, bool)) (string, error) {
	var b strings.Builder
	if err := interpolateSome(key, value, lookup, &b, 1); err != nil {
		return "", err
	}
	return b.String(), nil
}

func interpolateSome(key, rest string, lookup func(string) (string, bool), b *strings.Builder, depth int) error {
	if depth > maxInterpolationDepth {
		return fmt.Errorf("%s: interpolation nested more than %d deep (a reference loop?)", key, maxInterpolationDepth)
	}
	for rest != "" {
		p := strings.IndexByte(rest, '%')
		if p < 0 {
			b.WriteString(rest)
			return nil
		}
		b.WriteString(rest[:p])
		rest = rest[p:]
		switch {
		case strings.HasPrefix(rest, "%%"):
			b.WriteByte('%')
			rest = rest[2:]
		case strings.HasPrefix(rest, "%("):
			end := strings.IndexByte(rest, ')')
			if end <= 2 || !strings.HasPrefix(rest[end:], ")s") {
				return fmt.Errorf("%s: bad interpolation reference %q (write %%(name)s, or %%%% for a literal %%)", key, rest)
			}
			ref := strings.ToLower(rest[2:end])
			rest = rest[end+2:]
			v, ok := lookup(ref)
			if !ok {
				return fmt.Errorf("%s refers to %%(%s)s, which is not set in this section or [DEFAULT]", key, ref)
			}
			if strings.Contains(v, "%") {
				if err := interpolateSome(key, v, lookup, b, depth+1); err != nil {
					return err
				}
			} else {
				b.WriteString(v)
			}
		default:
			return fmt.Errorf("%s: '%%' must be followed by '%%' or '(' in %q (write %%%% for a literal %%)", key, rest)
		}
	}
	return nil
}

// CheckSettable is configparser's BasicInterpolation.before_set: a value
// stored back into a parser may hold only "%%" and "%(name)s".
func CheckSettable(key, value string) error {
	rest := strings.ReplaceAll(value, "%%", "")
	for {
		i := strings.Index(rest, "%(")
		if i < 0 {
			break
		}
		end := strings.IndexByte(rest[i:], ')')
		if end <= 2 || !strings.HasPrefix(rest[i+end:], ")s") {
			break
		}
		rest = rest[:i] + rest[i+end+2:]
	}
	if p := strings.IndexByte(rest, '%'); p >= 0 {
		return fmt.Errorf("%s = %q keeps a lone '%%' after interpolation, which Barman 3.10+ refuses when it merges files (write %%%%%%%% for a literal %%)", key, value)
	}
	return nil
}
