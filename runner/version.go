package runner

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

// BarmanVersion returns a function that asks `barman -v` for the installed
// version.
func BarmanVersion(barmanCommand string) func() (ops.Version, error) {
	return func() (ops.Version, error) {
		argv := strings.Fields(barmanCommand)
		if len(argv) == 0 {
			argv = []string{"barman"}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		out, err := exec.CommandContext(ctx, argv[0], append(argv[1:], "-v")...).Output()
		if err != nil {
			return ops.Version{}, fmt.Errorf("%s -v: %w", argv[0], err)
		}
		return ops.ParseBarmanVersion(string(out))
	}
}
