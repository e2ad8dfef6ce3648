package ini

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
)

// iniCases pair a file's text with what Python 3.11's
// configparser.ConfigParser(strict=False).read() makes of it (raw values,
// sections and DEFAULT), or the name of the error it raises. The
// expectations were produced by running Python on these texts.
var iniCases = []struct{ text, want string }{
	{"[s]\nk = v\n", "{\"s\": {\"k\": \"v\"}, \"DEFAULT\": {}}"},
	{"[s]\nKey Name : v : w\nk2=  spaced  \n", "{\"s\": {\"key name\": \"v : w\", \"k2\": \"spaced\"}, \"DEFAULT\": {}}"},
	{"[s]\nk = a\n  b\n\n  c\n\n\nj = x\n", "{\"s\": {\"k\": \"a\\nb\\n\\nc\", \"j\": \"x\"}, \"DEFAULT\": {}}"},
	{"[s]\nk = a\n# comment\n  b\n ; indented comment\n\tc\n", "{\"s\": {\"k\": \"a\\nb\\nc\"}, \"DEFAULT\": {}}"},
	{"[s]\nk = 1\n[t]\nk = 2\n[s]\nk = 3\nl = 4\n", "{\"s\": {\"k\": \"3\", \"l\": \"4\"}, \"t\": {\"k\": \"2\"}, \"DEFAULT\": {}}"},
	{"[s]\nk = 1\nk = 2\n", "{\"s\": {\"k\": \"2\"}, \"DEFAULT\": {}}"},
	{"[DEFAULT]\nd = 1\n[s]\nk = %(d)s\n[DEFAULT]\ne = 2\n", "{\"s\": {\"k\": \"%(d)s\"}, \"DEFAULT\": {\"d\": \"1\", \"e\": \"2\"}}"},
	{"[a]b]\nk = v\n[x] trailing\nq = r\n", "{\"a]b\": {\"k\": \"v\"}, \"x\": {\"q\": \"r\"}, \"DEFAULT\": {}}"},
	{"[s]\n  k = v\n  more = w\n     cont\n", "{\"s\": {\"k\": \"v\", \"more\": \"w\\ncont\"}, \"DEFAULT\": {}}"},
	{"[s]\r\nk = v\r\n  w\rj = x\r\n", "{\"s\": {\"k\": \"v\\nw\", \"j\": \"x\"}, \"DEFAULT\": {}}"},
	{"[s]\nk =\n  first\n", "{\"s\": {\"k\": \"\\nfirst\"}, \"DEFAULT\": {}}"},
	{"[s]\nk = v # not a comment\n", "{\"s\": {\"k\": \"v # not a comment\"}, \"DEFAULT\": {}}"},
	{"[default]\nk = v\n", "{\"default\": {\"k\": \"v\"}, \"DEFAULT\": {}}"},
	{"k = v\n", "{\"error\": \"MissingSectionHeaderError\"}"},
	{"[s]\njust words\n", "{\"error\": \"ParsingError\"}"},
	{"[s]\n= v\n", "{\"error\": \"ParsingError\"}"},
	{"[]\n", "{\"error\": \"MissingSectionHeaderError\"}"},
	{"\ufeff[s]\nk = v\n", "{\"error\": \"MissingSectionHeaderError\"}"},
	{"[s]\n\n  k = v\n", "{\"s\": {\"k\": \"v\"}, \"DEFAULT\": {}}"},
}

func TestParseIniMatchesConfigparser(t *testing.T) {
	for _, tc := range iniCases {
		var want map[string]any
		if err := json.Unmarshal([]byte(tc.want), &want); err != nil {
			t.Fatal(err)
		}
		doc, err := Parse([]byte(tc.text), "/etc/x.conf")
		if _, refused := want["error"]; refused {
			if err == nil {
				t.Errorf("%q: accepted, configparser raises %s", tc.text, want["error"])
			} else if !strings.HasPrefix(err.Error(), "/etc/x.conf:") {
				t.Errorf("%q: error %q does not start with file:line", tc.text, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v, configparser accepts it", tc.text, err)
			continue
		}
		got := map[string]any{}
		for name, s := range doc.Sections {
			m := map[string]any{}
			for k, v := range s.Values {
				m[k] = v
			}
			got[name] = m
		}
		d := map[string]any{}
		for k, v := range doc.Defaults.Values {
			d[k] = v
		}
		got["DEFAULT"] = d
		if !reflect.DeepEqual(got, want) {
			t.Errorf("%q:\n got %v\nwant %v", tc.text, got, want)
		}
	}
}

func TestParseIniErrorLines(t *testing.T) {
	for text, want := range map[string]string{
		"k = v\n":                    "/c:1: ",
		"[s]\nk = v\n\njust words\n": "/c:4: ",
		"[s]\nk = v\n= x\nbad\n":     "/c:3: ",
	} {
		_, err := Parse([]byte(text), "/c")
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("%q: error %v, want it to start with %q", text, err, want)
		}
	}
}

func TestInterpolate(t *testing.T) {
	vals := map[string]string{"a": "1", "b": "%(a)s2", "loop": "%(loop)s", "pct": "50%%"}
	lookup := func(k string) (string, bool) { v, ok := vals[k]; return v, ok }
	for in, want := range map[string]string{
		"x":           "x",
		"%(a)s":       "1",
		"%(A)s-%(b)s": "1-12",
		"100%%":       "100%",
		"%%(a)s":      "%(a)s",
		"%(pct)s":     "50%",
	} {
		got, err := Interpolate("k", in, lookup)
		if err != nil || got != want {
			t.Errorf("Interpolate(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"%(nope)s": "which is not set",
		"%(a)x":    "bad interpolation reference",
		"5%":       "must be followed",
		"%(loop)s": "nested more than 10 deep",
	} {
		_, err := Interpolate("k", in, lookup)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Interpolate(%q) error %v, want %q", in, err, want)
		}
	}
	for in, ok := range map[string]bool{"a": true, "%%": true, "%(x)s": true, "50%": false, "%(x": false} {
		if err := CheckSettable("k", in); (err == nil) != ok {
			t.Errorf("CheckSettable(%q) = %v, want ok=%v", in, err, ok)
		}
	}
}
