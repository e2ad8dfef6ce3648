package main

import (
	"os"
	"strings"
	"testing"
)

// TestReadmeFirstScreen: a person opening the README sees, before
// scrolling, what it is, the two commands of a clone (the sandbox on a
// fresh machine, and the whole test suite), how to install it and a first
// recovery (issue 23 found install on line 70).
func TestReadmeFirstScreen(t *testing.T) {
	data, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	const screen = 50 // lines
	lines := strings.Split(string(data), "\n")
	firstOf := func(prefix string) (int, bool) {
		for i, line := range lines {
			if strings.HasPrefix(line, prefix) {
				return i + 1, true
			}
		}
		return 0, false
	}
	for _, want := range []string{"make sandbox ", "make check ", "## Install", "## A first recovery"} {
		n, ok := firstOf(want)
		switch {
		case !ok:
			t.Errorf("README.md has no line starting %q", want)
		case n > screen:
			t.Errorf("README.md's first %q is on line %d, past the first screen (%d lines)", want, n, screen)
		}
	}
	install, _ := firstOf("## Install")
	if recovery, _ := firstOf("## A first recovery"); recovery < install {
		t.Errorf("README.md shows a first recovery (line %d) before how to install (line %d)", recovery, install)
	}
}
