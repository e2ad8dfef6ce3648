// Package iostreams is the process's standard streams as the commands see
// them, in one place as gh does it: whether standard output and standard
// error are terminals, whether colour is wanted (NO_COLOR, TERM=dumb), and
// how wide standard error's terminal is for the progress line are decided
// once, by System or New, and every command reads them from here. Text from
// elsewhere (Barman's output, a payload) is stripped of its terminal
// controls exactly where these streams say a terminal will show it.
//
// Test returns streams backed by buffers whose terminal, colour and width
// a test sets, so that terminal rendering is tested without a real
// pseudo-terminal.
package iostreams

import (
	"bytes"
	"io"
	"os"

	"github.com/mattn/go-isatty"
	"github.com/pg-backup-api/pg-backup-api/internal/termsafe"
	"golang.org/x/sys/unix"
)

// IOStreams are standard input, output and error and what they are.
type IOStreams struct {
	In     io.Reader
	Out    io.Writer
	ErrOut io.Writer

	outTTY, errTTY bool
	// noColor: NO_COLOR is set, to anything (no-color.org), or TERM=dumb
	// says the terminal shows escape codes as text (Emacs' shell, some CI
	// logs). The --no-color flag is read per command, by the printer.
	noColor bool
	// errWidth is the column count of standard error's terminal; 0 when it
	// is not a terminal or does not say.
	errWidth int
}

// System is the process's own standard streams.
func System() *IOStreams { return New(os.Stdin, os.Stdout, os.Stderr) }

// New is in, out and errOut as they are: a terminal when one is an
// *os.File on a terminal; colour as the environment says. A nil stream is
// the process's own (as urfave/cli does for an App without writers).
func New(in io.Reader, out, errOut io.Writer) *IOStreams {
	if in == nil {
		in = os.Stdin
	}
	if out == nil {
		out = os.Stdout
	}
	if errOut == nil {
		errOut = os.Stderr
	}
	s := &IOStreams{
		In: in, Out: out, ErrOut: errOut,
		outTTY:  isTerminal(out),
		errTTY:  isTerminal(errOut),
		noColor: os.Getenv("NO_COLOR") != "" || os.Getenv("TERM") == "dumb",
	}
	if s.errTTY {
		s.errWidth = terminalWidth(errOut.(*os.File))
	}
	return s
}

// Test returns streams on buffers: standard input, output and error, in
// that order. Neither output is a terminal and colour is allowed until the
// test says otherwise (SetStdoutTTY, SetStderrTTY, SetColorEnabled,
// SetStderrWidth); the environment is not read.
func Test() (*IOStreams, *bytes.Buffer, *bytes.Buffer, *bytes.Buffer) {
	in, out, errOut := &bytes.Buffer{}, &bytes.Buffer{}, &bytes.Buffer{}
	return &IOStreams{In: in, Out: out, ErrOut: errOut}, in, out, errOut
}

// SetStdoutTTY makes standard output count as a terminal, or not.
func (s *IOStreams) SetStdoutTTY(tty bool) { s.outTTY = tty }

// SetStderrTTY makes standard error count as a terminal, or not.
func (s *IOStreams) SetStderrTTY(tty bool) { s.errTTY = tty }

// SetColorEnabled says whether the environment allows colour (as NO_COLOR
// and TERM=dumb would forbid it).
func (s *IOStreams) SetColorEnabled(on bool) { s.noColor = !on }

// SetStderrWidth sets the column count of standard error's terminal.
func (s *IOStreams) SetStderrWidth(cols int) { s.errWidth = cols }

// IsStdoutTTY reports whether standard output is a terminal.
func (s *IOStreams) IsStdoutTTY() bool { return s.outTTY }

// IsStderrTTY reports whether standard error is a terminal.
func (s *IOStreams) IsStderrTTY() bool { return s.errTTY }

// StderrWidth is the column count of standard error's terminal; 0 when it
// is not a terminal or does not say.
func (s *IOStreams) StderrWidth() int { return s.errWidth }

// ColorEnabled reports whether standard output may be coloured, flags aside.
func (s *IOStreams) ColorEnabled() bool { return s.outTTY && !s.noColor }

// SafeOut is text as it may be written to standard output: without
// terminal controls on a terminal, unchanged in a file or a pipe.
func (s *IOStreams) SafeOut(text string) string { return safeFor(s.outTTY, text) }

// SafeErr is SafeOut for standard error.
func (s *IOStreams) SafeErr(text string) string { return safeFor(s.errTTY, text) }

func safeFor(tty bool, text string) string {
	if tty {
		return termsafe.Strip(text)
	}
	return text
}

// ProgressWidth is the most a progress line may hold: 100 bytes, less on a
// narrower terminal, where a wrapped line could not be redrawn in place.
func (s *IOStreams) ProgressWidth() int {
	const most, least = 100, 20
	if w := s.errWidth - 1; w > 0 && w < most {
		return max(w, least)
	}
	return most
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
