package ops

import "github.com/pg-backup-api/pg-backup-api/internal/pgmask"

// Masked replaces what MaskSecrets hides.
const Masked = pgmask.Masked

// MaskSecrets hides passwords in text shown to people or logged (libpq's
// rules: see internal/pgmask). Job files keep the real values: Barman needs
// them.
func MaskSecrets(s string) string { return pgmask.Text(s) }

// MaskJSON hides passwords in a JSON document shown to people, keeping it
// the same JSON otherwise.
func MaskJSON(data []byte) []byte { return pgmask.JSON(data) }
