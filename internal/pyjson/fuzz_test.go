package pyjson

import (
	"bytes"
	"encoding/json"
	"reflect"
	"slices"
	"testing"
)

// Fuzz targets: run briefly by scripts/fuzz-smoke, at length with
// go test -run '^$' -fuzz '^FuzzName$' ./internal/pyjson.

// fuzzPayloads seed the payload targets: the documented examples, and the
// shapes that went wrong once somewhere.
var fuzzPayloads = []string{
	`{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh postgres@db", "destination_directory": "/var/lib/pgdata"}`,
	`{"backup_id": "20261125T080758", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`,
	`{"type": "config_switch", "model_name": "my-model"}`,
	`{"type": "config_switch", "reset": true}`,
	`{"type": "config_update", "changes": [{"scope": "server", "server_name": "db_server_two", "archiver": "on", "n": 1, "b": false}]}`,
	`{"type": "config_update", "changes": [{"scope": "model", "model_name": "my-model", "conninfo": "x"}]}`,
	`{"type": "recovery", "backup_id": "lat\u0000est"}`,
	`{"type": "recovery", "type": "config_switch"}`,
	`{"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
	`{"operation_type": "recovery"}`,
	`{"x": "\ud800", "y": "\u00e9\ud83d\ude00", "z": -0.0e+10}`,
	`{} trailing`,
	`[]`,
	`"string"`,
	``,
}

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
	for _, p := range fuzzPayloads {
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
