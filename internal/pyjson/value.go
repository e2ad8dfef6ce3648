// Package pyjson decodes JSON objects keeping their key order and encodes
// them byte for byte as Python's json.dumps does (ensure_ascii, ", " and
// ": "), so that job files written here and by the reference implementation
// read the same to both.
package pyjson

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"unicode/utf8"
)

// Object is a JSON object that remembers the order of its keys. Job files
// keep the request body as received, so the order must survive a round trip,
// and Barman's config-update receives the changes as the caller wrote them.
//
// Values are *Object, []any, string, json.Number, bool or nil.
type Object struct {
	keys   []string
	values map[string]any
	// lossy is set on the object DecodeObject returns when the document
	// held a lone UTF-16 surrogate escape ("\ud800"): it has no UTF-8 form,
	// so the decoder put U+FFFD in its place.
	lossy bool
}

// Lossy reports whether the document o was decoded from held a lone UTF-16
// surrogate escape, which decoding replaced with U+FFFD. Python keeps such
// a string as it is, so the two would read different values: a request that
// is lossy must be refused, while a stored file is read as well as it can be.
func (o *Object) Lossy() bool { return o.lossy }

// NewObject returns an empty object.
func NewObject() *Object { return &Object{values: map[string]any{}} }

// Keys returns the keys in order.
func (o *Object) Keys() []string { return o.keys }

// Get returns the value of key.
func (o *Object) Get(key string) (any, bool) {
	v, ok := o.values[key]
	return v, ok
}

// Set adds key at the end, or replaces its value in place.
func (o *Object) Set(key string, value any) {
	if _, ok := o.values[key]; !ok {
		o.keys = append(o.keys, key)
	}
	o.values[key] = value
}

// Delete removes key.
func (o *Object) Delete(key string) {
	if _, ok := o.values[key]; !ok {
		return
	}
	delete(o.values, key)
	for i, k := range o.keys {
		if k == key {
			o.keys = append(o.keys[:i], o.keys[i+1:]...)
			break
		}
	}
}

// Clone returns a shallow copy with its own key list.
func (o *Object) Clone() *Object {
	c := &Object{keys: append([]string(nil), o.keys...), values: make(map[string]any, len(o.values)), lossy: o.lossy}
	for k, v := range o.values {
		c.values[k] = v
	}
	return c
}

// String returns the value of key if it is a string.
func (o *Object) String(key string) (string, bool) {
	v, ok := o.values[key].(string)
	return v, ok
}

// MarshalJSON encodes the object the way Python's json.dumps does by default
// (", " and ": " separators, non-ASCII escaped), so files we write look like
// the reference implementation's.
func (o *Object) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	if err := encodePython(&b, o); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// EncodePython encodes v as Python's json.dumps(v) would.
func EncodePython(v any) ([]byte, error) {
	var b bytes.Buffer
	err := encodePython(&b, v)
	return b.Bytes(), err
}

func encodePython(b *bytes.Buffer, v any) error {
	switch v := v.(type) {
	case nil:
		b.WriteString("null")
	case bool:
		if v {
			b.WriteString("true")
		} else {
			b.WriteString("false")
		}
	case json.Number:
		b.WriteString(v.String())
	case int:
		b.WriteString(strconv.Itoa(v))
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case string:
		writePythonString(b, v)
	case []any:
		b.WriteByte('[')
		for i, e := range v {
			if i > 0 {
				b.WriteString(", ")
			}
			if err := encodePython(b, e); err != nil {
				return err
			}
		}
		b.WriteByte(']')
	case *Object:
		b.WriteByte('{')
		for i, k := range v.keys {
			if i > 0 {
				b.WriteString(", ")
			}
			writePythonString(b, k)
			b.WriteString(": ")
			if err := encodePython(b, v.values[k]); err != nil {
				return err
			}
		}
		b.WriteByte('}')
	default:
		return fmt.Errorf("cannot encode %T as JSON", v)
	}
	return nil
}

const hexDigits = "0123456789abcdef"

func writePythonString(b *bytes.Buffer, s string) {
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\b':
			b.WriteString(`\b`)
		case r == '\f':
			b.WriteString(`\f`)
		case r >= 0x20 && r < 0x7f:
			b.WriteRune(r)
		case r > 0xffff:
			r -= 0x10000
			writeU16(b, 0xd800+(r>>10))
			writeU16(b, 0xdc00+(r&0x3ff))
		default:
			writeU16(b, r)
		}
	}
	b.WriteByte('"')
}

func writeU16(b *bytes.Buffer, r rune) {
	b.WriteString(`\u`)
	b.WriteByte(hexDigits[(r>>12)&0xf])
	b.WriteByte(hexDigits[(r>>8)&0xf])
	b.WriteByte(hexDigits[(r>>4)&0xf])
	b.WriteByte(hexDigits[r&0xf])
}

