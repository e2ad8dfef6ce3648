package cli

// Terminal handling, in one place as gh does it with its iostreams: whether
// standard output and standard error are terminals, whether colour is
// wanted (NO_COLOR, TERM=dumb), and how wide standard error's terminal is for the
// progress line are decided once per process, in NewApp, and every command
// reads them from there. Text from elsewhere (Barman's output, a payload)
// is stripped of its terminal controls exactly where these streams say a
// terminal will show it.

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/pg-backup-api/pg-backup-api/internal/termsafe"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/urfave/cli/v2"
	"golang.org/x/sys/unix"
)

// ioStreams is the process's standard output and standard error as found
// when the application was built.
type ioStreams struct {
	out, errOut    io.Writer
	outTTY, errTTY bool
	// noColor: NO_COLOR is set, to anything (no-color.org), or TERM=dumb
	// says the terminal shows escape codes as text (Emacs' shell, some CI
	// logs). The --no-color flag is read per command, by newPrinter.
	noColor bool
	// errWidth is the column count of standard error's terminal; 0 when it
	// is not a terminal or does not say.
	errWidth int
}

// ioKey is where NewApp leaves the streams in the application's Metadata,
// so that every command's context carries them.
const ioKey = "pg-backup-api/iostreams"

func newIOStreams(out, errOut io.Writer) *ioStreams {
	// As urfave/cli does for an App without writers.
	if out == nil {
		out = os.Stdout
	}
	if errOut == nil {
		errOut = os.Stderr
	}
	s := &ioStreams{
		out: out, errOut: errOut,
		outTTY:  isTerminal(out),
		errTTY:  isTerminal(errOut),
		noColor: os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb",
	}
	if s.errTTY {
		s.errWidth = terminalWidth(errOut.(*os.File))
	}
	return s
}

// ioOf returns the streams NewApp decided on.
func ioOf(c *cli.Context) *ioStreams {
	if s, ok := c.App.Metadata[ioKey].(*ioStreams); ok {
		return s
	}
	// An App not built by NewApp (none is today): decide now.
	return newIOStreams(c.App.Writer, c.App.ErrWriter)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

func terminalWidth(f *os.File) int {
	ws, err := unix.IoctlGetWinsize(int(f.Fd()), unix.TIOCGWINSZ)
	if err != nil {
		return 0
	}
	return int(ws.Col)
}

// safeOut is s as it may be written to standard output: without terminal
// controls on a terminal, unchanged in a file or a pipe.
func (s *ioStreams) safeOut(text string) string { return safeFor(s.outTTY, text) }

// safeErr is safeOut for standard error.
func (s *ioStreams) safeErr(text string) string { return safeFor(s.errTTY, text) }

func safeFor(tty bool, text string) string {
	if tty {
		return termsafe.Strip(text)
	}
	return text
}

// colorOut reports whether standard output may be coloured, flags aside.
func (s *ioStreams) colorOut() bool { return s.outTTY && !s.noColor }

// progressWidth is the most a progress line may hold: 100 bytes, less on a
// narrower terminal, where a wrapped line could not be redrawn in place.
func (s *ioStreams) progressWidth() int {
	const most, least = 100, 20
	if w := s.errWidth - 1; w > 0 && w < most {
		return max(w, least)
	}
	return most
}

// progress draws a one-line status on standard error while waiting, when
// that is a terminal and the results are not JSON.
type progress struct {
	on    bool
	w     io.Writer
	width int
	start time.Time
}

func newProgress(c *cli.Context, p *printer) *progress {
	s := ioOf(c)
	return &progress{on: s.errTTY && p.format != formatJSON, w: s.errOut, width: s.progressWidth(), start: time.Now()}
}

func (pr *progress) update(op *ops.Operation) {
	if !pr.on {
		return
	}
	line := lastLines(op.Output, 1)
	if i := strings.LastIndexByte(line, '\n'); i >= 0 {
		line = line[i+1:]
	}
	msg := fmt.Sprintf("%s %s %s", op.ID, op.Phase, humanDuration(time.Since(pr.start)))
	if line != "" {
		msg += " | " + termsafe.Strip(ops.MaskSecrets(line)) // pr.on: a terminal
	}
	if len(msg) > pr.width {
		msg = msg[:pr.width-3] + "..."
	}
	fmt.Fprintf(pr.w, "\r\x1b[K%s", msg)
}

func (pr *progress) done() {
	if pr.on {
		fmt.Fprint(pr.w, "\r\x1b[K")
	}
}
