package termsafe

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestStrip(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain text\nwith\ttabs\n", "plain text\nwith\ttabs\n"},
		{"café, 日本, £5 «ok» °C", "café, 日本, £5 «ok» °C"},
		{"red \x1b[31mERROR\x1b[0m done", "red ERROR done"},
		{"clear\x1b[2J\x1b[H screen", "clear screen"},
		{"title \x1b]0;pwned\x07 set", "title  set"},
		{"clipboard \x1b]52;c;ZXZpbA==\x1b\\ written", "clipboard  written"},
		{"link \x1b]8;;http://evil/\x1b\\click\x1b]8;;\x1b\\ here", "link click here"},
		{"dcs \x1bP1$r0m\x1b\\ end", "dcs  end"},
		{"apc \x1b_hidden\x1b\\ end", "apc  end"},
		{"reset \x1bc now", "reset  now"},
		{"charset \x1b(B ok", "charset  ok"},
		{"keypad \x1b= ok", "keypad  ok"},
		{"c1 csi \u009b31m red", "c1 csi  red"},
		{"c1 osc \u009d0;t\u009c end", "c1 osc  end"},
		{"c1 osc bel \u009d0;t\x07 end", "c1 osc bel  end"},
		{"raw 8-bit csi \x9b31m", "raw 8-bit csi \ufffd31m"},
		{"bell\x07 bs\x08 nul\x00 del\x7f vt\x0b ff\x0c", "bell bs nul del vt ff"},
		{"progress 10%\rprogress 20%\r\n", "progress 10%progress 20%\r\n"},
		{"fake\rreal", "fakereal"},
		{"cut \x1b]0;never ends", "cut "},
		{"cut \x1b[31", "cut "},
		{"trailing esc \x1b", "trailing esc "},
		{"csi broken by newline \x1b[3\nnext", "csi broken by newline \nnext"},
		{"nested \x1b[\x1b]0;t\x07x", "nested x"},
	}
	for _, tc := range tests {
		if got := Strip(tc.in); got != tc.want {
			t.Errorf("Strip(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzStrip: whatever the input, the result has no control character but
// tab, line feed and a carriage return before a line feed, is UTF-8, and
// stripping it again changes nothing.
func FuzzStrip(f *testing.F) {
	for _, s := range []string{"a\x1b[31mb", "\x1b]0;x\x07", "\u009b1m", "\x9b", "a\r\nb\rc", "\x1bP\x1b\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := Strip(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Strip(%q) = %q is not UTF-8", s, out)
		}
		for i, r := range out {
			switch {
			case r == '\n' || r == '\t':
			case r == '\r' && strings.HasPrefix(out[i+1:], "\n"):
			case r < 0x20 || r == 0x7f || r >= 0x80 && r < 0xa0:
				t.Fatalf("Strip(%q) = %q keeps control %U at %d", s, out, r, i)
			}
		}
		if again := Strip(out); again != out {
			t.Fatalf("Strip is not idempotent on %q: %q then %q", s, out, again)
		}
	})
}
