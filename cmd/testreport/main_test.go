package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestReport(t *testing.T) {
	const pass = `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}
{"Action":"pass","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Output":"ok  \tp\t0.1s\n"}
{"Action":"pass","Package":"p"}
`
	const skip = `{"Action":"output","Package":"p","Test":"TestB","Output":"    x_test.go:9: fish is not installed\n"}
{"Action":"skip","Package":"p","Test":"TestB"}
`
	const fail = `{"Action":"output","Package":"p","Test":"TestC","Output":"    x_test.go:12: got 1, want 2\n"}
{"Action":"fail","Package":"p","Test":"TestC"}
{"Action":"fail","Package":"p"}
`
	cases := []struct {
		name, in  string
		noSkips   bool
		wantCode  int
		wantLast  string
		wantShown string
	}{
		{"all pass", pass, true, 0, "1 passed, 0 failed, 0 skipped", "ok  \tp"},
		{"skip allowed locally", pass + skip, false, 0, "1 passed, 0 failed, 1 skipped", "fish is not installed"},
		{"skip refused in CI", pass + skip, true, 1, "1 passed, 0 failed, 1 skipped", "p TestB"},
		{"failure", pass + fail, false, 1, "1 passed, 1 failed, 0 skipped", "got 1, want 2"},
		{"build error text", "# p\nx.go:1: syntax error\n" + `{"Action":"fail","Package":"p"}` + "\n", false, 1, "0 passed, 0 failed, 0 skipped", "syntax error"},
		{"nothing ran", `{"Action":"output","Package":"p","Output":"ok  \tp\t0.1s [no tests to run]\n"}` + "\n", false, 1, "0 passed, 0 failed, 0 skipped", "no test ran"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out bytes.Buffer
			r := &report{out: &out, outputs: map[string][]string{}}
			if err := r.read(strings.NewReader(c.in)); err != nil {
				t.Fatal(err)
			}
			code := r.finish(c.noSkips)
			lines := strings.Split(strings.TrimSpace(out.String()), "\n")
			if code != c.wantCode {
				t.Errorf("exit code %d, want %d\n%s", code, c.wantCode, out.String())
			}
			if last := lines[len(lines)-1]; last != c.wantLast {
				t.Errorf("last line %q, want %q", last, c.wantLast)
			}
			if !strings.Contains(out.String(), c.wantShown) {
				t.Errorf("output lacks %q:\n%s", c.wantShown, out.String())
			}
		})
	}
}
