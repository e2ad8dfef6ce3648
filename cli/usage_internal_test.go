package cli

import (
	"slices"
	"testing"
)

func TestSuggest(t *testing.T) {
	things := [][]string{{"list", "ls"}, {"inspect"}, {"create"}, {"cancel"}, {"remote-ssh-command"}, {"limit", "n"}, {"logs"}}
	for _, tt := range []struct {
		typed string
		want  []string
	}{
		{"lst", []string{"list"}},                             // one edit, by its first name
		{"LS", []string{"list"}},                              // an alias, any case
		{"remot-ssh-command", []string{"remote-ssh-command"}}, // one edit in a long word
		{"remote-sh-comand", []string{"remote-ssh-command"}},  // two
		{"remote-ssh", []string{"remote-ssh-command"}},        // a prefix
		{"insp", []string{"inspect"}},                         // a short prefix
		{"cancle", []string{"cancel"}},                        // a swap is two edits
		{"lgs", []string{"list", "logs"}},                     // both one edit (from ls and logs)
		{"x", nil},                                            // single letters never
		{"n", nil},
		{"frobnicate", nil},
		{"lisst", []string{"list"}}, // nearest only: list is 1, ls 3
	} {
		if got := suggest(tt.typed, things); !slices.Equal(got, tt.want) {
			t.Errorf("suggest(%q) = %q, want %q", tt.typed, got, tt.want)
		}
	}
}

func TestEditDistance(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want int
	}{{"", "", 0}, {"a", "", 1}, {"kitten", "sitting", 3}, {"añb", "ab", 1}, {"flaw", "lawn", 2}} {
		if got := editDistance(tt.a, tt.b); got != tt.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
