//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"strings"
)

// keptBackups is how many of a Barman's newest backups a run leaves from
// the runs before it: each run takes several, and a sandbox used day
// after day would otherwise fill its disk.
const keptBackups = 4

// pruneBackups deletes, with each Barman's own `barman delete`, all but the
// newest keptBackups backups that earlier runs left. A backup Barman
// refuses to delete (kept, or below minimum_redundancy) stays, said on
// standard error. On a fresh sandbox there is nothing to delete.
func pruneBackups() error {
	server := sandbox["SANDBOX_SERVER"]
	for _, b := range barmans {
		out, err := barmanOutput(b, "list-backups", "--minimal", server)
		if err != nil {
			return fmt.Errorf("%s list-backups: %v\n%s", b, err, out)
		}
		ids := strings.Fields(string(out)) // newest first
		if len(ids) <= keptBackups {
			continue
		}
		old := ids[keptBackups:]
		deleted := 0
		for _, id := range old {
			if out, err := barmanOutput(b, "delete", server, id); err != nil {
				fmt.Fprintf(os.Stderr, "e2e: %s: barman delete %s %s: %v (left in place)\n%s", b, server, id, err, out)
				continue
			}
			deleted++
		}
		fmt.Fprintf(os.Stderr, "e2e: %s: deleted %d of the %d backups older than its newest %d\n", b, deleted, len(old), keptBackups)
	}
	return nil
}
