package cli

// What the commands that follow one operation share (wait, logs, inspect -f,
// cancel --wait, create --wait): finding the operation, polling it until it
// ends, the live progress line, and the exit status its end gives.

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/internal/termsafe"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/urfave/cli/v2"
)

// target reads the one operation ID a command takes and finds its scope.
func (st *appState) target(c *cli.Context, command string) (engine, string, string, error) {
	if c.NArg() != 1 {
		return nil, "", "", usageError("%s takes one operation ID, or SERVER/ID, or REMOTE:SERVER/ID (see pg-backup-api list)", command)
	}
	arg := c.Args().First()
	remote, rest, named := strings.Cut(arg, ":")
	if named {
		arg = rest
	}
	ref, err := parseOperationArg(c, arg)
	if err != nil {
		return nil, "", "", err
	}
	var eng engine
	if named {
		eng, err = st.engineAt(c, remote, c.Args().First())
	} else {
		eng, err = st.engine(c)
	}
	if err != nil {
		return nil, "", "", err
	}
	op, err := ref.locate(eng)
	if err != nil {
		return nil, "", "", err
	}
	return eng, op.Server, op.ID, nil
}

// engineAt is the engine of the remote an argument REMOTE:SERVER/ID (or
// REMOTE:ID) names, as -r REMOTE would give it; -r another remote, or
// --url, contradicts it.
func (st *appState) engineAt(c *cli.Context, remote, arg string) (engine, error) {
	switch {
	case remote == "":
		return nil, usageError("%s: give REMOTE:SERVER/ID, a remote of the config file's [remotes.NAME] before the colon", arg)
	case c.IsSet("url"):
		return nil, usageError("%s names remote %s but --url says %s: give one of them", arg, remote, c.String("url"))
	case c.IsSet("remote") && c.String("remote") != remote:
		return nil, usageError("%s names remote %s but -r says %s: give one of them", arg, remote, c.String("remote"))
	}
	rc, err := st.namedRemote(remote)
	if err != nil {
		return nil, err
	}
	overrideRemote(c, &rc)
	return newRemoteClient(c, rc, 0)
}

// opRef is what an ID argument says: an ID, and its scope when known.
// ID alone is looked for in every scope; SERVER/ID and --server NAME name a
// server's scope, --instance the instance scope. Every command that takes an
// operation ID reads it through parseOperationArg and locate, so they all
// read it the same way, locally and remotely.
type opRef struct {
	server, id string
	scoped     bool
}

// parseOperationArg reads an ID argument and the command's --server and
// --instance.
func parseOperationArg(c *cli.Context, arg string) (opRef, error) {
	if c.IsSet("server") && c.Bool("instance") {
		return opRef{}, usageError("give --server or --instance, not both")
	}
	server, id, slash := strings.Cut(arg, "/")
	if !slash {
		switch {
		case c.IsSet("server"):
			return opRef{server: c.String("server"), id: arg, scoped: true}, nil
		case c.Bool("instance"):
			return opRef{id: arg, scoped: true}, nil
		}
		return opRef{id: arg}, nil
	}
	switch {
	case !ops.ValidName(server) || !ops.ValidName(id):
		// Not found, as any other ID that names no operation: a path
		// given as an ID never reaches the file system.
		return opRef{}, ops.Errorf(ops.ENOTFOUND,
			"operation %q does not exist: not a valid operation ID, nor SERVER/ID (e.g. db1/20261206T183526; see pg-backup-api list)", arg)
	case c.Bool("instance"):
		return opRef{}, usageError("%s names an operation of server %s, not of the instance: drop --instance, or give the ID alone", arg, server)
	case c.IsSet("server") && c.String("server") != server:
		return opRef{}, usageError("%s names server %s but --server says %s: give one of them", arg, server, c.String("server"))
	}
	return opRef{server: server, id: id, scoped: true}, nil
}

