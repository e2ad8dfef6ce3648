package store

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
)

// Fuzz targets: run briefly by scripts/fuzz-smoke, at length with
// go test -run '^$' -fuzz '^FuzzName$' ./store.

// FuzzReadJSONFile: any bytes in a store file are read without panicking;
// ReadJSONFile agrees with the lenient DecodeObject, and its errors name
// the file.
func FuzzReadJSONFile(f *testing.F) {
	dir := f.TempDir()
	for _, p := range testenv.FuzzPayloads {
		f.Add([]byte(p))
	}
	for _, name := range []string{"pg-backup-api-2.2/barman_home/jobs/20261125T080447.json", "pg-backup-api-2.2/barman_home/output/20261125T080447.json",
		"pg-backup-api-2.2/barman_home/db_server_two/output/20261125T080805.json"} {
		if data, err := os.ReadFile(testenv.Fixture(f, name)); err == nil {
			f.Add(data)
			f.Add(data[:len(data)/2])
		}
	}
	path := filepath.Join(dir, "20261125T080447.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		obj, err := ReadJSONFile(path)
		direct, derr := pyjson.DecodeObject(data, pyjson.DecodeOptions{})
		if (err == nil) != (derr == nil) {
			t.Fatalf("ReadJSONFile: %v; DecodeObject: %v", err, derr)
		}
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		a, _ := pyjson.EncodePython(obj)
		b, _ := pyjson.EncodePython(direct)
		if !bytes.Equal(a, b) {
			t.Fatalf("ReadJSONFile and DecodeObject disagree:\n%s\n%s", a, b)
		}
		checkRoundTrip(t, data, obj)
	})
}

// checkRoundTrip encodes obj and decodes it back: the encoding is ASCII,
// valid JSON, strict-decodable, stable, and means what data meant.
func checkRoundTrip(t *testing.T, data []byte, obj *pyjson.Object) {
	t.Helper()
	enc, err := pyjson.EncodePython(obj)
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
