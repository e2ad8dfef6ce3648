package jsonlog

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"
)

func TestJSONIsOneObjectPerLine(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, " JSON", slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("request", "method", "GET", "status", 200, "path", "/a\nb")
	log.Debug("hidden below the level")
	log.Warn("notify: delivery failed", "attempt", 2)
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2 (one per record at or above info):\n%s", len(lines), buf.String())
	}
	var rec map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &rec); err != nil {
		t.Fatalf("line is not JSON: %v\n%s", err, lines[0])
	}
	if rec["level"] != "INFO" || rec["msg"] != "request" || rec["method"] != "GET" || rec["status"] != 200.0 || rec["path"] != "/a\nb" {
		t.Errorf("record = %v", rec)
	}
	if ts, ok := rec["time"].(string); !ok {
		t.Errorf("no time: %v", rec)
	} else if _, err := time.Parse(time.RFC3339Nano, ts); err != nil {
		t.Errorf("time %q is not RFC 3339: %v", ts, err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &rec); err != nil || rec["level"] != "WARN" || rec["attempt"] != 2.0 {
		t.Errorf("second record = %v (%v)", rec, err)
	}
}

func TestTextIsTheDefault(t *testing.T) {
	var buf bytes.Buffer
	log, err := New(&buf, "", slog.LevelInfo)
	if err != nil {
		t.Fatal(err)
	}
	log.Info("started", "listen", "127.0.0.1:7480")
	if got := buf.String(); !strings.Contains(got, "level=INFO msg=started listen=127.0.0.1:7480") || strings.HasPrefix(got, "{") {
		t.Errorf("text record = %q", got)
	}
}

func TestUnknownFormatIsRefused(t *testing.T) {
	for _, f := range []string{"yaml", "logfmt", "jsonl"} {
		log, err := New(&bytes.Buffer{}, f, slog.LevelInfo)
		if err == nil || log != nil || !strings.Contains(err.Error(), `use "text" or "json"`) {
			t.Errorf("%q: logger %v, err %v; want a refusal saying what to use", f, log, err)
		}
	}
}
