package iostreams

import (
	"os"
	"testing"

	"github.com/creack/pty"
)

// Off a terminal the streams keep every byte, draw no progress and colour
// nothing.
func TestIOStreamsOffATerminal(t *testing.T) {
	t.Setenv("NO_COLOR", "")
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := New(nil, f, f)
	text := "x\x1b]0;t\x07y"
	if s.outTTY || s.errTTY || s.ColorEnabled() || s.errWidth != 0 {
		t.Errorf("a regular file taken for a terminal: %+v", s)
	}
	if s.SafeOut(text) != text || s.SafeErr(text) != text {
		t.Errorf("a regular file must get %q unchanged", text)
	}
	if w := s.ProgressWidth(); w != 100 {
		t.Errorf("ProgressWidth off a terminal = %d, want 100", w)
	}
}

// On a terminal the streams strip controls, colour unless NO_COLOR (whatever
// its value) or TERM=dumb says not to, and fit the progress line to the width.
func TestIOStreamsOnATerminal(t *testing.T) {
	ptmx, tty, err := pty.Open()
	if err != nil {
		t.Fatalf("opening a pseudo-terminal: %v", err)
	}
	defer ptmx.Close()
	defer tty.Close()
	for _, tc := range []struct {
		cols, width int
	}{{160, 100}, {60, 59}, {8, 20}} {
		if err := pty.Setsize(tty, &pty.Winsize{Rows: 24, Cols: uint16(tc.cols)}); err != nil {
			t.Fatal(err)
		}
		t.Setenv("NO_COLOR", "")
		t.Setenv("TERM", "xterm-256color")
		s := New(nil, tty, tty)
		if !s.outTTY || !s.errTTY || !s.ColorEnabled() || s.errWidth != tc.cols {
			t.Errorf("%d columns: want both terminals, colour and width %d, got %+v", tc.cols, tc.cols, s)
		}
		if got := s.SafeOut("x\x1b]0;t\x07y"); got != "xy" {
			t.Errorf("SafeOut on a terminal = %q, want %q", got, "xy")
		}
		if got := s.ProgressWidth(); got != tc.width {
			t.Errorf("%d columns: ProgressWidth = %d, want %d", tc.cols, got, tc.width)
		}
		t.Setenv("NO_COLOR", "no")
		if New(nil, tty, tty).ColorEnabled() {
			t.Errorf("NO_COLOR=no: colour on a terminal; NO_COLOR counts whatever its value")
		}
		t.Setenv("NO_COLOR", "")
		t.Setenv("TERM", "dumb")
		if s := New(nil, tty, tty); s.ColorEnabled() || !s.outTTY {
			t.Errorf("TERM=dumb: want a terminal without colour, got %+v", s)
		}
	}
}

// Test's streams are what a test makes them, whatever the environment.
func TestTestStreams(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	s, in, out, errOut := Test()
	if s.In != in || s.Out != out || s.ErrOut != errOut {
		t.Fatal("Test's streams are not the buffers it returned")
	}
	if s.IsStdoutTTY() || s.IsStderrTTY() || s.ColorEnabled() || s.ProgressWidth() != 100 {
		t.Errorf("Test: want no terminal, no colour and the widest progress line, got %+v", s)
	}
	s.SetStdoutTTY(true)
	s.SetStderrTTY(true)
	s.SetStderrWidth(60)
	if !s.ColorEnabled() {
		t.Error("Test on a terminal: NO_COLOR from the environment turned colour off")
	}
	if got := s.SafeErr("x\x1b]0;t\x07y"); got != "xy" {
		t.Errorf("SafeErr on a terminal = %q, want %q", got, "xy")
	}
	if got := s.ProgressWidth(); got != 59 {
		t.Errorf("ProgressWidth at 60 columns = %d, want 59", got)
	}
	s.SetColorEnabled(false)
	if s.ColorEnabled() {
		t.Error("SetColorEnabled(false): colour still on")
	}
}
