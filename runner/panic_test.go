package runner

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

// The environment of a runner started by TestRunnerPanicLoggedMasked: this
// test binary, run again as a runner whose code panics (panicHelper).
const (
	panicHelperEnv = "RUNNER_TEST_PANIC_AT" // "barman-started" or "before-unlock"
	panicConfigEnv = "RUNNER_TEST_PANIC_CONFIG"
	panicBarmanEnv = "RUNNER_TEST_PANIC_BARMAN"
	// panicMessage carries a password, as a panic quoting a command line
	// or a conninfo would.
	panicMessage = "bug while running host=pg user=barman password=secret dbname=postgres"
)

// panicHelper is a runner process whose code panics at the seam named by
// at, with standard error as a launched runner's (the scope's runner.err).
// It exits as the run subcommand does: 1 with the error on standard error.
func panicHelper(at string) int {
	boom := func() { panic(panicMessage) }
	switch at {
	case "barman-started":
		barmanStarted = func(int) { boom() }
	case "before-unlock":
		beforeUnlock = func(string) { boom() }
	default:
		fmt.Fprintf(os.Stderr, "unknown %s %q\n", panicHelperEnv, at)
		return 64
	}
	inv := Invocation{BarmanConfig: os.Getenv(panicConfigEnv), BarmanCommand: os.Getenv(panicBarmanEnv), LockFD: -1}
	if err := Main(context.Background(), inv, nil, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "pg-backup-api:", err)
		return 1
	}
	return 0
}

// TestRunnerPanicLoggedMasked: a panic in the runner process goes to
// runner.err through the masking log, message and stack, and the process
// exits non-zero; one while an operation runs is recorded as the
// operation's failure first. Without the recovery, the runtime would write
// the panic, password and all, raw to runner.err.
func TestRunnerPanicLoggedMasked(t *testing.T) {
	for _, tc := range []struct {
		at    string
		frame string // a function the stack must show
		op    bool   // an operation is queued, and runs when the panic comes
	}{
		{"barman-started", "runner.(*Runner).runBarman", true},
		{"before-unlock", "runner.(*Runner).Run", false},
	} {
		t.Run(tc.at, func(t *testing.T) {
			e := newEnv(t)
			var id string
			if tc.op {
				id = e.create(t, "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "db_server_two", "active": false}]}`, "08:00:00")
			}
			errPath := filepath.Join(e.Store.StateDir(""), ErrLogName)
			if err := os.MkdirAll(filepath.Dir(errPath), 0o700); err != nil {
				t.Fatal(err)
			}
			errLog, err := os.OpenFile(errPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
			if err != nil {
				t.Fatal(err)
			}
			defer errLog.Close()
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), panicHelperEnv+"="+tc.at, panicConfigEnv+"="+e.Conf, panicBarmanEnv+"="+fakeBarman(t))
			cmd.Stderr = errLog
			runErr := runWithin(t, cmd, 30*time.Second)
			data, err := os.ReadFile(errPath)
			if err != nil {
				t.Fatal(err)
			}
			log := string(data)
			if strings.Contains(log, "secret") {
				t.Errorf("runner.err shows the panic's password:\n%s", log)
			}
			for _, want := range []string{"password=**** dbname=postgres", "goroutine ", tc.frame} {
				if !strings.Contains(log, want) {
					t.Errorf("runner.err lacks %q:\n%s", want, log)
				}
			}
			var exit *exec.ExitError
			if !errors.As(runErr, &exit) || exit.ExitCode() != 1 {
				t.Errorf("the runner ended with %v, want exit status 1", runErr)
			}
			if !tc.op {
				return
			}
			op := e.get(t, "", id)
			if op.Status != ops.StatusFailed || op.Phase == ops.PhaseLost {
				t.Fatalf("operation is %s (%s), want FAILED recorded by the runner, not lost", op.Status, op.Phase)
			}
			if !strings.Contains(op.Reason, "internal error in pg-backup-api's runner (panic: bug while running host=pg user=barman password=****") {
				t.Errorf("reason = %q, want the masked panic as an internal error", op.Reason)
			}
			if strings.Contains(op.Reason+op.Output, "secret") {
				t.Errorf("the recorded result shows the password: reason %q, output %q", op.Reason, op.Output)
			}
		})
	}
}

// runWithin runs cmd, killing it if it is not done in time.
func runWithin(t *testing.T, cmd *exec.Cmd, limit time.Duration) error {
	t.Helper()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		return err
	case <-time.After(limit):
		cmd.Process.Kill()
		<-done
		t.Fatalf("the runner did not exit within %v", limit)
		return nil
	}
}
