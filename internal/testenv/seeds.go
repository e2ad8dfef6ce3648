package testenv

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzPayloads seed the fuzz targets that read request bodies (ops, store,
// internal/pyjson): the documented examples, and the shapes that went wrong
// once somewhere.
var FuzzPayloads = []string{
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

// WriteFile writes content to path, making its directories, or fails t.
func WriteFile(t testing.TB, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// ReadFile returns path's content, or fails t.
func ReadFile(t testing.TB, path string) string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// FileExists reports whether path can be stat'ed.
func FileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}

// LocalTime reads a timestamp of the reference's format
// ("2006-01-02T15:04:05.000000", ops.TimeLayout) as the store does: in
// local time.
func LocalTime(t testing.TB, s string) time.Time {
	t.Helper()
	tm, err := time.ParseInLocation("2006-01-02T15:04:05.000000", s, time.Local)
	if err != nil {
		t.Fatal(err)
	}
	return tm
}

// GrepLines returns the lines of s that contain one of pattern's
// |-separated strings, each ending in a newline: the part of a long answer
// (a /metrics exposition) that a failure message shows.
func GrepLines(s, pattern string) string {
	var b strings.Builder
	for _, line := range strings.Split(s, "\n") {
		for _, p := range strings.Split(pattern, "|") {
			if strings.Contains(line, p) {
				b.WriteString(line + "\n")
				break
			}
		}
	}
	return b.String()
}
