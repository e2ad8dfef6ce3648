package cli

import (
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/urfave/cli/v2"
)

// engine is what the operation commands need: the local store through
// ops.Service, or a `serve` instance over HTTP (--url, --remote). Both give
// the same operations, so every command renders them the same way.
type engine interface {
	Create(server string, payload *pyjson.Object) (string, error)
	// DryRun checks payload as Create does and returns the operation it
	// would record, with Barman's argv, recording nothing.
	DryRun(server string, payload *pyjson.Object) (*ops.Operation, error)
	Get(server, id string) (*ops.Operation, error)
	List(server string) ([]*ops.Operation, []ops.Skipped, error)
	ListAll() ([]*ops.Operation, []ops.Skipped, error)
	// ListPage and ListAllPage are List and ListAll cut to page's Limit and
	// Before (per scope), at a cost that does not grow with the store.
	ListPage(server string, page ops.ListOptions) ([]*ops.Operation, []ops.Skipped, error)
	ListAllPage(page ops.ListOptions) ([]*ops.Operation, []ops.Skipped, error)
	Find(id string) (*ops.Operation, error)
	Cancel(server, id string) (*ops.Operation, error)
	// EnsureRunner makes sure a queued operation has a runner (local only).
	EnsureRunner(server string)
}

// engine returns the remote engine when --url or --remote says so, else
// the local one.
func (st *appState) engine(c *cli.Context) (engine, error) {
	if r, err := st.remote(c); err != nil || r != nil {
		return r, err
	}
	return &localEngine{st: st, c: c, svc: st.service()}, nil
}

// localEngine works on the store on this host.
type localEngine struct {
	st      *appState
	c       *cli.Context
	svc     *ops.Service
	checked bool
}

func (l *localEngine) Create(server string, payload *pyjson.Object) (string, error) {
	if cfg, err := l.svc.Config(l.c.Context); err == nil && !l.checked {
		l.checked = true
		if err := l.st.checkBarmanUser(l.c, cfg.BarmanUser); err != nil {
			return "", err
		}
	}
	return l.svc.Create(l.c.Context, server, payload, cliRequester())
}

func (l *localEngine) DryRun(server string, payload *pyjson.Object) (*ops.Operation, error) {
	if cfg, err := l.svc.Config(l.c.Context); err == nil && !l.checked {
		l.checked = true
		if err := l.st.checkBarmanUser(l.c, cfg.BarmanUser); err != nil {
			return nil, err
		}
	}
	return l.svc.DryRun(l.c.Context, server, payload, cliRequester())
}

func (l *localEngine) Get(server, id string) (*ops.Operation, error) {
	return l.svc.Get(l.c.Context, server, id)
}

func (l *localEngine) List(server string) ([]*ops.Operation, []ops.Skipped, error) {
	return l.svc.List(l.c.Context, server, ops.ListOptions{Status: true})
}

func (l *localEngine) ListAll() ([]*ops.Operation, []ops.Skipped, error) {
	return l.svc.ListAll(l.c.Context, ops.ListOptions{Status: true})
}

func (l *localEngine) ListPage(server string, page ops.ListOptions) ([]*ops.Operation, []ops.Skipped, error) {
	page.Status = true
	return l.svc.List(l.c.Context, server, page)
}

func (l *localEngine) ListAllPage(page ops.ListOptions) ([]*ops.Operation, []ops.Skipped, error) {
	page.Status = true
	return l.svc.ListAll(l.c.Context, page)
}

func (l *localEngine) Find(id string) (*ops.Operation, error) { return l.svc.Find(l.c.Context, id) }

func (l *localEngine) Cancel(server, id string) (*ops.Operation, error) {
	return l.svc.Cancel(l.c.Context, server, id, cliRequester())
}

func (l *localEngine) EnsureRunner(server string) {
	l.svc.EnsureRunner(l.c.Context, server)
}
