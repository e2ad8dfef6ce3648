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
		// Bidirectional controls (Trojan Source): each one, alone.
		{"lre \u202a x", "lre  x"},
		{"rle \u202b x", "rle  x"},
		{"pdf \u202c x", "pdf  x"},
		{"lro \u202d x", "lro  x"},
		{"rlo \u202e x", "rlo  x"},
		{"lri \u2066 x", "lri  x"},
		{"rli \u2067 x", "rli  x"},
		{"fsi \u2068 x", "fsi  x"},
		{"pdi \u2069 x", "pdi  x"},
		{"lrm \u200e x", "lrm  x"},
		{"rlm \u200f x", "rlm  x"},
		{"alm \u061c x", "alm  x"},
		// Shown through the override, the bytes /srv/exe.zg read as
		// /srv/gz.exe; stripped, they read as they are.
		{"restore /srv/\u202eexe.zg\u202c done", "restore /srv/exe.zg done"},
		{"if ok \u2067\u2066// end\u2069\u2066 then\u2069", "if ok // end then"},
		{"bidi at the end \u202e", "bidi at the end "},
		// Neighbours of the bidi controls and right-to-left text are kept.
		{"zwsp\u200b zwnj\u200c zwj\u200d \u2028 \u2065 \u206a", "zwsp\u200b zwnj\u200c zwj\u200d \u2028 \u2065 \u206a"},
		{"\u2029 \u2026 \u2014 \u20ac \u2070", "\u2029 \u2026 \u2014 \u20ac \u2070"},
		{"عربي ؛ ؟ עברית", "عربي ؛ ؟ עברית"},
		{"\u061b\u061d", "\u061b\u061d"},
	}
	for _, tc := range tests {
		if got := Strip(tc.in); got != tc.want {
			t.Errorf("Strip(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzStrip: whatever the input, the result has no control character but
// tab, line feed and a carriage return before a line feed, no
// bidirectional control, is UTF-8, and stripping it again changes nothing.
func FuzzStrip(f *testing.F) {
	for _, s := range []string{"a\x1b[31mb", "\x1b]0;x\x07", "\u009b1m", "\x9b", "a\r\nb\rc", "\x1bP\x1b\\", "a\u202eb\u202c", "\u2067x\u2069\u200f", "\u061c\xe2\x80"} {
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
			case r >= 0x202a && r <= 0x202e || r >= 0x2066 && r <= 0x2069 || r == 0x200e || r == 0x200f || r == 0x061c:
				t.Fatalf("Strip(%q) = %q keeps bidirectional control %U at %d", s, out, r, i)
			}
		}
		if again := Strip(out); again != out {
			t.Fatalf("Strip is not idempotent on %q: %q then %q", s, out, again)
		}
	})
}

func TestLine(t *testing.T) {
	tests := []struct{ in, want string }{
		{"20261125T080758", "20261125T080758"},
		{"name\twith tab", "name with tab"},
		{"fake\nrow", "fake row"},
		{"crlf\r\nrow", "crlf  row"},
		{"osc52 \x1b]52;c;ZXZpbA==\x07 id", "osc52  id"},
		{"rlo \u202egnp.exe", "rlo gnp.exe"},
		{"c1 \u009b2J csi", "c1  csi"},
	}
	for _, tt := range tests {
		if got := Line(tt.in); got != tt.want {
			t.Errorf("Line(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
