// Command testreport reads `go test -json` on standard input and prints what
// a person reads from plain `go test`: each package's result line, and the
// output of every test that failed or was skipped. It ends with one line,
// "N passed, N failed, N skipped", and exits non-zero when a test failed, a
// package did not build, no test ran, or (with -no-skips) a test was skipped.
//
// CI runs the suite through it with -no-skips: a skip there means a tool the
// test needs was not installed, so the run proved less than it says.
package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
)

type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

type report struct {
	verbose        bool
	out            io.Writer
	outputs        map[string][]string // package + "\x00" + test → its output so far
	passed, failed int
	skipped        []string
	failedPackages []string
}

func main() {
	noSkips := flag.Bool("no-skips", false, "fail when any test was skipped")
	verbose := flag.Bool("v", false, "print every test's output as it comes, as go test -v does")
	flag.Parse()

	r := &report{verbose: *verbose, out: os.Stdout, outputs: map[string][]string{}}
	if err := r.read(os.Stdin); err != nil {
		fmt.Fprintln(os.Stderr, "testreport:", err)
		os.Exit(2)
	}
	os.Exit(r.finish(*noSkips))
}

func (r *report) read(in io.Reader) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 0, 1<<20), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		var ev event
		if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &ev) != nil {
			// Build errors and other text go test prints outside its JSON.
			fmt.Fprintln(r.out, string(line))
			continue
		}
		r.handle(ev)
	}
	return sc.Err()
}

func (r *report) handle(ev event) {
	key := ev.Package + "\x00" + ev.Test
	switch ev.Action {
	case "output":
		if r.verbose || ev.Test == "" {
			fmt.Fprint(r.out, ev.Output)
			return
		}
		r.outputs[key] = append(r.outputs[key], ev.Output)
	case "pass":
		if ev.Test != "" {
			r.passed++
		}
		delete(r.outputs, key)
	case "skip":
		if ev.Test != "" {
			r.skipped = append(r.skipped, ev.Package+" "+ev.Test)
			if !r.verbose {
				fmt.Fprint(r.out, strings.Join(r.outputs[key], ""))
			}
		}
		delete(r.outputs, key)
	case "fail":
		if ev.Test == "" {
			r.failedPackages = append(r.failedPackages, ev.Package)
		} else {
			r.failed++
			if !r.verbose {
				fmt.Fprint(r.out, strings.Join(r.outputs[key], ""))
			}
		}
		delete(r.outputs, key)
	}
}

func (r *report) finish(noSkips bool) int {
	code := 0
	if len(r.skipped) > 0 {
		sort.Strings(r.skipped)
		fmt.Fprintf(r.out, "skipped tests (%d):\n", len(r.skipped))
		for _, s := range r.skipped {
			fmt.Fprintln(r.out, "  "+s)
		}
		if noSkips {
			fmt.Fprintln(r.out, "testreport: tests were skipped; every test must run here (install what the skip message names)")
			code = 1
		}
	}
	if len(r.failedPackages) > 0 {
		fmt.Fprintf(r.out, "testreport: failed packages: %s\n", strings.Join(r.failedPackages, ", "))
		code = 1
	}
	if r.failed > 0 {
		code = 1
	}
	if r.passed+r.failed == 0 {
		fmt.Fprintln(r.out, "testreport: no test ran")
		code = 1
	}
	fmt.Fprintf(r.out, "%d passed, %d failed, %d skipped\n", r.passed, r.failed, len(r.skipped))
	return code
}
