package ops

import (
	"fmt"
	"strconv"
	"time"
)

// ParseID reads an operation ID as Store.Create makes them: the reference's
// "YYYYMMDDTHHMMSS" local time, optionally followed by "-NNNN" (0001 to
// 9999) when several operations were created in the same second. It returns
// the time and the suffix (0 when there is none). Only the canonical form is
// accepted, so formatting the result back (t.Format(IDLayout), then "-%04d"
// when seq > 0) gives the ID again; a time that does not exist on the local
// clock (skipped by a daylight-saving change) is refused for that reason.
func ParseID(id string) (time.Time, int, error) {
	const baseLen = len(IDLayout) // 15
	bad := func(why string) (time.Time, int, error) {
		return time.Time{}, 0, fmt.Errorf("%q is not an operation ID (YYYYMMDDTHHMMSS or YYYYMMDDTHHMMSS-NNNN): %s", id, why)
	}
	if len(id) != baseLen && len(id) != baseLen+5 {
		return bad("wrong length")
	}
	base := id[:baseLen]
	for i := 0; i < baseLen; i++ {
		c := base[i]
		if i == 8 {
			if c != 'T' {
				return bad("no 'T' between date and time")
			}
			continue
		}
		if c < '0' || c > '9' {
			return bad("not a digit where one belongs")
		}
	}
	seq := 0
	if len(id) > baseLen {
		suffix := id[baseLen:]
		if suffix[0] != '-' {
			return bad("the suffix must be -NNNN")
		}
		for i := 1; i < len(suffix); i++ {
			if suffix[i] < '0' || suffix[i] > '9' {
				return bad("the suffix must be -NNNN")
			}
		}
		seq, _ = strconv.Atoi(suffix[1:])
		if seq == 0 {
			return bad("the suffix -0000 is never given")
		}
	}
	t, err := time.ParseInLocation(IDLayout, base, time.Local)
	if err != nil {
		return bad("not a valid date and time")
	}
	if t.Format(IDLayout) != base {
		return bad("not a time that exists on the local clock")
	}
	return t, seq, nil
}