// locate finds the operation ref names.
func (ref opRef) locate(eng engine) (*ops.Operation, error) {
	if !ref.scoped {
		op, err := eng.Find(ref.id)
		return op, err
	}
	op, err := eng.Get(ref.server, ref.id)
	if ops.ErrorCode(err) == ops.ENOTFOUND {
		return nil, notInScope(eng, ref.server, ref.id, err)
	}
	return op, err
}

// notInScope is the error for an operation not found in the scope it was
// said to be in, saying where it is if it is elsewhere.
func notInScope(eng engine, server, id string, err error) error {
	op, ferr := eng.Find(id)
	switch {
	case ferr == nil && op.Server != server:
		return ops.Errorf(ops.ENOTFOUND, "%v; it is %s: use %s", err, scopePhrase(op.Server), operationArg(op.Server, id))
	case ops.ErrorCode(ferr) == ops.EINVALID:
		// In several other scopes: Find's message lists them.
		return ops.Errorf(ops.ENOTFOUND, "%v; %v", err, ferr)
	case ops.ErrorCode(ferr) == ops.ENOTFOUND:
		return ops.Errorf(ops.ENOTFOUND, "%v; no other scope has operation %s either (pg-backup-api list shows the operations of every scope)", err, id)
	}
	return err
}

// operationArg is how a command names the operation id of server: with
// its server, so that it is unambiguous even among IDs that an older
// pg-backup-api or the reference implementation gave twice.
func operationArg(server, id string) string {
	if server == "" {
		return id + " --instance"
	}
	return server + "/" + id
}

// followUp is the command line that runs verb on the operation where this
// command found it: through the same remote or --url, for an operator who
// copies it. A bare SERVER/ID would look in the local store, which on the
// machine that asked a remote server has no such operation.
func followUp(c *cli.Context, verb, server, id string) string {
	arg := operationArg(server, id)
	if remote, _, named := strings.Cut(c.Args().First(), ":"); named && remote != "" {
		return "pg-backup-api " + verb + " " + remote + ":" + arg
	}
	switch {
	case c.IsSet("remote"):
		return "pg-backup-api " + verb + " " + c.String("remote") + ":" + arg
	case c.IsSet("url"):
		return "pg-backup-api --url " + c.String("url") + " " + verb + " " + arg
	}
	return "pg-backup-api " + verb + " " + arg
}

func scopePhrase(server string) string {
	if server == "" {
		return "an instance operation"
	}
	return "an operation of server " + server
}

// waitFor polls until the operation ends. A queued operation with no active
// runner gets one, so waiting never hangs on a runner that failed to start.
// p is the command's printer: its format says whether to draw progress.
func (st *appState) waitFor(c *cli.Context, p *printer, eng engine, server, id string) (*ops.Operation, error) {
	const poll = 200 * time.Millisecond
	lastEnsure := time.Now()
	live := newProgress(c, p)
	defer live.done()
	if rc, ok := eng.(*httpd.Client); ok {
		// One request for the whole wait rather than five a second; a
		// server without streams is polled as before.
		op, err := waitStream(c, live, rc, server, id)
		if !errors.Is(err, httpd.ErrNoStream) {
			return op, err
		}
	}
	for {
		op, err := eng.Get(server, id)
		if err != nil {
			return nil, err
		}
		if op.Status != ops.StatusInProgress {
			return op, nil
		}
		live.update(op)
		if op.Phase == ops.PhaseQueued && time.Since(lastEnsure) > 5*time.Second {
			eng.EnsureRunner(server)
			lastEnsure = time.Now()
		}
		select {
		case <-c.Context.Done():
			return nil, fmt.Errorf("stopped waiting; operation %s goes on (%s)", id, followUp(c, "inspect", server, id))
		case <-time.After(poll):
		}
	}
}

