package runner

import (
	"fmt"
	"os"
	"strings"

	"github.com/pg-backup-api/pg-backup-api/barman"
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

// drillTargetUnsupported refuses a drill whose job names a recovery target
// that the drill's Barman command does not pass (no row of barman.Options
// for a drill): it would restore the backup to the end of its WAL, and a
// DONE would claim a point in time that was never reached.
func drillTargetUnsupported(op *ops.Operation) error {
	if op.Job == nil {
		return nil
	}
	for _, k := range op.Job.Keys() {
		if !strings.HasPrefix(k, "target_") {
			continue
		}
		taken := false
		for _, o := range barman.Options {
			taken = taken || (o.Type == ops.DrillOp && o.Key == k)
		}
		if !taken {
			return &drillStep{"prepare", fmt.Sprintf("the drill names a recovery target (%q), which a drill does not apply: it would restore backup %s to the end of its WAL and prove nothing about that point in time; leave the target out, or name the backup to drill with \"backup_id\"", k, op.ResolvedBackupID())}
		}
	}
	return nil
}
