package httpd_test

import (
	"encoding/binary"
	"net/http"
	"strings"
	"testing"
	"unicode/utf16"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
)

// utf16Body is s in UTF-16 or UTF-32 (width 2 or 4), with a byte-order mark
// first when bom is set, as Windows PowerShell 5.1 writes files.
func utf16Body(s string, width int, big, bom bool) string {
	var order binary.AppendByteOrder = binary.LittleEndian
	if big {
		order = binary.BigEndian
	}
	var b []byte
	if bom {
		s = "\uFEFF" + s
	}
	for _, r := range s {
		if width == 4 {
			b = order.AppendUint32(b, uint32(r))
			continue
		}
		for _, u := range utf16.Encode([]rune{r}) {
			b = order.AppendUint16(b, u)
		}
	}
	return string(b)
}

// TestBodyEncodings: a create body in UTF-8 with a byte-order mark, or in
// UTF-16 or UTF-32 with or without one, is read as the Python
// implementation's json.loads reads it (it was 400 before); one that is not
// valid in the encoding its first bytes announce is a 400 that names the
// encoding and writes nothing.
func TestBodyEncodings(t *testing.T) {
	e := newEnv(t)
	h, _ := e.handler(t)
	for name, body := range map[string]string{
		"utf-8 bom":     "\xef\xbb\xbf" + validRecovery,
		"utf-16le bom":  utf16Body(validRecovery, 2, false, true),
		"utf-16be bom":  utf16Body(validRecovery, 2, true, true),
		"utf-16le":      utf16Body(validRecovery, 2, false, false),
		"utf-16be":      utf16Body(validRecovery, 2, true, false),
		"utf-32le bom":  utf16Body(validRecovery, 4, false, true),
		"utf-32be":      utf16Body(validRecovery, 4, true, false),
		"utf-16le crlf": utf16Body("\r\n"+validRecovery+"\r\n", 2, false, true),
	} {
		t.Run(name, func(t *testing.T) {
			w := postJSON(t, h, srvOps, body)
			id := created(t, w, srvOps)
			job := readJob(t, e.jobPath("db_server_two", id))
			if v, _ := job.Get("destination_directory"); v != "/var/lib/pgdata" {
				t.Errorf("the job records destination_directory %v", v)
			}
		})
	}
	for name, tc := range map[string]struct{ body, want string }{
		"utf-16 odd length":     {utf16Body(validRecovery, 2, false, true) + "}", "UTF-16 (little-endian, with a byte-order mark)"},
		"utf-16 lone surrogate": {utf16Body(`{"type": "recovery", "backup_id": "`, 2, true, false) + "\xd8\x00" + utf16Body(`"}`, 2, true, false), "lone UTF-16 surrogate"},
		"utf-8 bom, invalid":    {"\xef\xbb\xbf{\"type\": \"\xff\"}", "UTF-8"},
	} {
		t.Run(name, func(t *testing.T) {
			before := testenv.Snapshot(t, e.Home)
			msg := wantError(t, postJSON(t, h, srvOps, tc.body), http.StatusBadRequest)
			if !strings.Contains(msg, tc.want) {
				t.Errorf("message %q does not name %q", msg, tc.want)
			}
			if diffs := testenv.DiffSnapshots(before, testenv.Snapshot(t, e.Home)); diffs != "" {
				t.Errorf("changed the store: %v", diffs)
			}
		})
	}
}
