package cli

import "testing"

// SetSystemConfigPath makes path the system-wide configuration file for
// the rest of the test, so that no test reads the machine's.
func SetSystemConfigPath(t testing.TB, path string) {
	old := systemConfigPath
	systemConfigPath = path
	t.Cleanup(func() { systemConfigPath = old })
}
