package runner

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/pgmask"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// ErrLogMax is the size at which a scope's runner.err is rotated to
// runner.err.1 (one old file is kept), so that the pair never holds much
// more than twice this.
const ErrLogMax = 1 << 20

// ErrLogName is the runner's error log in a scope's state directory: the
// standard error of every runner the Launcher starts for the scope.
const ErrLogName = "runner.err"

// errLogPath is the runner's error log of a scope.
func errLogPath(st *store.Store, server string) string {
	return filepath.Join(st.StateDir(server), ErrLogName)
}

// rotateIfFull renames path to path.1, replacing an older one, once path
// has reached max bytes.
func rotateIfFull(path string, max int64) error {
	fi, err := os.Stat(path)
	if err != nil || fi.Size() < max {
		if errors.Is(err, os.ErrNotExist) {
			err = nil
		}
		return err
	}
	return os.Rename(path, path+".1")
}

// errLog is what a launched runner writes its messages through: passwords
// masked (a message may quote Barman's command line, whose arguments carry
// conninfo strings), and the file rotated at max bytes. The file is the
// runner's standard error, so that whatever else lands there (a crash of
// the runtime) goes to the same place; rotating moves descriptor fd to the
// new file.
type errLog struct {
	mu   sync.Mutex
	path string
	max  int64
	f    *os.File // the open log; its descriptor is fd
	fd   int
	// json says the log is one JSON record a line (--log-format json), so
	// that what errLog itself has to say is written as one too.
	json bool
}

// newErrLog returns an errLog writing through f, standard error, when f is
// the file at path; otherwise nil (a runner started by hand writes to
// wherever its operator put standard error).
func newErrLog(f *os.File, path string, max int64) *errLog {
	fi, err := f.Stat()
	if err != nil {
		return nil
	}
	pi, err := os.Stat(path)
	if err != nil || !os.SameFile(fi, pi) {
		return nil
	}
	return &errLog{path: path, max: max, f: f, fd: int(f.Fd())}
}

// Write masks p and appends it, one message per call. A message longer than
// max is cut to max bytes; a JSON record stays a JSON record, its text cut.
func (l *errLog) Write(p []byte) (int, error) {
	if err := l.append(maskMessage(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// append writes one message, masked already, cut and rotated as Write does.
func (l *errLog) append(msg string) error {
	if int64(len(msg)) > l.max {
		msg = cutMessage(msg, int(l.max))
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if err := l.rotate(int64(len(msg))); err != nil {
		// Losing the rotation must not lose the message.
		io.WriteString(l.f, l.note("cannot rotate "+l.path+": "+err.Error()))
	}
	_, err := io.WriteString(l.f, msg)
	return err
}

// note formats a message of errLog's own as the log's other lines are.
func (l *errLog) note(msg string) string {
	if !l.json {
		return "pg-backup-api: " + msg + "\n"
	}
	rec, _ := json.Marshal(struct {
		Time  string `json:"time"`
		Level string `json:"level"`
		Msg   string `json:"msg"`
	}{time.Now().Format(time.RFC3339Nano), "ERROR", msg})
	return string(rec) + "\n"
}

// rotate makes room for n more bytes. Runners of one scope (runner.parallel
// > 1) share the file: one that finds the file at path is no longer its own
// only follows the one that rotated it, rather than rotating again over the
// old file.
func (l *errLog) rotate(n int64) error {
	fi, err := l.f.Stat()
	if err != nil {
		return err
	}
	pi, err := os.Stat(l.path)
	moved := err != nil || !os.SameFile(fi, pi)
	if !moved && (fi.Size() == 0 || fi.Size()+n <= l.max) {
		return nil
	}
	if !moved {
		if err := os.Rename(l.path, l.path+".1"); err != nil {
			return err
		}
	}
	nf, err := os.OpenFile(l.path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, store.FileMode)
	if err != nil {
		return err
	}
	defer nf.Close()
	return syscall.Dup3(int(nf.Fd()), l.fd, 0)
}

// maskWriter masks the passwords in each message written through it.
type maskWriter struct{ w io.Writer }

func (m maskWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(m.w, maskMessage(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// verbatim returns the writer under a masking one (an errLog or a
// maskWriter), for messages that are masked already: see Runner.Verbatim.
func verbatim(w io.Writer) io.Writer {
	switch w := w.(type) {
	case *errLog:
		return errLogVerbatim{w}
	case maskWriter:
		return w.w
	}
	return w
}

// errLogVerbatim writes to an errLog without masking again.
type errLogVerbatim struct{ l *errLog }

func (v errLogVerbatim) Write(p []byte) (int, error) {
	if err := v.l.append(string(p)); err != nil {
		return 0, err
	}
	return len(p), nil
}

// cutMessage shortens a masked message to at most max bytes. A JSON record
// becomes {"msg": <its first bytes, as a string>, "cut": true}, so that the
// log stays one JSON object a line.
func cutMessage(msg string, limit int) string {
	const cut = "... [cut]\n"
	if !strings.HasPrefix(msg, "{") || !json.Valid([]byte(msg)) {
		return msg[:limit-len(cut)] + cut
	}
	// Escaping at most sextuples a byte (\u00XX).
	keep := limit/6 - len(`{"msg":"","cut":true}`+"\n")
	head := strings.ToValidUTF8(msg[:max(keep, 0)], "")
	rec, _ := json.Marshal(struct {
		Msg string `json:"msg"`
		Cut bool   `json:"cut"`
	}{head, true})
	return string(rec) + "\n"
}

// maskMessage hides the passwords in one message: a JSON record (--log-format
// json) within its strings, so that it stays JSON; a line of text as text.
func maskMessage(p []byte) string {
	if len(p) > 0 && p[0] == '{' {
		return string(pgmask.JSON(p)) // text masking when it is not JSON
	}
	return pgmask.Text(string(p))
}

// maskedError shows err with its passwords masked, and keeps it for
// errors.As (the error code).
type maskedError struct{ err error }

func (e maskedError) Error() string { return pgmask.Text(e.err.Error()) }
func (e maskedError) Unwrap() error { return e.err }
