package testenv

import (
	"bytes"
	"context"
	"errors"
	"os/exec"
	"strings"
	"time"
)

// RunTimeout bounds a run of the binary by RunBinary: a liveness bound, far
// above what any command a test runs should take.
const RunTimeout = 60 * time.Second

// Run is how a run of a program ended.
type Run struct {
	Stdout, Stderr string
	// Code is the exit status; -1 when the program did not exit by itself
	// (a signal, the timeout) or did not start.
	Code int
	// Err is why the program did not start or did not exit by itself; nil
	// when it exited, whatever its status.
	Err error
	// TimedOut: RunTimeout passed and the program was killed.
	TimedOut bool
}

// RunBinary runs binary with env (the whole environment; nil inherits the
// test's) and stdin ("": none), waits for it (RunTimeout at most) and reports how it
// ended. What a failure to run means is the caller's to say: some run it
// from workers that may not stop the test.
func RunBinary(binary string, env []string, stdin string, args ...string) Run {
	ctx, cancel := context.WithTimeout(context.Background(), RunTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, binary, args...)
	cmd.Env = env
	if stdin != "" {
		cmd.Stdin = strings.NewReader(stdin)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := Run{Stdout: stdout.String(), Stderr: stderr.String(), TimedOut: ctx.Err() != nil}
	var ee *exec.ExitError
	switch {
	case err == nil:
	case errors.As(err, &ee) && ee.Exited():
		r.Code = ee.ExitCode()
	default:
		r.Code, r.Err = -1, err
	}
	return r
}
