package faults

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// TestNotificationThatCannotBeQueued: notifications are configured but
// the outbox cannot be written (a regular file stands where its directory
// must be; permission bits would not stop root). The operations still end
// DONE as recorded, the runner goes on to the next one, and each lost
// notification is logged in the scope's runner.err, the log of the process
// that recorded the end.
func TestNotificationThatCannotBeQueued(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	// Loopback port 9 (discard): never reached, as no serve runs.
	testenv.WriteFile(t, e.TOML, noBarmanCheck+"[[notify.webhooks]]\nurl = \"http://127.0.0.1:9/hook\"\nsecret = \"s3cret-for-hmac\"\n")
	st := e.store()
	outbox := filepath.Join(st.StateDir(""), "notify")
	testenv.WriteFile(t, outbox, "in the outbox's way\n")
	penv := e.procEnv()

	ids := []string{e.createRecovery(t, penv, "/srv/restore/a"), e.createRecovery(t, penv, "/srv/restore/b")}
	for _, id := range ids {
		testenv.WaitFor(t, 30*time.Second, "operation "+id+" to end", func() bool {
			return e.get(t, srv, id).Status != ops.StatusInProgress
		})
		op := e.get(t, srv, id)
		if op.Status != ops.StatusDone || op.ExitCode == nil || *op.ExitCode != 0 || op.Reason != "" {
			t.Errorf("operation %s: %s, exit %v, reason %q; want DONE as Barman ended it, whatever became of its notification", id, op.Status, op.ExitCode, op.Reason)
		}
	}
	errLog := filepath.Join(st.StateDir(srv), "runner.err")
	var log string
	testenv.WaitFor(t, 10*time.Second, "runner.err to log both lost notifications", func() bool {
		data, _ := os.ReadFile(errLog)
		log = string(data)
		return strings.Count(log, "cannot queue the notification of an operation that ended") == 2
	})
	for _, line := range strings.Split(strings.TrimSpace(log), "\n") {
		if !strings.Contains(line, "cannot queue the notification") {
			continue
		}
		if !strings.Contains(line, "level=ERROR") || !strings.Contains(line, "server="+srv) || !strings.Contains(line, outbox) || !strings.Contains(line, "not a directory") {
			t.Errorf("runner.err line does not say which operation, where and why: %s", line)
		}
	}
	for _, id := range ids {
		if !strings.Contains(log, "operation_id="+id) {
			t.Errorf("runner.err does not name operation %s:\n%s", id, log)
		}
	}
	if data, err := os.ReadFile(outbox); err != nil || string(data) != "in the outbox's way\n" {
		t.Errorf("the file in the outbox's way was changed: %q, %v", data, err)
	}
}
