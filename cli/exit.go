package cli

import (
	"errors"
	"fmt"

	"github.com/pg-backup-api/pg-backup-api/internal/termsafe"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/urfave/cli/v2"
)

// Exit codes. Scripts and cron rely on them; they are documented in --help,
// the man page and docs/cli.md.
const (
	ExitOK          = 0
	ExitError       = 1 // an unexpected fault
	ExitUsage       = 2 // bad flags, arguments or payload
	ExitNotFound    = 3 // no such server, model, backup or operation
	ExitFailed      = 4 // the operation ended FAILED (with --wait)
	ExitUnavailable = 5 // Barman's configuration or the store cannot be used
	ExitConflict    = 6 // the request clashes with the current state
	ExitStopped     = 7 // the operation was cancelled or timed out (with --wait)
	ExitSomeRemotes = 8 // with several remotes (-r a,b or -r all): some failed; the others' answers are shown
)

// ExitWaitTimeout is wait --timeout giving up before the operation ended, as
// timeout(1) exits.
const ExitWaitTimeout = 124

// exitCodeFor maps an engine error to an exit code.
func exitCodeFor(err error) int {
	switch ops.ErrorCode(err) {
	case ops.EINVALID:
		return ExitUsage
	case ops.ENOTFOUND:
		return ExitNotFound
	case ops.EUNAVAILABLE:
		return ExitUnavailable
	case ops.ECONFLICT:
		return ExitConflict
	}
	return ExitError
}

// exitError is the one place where an error a command returns becomes an
// exit status and its message: commands return engine errors (ops.Errorf)
// and plain errors as they are, and the application's runner (loadFirst)
// maps them here. An ExitCoder (a usage error, an outcome such as FAILED)
// has its status already.
func exitError(err error) error {
	if err == nil {
		return nil
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		return err
	}
	return cli.Exit(fmt.Sprintf("pg-backup-api: %v", err), exitCodeFor(err))
}

// usageError reports a bad invocation; the command's action adds where to
// read its usage (see withHelpHint).
func usageError(format string, args ...any) error {
	return &usageErr{msg: fmt.Sprintf(format, args...)}
}

const exitCodesHelp = `EXIT STATUS:
   0  success (with --wait: the operation ended DONE)
   1  unexpected error
   2  usage error: bad flags, arguments or payload (the error and a hint on stderr, nothing on stdout)
   3  not found: server, model, backup or operation
   4  the operation ended FAILED (with --wait)
   5  unavailable: Barman's configuration, the store or the server cannot be used
   6  conflict with the current state (e.g. cancelling an operation that ended)
   7  the operation was cancelled or timed out (with --wait)
   8  some remotes failed (with -r NAME,NAME... or -r all): they are named on stderr, the others are shown
   124  wait --timeout passed before the operation ended; it goes on`

// ExitCode returns the process exit code for an error returned by the app,
// and the message to print (empty when there is none).
func ExitCode(err error) (int, string) {
	if err == nil {
		return ExitOK, ""
	}
	var ec cli.ExitCoder
	if errors.As(err, &ec) {
		return ec.ExitCode(), termsafe.Strip(err.Error())
	}
	// Anything else comes from flag parsing in urfave/cli.
	return ExitUsage, "pg-backup-api: " + termsafe.Strip(err.Error())
}
