package ops

import (
	"encoding/json"

	"github.com/pg-backup-api/pg-backup-api/internal/pgmask"
)

// Masked replaces what MaskSecrets hides.
const Masked = pgmask.Masked

// MaskSecrets hides passwords in text shown to people or logged (libpq's
// rules: see internal/pgmask). Job files keep the real values: Barman needs
// them.
func MaskSecrets(s string) string { return pgmask.Text(s) }

// MaskJSON hides passwords in a JSON document shown to people, keeping it
// the same JSON otherwise.
func MaskJSON(data []byte) []byte { return pgmask.JSON(data) }

// MaskArgv hides passwords in a command line shown to people, argument by
// argument: an argument that is a JSON document (config_update's changes)
// is masked as JSON, so that it shows as the same document rather than cut
// off at the password, which text masking reads to the end of the word.
func MaskArgv(argv []string) []string {
	masked := make([]string, len(argv))
	for i, a := range argv {
		if len(a) > 0 && (a[0] == '[' || a[0] == '{') && json.Valid([]byte(a)) {
			masked[i] = string(MaskJSON([]byte(a)))
		} else {
			masked[i] = MaskSecrets(a)
		}
	}
	return masked
}
