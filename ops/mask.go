package ops

import "regexp"

// Secrets that show up in Barman settings and output: libpq conninfo
// "password=..." (bare or quoted) and URIs "postgresql://user:secret@host".
var (
	conninfoPassword = regexp.MustCompile(`(?i)\b(password\s*=\s*)('(?:[^'"\\\n]|\\.)*'|'?[^\s'",\\]+)`)
	uriPassword      = regexp.MustCompile(`(?i)\b(postgres(?:ql)?://[^:/@\s'"]*:)([^@\s'"]+)(@)`)
)

// Masked replaces what MaskSecrets hides.
const Masked = "****"

// MaskSecrets hides passwords in text shown to people or logged. Job files
// keep the real values: Barman needs them.
func MaskSecrets(s string) string {
	s = conninfoPassword.ReplaceAllString(s, "${1}"+Masked)
	return uriPassword.ReplaceAllString(s, "${1}"+Masked+"${3}")
}
