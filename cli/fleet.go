package cli

// One view over several Barman hosts: list, status, backups and inspect
// with -r a,b (or -r all) ask each named serve at once and print one
// answer, a REMOTE column first. A remote that fails is named and the
// others are still shown; the exit status says that some failed.

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"

	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/internal/termsafe"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/urfave/cli/v2"
)

// fleetParallel bounds the remotes asked at once, so that -r all over a
// long [remotes.*] list does not open one connection per host at a time.
const fleetParallel = 8

// fleetHelp is what the commands that take several remotes say of them.
const fleetHelp = "With -r NAME,NAME... (or -r all: every [remotes.NAME] of the config file, sorted) it asks those " +
	"servers at once (8 at a time) and prints one answer with a REMOTE column first, in the order given; -o json " +
	"prints a list of {\"remote\": NAME, \"result\": ...} (what -r NAME alone prints) or {\"remote\": NAME, \"error\": ...}. " +
	"A remote that fails is named on standard error (and, on a terminal, in its own row with its error), the others are still shown, and the exit status is 8."

// isFleet says whether -r's value names several remotes: a list, or all,
// unless a remote is named all (-r all then keeps naming that one).
func (st *appState) isFleet(name string) bool {
	if strings.Contains(name, ",") {
		return true
	}
	_, named := st.settings.file.Remotes[name]
	return name == "all" && !named
}

type fleetMember struct {
	name string
	rc   RemoteConfig
}

// fleet resolves -r when it names several remotes; it is nil when -r names
// one or none, and the command works as it always has. Every remote is
// resolved before any is asked, so a misspelt name asks nobody.
func (st *appState) fleet(c *cli.Context) ([]fleetMember, error) {
	if !c.IsSet("remote") || !st.isFleet(c.String("remote")) {
		return nil, nil
	}
	if c.IsSet("url") {
		return nil, usageError("give --url or --remote, not both")
	}
	value := c.String("remote")
	var names []string
	if value == "all" {
		if names = st.remoteNames(); len(names) == 0 {
			return nil, ops.Errorf(ops.ENOTFOUND, "-r all: %s has no [remotes.NAME] table; add one per server, with its url", st.settings.configName())
		}
	} else {
		seen := map[string]bool{}
		for _, n := range strings.Split(value, ",") {
			n = strings.TrimSpace(n)
			switch {
			case n == "":
				return nil, usageError("-r %q has an empty name: give NAME,NAME... (known: %s)", value, listOrNone(st.remoteNames()))
			case seen[n]:
				return nil, usageError("-r %q names %s twice: give each remote once", value, n)
			}
			seen[n] = true
			names = append(names, n)
		}
	}
	members := make([]fleetMember, len(names))
	for i, n := range names {
		rc, err := st.namedRemote(n)
		if err != nil {
			return nil, err
		}
		overrideRemote(c, &rc)
		members[i] = fleetMember{name: n, rc: rc}
	}
	return members, nil
}

// fleetAnswer is one remote's answer: result, or err.
type fleetAnswer struct {
	remote string
	result any
	err    error
}

// askFleet calls ask with a client of each member, at most fleetParallel
// at once, and returns the answers in the members' order. timeout is each
// client's (0: the client's default), so that one host that does not
// answer holds the others up no longer than it.
func askFleet(c *cli.Context, members []fleetMember, timeout time.Duration, ask func(*httpd.Client) (any, error)) []fleetAnswer {
	warnings := &lockedWriter{w: ioOf(c).ErrOut}
	answers := make([]fleetAnswer, len(members))
	sem := make(chan struct{}, fleetParallel)
	var wg sync.WaitGroup
	for i, m := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			answers[i].remote = m.name
			client, err := newRemoteClientTo(m.rc, timeout, warnings)
			var result any
			if err == nil {
				result, err = ask(client)
			}
			// A failed ask's result may be a typed nil (a nil *ServerCatalog
			// beside its error): the printers' type switches must not take
			// it for an answer.
			if err != nil {
				result = nil
			}
			answers[i].result, answers[i].err = result, err
		}()
	}
	wg.Wait()
	return answers
}

