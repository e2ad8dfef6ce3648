package httpd

import (
	"syscall"
	"testing"
	"time"
)

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
