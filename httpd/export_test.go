package httpd

import (
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
