package ops

import (
	"strings"
	"testing"
)

// TestIniParse checks the configparser rules the reader follows, one file
// at a time.
func TestIniParse(t *testing.T) {
	type kv struct{ section, key, want string }
	tests := []struct {
		name  string
		input string
		want  []kv
		// absent lists section+"/"+key pairs that must not be set.
		absent []string
		order  []string
	}{
		{
			name:  "equals and colon separators, surrounding space trimmed",
			input: "[s]\na = 1\nb: 2\nc=3\n  \nd   =   spaced value   \n",
			want:  []kv{{"s", "a", "1"}, {"s", "b", "2"}, {"s", "c", "3"}, {"s", "d", "spaced value"}},
			order: []string{"s"},
		},
		{
			name:  "first separator wins, so a conninfo keeps its '=' and ':'",
			input: "[s]\nconninfo = host=h user=u dbname=postgres\nurl: http://x:1/\n",
			want:  []kv{{"s", "conninfo", "host=h user=u dbname=postgres"}, {"s", "url", "http://x:1/"}},
		},
		{
			name:  "keys are case-insensitive, section names are not",
			input: "[Srv]\nBackup_Directory = /x\n",
			want:  []kv{{"Srv", "backup_directory", "/x"}},
			absent: []string{
				"srv/backup_directory",
			},
		},
		{
			name:  "whole-line comments with # and ;, indented too, are skipped",
			input: "# top\n; top\n[s]\n# c\n  ; indented\na = 1 # not a comment\n",
			want:  []kv{{"s", "a", "1 # not a comment"}},
		},
		{
			name:  "indented lines continue the previous value",
			input: "[s]\na = first\n    second\n\tthird\nb = 2\n",
			want:  []kv{{"s", "a", "first\nsecond\nthird"}, {"s", "b", "2"}},
		},
		{
			name:  "a comment inside a continued value does not end it",
			input: "[s]\na = first\n# note\n    second\n",
			want:  []kv{{"s", "a", "first\nsecond"}},
		},
		{
			name:  "an indented key after a key of the same indent is a new key",
			input: "[s]\n  a = 1\n  b = 2\n",
			want:  []kv{{"s", "a", "1"}, {"s", "b", "2"}},
		},
		{
			name:  "CRLF line ends and a UTF-8 BOM",
			input: "\ufeff[s]\r\na = 1\r\nb = 2\r\n",
			want:  []kv{{"s", "a", "1"}, {"s", "b", "2"}},
		},
		{
			name:  "DEFAULT supplies every section but is not listed",
			input: "[DEFAULT]\nd = dv\n[a]\nx = 1\n[b]\nd = own\n",
			want:  []kv{{"a", "d", "dv"}, {"b", "d", "own"}, {"a", "x", "1"}},
			order: []string{"a", "b"},
		},
		{
			name:  "empty value",
			input: "[s]\na =\n",
			want:  []kv{{"s", "a", ""}},
		},
		{
			name:  "sections keep file order",
			input: "[z]\n[a]\n[m]\n",
			order: []string{"z", "a", "m"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			f := newIniFile()
			if err := f.parse([]byte(tc.input), "test.conf"); err != nil {
				t.Fatalf("parse: %v", err)
			}
			for _, w := range tc.want {
				got, ok := f.raw(w.section, w.key)
				if !ok || got != w.want {
					t.Errorf("[%s] %s = %q (set: %v), want %q", w.section, w.key, got, ok, w.want)
				}
			}
			for _, a := range tc.absent {
				sec, key, _ := strings.Cut(a, "/")
				if got, ok := f.raw(sec, key); ok {
					t.Errorf("[%s] %s is set to %q, want unset", sec, key, got)
				}
			}
			if tc.order != nil && strings.Join(f.order, ",") != strings.Join(tc.order, ",") {
				t.Errorf("section order = %q, want %q", f.order, tc.order)
			}
			if f.has(iniDefaultSection) {
				t.Errorf("has(DEFAULT) = true, want false")
			}
		})
	}
}

