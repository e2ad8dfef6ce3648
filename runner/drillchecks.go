package runner

import (
	"os"
	"strings"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

// barmanError is the last error Barman printed in the operation's output
// (a line "ERROR: ..." and the lines that continue it, such as rsync's
// "No space left on device"), masked and short, for the reason: what the
// notification and the alert show.
func barmanError(logPath string) string {
	data, err := os.ReadFile(logPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(string(data), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if !strings.HasPrefix(lines[i], "ERROR: ") {
			continue
		}
		var msg []string
		for _, l := range lines[i:min(i+4, len(lines))] {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, ops.DrillLinePrefix) {
				break
			}
			msg = append(msg, l)
		}
		return clipN(strings.Join(msg, " "), 600)
	}
	return ""
}
