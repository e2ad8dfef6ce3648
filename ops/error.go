package ops

import (
	"errors"
	"fmt"
	"io/fs"
)

// Error codes shared by every door into the engine. The HTTP layer maps them
// to status codes and the CLI to exit codes, so both always agree.
const (
	EINVALID     = "invalid"     // the request is wrong; fix it and retry
	ENOTFOUND    = "not_found"   // a server, model, backup or operation does not exist
	ECONFLICT    = "conflict"    // the request clashes with the current state
	EUNAVAILABLE = "unavailable" // Barman or the store cannot be reached right now
	EINTERNAL    = "internal"    // a fault of ours
)

// Error is a domain error: a code for machines and a message for people.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Message }

// Errorf returns a domain error with the given code.
func Errorf(code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first domain error in err's chain, or
// EINTERNAL for any other error.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	if errors.Is(err, fs.ErrPermission) {
		return EUNAVAILABLE // a file's owner to fix, not a request
	}
	return EINTERNAL
}

// ErrorMessage returns the text to show a user for err.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if !errors.As(err, &e) && errors.Is(err, fs.ErrPermission) {
		// Most often a command once run as root left files that Barman's
		// user, whom serve and the runners run as, cannot write.
		return err.Error() + "; this process's user may not use that file: `pg-backup-api doctor` (as root) lists the files that are not Barman's user's and the chown that fixes them"
	}
	return err.Error()
}
