// Package filestamp tells whether a file changed since it was last looked at,
// from one stat: the store's index and the Barman configuration cache both
// trust what they read only while the files it came from keep their stamp.
package filestamp

import (
	"os"
	"syscall"
	"time"
)

// RacyWindow is how long after a change a stamp is not trusted: file times
// come from a coarse kernel clock, so two changes within one tick can leave
// the same stamp. Whoever read a file changed less than RacyWindow before
// reading it looks again next time, as git does for its index.
const RacyWindow = 2 * time.Second

// Stamp identifies one version of a file.
type Stamp struct {
	Ino     uint64
	Size    int64
	MtimeNs int64
}

// Of returns path's stamp, and false (with a zero Stamp) when it cannot be
// stat'ed.
func Of(path string) (Stamp, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return Stamp{}, false
	}
	st := Stamp{Size: fi.Size(), MtimeNs: fi.ModTime().UnixNano()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.Ino = sys.Ino
	}
	return st, true
}
