package cli_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

// TestTerminalControlsStripped: Barman's output may hold escape sequences
// (a title, a cleared screen, the clipboard through OSC 52). On a terminal,
// inspect, logs and --follow print it without them; through a pipe and in
// -o json the bytes stay as Barman wrote them (issue 14, defect 4).
func TestTerminalControlsStripped(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	barman := scriptBarman(t, `printf 'before \033]0;pwned\007 \033[2J mid\n'; sleep 1; printf 'after \033]52;c;ZXZpbA==\033\\ \302\23331m end\n'`+"\n")
	global := []string{"--barman-config", e.Conf, "--barman-command", barman}
	r := execBinary(t, nil, "", append(global, "create", "config-update", "--changes", instanceChanges)...)
	if r.Code != 0 {
		t.Fatalf("create: %v", r)
	}
	id := strings.TrimSpace(r.Stdout)
	controls := []string{"\x1b]", "\x1b[2J", "\a", "\u009b"}
	words := []string{"before", "mid", "after", "end"}
	onTerminal := func(t *testing.T, args ...string) {
		t.Helper()
		code, term := runPTY(t, nil, nil, append(append(global, args...), id)...)
		if code != 0 {
			t.Fatalf("%q: exit %d:\n%q", args, code, term)
		}
		for _, c := range controls {
			if strings.Contains(term, c) {
				t.Errorf("%q on a terminal printed %q:\n%q", args, c, term)
			}
		}
		for _, w := range words {
			if !strings.Contains(term, w) {
				t.Errorf("%q on a terminal lost %q:\n%q", args, w, term)
			}
		}
	}
	// While Barman runs, then once it has ended.
	onTerminal(t, "logs", "-f")
	if op := opState(t, e, "", id); op.Status != ops.StatusDone {
		t.Fatalf("operation %s: %s", id, op.Status)
	}
	onTerminal(t, "inspect", "--follow")
	onTerminal(t, "inspect")
	onTerminal(t, "logs")

	want := opState(t, e, "", id).Output
	if !strings.Contains(want, "\x1b]0;pwned\x07") {
		t.Fatalf("the store lost Barman's bytes: %q", want)
	}
	if r := e.exec(t, nil, "", "logs", id); r.Code != 0 || r.Stdout != want {
		t.Errorf("logs through a pipe: want Barman's bytes %q, got %v", want, r)
	}
	code, term := runPTY(t, nil, nil, append(global, "inspect", "-o", "json", id)...)
	var got struct {
		Output string `json:"output"`
	}
	if err := json.Unmarshal([]byte(strings.ReplaceAll(term, "\r\n", "\n")), &got); code != 0 || err != nil || got.Output != want {
		t.Errorf("inspect -o json on a terminal: want the output %q, got exit %d, %v:\n%q", want, code, err, term)
	}
}
