package store

import (
	"encoding/json"
	"unicode/utf8"
)

// Building the index of a large scope reads every job and output file once,
// and decoding each into a full pyjson.Object was most of that cost. The
// index needs a handful of top-level keys, so scanTop walks the document
// and hands over only their raw values. It takes the fast path only for a
// document that pyjson.DecodeObject would accept (valid UTF-8, valid JSON,
// one object, nested at most maxScanDepth deep): for anything else it
// reports false and the caller decodes with pyjson, so damaged files read
// exactly as before, with the same messages.

// maxScanDepth is pyjson's nesting limit.
const maxScanDepth = 32

// scanTop calls field for each top-level key of the JSON object in data, in
// document order, a repeated key again each time (the last one wins, as in
// pyjson and Python's json). raw is the value's JSON text. It returns false,
// having called field for nothing, when data is not a document pyjson
// accepts.
func scanTop(data []byte, field func(key string, raw []byte)) bool {
	if !utf8.Valid(data) || !json.Valid(data) || maxDepth(data) > maxScanDepth {
		return false
	}
	i := skipSpace(data, 0)
	if i >= len(data) || data[i] != '{' {
		return false
	}
	// The document is valid JSON: from here on the scan trusts its syntax.
	i = skipSpace(data, i+1)
	if data[i] == '}' {
		return true
	}
	for {
		kEnd := stringEnd(data, i)
		key, ok := unquote(data[i:kEnd])
		if !ok {
			return false
		}
		i = skipSpace(data, kEnd)
		i = skipSpace(data, i+1) // the colon
		vEnd := valueEnd(data, i)
		field(key, data[i:vEnd])
		i = skipSpace(data, vEnd)
		if data[i] == '}' {
			return true
		}
		i = skipSpace(data, i+1) // the comma
	}
}

// maxDepth is how deep arrays and objects nest in data, valid JSON.
func maxDepth(data []byte) int {
	depth, deepest := 0, 0
	for i := 0; i < len(data); i++ {
		switch data[i] {
		case '"':
			i = stringEnd(data, i) - 1
		case '{', '[':
			depth++
			deepest = max(deepest, depth)
		case '}', ']':
			depth--
		}
	}
	return deepest
}

func skipSpace(data []byte, i int) int {
	for i < len(data) {
		switch data[i] {
		case ' ', '\t', '\n', '\r':
			i++
		default:
			return i
		}
	}
	return i
}

// stringEnd returns the index just past the string that starts at data[i].
func stringEnd(data []byte, i int) int {
	for i++; i < len(data); i++ {
		switch data[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return len(data)
}

// valueEnd returns the index just past the value that starts at data[i].
func valueEnd(data []byte, i int) int {
	switch data[i] {
	case '"':
		return stringEnd(data, i)
	case '{', '[':
		depth := 0
		for ; i < len(data); i++ {
			switch data[i] {
			case '"':
				i = stringEnd(data, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1
				}
			}
		}
		return len(data)
	}
	for ; i < len(data); i++ {
		switch data[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			return i
		}
	}
	return i
}

// unquote returns the string a raw JSON value holds, as encoding/json
// decodes it, and false when raw is not a string.
func unquote(raw []byte) (string, bool) {
	if len(raw) < 2 || raw[0] != '"' {
		return "", false
	}
	body := raw[1 : len(raw)-1]
	for _, c := range body {
		if c == '\\' {
			var s string
			if json.Unmarshal(raw, &s) != nil {
				return "", false
			}
			return s, true
		}
	}
	return string(body), true
}
