// Package pyjsontest holds test helpers about pyjson's documents, for the
// tests of pyjson and of the packages that read and write job files. It
// sits beside pyjson rather than in internal/testenv because it imports
// pyjson, whose own tests import testenv: testenv importing pyjson would
// close a loop. Only tests import it.
package pyjsontest

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
)

// CheckRoundTrip encodes obj and decodes it back: the encoding is ASCII,
// valid JSON, strict-decodable, stable, and means what data meant.
func CheckRoundTrip(t testing.TB, data []byte, obj *pyjson.Object) {
	t.Helper()
	enc, err := pyjson.EncodePython(obj)
	if err != nil {
		t.Fatalf("pyjson.EncodePython of a decoded object: %v", err)
	}
	for _, b := range enc {
		if b >= 0x80 || (b < 0x20 && b != '\n') {
			t.Fatalf("pyjson.EncodePython wrote byte %#x: %q", b, enc)
		}
	}
	if !json.Valid(enc) {
		t.Fatalf("pyjson.EncodePython wrote invalid JSON: %s", enc)
	}
	again, err := pyjson.DecodeObject(enc, pyjson.DecodeOptions{RejectDuplicateKeys: true})
	if err != nil {
		t.Fatalf("our own encoding %s does not decode: %v", enc, err)
	}
	enc2, err := pyjson.EncodePython(again)
	if err != nil || !bytes.Equal(enc, enc2) {
		t.Fatalf("encoding is not stable:\n%s\n%s (%v)", enc, enc2, err)
	}
	// Same meaning as the input, read by encoding/json (which also keeps a
	// repeated key's last value).
	generic := func(b []byte) any {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatalf("encoding/json cannot read %q: %v", b, err)
		}
		return v
	}
	if a, b := generic(data), generic(enc); !reflect.DeepEqual(a, b) {
		t.Fatalf("the round trip changed the meaning:\n%q\n%q", data, enc)
	}
	if keys := again.Keys(); !slices.Equal(keys, obj.Keys()) {
		t.Fatalf("the round trip changed the key order: %q -> %q", obj.Keys(), keys)
	}
}

// MustDecode decodes s strictly (duplicate keys refused), or fails t.
func MustDecode(t testing.TB, s string) *pyjson.Object {
	t.Helper()
	o, err := pyjson.DecodeObject([]byte(s), pyjson.DecodeOptions{RejectDuplicateKeys: true})
	if err != nil {
		t.Fatalf("decoding %s: %v", s, err)
	}
	return o
}
