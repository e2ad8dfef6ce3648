package ops

import "time"

// MaxArgBytes is maxArgBytes for the tests of package ops_test.
const MaxArgBytes = maxArgBytes

// ReservedKeys is reservedKeys for the tests of package ops_test.
var ReservedKeys = reservedKeys

// SetNow makes validation read a fixed clock until the test ends.
func SetNow(t interface{ Cleanup(func()) }, at time.Time) {
	old := now
	now = func() time.Time { return at }
	t.Cleanup(func() { now = old })
}
