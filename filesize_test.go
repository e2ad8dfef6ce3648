package main

import (
	"bufio"
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// maxFileLines bounds every non-test, non-generated .go file of the
// repository: past it a file holds more than one room, and a newcomer has
// to read all of it to find one. Split it along its seams instead (see
// store/index.go, indexentry.go and indexfile.go).
const maxFileLines = 600

// generated is the marker Go's tools put in generated files.
var generated = regexp.MustCompile(`(?m)^// Code generated .* DO NOT EDIT\.$`)

func TestNoGoFileOverMaxLines(t *testing.T) {
	checked := 0
	err := filepath.WalkDir(".", func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if path != "." && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata" || d.Name() == "vendor") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if generated.Match(data) {
			return nil
		}
		checked++
		if n := countLines(data); n > maxFileLines {
			t.Errorf("%s has %d lines, over %d: split it along its seams into files a newcomer can read whole", path, n, maxFileLines)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("only %d .go files checked: the walk did not start at the repository's root", checked)
	}
}

func countLines(data []byte) int {
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	for sc.Scan() {
		n++
	}
	return n
}
