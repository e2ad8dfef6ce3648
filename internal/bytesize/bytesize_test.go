package bytesize

import (
	"math"
	"testing"
)

func TestString(t *testing.T) {
	for _, tc := range []struct {
		n    uint64
		want string
	}{
		{0, "0 B"},
		{1023, "1023 B"},
		{1024, "1.0 KiB"},
		{1536, "1.5 KiB"},
		{1024*1024 - 1, "1024.0 KiB"},
		{1024 * 1024, "1.0 MiB"},
		{5 << 30, "5.0 GiB"},
		{math.MaxUint64, "16.0 EiB"},
	} {
		if got := String(tc.n); got != tc.want {
			t.Errorf("String(%d) = %q, want %q", tc.n, got, tc.want)
		}
	}
}
