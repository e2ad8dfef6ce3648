package pyjson_test

import (
	"testing"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson/pyjsontest"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
)

// Fuzz targets: run briefly by scripts/fuzz-smoke, at length with
// go test -run '^$' -fuzz '^FuzzName$' ./internal/pyjson.

// FuzzEncodeDecodeRoundTrip: whatever DecodeObject accepts, EncodePython
// writes back as JSON that decodes to the same thing, byte-stable.
func FuzzEncodeDecodeRoundTrip(f *testing.F) {
	for _, p := range testenv.FuzzPayloads {
		f.Add([]byte(p))
	}
	f.Add([]byte(`{"a": 1, "a": 2, "b": [true, null, {"c": "\"\\\/\b\f\n\r\t\u0001"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		obj, err := pyjson.DecodeObject(data, pyjson.DecodeOptions{})
		if err != nil {
			return
		}
		pyjsontest.CheckRoundTrip(t, data, obj)
	})
}
