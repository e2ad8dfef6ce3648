// Package termsafe makes text that comes from elsewhere -- Barman's output,
// a payload someone sent -- safe to print on a terminal: such text may hold
// escape sequences that move the cursor, clear the screen, set the window
// title, write the clipboard (OSC 52) or make a link, so on a terminal they
// are removed. So are Unicode's bidirectional controls, which make a
// terminal show text in an order other than the one it is read and run in
// (Trojan Source, CVE-2021-42574). Files, pipes and JSON output keep the
// bytes as they are:
// whether a stream is a terminal is decided once per process by the
// command line's iostreams (cli/iostreams.go), which calls Strip.
package termsafe

import (
	"strings"
	"unicode/utf8"
)

const (
	esc = 0x1b
	bel = 0x07
)

// Strip removes from s every escape sequence (CSI, OSC, DCS, SOS, PM, APC,
// and two- or three-byte ESC sequences, in their 7-bit and C1 forms) and
// every other control character but tab and line feed; a carriage return
// is kept only before a line feed, since alone it lets later text overwrite
// the line. A sequence that is not terminated is removed to the end of s,
// so a sequence cut in two by a streaming reader leaves no control behind.
// Bytes that are not UTF-8 become U+FFFD: a terminal not in UTF-8 mode
// would read a lone 0x9b as CSI.
//
// Bidirectional controls (isBidi) are removed too, as C0 and C1 controls
// are, rather than shown as a placeholder: left in, an override or isolate
// can make a path or a backup ID read as another; removed, the operator
// sees the characters in their logical order, which is what the bytes say.
// Right-to-left letters themselves are kept and reordered by a terminal
// that implements the bidirectional algorithm, as in any other text.
func Strip(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b.WriteRune(utf8.RuneError)
			i++
		case r == esc:
			i = skipEscape(s, i+1)
		case r == 0x9b: // CSI
			i = skipCSI(s, i+size)
		case r == 0x90 || r == 0x98 || r == 0x9d || r == 0x9e || r == 0x9f: // DCS, SOS, OSC, PM, APC
			i = skipString(s, i+size)
		case r == '\r':
			if i+1 < len(s) && s[i+1] == '\n' {
				b.WriteByte('\r')
			}
			i++
		case r == '\n' || r == '\t':
			b.WriteRune(r)
			i += size
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || isBidi(r):
			i += size
		default:
			b.WriteString(s[i : i+size])
			i += size
		}
	}
	return b.String()
}

// clean reports whether s needs no change: valid UTF-8 with no control
// character but tab and line feed and no bidirectional control.
func clean(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 && c != '\n' && c != '\t' || c == 0x7f || c == 0xc2 {
			return false // 0xc2 leads every C1 control
		}
		// 0xd8 and 0xe2 lead every bidirectional control; other text
		// with them (Arabic, dashes, quotes, the euro sign) stays fast.
		if c == 0xd8 || c == 0xe2 {
			if r, _ := utf8.DecodeRuneInString(s[i:]); isBidi(r) {
				return false
			}
		}
	}
	return utf8.ValidString(s)
}

// isBidi reports whether r is one of Unicode's explicit bidirectional
// formatting characters: the embeddings and overrides (U+202A-U+202E), the
// isolates (U+2066-U+2069) and the marks (U+200E, U+200F, U+061C). The
// marks cannot reorder text on their own but can move neutral characters
// across an embedded right-to-left run, so they go too.
func isBidi(r rune) bool {
	return r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 ||
		r == 0x200e || r == 0x200f || r == 0x061c
}

// skipEscape returns where the sequence whose ESC ends before i ends.
func skipEscape(s string, i int) int {
	if i >= len(s) {
		return i
	}
	switch s[i] {
	case '[':
		return skipCSI(s, i+1)
	case ']', 'P', 'X', '^', '_':
		return skipString(s, i+1)
	}
	// ESC, intermediate bytes (0x20-0x2f), then one final byte.
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
		i++
	}
	return i
}

// skipCSI returns the end of a control sequence whose introducer ends
// before i: parameter and intermediate bytes, then a final byte.
func skipCSI(s string, i int) int {
	for i < len(s) {
		c := s[i]
		i++
		if c >= 0x40 && c <= 0x7e {
			return i
		}
		if c < 0x20 || c > 0x7e {
			// Not a CSI byte: the sequence is broken; stop here and let
			// the byte be judged on its own.
			return i - 1
		}
	}
	return i
}

// skipString returns the end of a control string (OSC and the like) whose
// introducer ends before i: up to and including BEL, ESC \ or ST (U+009C).
func skipString(s string, i int) int {
	for i < len(s) {
		switch {
		case s[i] == bel:
			return i + 1
		case s[i] == esc && i+1 < len(s) && s[i+1] == '\\':
			return i + 2
		case strings.HasPrefix(s[i:], "\u009c"):
			return i + len("\u009c")
		}
		i++
	}
	return i
}

// Line is Strip for a value shown on one line or in one table cell (an ID,
// a name, a type, a status): tabs, line feeds and carriage returns become
// spaces as well, since there they would forge a row or a column of their
// own. Text that is clean already is returned as it is.
func Line(s string) string {
	s = Strip(s)
	if strings.ContainsAny(s, "\t\n\r") {
		s = strings.Map(func(r rune) rune {
			if r == '\t' || r == '\n' || r == '\r' {
				return ' '
			}
			return r
		}, s)
	}
	return s
}