// Limits that keep a hostile document from costing more than it is worth.
const (
	maxJSONDepth = 32
)

// DecodeOptions say how strict DecodeObject is.
type DecodeOptions struct {
	// RejectDuplicateKeys refuses an object with a key given twice, which
	// would otherwise mean different things to different readers.
	RejectDuplicateKeys bool
	// DetectEncoding reads data in UTF-8, UTF-16 or UTF-32, with or without
	// a byte-order mark, as Python's json.loads reads bytes (ToUTF8), as
	// the reference reads a request body; without it data must be UTF-8
	// without a mark.
	DetectEncoding bool
}

// DecodeObject decodes data, which must hold exactly one JSON object.
func DecodeObject(data []byte, opts DecodeOptions) (*Object, error) {
	if opts.DetectEncoding {
		var err error
		if data, err = ToUTF8(data); err != nil {
			return nil, err
		}
	}
	if !utf8.Valid(data) {
		return nil, errors.New("body is not valid UTF-8")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("body is empty; expected a JSON object")
		}
		return nil, fmt.Errorf("body is not valid JSON: %v", err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, fmt.Errorf("body must be a JSON object, got %s", describeToken(tok))
	}
	obj, err := decodeObjectBody(dec, opts, 1)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("body has data after the JSON object")
	}
	obj.lossy = hasLoneSurrogate(data)
	return obj, nil
}

// hasLoneSurrogate reports whether data, a valid JSON document, has a \u
// escape of a UTF-16 surrogate that is not half of a high-low pair.
func hasLoneSurrogate(data []byte) bool {
	if !bytes.Contains(data, []byte(`\u`)) {
		return false
	}
	inString := false
	for i := 0; i < len(data); i++ {
		switch c := data[i]; {
		case c == '"':
			inString = !inString
		case c == '\\' && inString:
			if i+1 < len(data) && data[i+1] == 'u' {
				r := hex4(data, i+2)
				switch {
				case r >= 0xd800 && r < 0xdc00:
					if next := i + 6; next+1 < len(data) && data[next] == '\\' && data[next+1] == 'u' {
						if lo := hex4(data, next+2); lo >= 0xdc00 && lo < 0xe000 {
							i = next + 5
							continue
						}
					}
					return true
				case r >= 0xdc00 && r < 0xe000:
					return true
				}
			}
			i++ // the escaped character
		}
	}
	return false
}

// hex4 reads the four hex digits at data[i:], or returns -1.
func hex4(data []byte, i int) rune {
	if i+4 > len(data) {
		return -1
	}
	var r rune
	for _, c := range data[i : i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return -1
		}
	}
	return r
}

func decodeObjectBody(dec *json.Decoder, opts DecodeOptions, depth int) (*Object, error) {
	if depth > maxJSONDepth {
		return nil, fmt.Errorf("JSON is nested more than %d levels deep", maxJSONDepth)
	}
	obj := NewObject()
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("body is not valid JSON: %v", err)
		}
		if d, ok := tok.(json.Delim); ok && d == '}' {
			return obj, nil
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("body is not valid JSON: object key is %s", describeToken(tok))
		}
		if _, dup := obj.values[key]; dup && opts.RejectDuplicateKeys {
			return nil, fmt.Errorf("key %q appears twice in one object", key)
		}
		v, err := decodeValue(dec, opts, depth)
		if err != nil {
			return nil, err
		}
		obj.Set(key, v)
	}
}

func decodeValue(dec *json.Decoder, opts DecodeOptions, depth int) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, fmt.Errorf("body is not valid JSON: %v", err)
	}
	switch t := tok.(type) {
	case json.Delim:
		switch t {
		case '{':
			return decodeObjectBody(dec, opts, depth+1)
		case '[':
			if depth+1 > maxJSONDepth {
				return nil, fmt.Errorf("JSON is nested more than %d levels deep", maxJSONDepth)
			}
			arr := []any{}
			for dec.More() {
				v, err := decodeValue(dec, opts, depth+1)
				if err != nil {
					return nil, err
				}
				arr = append(arr, v)
			}
			if _, err := dec.Token(); err != nil {
				return nil, fmt.Errorf("body is not valid JSON: %v", err)
			}
			return arr, nil
		}
		return nil, fmt.Errorf("body is not valid JSON: unexpected %q", t)
	default:
		return t, nil
	}
}

func describeToken(tok any) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '[' {
			return "an array"
		}
		return fmt.Sprintf("%q", string(t))
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}

// TypeName names a decoded JSON value's type for error messages.
func TypeName(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case json.Number:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "an array"
	case *Object:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
