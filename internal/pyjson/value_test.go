package pyjson

import (
	"encoding/json"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
)

func TestDecodeObjectKeepsOrderAndValues(t *testing.T) {
	const doc = `{"z": 1, "a": {"y": true, "b": null, "x": [1, "two", {"k": -0.50}]}, "m": "é\ud83d\ude00\n", "e": 1e5}`
	o, err := DecodeObject([]byte(doc), DecodeOptions{RejectDuplicateKeys: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := o.Keys(); !reflect.DeepEqual(got, []string{"z", "a", "m", "e"}) {
		t.Errorf("Keys = %q", got)
	}
	a, _ := o.Get("a")
	inner, ok := a.(*Object)
	if !ok {
		t.Fatalf("a is %T, want *Object", a)
	}
	if got := inner.Keys(); !reflect.DeepEqual(got, []string{"y", "b", "x"}) {
		t.Errorf("inner Keys = %q", got)
	}
	if v, ok := inner.Get("b"); !ok || v != nil {
		t.Errorf("b = %v, %v; want null present", v, ok)
	}
	if v, _ := inner.Get("y"); v != true {
		t.Errorf("y = %v", v)
	}
	x, _ := inner.Get("x")
	arr, ok := x.([]any)
	if !ok || len(arr) != 3 || arr[0] != json.Number("1") || arr[1] != "two" {
		t.Fatalf("x = %#v", x)
	}
	if k, _ := arr[2].(*Object).Get("k"); k != json.Number("-0.50") {
		t.Errorf("numbers must keep their text: k = %#v", k)
	}
	if s, ok := o.String("m"); !ok || s != "é😀\n" {
		t.Errorf("m = %q", s)
	}
	if _, ok := o.String("z"); ok {
		t.Error(`String("z") reports a number as a string`)
	}
	if e, _ := o.Get("e"); e != json.Number("1e5") {
		t.Errorf("e = %#v", e)
	}
	got, err := EncodePython(o)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"z": 1, "a": {"y": true, "b": null, "x": [1, "two", {"k": -0.50}]}, "m": "\u00e9\ud83d\ude00\n", "e": 1e5}`
	if string(got) != want {
		t.Errorf("re-encoded:\n got %s\nwant %s", got, want)
	}
}

func TestDecodeObjectDuplicateKeys(t *testing.T) {
	tests := []struct {
		doc  string
		want string // the lenient result, re-encoded
	}{
		// Like Python's json: the last value wins, at the first position.
		{`{"a": 1, "b": 2, "a": 3}`, `{"a": 3, "b": 2}`},
		{`{"o": {"k": 1, "k": {"x": 1}}}`, `{"o": {"k": {"x": 1}}}`},
		{`{"l": [{"k": 1, "j": 0, "k": 2}]}`, `{"l": [{"k": 2, "j": 0}]}`},
	}
	for _, tc := range tests {
		_, err := DecodeObject([]byte(tc.doc), DecodeOptions{RejectDuplicateKeys: true})
		if err == nil || !strings.Contains(err.Error(), "appears twice in one object") {
			t.Errorf("strict %s: err = %v, want a duplicate key error", tc.doc, err)
		}
		o, err := DecodeObject([]byte(tc.doc), DecodeOptions{})
		if err != nil {
			t.Errorf("lenient %s: %v", tc.doc, err)
			continue
		}
		if got, _ := EncodePython(o); string(got) != tc.want {
			t.Errorf("lenient %s = %s, want %s", tc.doc, got, tc.want)
		}
	}
	// Equal keys in different objects are not duplicates.
	if _, err := DecodeObject([]byte(`{"a": {"a": 1}, "b": [{"a": 1}, {"a": 2}]}`), DecodeOptions{RejectDuplicateKeys: true}); err != nil {
		t.Errorf("keys repeated across objects: %v", err)
	}
}

// nested wraps middle in n levels of open ... close.
func nested(open, middle, close string, n int) string {
	return strings.Repeat(open, n) + middle + strings.Repeat(close, n)
}

func TestDecodeObjectErrors(t *testing.T) {
	tests := []struct {
		name string
		doc  string
		want string // "" when the document is valid
	}{
		{"32 nested objects", nested(`{"a": `, `{}`, `}`, 31), ""},
		{"33 nested objects", nested(`{"a": `, `{}`, `}`, 32), "nested more than 32 levels deep"},
		{"object and 31 arrays", `{"a": ` + nested("[", "", "]", 31) + `}`, ""},
		{"object and 32 arrays", `{"a": ` + nested("[", "", "]", 32) + `}`, "nested more than 32 levels deep"},
		{"objects in an array, 32 deep", `{"a": [` + nested(`{"b": `, `{}`, `}`, 29) + `]}`, ""},
		{"objects in an array, 33 deep", `{"a": [` + nested(`{"b": `, `{}`, `}`, 30) + `]}`, "nested more than 32 levels deep"},
		{"very deep", strings.Repeat(`{"a": `, 100000) + "1" + strings.Repeat("}", 100000), "nested more than 32 levels deep"},
		{"invalid UTF-8 in a string", "{\"a\": \"\xff\"}", "not valid UTF-8"},
		{"invalid UTF-8 in a key", "{\"\xc3\": 1}", "not valid UTF-8"},
		{"invalid UTF-8 after the object", "{}\xff", "not valid UTF-8"},
		{"trailing garbage", `{} x`, "data after the JSON object"},
		{"two objects", `{}{}`, "data after the JSON object"},
		{"object then array", "{}\n[]", "data after the JSON object"},
		{"extra closing brace", `{"a": 1}}`, "data after the JSON object"},
		{"trailing whitespace is fine", "{\"a\": 1}\n\t \r\n", ""},
		{"leading whitespace is fine", " \n{}", ""},
		{"array", `[{"a": 1}]`, "must be a JSON object, got an array"},
		{"string", `"x"`, "must be a JSON object, got a string"},
		{"number", `12`, "must be a JSON object, got a number"},
		{"boolean", `true`, "must be a JSON object, got a boolean"},
		{"null", `null`, "must be a JSON object, got null"},
		{"empty", ``, "body is empty"},
		{"only whitespace", " \n ", "body is empty"},
		{"closing brace", `}`, "not valid JSON"},
		{"missing value", `{"a": }`, "not valid JSON"},
		{"missing colon", `{"a" 1}`, "not valid JSON"},
		{"trailing comma", `{"a": 1,}`, "not valid JSON"},
		{"single quotes", `{'a': 1}`, "not valid JSON"},
		{"unquoted key", `{a: 1}`, "not valid JSON"},
		{"number key", `{1: 2}`, "not valid JSON"},
		{"unterminated", `{"a": [1, 2`, "not valid JSON"},
		{"unterminated object", `{"a": 1`, "not valid JSON"},
		{"mismatched bracket", `{"a": [1, 2}`, "not valid JSON"},
		{"bad literal", `{"a": tru}`, "not valid JSON"},
		{"NaN", `{"a": NaN}`, "not valid JSON"},
		{"control character in string", "{\"a\": \"x\ny\"}", "not valid JSON"},
		{"bad escape", `{"a": "\x"}`, "not valid JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			o, err := DecodeObject([]byte(tc.doc), DecodeOptions{RejectDuplicateKeys: true})
			if tc.want == "" {
				if err != nil || o == nil {
					t.Fatalf("DecodeObject = %v, %v; want an object", o, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("DecodeObject succeeded, want an error containing %q", tc.want)
			}
			if o != nil {
				t.Errorf("got an object with the error")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

func TestDecodeObjectDepthBoundary(t *testing.T) {
	// Built explicitly, so the boundary is unmistakable: depth counts every
	// object and array, the top-level object being 1.
	build := func(depth int) string {
		var b strings.Builder
		for i := 0; i < depth-1; i++ {
			b.WriteString(`{"k": `)
		}
		b.WriteString("{}")
		b.WriteString(strings.Repeat("}", depth-1))
		return b.String()
	}
	if _, err := DecodeObject([]byte(build(maxJSONDepth)), DecodeOptions{}); err != nil {
		t.Errorf("depth %d: %v", maxJSONDepth, err)
	}
	if _, err := DecodeObject([]byte(build(maxJSONDepth+1)), DecodeOptions{}); err == nil {
		t.Errorf("depth %d accepted", maxJSONDepth+1)
	}
}

func TestEncodePython(t *testing.T) {
	obj := NewObject()
	obj.Set("a", func() *Object { o := NewObject(); o.Set("b", []any{json.Number("1"), json.Number("2")}); return o }())
	obj.Set("c", "d")
	obj.Set("e", []any{})
	obj.Set("f", NewObject())
	obj.Set("g", nil)
	obj.Set("h", true)

	// Expected values are what Python 3's json.dumps prints for the same
	// value.
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"null", nil, `null`},
		{"true", true, `true`},
		{"false", false, `false`},
		{"number text kept", json.Number("1.50"), `1.50`},
		{"int", 42, `42`},
		{"int64", int64(-7), `-7`},
		{"plain string", "hello world", `"hello world"`},
		{"empty string", "", `""`},
		{"quote and backslash", "a\"b\\c", `"a\"b\\c"`},
		{"short escapes", "\n\r\t\b\f", `"\n\r\t\b\f"`},
		{"other control characters", "\x00\x01\x1f", `"\u0000\u0001\u001f"`},
		{"DEL", "\x7f", `"\u007f"`},
		{"latin-1", "é", `"\u00e9"`},
		{"BMP", "€", `"\u20ac"`},
		{"U+2028", "\u2028", `"\u2028"`},
		{"U+FFFF", "\uffff", `"\uffff"`},
		{"surrogate pair", "😀", `"\ud83d\ude00"`},
		{"first astral", "\U00010000", `"\ud800\udc00"`},
		{"last code point", "\U0010FFFF", `"\udbff\udfff"`},
		{"mixed", "mixé😀x", `"mix\u00e9\ud83d\ude00x"`},
		{"no HTML escaping, no slash escaping", "<>&'/", `"<>&'/"`},
		{"invalid UTF-8 becomes U+FFFD", "a\xffb", `"a\ufffdb"`},
		{"empty array", []any{}, `[]`},
		{"array", []any{json.Number("1"), "a", nil, false}, `[1, "a", null, false]`},
		{"empty object", NewObject(), `{}`},
		{"object", obj, `{"a": {"b": [1, 2]}, "c": "d", "e": [], "f": {}, "g": null, "h": true}`},
		{"non-ASCII key", func() *Object { o := NewObject(); o.Set("clé\n", "v"); return o }(), `{"cl\u00e9\n": "v"}`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := EncodePython(tc.v)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("EncodePython = %s, want %s", got, tc.want)
			}
			if !json.Valid(got) {
				t.Errorf("output is not valid JSON: %s", got)
			}
		})
	}
	for _, bad := range []any{1.5, map[string]any{}, []string{"a"}, struct{}{}, []any{1.5}, func() *Object { o := NewObject(); o.Set("x", 2.5); return o }()} {
		if out, err := EncodePython(bad); err == nil {
			t.Errorf("EncodePython(%#v) = %s, want an error", bad, out)
		}
	}
	if got, err := obj.MarshalJSON(); err != nil || !strings.HasPrefix(string(got), `{"a": {"b": [1, 2]}, "c"`) {
		t.Errorf("MarshalJSON = %s, %v", got, err)
	}
}

// TestFixtureJSONRoundTrip checks every file the reference implementation
// wrote: decoding then encoding must give back the file byte for byte.
func TestFixtureJSONRoundTrip(t *testing.T) {
	root := testenv.Fixture(t, "pg-backup-api-2.2")
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".json") {
			return err
		}
		n++
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		for _, opts := range []DecodeOptions{{}, {RejectDuplicateKeys: true}} {
			o, err := DecodeObject(data, opts)
			if err != nil {
				t.Errorf("%s: %v", rel, err)
				continue
			}
			got, err := EncodePython(o)
			if err != nil {
				t.Errorf("%s: %v", rel, err)
				continue
			}
			if string(got) != string(data) {
				t.Errorf("%s does not round-trip:\n got %s\nwant %s", rel, got, data)
			}
			if m, _ := o.MarshalJSON(); string(m) != string(data) {
				t.Errorf("%s: MarshalJSON differs from the file", rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n != 14 {
		t.Errorf("round-tripped %d fixture files, want 14", n)
	}
}

func TestObjectMethods(t *testing.T) {
	o := NewObject()
	o.Set("a", "1")
	o.Set("b", "2")
	o.Set("c", "3")
	o.Set("a", "one") // replaced in place
	if got := o.Keys(); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Errorf("Keys after replace = %q", got)
	}
	c := o.Clone()
	c.Set("d", "4")
	c.Set("b", "two")
	c.Delete("a")
	if got := o.Keys(); !reflect.DeepEqual(got, []string{"a", "b", "c"}) {
		t.Errorf("Clone shares keys with the original: %q", got)
	}
	if v, _ := o.String("b"); v != "2" {
		t.Errorf("Clone shares values with the original: b = %q", v)
	}
	if got := c.Keys(); !reflect.DeepEqual(got, []string{"b", "c", "d"}) {
		t.Errorf("clone Keys = %q", got)
	}
	c.Delete("missing")
	c.Delete("d")
	c.Delete("b")
	if got, _ := EncodePython(c); string(got) != `{"c": "3"}` {
		t.Errorf("after deletes = %s", got)
	}
	if _, ok := c.Get("b"); ok {
		t.Error("deleted key still present")
	}
}

func TestTypeName(t *testing.T) {
	tests := []struct {
		v    any
		want string
	}{
		{nil, "null"}, {true, "a boolean"}, {json.Number("1"), "a number"}, {"s", "a string"},
		{[]any{}, "an array"}, {NewObject(), "an object"}, {1.5, "float64"},
	}
	for _, tc := range tests {
		if got := TypeName(tc.v); got != tc.want {
			t.Errorf("TypeName(%#v) = %q, want %q", tc.v, got, tc.want)
		}
	}
}

// TestDecodeObjectLossy: a lone surrogate escape has no UTF-8 form; the
// decoder puts U+FFFD in its place and says so, so that requests can be
// refused while stored files are still read (issue 14, defect 4).
func TestDecodeObjectLossy(t *testing.T) {
	tests := []struct {
		doc   string
		lossy bool
	}{
		{`{"a": "\ud800"}`, true},
		{`{"a": "\uDBFF"}`, true},
		{`{"a": "\udc00"}`, true},
		{`{"\ud800": 1}`, true},
		{`{"a": ["x", {"b": "\ud83d"}]}`, true},
		{`{"a": "\ud83d\u0041"}`, true},
		{`{"a": "\ud83dx\ude00"}`, true},
		{`{"a": "\ude00\ud83d"}`, true},
		{`{"a": "\ud83d\ude00"}`, false},
		{`{"a": "\uD83D\uDE00"}`, false},
		{`{"a": "\\ud800"}`, false},
		{`{"a": "\\\ud800"}`, true},
		{`{"a": "\ufffd"}`, false},
		{`{"a": "\u00e9 \"\ud800\""}`, true},
		{`{"a": "plain"}`, false},
	}
	for _, tc := range tests {
		obj, err := DecodeObject([]byte(tc.doc), DecodeOptions{})
		if err != nil {
			t.Fatalf("DecodeObject(%s): %v", tc.doc, err)
		}
		if obj.Lossy() != tc.lossy {
			t.Errorf("DecodeObject(%s).Lossy() = %t, want %t", tc.doc, obj.Lossy(), tc.lossy)
		}
		if obj.Clone().Lossy() != tc.lossy {
			t.Errorf("Clone lost Lossy of %s", tc.doc)
		}
	}
}
