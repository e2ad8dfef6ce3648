package main

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeFirstScreen: an operator opening the README sees, before
// scrolling, what it is, how to install it and a first recovery; the
// developer's sandbox and the reference come after (issue 23 found
// `make sandbox` and `make check` where install should be).
func TestReadmeFirstScreen(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	const screen = 50 // lines
	lines := strings.Split(string(data), "\n")
	at := map[string]int{}
	for i, line := range lines {
		if strings.HasPrefix(line, "## ") {
			if _, seen := at[line]; !seen {
				at[line] = i + 1
			}
		}
	}
	for _, h := range []string{"## Install", "## A first recovery"} {
		n, ok := at[h]
		switch {
		case !ok:
			t.Errorf("README.md has no %q section", h)
		case n > screen:
			t.Errorf("README.md's %q is on line %d, past the first screen (%d lines)", h, n, screen)
		}
	}
	if n, ok := at["## Install"]; ok && at["## A first recovery"] < n {
		t.Errorf("README.md shows a first recovery (line %d) before how to install (line %d)", at["## A first recovery"], n)
	}
	for i, line := range lines[:min(screen, len(lines))] {
		if strings.HasPrefix(line, "make sandbox") || strings.HasPrefix(line, "make check") {
			t.Errorf("README.md line %d, on the first screen, is the developer's %q: it belongs under the sandbox section", i+1, line)
		}
	}
}
