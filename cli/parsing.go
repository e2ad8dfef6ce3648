package cli

// Parsing what people type as flag values and inputs: ages, dates, and
// files or standard input.

import (
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
)

// parseSince reads an age ("90m", "24h", "7d") or a local date or time.
func parseSince(v string, now time.Time) (time.Time, error) {
	if days, ok := strings.CutSuffix(v, "d"); ok {
		if n, err := strconv.Atoi(days); err == nil && n >= 0 {
			return now.AddDate(0, 0, -n), nil
		}
	}
	if d, err := time.ParseDuration(v); err == nil && d >= 0 {
		return now.Add(-d), nil
	}
	for _, layout := range []string{"2006-01-02", "2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", time.RFC3339} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("want an age such as 90m, 24h or 7d, or a date such as 2026-11-25 or 2026-11-25T08:00")
}

// parseAge reads "30d", "72h", "90m".
func parseAge(v string) (time.Duration, error) {
	var zero time.Time
	since, err := parseSince(v, zero.Add(1<<62))
	if err != nil {
		return 0, fmt.Errorf("want an age such as 30d, 72h or 90m")
	}
	age := zero.Add(1 << 62).Sub(since)
	if age <= 0 {
		return 0, fmt.Errorf("want an age such as 30d, 72h or 90m")
	}
	return age, nil
}

// readInput reads the file name, or stdin for "-", refusing more than 1 MiB.
func readInput(stdin io.Reader, name string) ([]byte, error) {
	const maxInput = 1 << 20
	var r io.Reader
	if name == "-" {
		if stdin == nil {
			stdin = os.Stdin
		}
		r = stdin
	} else {
		f, err := os.Open(name)
		if err != nil {
			return nil, usageError("cannot read %v", err)
		}
		defer f.Close()
		r = f
	}
	data, err := io.ReadAll(io.LimitReader(r, maxInput+1))
	if err != nil {
		return nil, usageError("cannot read %s: %v", name, err)
	}
	if len(data) > maxInput {
		return nil, usageError("%s is larger than %d bytes", name, maxInput)
	}
	return data, nil
}
