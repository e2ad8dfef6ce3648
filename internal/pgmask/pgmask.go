// Package pgmask hides PostgreSQL passwords in text shown to people: Barman's
// output, operation payloads, error messages and logs.
//
// It follows libpq's own reading of connection strings rather than a guess
// at where a password ends, because a password that libpq would read as
// "abc,hunter2" must not come out as "****,hunter2". The tests hold it to
// libpq itself (PQconninfoParse) on thousands of generated strings.
//
//   - keyword/value form: any keyword ending in "password" (password,
//     sslpassword, PGPASSWORD, ...), case-insensitive, then "=" with optional
//     white space. An unquoted value runs to the next unescaped white space,
//     a backslash escaping the next character; a value that starts with a
//     single quote runs to the next unescaped single quote. A quote that is
//     never closed hides the rest of the line.
//   - URI form: postgres:// or postgresql:// (any case). The password runs
//     from the first colon of the user info to the first "@" before any "/",
//     white space included (libpq looks no further). A query parameter whose
//     name, once percent-decoded, ends in "password" (?pass%77ord=...) hides
//     its value up to the next "&" or the end of the line: libpq reads to the
//     end of the string, but a URI in running text ends with its line.
//
// Every place where a password could start is masked on its own and the
// masked parts are merged, so text that looks like a keyword inside another
// value (application_name='password=') cannot make the masker skip or cut
// short the real one. Masking more than libpq would read is the price.
//
// Job files keep the real values: Barman needs them.
package pgmask

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
)

// Masked replaces every password.
const Masked = "****"

// span is a part of the text to mask, [start, end).
type span struct{ start, end int }

// Text hides the passwords in s.
func Text(s string) string {
	if !mayHold(s) {
		return s
	}
	var buf [8]span
	spans := keywordSpans(s, buf[:0])
	spans = uriSpans(s, spans)
	if len(spans) == 0 {
		return s
	}
	if len(spans) > 1 {
		slices.SortFunc(spans, func(a, b span) int { return a.start - b.start })
	}
	var b strings.Builder
	b.Grow(len(s))
	last := 0
	for i := 0; i < len(spans); {
		start, end := spans[i].start, spans[i].end
		for i++; i < len(spans) && spans[i].start <= end; i++ {
			end = max(end, spans[i].end)
		}
		b.WriteString(s[last:start])
		b.WriteString(Masked)
		last = end
	}
	b.WriteString(s[last:])
	return b.String()
}

// mayHold reports whether s contains "password" or "postgres" in any case:
// without one of them there is nothing to mask. It is the whole cost of
// masking text without secrets, so it does not allocate.
func mayHold[T string | []byte](s T) bool {
	for i := 0; i+8 <= len(s); i++ {
		if s[i]|0x20 == 'p' && (foldAt(s, i, "password") || foldAt(s, i, "postgres")) {
			return true
		}
	}
	return false
}

// foldAt reports whether s[i:] starts with word (lower-case ASCII letters),
// ignoring case.
func foldAt[T string | []byte](s T, i int, word string) bool {
	if len(s)-i < len(word) {
		return false
	}
	for j := 0; j < len(word); j++ {
		if s[i+j]|0x20 != word[j] {
			return false
		}
	}
	return true
}

// isSpace is C's isspace in the C locale, which libpq uses.
func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

// keywordSpans adds the values of every "...password =" in s.
func keywordSpans(s string, spans []span) []span {
	for i := 0; i+8 <= len(s); i++ {
		if s[i]|0x20 != 'p' || !foldAt(s, i, "password") {
			continue
		}
		j := i + 8
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		if j == len(s) || s[j] != '=' {
			continue
		}
		// libpq skips white space after "=", even up to what looks like
		// the next keyword: "password= host=x" is the password "host=x".
		for j++; j < len(s) && isSpace(s[j]); j++ {
		}
		if n := valueLen(s[j:]); n > 0 {
			spans = append(spans, span{j, j + n})
		}
	}
	return spans
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
		if s[i] == '\\' {
			i++
		} else if isSpace(s[i]) {
			return i
		}
	}
	return len(s)
}

// uriSpans adds the passwords of every postgres:// or postgresql:// URI in
// s: in the user info and in the query.
func uriSpans(s string, spans []span) []span {
	for i := 0; i+8 <= len(s); i++ {
		if s[i]|0x20 != 'p' || !foldAt(s, i, "postgres") {
			continue
		}
		start := i + 8
		if foldAt(s, start, "ql") {
			start += 2
		}
		if !strings.HasPrefix(s[start:], "://") {
			continue
		}
		start += 3
		// libpq: the user info ends at the first "@" before any "/"; the
		// password starts at its first ":".
		// The query is looked for from there on, to the end of the line.
		query := start
		if at := strings.IndexAny(s[start:], "@/"); at >= 0 && s[start+at] == '@' {
			if colon := strings.IndexByte(s[start:start+at], ':'); colon >= 0 && colon+1 < at {
				spans = append(spans, span{start + colon + 1, start + at})
			}
			query = start + at + 1
		}
		end := len(s)
		if nl := strings.IndexAny(s[query:], "\n\r"); nl >= 0 {
			end = query + nl
		}
		spans = queryParamSpans(s, start, end, spans)
	}
	return spans
}

