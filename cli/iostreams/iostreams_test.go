package cli

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
	s := newIOStreams(f, f)
	text := "x\x1b]0;t\x07y"
	if s.outTTY || s.errTTY || s.colorOut() || s.errWidth != 0 {
		t.Errorf("a regular file taken for a terminal: %+v", s)
	}
	if s.safeOut(text) != text || s.safeErr(text) != text {
		t.Errorf("a regular file must get %q unchanged", text)
	}
	if w := s.progressWidth(); w != 100 {
		t.Errorf("progressWidth off a terminal = %d, want 100", w)
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
		s := newIOStreams(tty, tty)
		if !s.outTTY || !s.errTTY || !s.colorOut() || s.errWidth != tc.cols {
			t.Errorf("%d columns: want both terminals, colour and width %d, got %+v", tc.cols, tc.cols, s)
		}
		if got := s.safeOut("x\x1b]0;t\x07y"); got != "xy" {
			t.Errorf("safeOut on a terminal = %q, want %q", got, "xy")
		}
		if got := s.progressWidth(); got != tc.width {
			t.Errorf("%d columns: progressWidth = %d, want %d", tc.cols, got, tc.width)
		}
		t.Setenv("NO_COLOR", "no")
		if newIOStreams(tty, tty).colorOut() {
			t.Errorf("NO_COLOR=no: colour on a terminal; NO_COLOR counts whatever its value")
		}
		t.Setenv("NO_COLOR", "")
		t.Setenv("TERM", "dumb")
		if s := newIOStreams(tty, tty); s.colorOut() || !s.outTTY {
			t.Errorf("TERM=dumb: want a terminal without colour, got %+v", s)
		}
	}
}