// lockedWriter serialises the clients' warnings, written from several
// goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(b []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(b)
}

// fleetJSONItem is one remote in -o json: its result or its error.
type fleetJSONItem struct {
	Remote string `json:"remote"`
	Result any    `json:"result,omitempty"`
	Error  string `json:"error,omitempty"`
}

// fleetJSON prints answers as a list of fleetJSONItem, with the result
// as toJSON makes it.
func (p *printer) fleetJSON(answers []fleetAnswer, toJSON func(any) any) error {
	items := make([]fleetJSONItem, len(answers))
	for i, a := range answers {
		items[i].Remote = a.remote
		if a.err != nil {
			items[i].Error = a.err.Error()
		} else {
			items[i].Result = toJSON(a.result)
		}
	}
	return p.json(items)
}

// fleetFailures names each remote that failed on standard error (in the
// JSON, each says it itself) and returns the exit error, nil when every
// remote answered.
func fleetFailures(c *cli.Context, p *printer, answers []fleetAnswer) error {
	var failed []string
	for _, a := range answers {
		if a.err == nil {
			continue
		}
		failed = append(failed, termsafe.Line(a.remote))
		if p.format != formatJSON {
			fmt.Fprintf(ioOf(c).ErrOut, "pg-backup-api: remote %s: %s\n", termsafe.Line(a.remote), termsafe.Line(a.err.Error()))
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return cli.Exit(fmt.Sprintf("pg-backup-api: %d of %d remotes failed (%s); the others are shown", len(failed), len(answers), strings.Join(failed, ", ")), ExitSomeRemotes)
}

// failedRow is, on a terminal, the row of a remote that failed in a table
// of width columns after REMOTE: its error in the last column, "-" in the
// others, so the table itself says which host is missing and why. -o plain
// has no such row (scripts read its rows as answers); standard error names
// the remote in every format.
func (p *printer) failedRow(a fleetAnswer, width int) ([]string, bool) {
	if a.err == nil || p.format != formatTable || width < 1 {
		return nil, false
	}
	row := []string{termsafe.Line(a.remote)}
	for range width - 1 {
		row = append(row, "-")
	}
	return append(row, "error: "+termsafe.Line(a.err.Error())), true
}

// withRemote puts the remote's name before each row.
func withRemote(remote string, rows [][]string) [][]string {
	out := make([][]string, len(rows))
	for i, r := range rows {
		out[i] = append([]string{termsafe.Line(remote)}, r...)
	}
	return out
}

// fleetBlocks prints one "Key: value" block per remote that answered (as
// print prints it for one remote), each led by its Remote line, a blank
// line between them.
func (p *printer) fleetBlocks(c *cli.Context, answers []fleetAnswer, toJSON func(any) any, print func(any) error) error {
	if p.format == formatJSON {
		if err := p.fleetJSON(answers, toJSON); err != nil {
			return err
		}
		return fleetFailures(c, p, answers)
	}
	first := true
	for _, a := range answers {
		if a.err != nil && p.format != formatTable {
			continue
		}
		if !first {
			fmt.Fprintln(p.w)
		}
		first = false
		fmt.Fprintf(p.w, "%-10s %s\n", "Remote:", termsafe.Line(a.remote))
		if a.err != nil {
			fmt.Fprintf(p.w, "%-10s %s\n", "Error:", termsafe.Line(a.err.Error()))
			continue
		}
		if err := print(a.result); err != nil {
			return err
		}
	}
	return fleetFailures(c, p, answers)
}

// remoteArgHelp is what the commands that take REMOTE:SERVER/ID say of it.
const remoteArgHelp = "REMOTE:SERVER/ID (or REMOTE:ID) names the operation on remote REMOTE of the config file's " +
	"[remotes.NAME], as -r REMOTE SERVER/ID does; -r another remote beside it is a usage error."
