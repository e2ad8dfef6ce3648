package pgmask

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestTextAgainstLibpq holds the masker to libpq itself rather than to a
// list of forms: it generates thousands of connection strings and URIs
// (escapes, quotes, white space, percent-encoding, repeated keywords, of
// which libpq keeps the last, sslpassword, odd cases), asks libpq's
// PQconninfoParse which password and sslpassword each holds, and fails if
// such a value shows in the masked text or the masked JSON. It needs gcc and
// libpq's headers (Debian: gcc, libpq-dev); CI installs both, and there a
// skip is a failure.
func TestTextAgainstLibpq(t *testing.T) {
	parse := libpqParser(t)
	rng := rand.New(rand.NewPCG(2026, 5432)) // fixed: a failure must repeat
	const n = 8000
	inputs := make([]string, n)
	for i := range inputs {
		if i%2 == 0 {
			inputs[i] = genKeywordValue(rng)
		} else {
			inputs[i] = genURI(rng)
		}
	}
	answers := parse(inputs)
	var refused, checked int
	for i, s := range inputs {
		a := answers[i]
		if !a.ok {
			refused++
			continue
		}
		for _, secret := range []string{a.password, a.sslpassword} {
			if len(secret) < 4 || strings.TrimSpace(secret) == "" {
				continue
			}
			checked++
			for _, prefix := range []string{"", "conninfo: ", "ERROR: connection to server failed ("} {
				in := prefix + s
				if got := Text(in); strings.Contains(got, secret) {
					t.Fatalf("libpq reads the password %q from %q; masked, it is still there: %q", secret, in, got)
				}
				enc, _ := json.Marshal(map[string]string{"conninfo": in})
				masked := JSON(enc)
				var back map[string]string
				if err := json.Unmarshal(masked, &back); err != nil {
					t.Fatalf("JSON(%s) = %s, which is no longer JSON: %v", enc, masked, err)
				}
				if strings.Contains(back["conninfo"], secret) {
					t.Fatalf("libpq reads the password %q from %q; in masked JSON it is still there: %s", secret, in, masked)
				}
			}
		}
	}
	t.Logf("%d strings: libpq refused %d; %d passwords checked", n, refused, checked)
	// The generator must keep producing strings libpq accepts with
	// passwords in them, or this test proves nothing.
	if checked < n/2 {
		t.Fatalf("only %d of %d generated strings hold a password libpq accepts: the generator has drifted", checked, n)
	}
}

type libpqAnswer struct {
	ok                    bool
	password, sslpassword string
}

// libpqParser compiles testdata/pqparse.c and returns a function that runs
// it once over many connection strings.
func libpqParser(t *testing.T) func([]string) []libpqAnswer {
	t.Helper()
	gcc, err := exec.LookPath("gcc")
	if err != nil {
		t.Skip("gcc is not installed (Debian: apt-get install gcc libpq-dev)")
	}
	include := "/usr/include/postgresql"
	if pgConfig, err := exec.LookPath("pg_config"); err == nil {
		if out, err := exec.Command(pgConfig, "--includedir").Output(); err == nil {
			include = strings.TrimSpace(string(out))
		}
	}
	if _, err := os.Stat(filepath.Join(include, "libpq-fe.h")); err != nil {
		t.Skipf("libpq's headers are not installed (%v): apt-get install libpq-dev", err)
	}
	bin := filepath.Join(t.TempDir(), "pqparse")
	if out, err := exec.Command(gcc, "-O1", "-Wall", "-I"+include, "-o", bin, filepath.Join("testdata", "pqparse.c"), "-lpq").CombinedOutput(); err != nil {
		t.Fatalf("cannot build testdata/pqparse.c against libpq: %v\n%s", err, out)
	}
	return func(inputs []string) []libpqAnswer {
		var stdin bytes.Buffer
		for _, s := range inputs {
			if strings.IndexByte(s, 0) >= 0 {
				t.Fatalf("generated string %q has a NUL byte, which no C string can hold", s)
			}
			stdin.WriteString(s)
			stdin.WriteByte(0)
		}
		cmd := exec.Command(bin)
		cmd.Stdin = &stdin
		cmd.Env = []string{} // PQconninfoParse takes no defaults, but be sure
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("pqparse: %v\n%s", err, stderr.Bytes())
		}
		var answers []libpqAnswer
		sc := bufio.NewScanner(bytes.NewReader(out))
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			switch {
			case len(f) == 1 && f[0] == "err":
				answers = append(answers, libpqAnswer{})
			case len(f) == 3 && f[0] == "ok":
				answers = append(answers, libpqAnswer{ok: true, password: unhexValue(t, f[1]), sslpassword: unhexValue(t, f[2])})
			default:
				t.Fatalf("pqparse answered %q", sc.Text())
			}
		}
		if len(answers) != len(inputs) {
			t.Fatalf("pqparse answered %d strings of %d", len(answers), len(inputs))
		}
		return answers
	}
}

func unhexValue(t *testing.T, f string) string {
	if f == "-" || f == "=" {
		return ""
	}
	b, err := hex.DecodeString(f)
	if err != nil {
		t.Fatalf("pqparse answered %q: %v", f, err)
	}
	return string(b)
}

