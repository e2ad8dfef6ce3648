package pgmask

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
)

func TestText(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"host=db1 user=barman password=s3cret dbname=postgres", "host=db1 user=barman password=**** dbname=postgres"},
		{"host=db1 password = 's3 cr\\'et' user=x", "host=db1 password = **** user=x"},
		// libpq ends an unquoted value at white space only.
		{"password=abc,hunter2 host=x", "password=**** host=x"},
		{"password=ab'hunter2 host=x", "password=**** host=x"},
		{`password=ab"hunter2 host=x`, "password=**** host=x"},
		{`password=abc\ hunter2 host=x`, "password=**** host=x"},
		{`password='abc\' hunter2' host=x`, "password=**** host=x"},
		{"sslpassword=hunter2 sslmode=require", "sslpassword=**** sslmode=require"},
		{"PGPASSWORD=hunter2 barman", "PGPASSWORD=**** barman"},
		{"password='abc hunter2\nnext line", "password=****\nnext line"},
		{`postgresql://u:ab"hunter2@host/db`, "postgresql://u:****@host/db"},
		{"postgresql://barman:hunter2@db1:5432/postgres", "postgresql://barman:****@db1:5432/postgres"},
		{"postgres://u:p%40ss@h", "postgres://u:****@h"},
		{"POSTGRESQL://u:p@h", "POSTGRESQL://u:****@h"},
		{"postgresql://db1/postgres", "postgresql://db1/postgres"},
		{"postgresql://db1:5432/postgres?user=u", "postgresql://db1:5432/postgres?user=u"},
		{"postgresql://h/db?sslpassword=hunter2", "postgresql://h/db?sslpassword=****"},
		{"no secrets here: passwordless=1 host=x", "no secrets here: passwordless=1 host=x"},
		{"password=", "password="},
		// libpq's white space is C's isspace, new lines included.
		{"password\r\n=\n hunter2 host=x", "password\r\n=\n **** host=x"},
		// libpq ends URI user info at "@", not at white space.
		{"postgresql://u:abc hunter2@h/db", "postgresql://u:****@h/db"},
		// libpq percent-decodes query parameter names; a value runs to "&".
		{"postgresql://h/db?pass%77ord=hunter2&sslmode=require", "postgresql://h/db?pass%77ord=****&sslmode=require"},
		{"postgresql://h/db?ssl%70ASSWORD=abc hunter2\nnext", "postgresql://h/db?ssl%70ASSWORD=****\nnext"},
		// A keyword inside another value must not hide the real one.
		{"application_name=password='a password=ab'hunter2", "application_name=password=****"},
	} {
		if got := Text(c.in); got != c.want {
			t.Errorf("Text(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestJSON(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{`{"conninfo": "host=a PASSWORD=x1"}`, `{"conninfo": "host=a PASSWORD=****"}`},
		{`{"a": "password='abc", "b": "it's fine"}`, `{"a": "password=****", "b": "it's fine"}`},
		{`{"changes": [{"conninfo": "host=a password=x\"y z", "c2": "postgresql://u:p\\q@h"}]}`,
			`{"changes": [{"conninfo": "host=a password=**** z", "c2": "postgresql://u:****@h"}]}`},
		{`{"db_password": "hunter2", "user": "x"}`, `{"db_password": "****", "user": "x"}`},
		{`{"z": 1, "a": [true, null, "plain"]}`, `{"z": 1, "a": [true, null, "plain"]}`},
		{`not json password=abc`, `not json password=****`},
		// A secret member's value is hidden whatever its type.
		{`{"password": 12345678, "port": 5432}`, `{"password": "****", "port": 5432}`},
		{`{"password": ["first", "hunter2", 42, null], "x": ["a"]}`, `{"password": ["****", "****", "****", null], "x": ["a"]}`},
		{`{"db_password": {"old": "a", "new": [1.5e3]}, "n": 1}`, `{"db_password": {"old": "****", "new": ["****"]}, "n": 1}`},
		{`{"password": "hunter2"}`, `{"password": "****"}`},
		{`{"c": "password=hunter2"}`, `{"c": "password=****"}`},
	} {
		got := string(JSON([]byte(c.in)))
		if got != c.want {
			t.Errorf("JSON(%s) = %s, want %s", c.in, got, c.want)
		}
		if json.Valid([]byte(c.in)) && !json.Valid([]byte(got)) {
			t.Errorf("JSON(%s) = %s is no longer JSON", c.in, got)
		}
	}
}

// render writes password p in one of the forms libpq reads.
func render(form uint8, p string) string {
	switch form % 6 {
	case 0: // keyword/value, unquoted: escape what would end or quote it
		var b strings.Builder
		for i, r := range p {
			if r == '\\' || r == ' ' || r == '\t' || r == '\n' || r == '\r' || r == '\v' || r == '\f' || (i == 0 && r == '\'') {
				b.WriteByte('\\')
			}
			b.WriteRune(r)
		}
		return "password=" + b.String()
	case 1: // keyword/value, quoted
		return "password = '" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(p) + "'"
	case 2:
		return "sslpassword='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(p) + "'"
	case 3: // URI, percent-encoded as libpq expects
		return "postgresql://" + url.UserPassword("user", p).String() + "@db1:5432/postgres"
	case 4: // URI query parameter
		return "postgres://db1/postgres?password=" + url.QueryEscape(p)
	default:
		return "PGPASSWORD=" + strings.NewReplacer(`\`, `\\`, " ", `\ `, "\t", "\\\t", "\n", "\\\n").Replace(p)
	}
}

// FuzzTextHidesPassword: whatever the password and the text around it, the
// masked text never contains it.
func FuzzTextHidesPassword(f *testing.F) {
	f.Add(uint8(0), "hunter2", "host=db1 ", " dbname=x")
	f.Add(uint8(1), `ab'c\d e`, "conninfo: '", "'")
	f.Add(uint8(3), "p@ss/w:rd", "ERROR ", "\n")
	f.Add(uint8(5), "ab cd", "", "")
	f.Fuzz(func(t *testing.T, form uint8, password, before, after string) {
		if len(password) < 4 || strings.TrimSpace(password) != password {
			t.Skip()
		}
		// Text before must end a word and text after must start a new one
		// (as in a conninfo string); otherwise they belong to the value.
		if before != "" && !strings.ContainsAny(before[len(before)-1:], " \t\n'\"(:") {
			before += " "
		}
		if after != "" && !strings.ContainsAny(after[:1], " \t\n") {
			after = " " + after
		}
		secret := render(form, password)
		placeholder := Text(before + render(form, "QQQQ") + after)
		if strings.Contains(placeholder, password) || strings.Contains(before+after, password) {
			t.Skip() // the password is in the surrounding text itself
		}
		got := Text(before + secret + after)
		if strings.Contains(got, password) {
			t.Fatalf("password %q visible in %q (from %q)", password, got, before+secret+after)
		}
		encPlaceholder, _ := json.Marshal(map[string]string{"conninfo": before + render(form, "QQQQ") + after})
		if strings.Contains(string(JSON(encPlaceholder)), password) {
			return // JSON's escapes of the surrounding text spell the password
		}
		if enc, _ := json.Marshal(map[string]string{"conninfo": before + secret + after}); strings.Contains(string(JSON(enc)), password) {
			t.Fatalf("password %q visible in masked JSON %s", password, JSON(enc))
		}
	})
}
