package cli

import (
	"fmt"
	"strings"
	"testing"
)

// TestFailureTail: a failed operation's report keeps Barman's own error
// line even when the block of Barman's log_file lines that follows it is
// longer than the report.
func TestFailureTail(t *testing.T) {
	var out strings.Builder
	for i := 1; i <= 30; i++ {
		fmt.Fprintf(&out, "copying file %d\n", i)
	}
	out.WriteString("ERROR: Unable to process a set of changes\n--- barman.log (pid 42, /var/log/barman/barman.log) ---\n")
	for i := 1; i <= 40; i++ {
		fmt.Fprintf(&out, "2026-12-06 10:00:%02d [42] barman.cli ERROR: line %d\n", i, i)
	}
	out.WriteString("--- end of barman.log ---\npg-backup-api: barman exited 1\n")
	got := failureTail(out.String())
	for _, want := range []string{"ERROR: Unable to process a set of changes", "copying file 30", "line 40", "--- end of barman.log ---", "pg-backup-api: barman exited 1"} {
		if !strings.Contains(got, want) {
			t.Errorf("failureTail lacks %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "copying file 20\n") || strings.Contains(got, "line 1\n") {
		t.Errorf("failureTail shows more than its bounds:\n%s", got)
	}
	if n := strings.Count(got, "\n") + 1; n != 30 {
		t.Errorf("failureTail is %d lines, want 10 of Barman's and 20 from the block on", n)
	}

	// Without the block: the last 20 lines, as before.
	plain := "a\n" + strings.Repeat("b\n", 25)
	if got := failureTail(plain); got != lastLines(plain, 20) {
		t.Errorf("failureTail without a barman.log block = %q, want the last 20 lines", got)
	}
}
