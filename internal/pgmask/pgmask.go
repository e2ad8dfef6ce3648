// Package pgmask hides PostgreSQL passwords in text shown to people: Barman's
// output, operation payloads, error messages and logs.
//
// It follows libpq's own reading of connection strings rather than a guess
// at where a password ends, because a password that libpq would read as
// "abc,hunter2" must not come out as "****,hunter2":
//
//   - keyword/value form: any keyword ending in "password" (password,
//     sslpassword, PGPASSWORD, ...), case-insensitive, then "=" with optional
//     blanks. An unquoted value runs to the next unescaped whitespace, a
//     backslash escaping the next character; a value that starts with a
//     single quote runs to the next unescaped single quote. A quote that is
//     never closed hides the rest of the line.
//   - URI form: postgres:// or postgresql://user:password@host; the password
//     runs from the first colon of the user info to the "@" (libpq looks for
//     the "@" before the first "/"), percent-encoded or not.
//
// Job files keep the real values: Barman needs them.
package pgmask

import (
	"bytes"
	"encoding/json"
	"regexp"
	"strings"
)

// Masked replaces every password.
const Masked = "****"

var (
	keyword   = regexp.MustCompile(`(?i)[A-Za-z0-9_]*password[ \t]*=[ \t]*`)
	uriScheme = regexp.MustCompile(`(?i)postgres(?:ql)?://`)
)

// Text hides the passwords in s.
func Text(s string) string {
	if !strings.Contains(strings.ToLower(s), "password") && !strings.Contains(strings.ToLower(s), "postgres") {
		return s
	}
	return maskURIs(maskKeywords(s))
}

func maskKeywords(s string) string {
	var b strings.Builder
	rest := s
	for {
		loc := keyword.FindStringIndex(rest)
		if loc == nil {
			b.WriteString(rest)
			return b.String()
		}
		b.WriteString(rest[:loc[1]])
		rest = rest[loc[1]:]
		n := valueLen(rest)
		if n > 0 {
			b.WriteString(Masked)
		}
		rest = rest[n:]
	}
}

// valueLen is how many bytes of s libpq would read as the value.
func valueLen(s string) int {
	if s == "" {
		return 0
	}
	if s[0] == '\'' {
		for i := 1; i < len(s); i++ {
			switch s[i] {
			case '\\':
				i++
			case '\'':
				return i + 1
			}
		}
		// Unterminated: libpq refuses it, but the password is still in the
		// text up to the end of its line.
		if nl := strings.IndexByte(s, '\n'); nl >= 0 {
			return nl
		}
		return len(s)
	}
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			if i+1 < len(s) {
				i++
			}
		case ' ', '\t', '\n', '\r', '\v', '\f':
			return i
		}
	}
	return len(s)
}

func maskURIs(s string) string {
	var b strings.Builder
	rest := s
	for {
		loc := uriScheme.FindStringIndex(rest)
		if loc == nil {
			b.WriteString(rest)
			return b.String()
		}
		b.WriteString(rest[:loc[1]])
		rest = rest[loc[1]:]
		// The user info ends at the first "@" before any "/" (libpq's
		// look-ahead); white space ends the URI in running text.
		end := strings.IndexAny(rest, "@/ \t\r\n")
		if end < 0 || rest[end] != '@' {
			continue
		}
		colon := strings.IndexByte(rest[:end], ':')
		if colon < 0 {
			continue
		}
		b.WriteString(rest[:colon+1])
		b.WriteString(Masked)
		rest = rest[end:]
	}
}

// JSON hides the passwords in a JSON document's string values, and the
// whole value of any member whose name ends in "password". Everything else,
// including member order and formatting, is kept byte for byte, so the
// result is the same JSON with secrets masked. Input that is not JSON is
// masked as text.
func JSON(data []byte) []byte {
	if !json.Valid(data) {
		return []byte(Text(string(data)))
	}
	lower := bytes.ToLower(data)
	if !bytes.Contains(lower, []byte("password")) && !bytes.Contains(lower, []byte("postgres")) {
		return data
	}
	var out bytes.Buffer
	out.Grow(len(data))
	secretMember := false
	for i := 0; i < len(data); {
		if data[i] != '"' {
			out.WriteByte(data[i])
			i++
			continue
		}
		end := stringEnd(data, i)
		literal := data[i:end]
		var value string
		_ = json.Unmarshal(literal, &value) // valid: json.Valid said so
		next := end
		for next < len(data) && isJSONSpace(data[next]) {
			next++
		}
		if next < len(data) && data[next] == ':' {
			// A member name: remember whether its value is a secret.
			secretMember = strings.HasSuffix(strings.ToLower(value), "password")
			out.Write(literal)
			i = end
			continue
		}
		masked := Text(value)
		if secretMember && value != "" {
			masked = Masked
		}
		secretMember = false
		if masked == value {
			out.Write(literal)
		} else {
			enc, _ := json.Marshal(masked)
			out.Write(enc)
		}
		i = end
	}
	return out.Bytes()
}

// stringEnd returns the index just past the string literal starting at i.
func stringEnd(data []byte, i int) int {
	for j := i + 1; j < len(data); j++ {
		switch data[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return len(data)
}

func isJSONSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }
