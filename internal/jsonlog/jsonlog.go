// Package jsonlog builds the logger behind --log-format: people read text,
// log shippers read one JSON object per line. Both are log/slog's own
// handlers; this package chooses between them, so every caller logs
// through *slog.Logger and never cares which format is on. The one
// exception is serve's access log, a line per request, which Lines writes
// by hand in the same bytes.
package jsonlog

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
)

// Formats accepted by --log-format and the log_format key.
const (
	Text = "text"
	JSON = "json"
)

// ParseFormat checks a --log-format value; "" means Text.
func ParseFormat(s string) (string, error) {
	switch f := strings.ToLower(strings.TrimSpace(s)); f {
	case "", Text:
		return Text, nil
	case JSON:
		return JSON, nil
	default:
		return "", fmt.Errorf("log format %q is not known: use \"text\" or \"json\"", s)
	}
}

// New returns a logger writing to w in format (see ParseFormat) from level
// up. In JSON each record is one line: {"time":...,"level":"INFO","msg":...}
// followed by the record's fields as top-level keys, so a shipper needs no
// parsing rules.
func New(w io.Writer, format string, level slog.Leveler) (*slog.Logger, error) {
	f, err := ParseFormat(format)
	if err != nil {
		return nil, err
	}
	opts := &slog.HandlerOptions{Level: level}
	if f == JSON {
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return slog.New(slog.NewTextHandler(w, opts)), nil
}
