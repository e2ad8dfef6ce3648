package barman

import (
	"reflect"
	"testing"
)

// TestTablespaceNames: backup.info's tablespaces line as Barman writes it
// (Python's repr of (name, oid, location) tuples; the first case is what
// Barman 3.4 and 3.20.1 wrote for a real tablespace), and what is not
// understood is reported as such rather than as "no tablespaces".
func TestTablespaceNames(t *testing.T) {
	tests := []struct {
		line string
		want []string
		ok   bool
	}{
		{"[('trialtbs', 16444, '/var/tmp/sbx-restore/trial-tbs')]", []string{"trialtbs"}, true},
		{"None", []string{}, true},
		{"[]", []string{}, true},
		{"[('a', 1, '/x'), ('b', 2, '/y')]", []string{"a", "b"}, true},
		{`[("it's", 1, '/p'), ('q\'uote', 2, '/p')]`, []string{"it's", "q'uote"}, true},
		{"[('x', 1, '/odd), (path'), ('y', 2, '/z')]", []string{"x", "y"}, true},
		{`[('caf\xe9', 1, '/c'), ('\u00e9t\u00e9', 2, '/e')]`, []string{"café", "été"}, true},
		{"[(u'py2', 1L, u'/old')]", []string{"py2"}, true},
		{"[('a', 1, '/x')", nil, false},
		{"[(1, 'a', '/x')]", nil, false},
		{"{'a': 1}", nil, false},
		{"[('a', 1, '/x')] trailing", nil, false},
		{`[('bad\q', 1, '/x')]`, nil, false},
	}
	for _, tc := range tests {
		got, ok := tablespaceNames(tc.line)
		if ok != tc.ok || tc.ok && !reflect.DeepEqual(got, tc.want) {
			t.Errorf("tablespaceNames(%q) = %q, %t; want %q, %t", tc.line, got, ok, tc.want, tc.ok)
		}
	}
}
