package httpd

import (
	"syscall"
	"testing"
	"time"
)

// SetStreamPace makes streams look at their operation every poll, send a
// heartbeat after quiet, and refuse past max open at once (0 keeps the
// default), so that tests need not wait for the real pace.
func (s *Server) SetStreamPace(poll, heartbeat time.Duration, max int) {
	s.streams.poll, s.streams.heartbeat, s.streams.max = poll, heartbeat, int64(max)
}

// SetAuthFailureInterval makes d the window of counted authentication
// failures for the rest of the test.
func SetAuthFailureInterval(t testing.TB, d time.Duration) {
	old := authFailureInterval
	authFailureInterval = d
	t.Cleanup(func() { authFailureInterval = old })
}

// SetStatfs replaces the file-system query of the free-space check for the
// rest of the test.
func SetStatfs(t testing.TB, f func(path string, st *syscall.Statfs_t) error) {
	old := statfs
	statfs = f
	t.Cleanup(func() { statfs = old })
}
