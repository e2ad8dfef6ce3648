package store

import (
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

// newStoreCopy returns a copy of the reference store alone.
func newStoreCopy(t testing.TB) string {
	t.Helper()
	home := filepath.Join(t.TempDir(), "home")
	testenv.CopyTree(t, testenv.Fixture(t, "pg-backup-api-2.2", "barman_home"), home, nil)
	return home
}

// fixedClock returns a clock stuck at the given local time.
func fixedClock(s string) func() time.Time {
	tm, err := time.ParseInLocation(ops.TimeLayout, s, time.Local)
	if err != nil {
		panic(err)
	}
	return func() time.Time { return tm }
}

// jsonValid reports whether data is one valid JSON document.
func jsonValid(data []byte) bool { return json.Valid(data) }

// newStore is the store under home, as Open gives it for a configuration
// naming home.
func newStore(home string) *Store { return Open(&ops.BarmanConfig{BarmanHome: home}) }
