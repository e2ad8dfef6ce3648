package pyjson

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
)

// Fuzz targets: run briefly by scripts/fuzz-smoke, at length with
// go test -run '^$' -fuzz '^FuzzName$' ./internal/pyjson.

// checkRoundTrip encodes obj and decodes it back: the encoding is ASCII,
// valid JSON, strict-decodable, stable, and means what data meant.
func checkRoundTrip(t *testing.T, data []byte, obj *Object) {
	t.Helper()
	enc, err := EncodePython(obj)
	if err != nil {
		t.Fatalf("EncodePython of a decoded object: %v", err)
	}
	for _, b := range enc {
		if b >= 0x80 || (b < 0x20 && b != '\n') {
			t.Fatalf("EncodePython wrote byte %#x: %q", b, enc)
		}
	}
	if !json.Valid(enc) {
		t.Fatalf("EncodePython wrote invalid JSON: %s", enc)
	}
	again, err := DecodeObject(enc, DecodeOptions{RejectDuplicateKeys: true})
	if err != nil {
		t.Fatalf("our own encoding %s does not decode: %v", enc, err)
	}
	enc2, err := EncodePython(again)
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

// FuzzEncodeDecodeRoundTrip: whatever DecodeObject accepts, EncodePython
// writes back as JSON that decodes to the same thing, byte-stable.
func FuzzEncodeDecodeRoundTrip(f *testing.F) {
	for _, p := range testenv.FuzzPayloads {
		f.Add([]byte(p))
	}
	f.Add([]byte(`{"a": 1, "a": 2, "b": [true, null, {"c": "\"\\\/\b\f\n\r\t\u0001"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		obj, err := DecodeObject(data, DecodeOptions{})
		if err != nil {
			return
		}
		checkRoundTrip(t, data, obj)
	})
}