// waitStream is waitFor over the server's stream of the operation.
func waitStream(c *cli.Context, live *progress, rc *httpd.Client, server, id string) (*ops.Operation, error) {
	seen := &ops.Operation{ID: id, Server: server, Status: ops.StatusInProgress}
	err := rc.Stream(c.Context, server, id, 0, func(ev httpd.StreamEvent) error {
		if ev.Phase != "" {
			seen.Phase = ev.Phase
		}
		if ev.Output != "" {
			seen.Output = ev.Output // the live line shows the last one
		}
		if ev.Status == "" {
			live.update(seen)
		}
		return nil
	})
	switch {
	case err == nil:
		// The end's report wants the whole operation: one more request.
		return rc.Get(server, id)
	case c.Context.Err() != nil:
		return nil, fmt.Errorf("stopped waiting; operation %s goes on (%s)", id, followUp(c, "inspect", server, id))
	}
	return nil, err
}

// reportEnd prints a finished operation and sets the exit code from it.
func (st *appState) reportEnd(c *cli.Context, p *printer, op *ops.Operation) error {
	if p.format == formatJSON {
		if err := p.json(toJSON(op, time.Now(), true)); err != nil {
			return err
		}
	} else {
		fmt.Fprintf(ioOf(c).ErrOut, "operation %s %s after %s\n", termsafe.Line(op.ID), termsafe.Line(string(op.Status)), humanDuration(op.Duration(time.Now())))
	}
	if op.Status == ops.StatusFailed && p.format != formatJSON {
		s := ioOf(c)
		fmt.Fprint(s.ErrOut, indent(failureTail(s.SafeErr(ops.MaskSecrets(op.Output)))))
		if op.Reason != "" {
			fmt.Fprintf(s.ErrOut, "  reason: %s\n", s.SafeErr(op.Reason))
		}
	}
	return failedExit(op)
}

// failedExit is the exit of a command that waited for an operation that
// ended FAILED: 7 when a cancel or timeout stopped it, 4 otherwise; nil when
// it did not fail.
func failedExit(op *ops.Operation) error {
	switch {
	case op.Status != ops.StatusFailed:
		return nil
	case op.Phase == ops.PhaseCancelled || op.Phase == ops.PhaseTimeout:
		return cli.Exit("", ExitStopped)
	}
	return cli.Exit("", ExitFailed)
}

// follow prints an operation's output, and with follow, what Barman adds
// until the operation ends.
func (st *appState) follow(c *cli.Context, eng engine, server, id string, follow bool) (*ops.Operation, error) {
	s := ioOf(c)
	printed := ""
	streamed := int64(-1) // bytes of the masked output the stream printed
	if rc, ok := eng.(*httpd.Client); ok && follow {
		streamed = 0
		err := rc.Stream(c.Context, server, id, 0, func(ev httpd.StreamEvent) error {
			if ev.Reset {
				fmt.Fprintf(s.Out, "\n[pg-backup-api: output was truncated; its last part follows]\n")
			}
			fmt.Fprint(s.Out, s.SafeOut(ev.Output))
			streamed = ev.Next
			return nil
		})
		switch {
		case err == nil || c.Context.Err() != nil:
			return eng.Get(server, id)
		case !errors.Is(err, httpd.ErrNoStream):
			return nil, err
		}
	}
	for {
		op, err := eng.Get(server, id)
		if err != nil {
			return nil, err
		}
		out := ops.MaskSecrets(op.Output)
		if streamed >= 0 {
			// The stream printed this much before the server stopped
			// streaming: go on from there.
			if streamed <= int64(len(out)) {
				printed = out[:streamed]
			}
			streamed = -1
		}
		if strings.HasPrefix(out, printed) {
			fmt.Fprint(s.Out, s.SafeOut(out[len(printed):]))
		} else if len(out) > 0 {
			// The output was cut to its tail when it was recorded: say so
			// rather than print it twice.
			fmt.Fprintf(s.Out, "\n[pg-backup-api: output was truncated; its last part follows]\n%s", s.SafeOut(out))
		}
		printed = out
		if !follow || op.Status != ops.StatusInProgress {
			return op, nil
		}
		select {
		case <-c.Context.Done():
			return op, nil
		case <-time.After(250 * time.Millisecond):
		}
	}
}
