package testenv

import (
	"fmt"
	"testing"
	"time"
)

// WaitFor polls cond every 20 ms until it holds, and fails the test when
// within passes first. within is a liveness bound, not a speed target: give
// it ten times what the wait should take.
func WaitFor(t testing.TB, within time.Duration, what string, cond func() bool) {
	t.Helper()
	Eventually(t, within, cond, func() string { return fmt.Sprintf("timed out after %s waiting for %s", within, what) })
}

// Eventually is WaitFor for a failure that is best described once it
// happens: describe is called only then.
func Eventually(t testing.TB, within time.Duration, cond func() bool, describe func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal(describe())
		}
		time.Sleep(20 * time.Millisecond)
	}
}
