package ops

import (
	"bufio"
	"bytes"
	"fmt"
	"strings"
)

// iniFile is a parsed INI document with Python configparser semantics, the
// reader Barman itself uses: keys are case-insensitive, "=" or ":" separate a
// key from its value, whole-line "#" and ";" comments, indented lines continue
// the previous value, and a [DEFAULT] section supplies every other section.
//
// We parse by hand rather than through a general INI library because the
// libraries differ from configparser exactly where Barman configurations rely
// on it (continuation lines, "%(name)s" interpolation, DEFAULT lookup).
type iniFile struct {
	sections map[string]map[string]string
	order    []string
	// where records the "file:line" that set each section+"\x00"+key, so
	// interpolation errors can point at the line to fix.
	where map[string]string
}

const iniDefaultSection = "DEFAULT"

func newIniFile() *iniFile {
	return &iniFile{sections: map[string]map[string]string{}, where: map[string]string{}}
}

// parse merges one file into f, the way configparser.read() does: a later
// file overrides keys of an earlier one; a section or key repeated within one
// file is an error.
func (f *iniFile) parse(data []byte, filename string) error {
	seenSections := map[string]bool{}
	seenKeys := map[string]bool{}
	var section map[string]string
	var sectionName, lastKey string
	lastIndent := -1

	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	lineNo := 0
	for sc.Scan() {
		lineNo++
		raw := strings.TrimRight(sc.Text(), "\r")
		if lineNo == 1 {
			raw = strings.TrimPrefix(raw, "\ufeff")
		}
		if strings.ContainsRune(raw, 0) {
			return fmt.Errorf("%s:%d: NUL byte in configuration", filename, lineNo)
		}
		trimmed := strings.TrimSpace(raw)
		indent := len(raw) - len(strings.TrimLeft(raw, " \t"))
		if trimmed == "" {
			lastKey = ""
			continue
		}
		if strings.HasPrefix(trimmed, "#") || strings.HasPrefix(trimmed, ";") {
			continue
		}
		if lastKey != "" && indent > lastIndent && section != nil {
			section[lastKey] = section[lastKey] + "\n" + trimmed
			continue
		}
		if strings.HasPrefix(trimmed, "[") {
			end := strings.Index(trimmed, "]")
			if end < 0 {
				return fmt.Errorf("%s:%d: section header %q has no closing ']'", filename, lineNo, trimmed)
			}
			sectionName = trimmed[1:end]
			if sectionName == "" {
				return fmt.Errorf("%s:%d: empty section name", filename, lineNo)
			}
			if seenSections[sectionName] {
				return fmt.Errorf("%s:%d: section [%s] appears twice in this file", filename, lineNo, sectionName)
			}
			seenSections[sectionName] = true
			if _, ok := f.sections[sectionName]; !ok {
				f.sections[sectionName] = map[string]string{}
				if sectionName != iniDefaultSection {
					f.order = append(f.order, sectionName)
				}
			}
			section = f.sections[sectionName]
			lastKey = ""
			continue
		}
		if section == nil {
			return fmt.Errorf("%s:%d: %q comes before any [section] header", filename, lineNo, trimmed)
		}
		sep := strings.IndexAny(trimmed, "=:")
		if sep <= 0 {
			return fmt.Errorf("%s:%d: expected \"key = value\" in [%s], got %q", filename, lineNo, sectionName, trimmed)
		}
		key := strings.ToLower(strings.TrimSpace(trimmed[:sep]))
		if seenKeys[sectionName+"\x00"+key] {
			return fmt.Errorf("%s:%d: key %q appears twice in [%s]", filename, lineNo, key, sectionName)
		}
		seenKeys[sectionName+"\x00"+key] = true
		section[key] = strings.TrimSpace(trimmed[sep+1:])
		f.where[sectionName+"\x00"+key] = fmt.Sprintf("%s:%d", filename, lineNo)
		lastKey, lastIndent = key, indent
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", filename, err)
	}
	return nil
}

// has reports whether section exists (DEFAULT does not count).
func (f *iniFile) has(section string) bool {
	_, ok := f.sections[section]
	return ok && section != iniDefaultSection
}

// raw returns the uninterpolated value of key in section, falling back to
// DEFAULT, as configparser does.
func (f *iniFile) raw(section, key string) (string, bool) {
	if v, ok := f.sections[section][key]; ok {
		return v, true
	}
	v, ok := f.sections[iniDefaultSection][key]
	return v, ok
}

// get returns the interpolated value of key in section. vars are extra values
// that "%(name)s" references may use when the section does not define them
// (Barman passes the server's name this way).
func (f *iniFile) get(section, key string, vars map[string]string) (string, bool, error) {
	v, ok := f.raw(section, key)
	if !ok {
		if dv, ok := vars[key]; ok {
			v = dv
		} else {
			return "", false, nil
		}
	}
	out, err := f.interpolate(section, key, v, vars, 1)
	if err != nil {
		if loc := f.location(section, key); loc != "" {
			err = fmt.Errorf("%s: %w", loc, err)
		}
	}
	return out, true, err
}

// location returns the "file:line" that set key for section, following the
// same DEFAULT fallback as raw, or "" when no file set it.
func (f *iniFile) location(section, key string) string {
	if _, ok := f.sections[section][key]; ok {
		return f.where[section+"\x00"+key]
	}
	return f.where[iniDefaultSection+"\x00"+key]
}

// maxInterpolationDepth matches configparser's MAX_INTERPOLATION_DEPTH.
const maxInterpolationDepth = 10

func (f *iniFile) interpolate(section, key, value string, vars map[string]string, depth int) (string, error) {
	if depth > maxInterpolationDepth {
		return "", fmt.Errorf("[%s] %s: interpolation nested more than %d deep (a reference loop?)", section, key, maxInterpolationDepth)
	}
	if !strings.Contains(value, "%") {
		return value, nil
	}
	var b strings.Builder
	for i := 0; i < len(value); i++ {
		c := value[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		if i+1 < len(value) && value[i+1] == '%' {
			b.WriteByte('%')
			i++
			continue
		}
		if i+1 < len(value) && value[i+1] == '(' {
			end := strings.Index(value[i:], ")s")
			if end < 0 {
				return "", fmt.Errorf("[%s] %s: bad interpolation syntax in %q", section, key, value)
			}
			ref := strings.ToLower(value[i+2 : i+end])
			rv, ok := f.raw(section, ref)
			if !ok {
				rv, ok = vars[ref]
			}
			if !ok {
				return "", fmt.Errorf("[%s] %s: %q refers to %%(%s)s, which is not set", section, key, value, ref)
			}
			sub, err := f.interpolate(section, ref, rv, vars, depth+1)
			if err != nil {
				return "", err
			}
			b.WriteString(sub)
			i += end + 1
			continue
		}
		return "", fmt.Errorf("[%s] %s: '%%' must be followed by '%%' or '(' in %q", section, key, value)
	}
	return b.String(), nil
}
