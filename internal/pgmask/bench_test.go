package pgmask

import (
	"strings"
	"testing"
)

// Barman output is mostly lines without secrets; the masker runs on every
// operation shown, so the common case must stay cheap.
var (
	benchPlain   = strings.Repeat("2026-01-01 10:00:00,000 [123] barman.backup INFO: Starting backup using rsync-concurrent method for server db1\n", 100)
	benchSecrets = strings.Repeat("conninfo: host=db1 user=barman password='s3 cr\\'et' dbname=postgres\nstreaming_conninfo: postgresql://streaming:hunter2@db1:5432/postgres?sslpassword=abc&sslmode=require\n", 50)
	benchJSON    = []byte(`{"changes": [{"conninfo": "host=a password=x", "streaming_conninfo": "postgresql://u:p@h/db", "db_password": "hunter2", "n": [1, 2, 3], "note": "` + strings.Repeat("plain text ", 200) + `"}]}`)
)

func BenchmarkTextPlain(b *testing.B) {
	b.SetBytes(int64(len(benchPlain)))
	for b.Loop() {
		Text(benchPlain)
	}
}

func BenchmarkTextSecrets(b *testing.B) {
	b.SetBytes(int64(len(benchSecrets)))
	for b.Loop() {
		Text(benchSecrets)
	}
}

func BenchmarkJSON(b *testing.B) {
	b.SetBytes(int64(len(benchJSON)))
	for b.Loop() {
		JSON(benchJSON)
	}
}