// TestIniParseErrors checks that every syntax error names file and line.
func TestIniParseErrors(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []string
	}{
		{"duplicate section", "[s]\na = 1\n\n[s]\nb = 2\n", []string{"x.conf:4:", "section [s] appears twice"}},
		{"duplicate DEFAULT", "[DEFAULT]\n[DEFAULT]\n", []string{"x.conf:2:", "[DEFAULT] appears twice"}},
		{"duplicate key", "[s]\na = 1\nA = 2\n", []string{"x.conf:3:", `key "a" appears twice in [s]`}},
		{"key outside section", "a = 1\n[s]\n", []string{"x.conf:1:", `"a = 1" comes before any [section] header`}},
		{"line without separator", "[s]\na = 1\njunk\n", []string{"x.conf:3:", `expected "key = value" in [s]`, `"junk"`}},
		{"separator with no key", "[s]\n= 1\n", []string{"x.conf:2:", `expected "key = value"`}},
		{"unclosed section header", "[s]\n[broken\n", []string{"x.conf:2:", "has no closing ']'"}},
		{"empty section name", "[]\n", []string{"x.conf:1:", "empty section name"}},
		{"NUL byte", "[s]\na = 1\x00\n", []string{"x.conf:2:", "NUL byte"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := newIniFile().parse([]byte(tc.input), "/etc/x.conf")
			if err == nil {
				t.Fatal("parse succeeded, want an error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

// TestIniAcrossFiles checks that a later file overrides an earlier one
// without the duplicate checks that apply within one file.
func TestIniAcrossFiles(t *testing.T) {
	f := newIniFile()
	if err := f.parse([]byte("[s]\na = 1\nb = 1\n"), "one.conf"); err != nil {
		t.Fatal(err)
	}
	if err := f.parse([]byte("[s]\na = 2\n[t]\nc = 3\n"), "two.conf"); err != nil {
		t.Fatalf("a section repeated in another file must be accepted: %v", err)
	}
	for _, c := range []struct{ sec, key, want string }{{"s", "a", "2"}, {"s", "b", "1"}, {"t", "c", "3"}} {
		if got, _ := f.raw(c.sec, c.key); got != c.want {
			t.Errorf("[%s] %s = %q, want %q", c.sec, c.key, got, c.want)
		}
	}
	if got := strings.Join(f.order, ","); got != "s,t" {
		t.Errorf("order = %q, want s,t", got)
	}
}

func TestIniInterpolation(t *testing.T) {
	const doc = `[DEFAULT]
root = /srv
[s]
plain = no percent
name_ref = /b/%(name)s
default_ref = %(root)s/%(name)s
chain = %(default_ref)s/more
percent = 100%%
upper = %(ROOT)s
mixed = %%(root)s is literal
`
	f := newIniFile()
	if err := f.parse([]byte(doc), "i.conf"); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"name": "srv1"}
	tests := []struct{ key, want string }{
		{"plain", "no percent"},
		{"name_ref", "/b/srv1"},
		{"default_ref", "/srv/srv1"},
		{"chain", "/srv/srv1/more"},
		{"percent", "100%"},
		{"upper", "/srv"},
		{"mixed", "%(root)s is literal"},
		{"root", "/srv"},
		{"name", "srv1"}, // from vars alone
	}
	for _, tc := range tests {
		got, ok, err := f.get("s", tc.key, vars)
		if err != nil || !ok || got != tc.want {
			t.Errorf("get(%s) = %q, %v, %v; want %q", tc.key, got, ok, err, tc.want)
		}
	}
	if _, ok, err := f.get("s", "missing", vars); ok || err != nil {
		t.Errorf("get(missing) = ok %v, err %v; want not set, no error", ok, err)
	}
}

func TestIniInterpolationErrors(t *testing.T) {
	const doc = `[s]
ok = fine
open = /x/%(name
bare = 50%
letter = %d
unset = %(nope)s
loop_a = %(loop_b)s
loop_b = %(loop_a)s
self = %(self)s
via = %(open)s
`
	f := newIniFile()
	if err := f.parse([]byte(doc), "/etc/e.conf"); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key  string
		want []string
	}{
		{"open", []string{"/etc/e.conf:3:", "[s] open", "bad interpolation syntax"}},
		{"bare", []string{"/etc/e.conf:4:", "'%' must be followed by '%' or '('"}},
		{"letter", []string{"/etc/e.conf:5:", "'%' must be followed"}},
		{"unset", []string{"/etc/e.conf:6:", "%(nope)s, which is not set"}},
		{"loop_a", []string{"/etc/e.conf:7:", "nested more than 10 deep"}},
		{"self", []string{"/etc/e.conf:9:", "nested more than 10 deep"}},
		{"via", []string{"/etc/e.conf:10:", "[s] open", "bad interpolation syntax"}},
	}
	for _, tc := range tests {
		t.Run(tc.key, func(t *testing.T) {
			_, _, err := f.get("s", tc.key, map[string]string{"name": "s"})
			if err == nil {
				t.Fatal("no error")
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