// genSecret makes a password of 4 to 16 characters from an alphabet meant
// to trip a masker up. It always holds an upper-case letter, which no decoy
// value has, so a secret found in masked text is always a leak.
func genSecret(rng *rand.Rand) string {
	pieces := []string{
		"a", "b", "x", "7", "Q", "Z", "K", " ", "  ", "\t", "\n", "'", `"`, `\`, "=", "@", "/", ":", "?", "&", "%", "#", ",", ";", "é",
		"password=", "password = '", "sslpassword=", "postgresql://", "u:", "\\'", " host=", "%40", "%2", "&password=",
	}
	var b strings.Builder
	for b.Len() < 4+rng.IntN(12) {
		b.WriteString(pieces[rng.IntN(len(pieces))])
	}
	s := []byte(b.String())
	if !bytes.ContainsAny(s, "QZK") {
		s = append(s, "QZK"[rng.IntN(3)])
	}
	return string(s)
}

// decoys are values of the other parameters: lower case only, some of them
// looking like the start of a password.
var decoys = []string{
	"db1", "barman", "postgres", "require", "5432", "a b", "password", "password='a", "x'password=",
	"password= ", "pass word", `\`, "'", "postgresql://a:b@c", "a password=", "password=\\", "&password=x", "?password=",
}

// genKeywordValue makes a keyword/value connection string.
func genKeywordValue(rng *rand.Rand) string {
	keywords := []string{"host", "port", "user", "dbname", "application_name", "options", "sslmode", "password", "password", "sslpassword"}
	var b strings.Builder
	quotedLast := false
	for i, n := 0, 1+rng.IntN(5); i < n; i++ {
		if i > 0 {
			seps := []string{" ", "  ", "\t", "\n", "\r\n", " \v", "\f"}
			if quotedLast && rng.IntN(4) == 0 {
				seps = []string{""} // libpq needs no space after a closing quote
			}
			b.WriteString(seps[rng.IntN(len(seps))])
		}
		kw := keywords[rng.IntN(len(keywords))]
		value := decoys[rng.IntN(len(decoys))]
		if strings.HasSuffix(kw, "password") {
			value = genSecret(rng)
		}
		if rng.IntN(30) == 0 {
			kw = strings.ToUpper(kw[:1]) + kw[1:] // libpq refuses it; the masker must not care
		}
		b.WriteString(kw)
		around := []string{"", "", "", " ", "  ", "\t", "\n", " \r\n "}
		b.WriteString(around[rng.IntN(len(around))])
		b.WriteByte('=')
		b.WriteString(around[rng.IntN(len(around))])
		quotedLast = rng.IntN(2) == 0 || value == ""
		b.WriteString(renderKV(rng, value, quotedLast))
	}
	return b.String()
}

// renderKV writes value as libpq reads it back, quoted or not, escaping
// what must be and, now and then, what need not be (libpq reads \x as x).
func renderKV(rng *rand.Rand, value string, quoted bool) string {
	var b strings.Builder
	if quoted {
		b.WriteByte('\'')
	}
	for i := 0; i < len(value); i++ {
		c := value[i]
		must := c == '\\'
		if quoted {
			must = must || c == '\''
		} else {
			must = must || strings.IndexByte(" \t\n\r\v\f", c) >= 0 || (i == 0 && c == '\'')
		}
		if must || (c < 0x80 && rng.IntN(10) == 0) {
			b.WriteByte('\\')
		}
		b.WriteByte(c)
	}
	if quoted {
		b.WriteByte('\'')
	}
	return b.String()
}

// genURI makes a postgres:// or postgresql:// URI.
func genURI(rng *rand.Rand) string {
	var b strings.Builder
	schemes := []string{"postgresql://", "postgres://", "postgresql://", "postgres://", "PostgreSQL://", "POSTGRES://"}
	b.WriteString(schemes[rng.IntN(len(schemes))])
	if rng.IntN(10) < 7 {
		b.WriteString(encodeURI(rng, decoys[rng.IntN(3)], "@/:"))
		if rng.IntN(10) < 8 {
			b.WriteByte(':')
			// libpq's password runs to the first "@" before any "/", so
			// only those (and "%", which libpq decodes) must be encoded.
			b.WriteString(encodeURI(rng, genSecret(rng), "@/%"))
		}
		b.WriteByte('@')
	}
	hosts := []string{"db1", "db1:5432", "db1,db2:5433", "[::1]:5432", ""}
	b.WriteString(hosts[rng.IntN(len(hosts))])
	paths := []string{"", "/", "/postgres", "/db%201"}
	b.WriteString(paths[rng.IntN(len(paths))])
	if rng.IntN(10) < 7 {
		params := []string{"password", "sslpassword", "application_name", "sslmode", "password"}
		for i, n := 0, 1+rng.IntN(4); i < n; i++ {
			b.WriteString([]string{"?", "&"}[min(i, 1)])
			name := params[rng.IntN(len(params))]
			value := decoys[rng.IntN(len(decoys))]
			if strings.HasSuffix(name, "password") {
				value = genSecret(rng)
			}
			// Any character of the name may be percent-encoded; libpq
			// decodes the name before it looks it up.
			var nb strings.Builder
			for j := 0; j < len(name); j++ {
				if rng.IntN(5) == 0 {
					fmt.Fprintf(&nb, []string{"%%%02x", "%%%02X"}[rng.IntN(2)], name[j])
				} else {
					nb.WriteByte(name[j])
				}
			}
			b.WriteString(nb.String())
			b.WriteByte('=')
			// A query value runs to "&" (libpq refuses a second "=");
			// a raw line break would end the URI for the masker, which
			// reads running text (see the package comment).
			b.WriteString(encodeURI(rng, value, "&=%\n\r"))
		}
	}
	return b.String()
}

// encodeURI percent-encodes the bytes of s in must, and now and then
// another one.
func encodeURI(rng *rand.Rand, s, must string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if strings.IndexByte(must, s[i]) >= 0 || rng.IntN(6) == 0 {
			fmt.Fprintf(&b, []string{"%%%02x", "%%%02X"}[rng.IntN(2)], s[i])
		} else {
			b.WriteByte(s[i])
		}
	}
	return b.String()
}