// queryParamSpans adds the values of the parameters in s[start:end] whose
// percent-decoded name ends in "password". Every "?" and "&" is taken as the
// start of a parameter: libpq's query starts at the first "?" after the host,
// and a "?" or "&" earlier than that (in the password, say) only makes the
// masker hide more.
func queryParamSpans(s string, start, end int, spans []span) []span {
	for p := start; p < end; p++ {
		if s[p] != '?' && s[p] != '&' {
			continue
		}
		name := p + 1
		eq := name
		for eq < end && s[eq] != '=' && s[eq] != '&' {
			eq++
		}
		if eq == end || s[eq] != '=' || !secretParam(s[name:eq]) {
			continue
		}
		v := eq + 1
		for v < end && s[v] != '&' {
			v++
		}
		if v > eq+1 {
			spans = append(spans, span{eq + 1, v})
		}
	}
	return spans
}

// secretParam reports whether a URI query parameter name, percent-decoded
// as libpq does, ends in "password" (any case).
func secretParam(name string) bool {
	if !strings.Contains(name, "%") {
		return len(name) >= 8 && foldAt(name, len(name)-8, "password")
	}
	var buf [64]byte
	dec := buf[:0]
	for i := 0; i < len(name); i++ {
		if name[i] == '%' && i+2 < len(name) && isHex(name[i+1]) && isHex(name[i+2]) {
			dec = append(dec, unhex(name[i+1])<<4|unhex(name[i+2]))
			i += 2
			continue
		}
		dec = append(dec, name[i])
	}
	return len(dec) >= 8 && foldAt(dec, len(dec)-8, "password")
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c|0x20 && c|0x20 <= 'f'
}

func unhex(c byte) byte {
	if c <= '9' {
		return c - '0'
	}
	return c | 0x20 - 'a' + 10
}

// JSON hides the passwords in a JSON document's string values, and the
// whole value of any member whose name ends in "password": a string, a
// number (which becomes the string "****") or every string and number in an
// array or object. Everything else, including member order and formatting,
// is kept byte for byte, so the result is the same JSON with secrets masked.
// Input that is not JSON is masked as text.
func JSON(data []byte) []byte {
	if !json.Valid(data) {
		return []byte(Text(string(data)))
	}
	if !mayHold(data) && !hasUnicodeEscape(data) {
		return data
	}
	var out []byte // nil until something changes
	last := 0      // data[:last] is in out
	replace := func(from, to int, with []byte) {
		if out == nil {
			out = make([]byte, 0, len(data)+16)
		}
		out = append(out, data[last:from]...)
		out = append(out, with...)
		last = to
	}
	maskedLiteral := []byte(`"` + Masked + `"`)
	depth := 0
	secretDepth := 0    // > 0: inside a secret member's array or object opened at this depth
	nextSecret := false // the next value belongs to a secret member
	for i := 0; i < len(data); {
		switch c := data[i]; {
		case c == '"':
			end := stringEnd(data, i)
			next := end
			for next < len(data) && isJSONSpace(data[next]) {
				next++
			}
			if next < len(data) && data[next] == ':' {
				// A member name: remember whether its value is a secret.
				nextSecret = nextSecret || secretName(data[i:end])
				i = end
				continue
			}
			switch {
			case nextSecret || secretDepth > 0:
				if end-i > 2 {
					replace(i, end, maskedLiteral)
				}
			case mayHold(data[i:end]) || hasUnicodeEscape(data[i:end]):
				var value string
				_ = json.Unmarshal(data[i:end], &value) // valid: json.Valid said so
				if masked := Text(value); masked != value {
					enc, _ := json.Marshal(masked)
					replace(i, end, enc)
				}
			}
			nextSecret = false
			i = end
		case c == '{' || c == '[':
			depth++
			if nextSecret && secretDepth == 0 {
				secretDepth = depth
			}
			nextSecret = false
			i++
		case c == '}' || c == ']':
			if depth == secretDepth {
				secretDepth = 0
			}
			depth--
			i++
		case c == '-' || '0' <= c && c <= '9':
			end := i + 1
			for end < len(data) && strings.IndexByte("0123456789.eE+-", data[end]) >= 0 {
				end++
			}
			if nextSecret || secretDepth > 0 {
				replace(i, end, maskedLiteral)
			}
			nextSecret = false
			i = end
		case 'a' <= c && c <= 'z': // true, false, null: nothing to hide
			for i < len(data) && 'a' <= data[i] && data[i] <= 'z' {
				i++
			}
			nextSecret = false
		default:
			i++
		}
	}
	if out == nil {
		return data
	}
	return append(out, data[last:]...)
}

// secretName reports whether a member name (a JSON string literal) ends in
// "password", any case.
func secretName(literal []byte) bool {
	if !mayHold(literal) && !hasUnicodeEscape(literal) {
		return false
	}
	var name string
	_ = json.Unmarshal(literal, &name)
	return len(name) >= 8 && foldAt(name, len(name)-8, "password")
}

// hasUnicodeEscape reports whether a string literal has a \u escape, which
// could spell a keyword that its raw bytes do not.
func hasUnicodeEscape(literal []byte) bool { return bytes.Contains(literal, []byte(`\u`)) }

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
