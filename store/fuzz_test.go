package store

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson/pyjsontest"
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
		pyjsontest.CheckRoundTrip(t, data, obj)
	})
}
