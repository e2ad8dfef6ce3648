// Package ops is the domain of pg-backup-api: operations (types, statuses,
// phases), the error codes every door maps, the validation of requests, and
// the Service that the CLI and the HTTP API share. It declares the ports it
// needs (ports.go) and imports none of the adapters that implement them:
// store (the files under barman_home), barman (Barman's configuration,
// catalog and command) and runner (runner processes). The command line wires
// them together.
package ops

import (
	"context"
	"iter"
	"sync"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
)

// Service is the operation engine that the CLI and the HTTP server share:
// validation, the store and the runner, behind one set of methods. Those
// that read or write the store or the catalog take the caller's context
// first (the HTTP request's, the command's), so that a deadline or a
// cancellation can reach them; the store, the catalog and Barman's
// configuration do not read it yet.
type Service struct {
	// Barman reads Barman's configuration and backup catalog.
	Barman Barman
	// OpenStore returns the store under cfg's barman_home; the Service
	// keeps one per barman_home.
	OpenStore func(cfg *BarmanConfig) Store
	// Launcher starts runners; nil leaves queued operations to serve's next
	// EnsureRunners or an operator's `pg-backup-api run`.
	Launcher Launcher
	Version  string
	// Policy is what pg-backup-api's configuration adds to validation
	// (the options a config_update may set, the ssh a recovery may use).
	// Its Options, when nil, are Barman's: Barman.Options().
	Policy Policy
	// Argv is the argv that runs an operation with the Barman
	// configuration config: barman.Command.Args, the one place Barman's
	// flags are spelled, handed in since ops does not import barman. Nil:
	// the argv is not shown (BarmanArgv), and a dry run cannot be made.
	Argv func(config string, op *Operation) ([]string, error)
	// BarmanVersion reports the installed Barman's version (nil: unknown).
	// It is asked once and the answer kept for the life of the Service.
	BarmanVersion func() (Version, error)

	versionOnce sync.Once
	version     *Version

	mu     sync.Mutex
	stores map[string]Store
}

// Requester says who asked for an operation, for the audit trail.
type Requester struct {
	Name   string // "cli:<user>", a token name, a certificate subject
	Client string // a network address, when there is one
}

// Config reads Barman's configuration afresh, so edits and config-switch
// results are seen without a restart.
func (s *Service) Config(ctx context.Context) (*BarmanConfig, error) {
	return s.Barman.Config()
}

// store returns the store under cfg's barman_home.
func (s *Service) store(cfg *BarmanConfig) Store {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.stores == nil {
		s.stores = map[string]Store{}
	}
	st, ok := s.stores[cfg.BarmanHome]
	if !ok {
		st = s.OpenStore(cfg)
		s.stores[cfg.BarmanHome] = st
	}
	return st
}

// Create validates payload for the scope of server ("" for the instance),
// records it and makes sure a runner will pick it up.
func (s *Service) Create(ctx context.Context, server string, payload *pyjson.Object, who Requester) (string, error) {
	cfg, req, err := s.validate(server, payload)
	if err != nil {
		return "", err
	}
	store := s.store(cfg)
	id, err := store.Create(req, s.extension(cfg, who))
	if err != nil {
		return "", err
	}
	if s.Launcher != nil {
		ensure := func() error { return s.Launcher.EnsureRunner(cfg, server) }
		if tl, ok := s.Launcher.(TypeLauncher); ok {
			ensure = func() error { return tl.EnsureRunnerFor(cfg, server, req.Type) }
		}
		if err := ensure(); err != nil {
			return id, Errorf(EUNAVAILABLE, "operation %s is recorded but its runner could not be started: %v (it starts with the next request or `pg-backup-api serve`)", id, err)
		}
	}
	return id, nil
}

// validate is every check Create makes before it writes: Barman's
// configuration read afresh, barman_home usable, the payload against the
// configuration, the catalog and the policy, and the installed Barman's
// version.
func (s *Service) validate(server string, payload *pyjson.Object) (*BarmanConfig, *Request, error) {
	cfg, err := s.Barman.FreshConfig()
	if err != nil {
		return nil, nil, err
	}
	// Without barman_home there is no catalog to check a backup against
	// nor a store to record in: say that, not "backup not found".
	if err := s.store(cfg).CheckHome(); err != nil {
		return nil, nil, err
	}
	policy := s.Policy
	if policy.Options == nil {
		policy.Options = s.Barman.Options()
	}
	req, err := policy.Validate(cfg, s.Barman, server, payload)
	if err != nil {
		return nil, nil, err
	}
	if v := s.barmanVersion(); v != nil {
		if err := checkBarmanSupports(req, *v); err != nil {
			return nil, nil, err
		}
	}
	return cfg, req, nil
}

func (s *Service) extension(cfg *BarmanConfig, who Requester) Extension {
	return Extension{Version: s.Version, BarmanConfig: cfg.Path, RequestedBy: who.Name, Client: who.Client}
}

// DryRun makes every check Create makes and answers the operation it would
// record (no ID, queued) with the argv that would run Barman for it,
// secrets masked, in BarmanArgv; it writes nothing and starts no runner.
// The argv is built as the runner builds it, so a job the runner would
// refuse is refused here too.
func (s *Service) DryRun(ctx context.Context, server string, payload *pyjson.Object, who Requester) (*Operation, error) {
	if s.Argv == nil {
		return nil, Errorf(EUNAVAILABLE, "a dry run needs Barman's command line, which this service was not given")
	}
	cfg, req, err := s.validate(server, payload)
	if err != nil {
		return nil, err
	}
	ext := s.extension(cfg, who)
	ext.BackupID = req.BackupID
	op := &Operation{
		Server: server, Type: req.Type, Status: StatusInProgress, Phase: PhaseQueued,
		Job: req.Payload.Clone(), Recorded: &ext, // as Create would record it
	}
	argv, err := s.BarmanArgv(ctx, op)
	if err != nil {
		return nil, Errorf(EINVALID, "the runner would refuse this operation: %s", ErrorMessage(err))
	}
	op.BarmanArgv = argv
	return op, nil
}

// barmanVersion is the installed Barman's version, or nil when it cannot be
// told; then nothing is refused up front and Barman has the last word.
func (s *Service) barmanVersion() *Version {
	s.versionOnce.Do(func() {
		if s.BarmanVersion == nil {
			return
		}
		if v, err := s.BarmanVersion(); err == nil {
			s.version = &v
		}
	})
	return s.version
}

// InstalledBarmanVersion is the installed Barman's version, asked once;
// an error when it cannot be told.
func (s *Service) InstalledBarmanVersion(ctx context.Context) (Version, error) {
	if v := s.barmanVersion(); v != nil {
		return *v, nil
	}
	return Version{}, Errorf(EUNAVAILABLE, "the installed Barman's version cannot be told")
}

// checkScope makes sure a server scope names a configured server.
func (s *Service) checkScope(cfg *BarmanConfig, server string) error {
	if server == "" {
		return nil
	}
	if !ValidName(server) {
		return Errorf(ENOTFOUND, "server %q is not in %s (known: %s)", server, cfg.Path, cfg.serverList())
	}
	_, err := cfg.Server(server)
	return err
}

// Get returns one operation.
func (s *Service) Get(ctx context.Context, server, id string) (*Operation, error) {
	cfg, err := s.Config(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.checkScope(cfg, server); err != nil {
		return nil, err
	}
	return s.store(cfg).Get(server, id)
}

// List returns the operations of one scope, oldest first.
func (s *Service) List(ctx context.Context, server string, opts ListOptions) ([]*Operation, []Skipped, error) {
	cfg, err := s.Config(ctx)
	if err != nil {
		return nil, nil, err
	}
	if err := s.checkScope(cfg, server); err != nil {
		return nil, nil, err
	}
	return s.store(cfg).List(server, opts)
}

// ListAll returns the operations of every scope: the instance and each
// configured server.
func (s *Service) ListAll(ctx context.Context, opts ListOptions) ([]*Operation, []Skipped, error) {
	cfg, err := s.Config(ctx)
	if err != nil {
		return nil, nil, err
	}
	store := s.store(cfg)
	scopes := store.Scopes(cfg.ServerNames())
	if len(scopes) == 0 {
		if err := store.CheckHome(); err != nil {
			return nil, nil, err
		}
	}
	var all []*Operation
	var skipped []Skipped
	for _, scope := range scopes {
		ops, sk, err := store.List(scope, opts)
		if err != nil {
			return nil, nil, err
		}
		all = append(all, ops...)
		skipped = append(skipped, sk...)
	}
	return all, skipped, nil
}

// Find looks an ID up in every scope, for commands given only an ID.
func (s *Service) Find(ctx context.Context, id string) (*Operation, error) {
	cfg, err := s.Config(ctx)
	if err != nil {
		return nil, err
	}
	store := s.store(cfg)
	var found []*Operation
	for _, scope := range append([]string{""}, cfg.ServerNames()...) {
		op, err := store.Get(scope, id)
		if err == nil {
			found = append(found, op)
		} else if ErrorCode(err) != ENOTFOUND {
			return nil, err
		}
	}
	switch len(found) {
	case 0:
		return nil, Errorf(ENOTFOUND, "operation %s does not exist in any scope of %s", id, cfg.Path)
	case 1:
		return found[0], nil
	}
	scopes := make([]string, len(found))
	for i, op := range found {
		scopes[i] = op.Server
		if scopes[i] == "" {
			scopes[i] = "(instance)"
		}
	}
	return nil, Errorf(EINVALID, "operation %s exists in several scopes (%s); name one as SERVER/%s, or pass --server NAME or --instance", id, listOrNone(scopes), id)
}

// EnsureRunner makes sure a runner works through a scope's queue, starting one
// unless one is active. Callers that record operations some other way, or
// that wait on one, call it so a queued operation does not wait for serve.
func (s *Service) EnsureRunner(ctx context.Context, server string) error {
	if s.Launcher == nil {
		return nil
	}
	cfg, err := s.Config(ctx)
	if err != nil {
		return err
	}
	return s.Launcher.EnsureRunner(cfg, server)
}

// EnsureRunners starts a runner for every scope that has work and no active runner:
// operations queued while no runner could start, or whose runner died. serve
// calls it at start-up and then periodically, so queued operations survive
// a restart of everything.
func (s *Service) EnsureRunners(ctx context.Context) error {
	if s.Launcher == nil {
		return nil
	}
	cfg, err := s.Config(ctx)
	if err != nil {
		return err
	}
	store := s.store(cfg)
	for _, scope := range store.Scopes(cfg.ServerNames()) {
		work, err := store.HasWork(scope)
		if err != nil {
			return err
		}
		if work {
			if err := s.Launcher.EnsureRunner(cfg, scope); err != nil {
				return err
			}
		}
	}
	return nil
}

// Cancel stops an operation: a queued one never runs, a running one has its
// Barman stopped by its runner. Either way it ends FAILED, phase cancelled.
// It returns the operation as it stands after the request.
func (s *Service) Cancel(ctx context.Context, server, id string, who Requester) (*Operation, error) {
	cfg, err := s.Config(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.checkScope(cfg, server); err != nil {
		return nil, err
	}
	store := s.store(cfg)
	op, err := store.Get(server, id)
	if err != nil {
		return nil, err
	}
	switch {
	case op.Status != StatusInProgress:
		return nil, Errorf(ECONFLICT, "operation %s already ended %s; nothing to cancel", id, op.Status)
	case op.Phase == PhaseForeign:
		return nil, Errorf(ECONFLICT, "operation %s was registered by another implementation; it is not ours to cancel", id)
	}
	name := who.Name
	if name == "" {
		name = "unknown"
	}
	if err := store.RequestCancel(server, id, name); err != nil {
		return nil, err
	}
	return store.Get(server, id)
}

// Prune removes operations that finished before cutoff, in the given
// scopes (nil: every scope), and returns the pruned IDs by scope.
func (s *Service) Prune(ctx context.Context, scopes []string, cutoff time.Time, dryRun bool) (map[string][]string, error) {
	cfg, err := s.Config(ctx)
	if err != nil {
		return nil, err
	}
	store := s.store(cfg)
	if scopes == nil {
		scopes = store.Scopes(cfg.ServerNames())
	}
	if err := store.CheckHome(); err != nil {
		return nil, err
	}
	pruned := map[string][]string{}
	for _, scope := range scopes {
		if err := s.checkScope(cfg, scope); err != nil {
			return nil, err
		}
		ids, err := store.Prune(scope, cutoff, dryRun)
		if len(ids) > 0 {
			pruned[scope] = ids
		}
		if err != nil {
			return pruned, err
		}
	}
	return pruned, nil
}

// GetIfChanged is Get for callers that keep what they make of an
// operation under its stamp (see Store.GetIfChanged): no operation when
// its stamp is still since.
func (s *Service) GetIfChanged(ctx context.Context, server, id string, since Stamp) (*Operation, Stamp, error) {
	cfg, err := s.Config(ctx)
	if err != nil {
		return nil, 0, err
	}
	if err := s.checkScope(cfg, server); err != nil {
		return nil, 0, err
	}
	return s.store(cfg).GetIfChanged(server, id, since)
}

// Each is List streamed: fn gets each operation, valid during the call.
func (s *Service) Each(ctx context.Context, server string, opts ListOptions, fn func(*Operation) bool) ([]Skipped, error) {
	cfg, err := s.Config(ctx)
	if err != nil {
		return nil, err
	}
	if err := s.checkScope(cfg, server); err != nil {
		return nil, err
	}
	return s.store(cfg).Each(server, opts, fn)
}

// ListIfChanged is the scope's listing of IDs, types and times for
// callers that keep what they make of it under its stamp (see
// Store.ListIfChanged): no listing when its stamp is still since.
func (s *Service) ListIfChanged(ctx context.Context, server string, since Stamp) (iter.Seq[*Operation], Stamp, error) {
	cfg, err := s.Config(ctx)
	if err != nil {
		return nil, 0, err
	}
	if err := s.checkScope(cfg, server); err != nil {
		return nil, 0, err
	}
	return s.store(cfg).ListIfChanged(server, since)
}

// BarmanArgv is the argv that runs op, each argument with its secrets
// masked, for people to read (inspect, ?detail=true, a dry run); nil when
// it cannot be told: no Argv, another implementation's operation, or a job
// the runner would refuse too (the error says why).
func (s *Service) BarmanArgv(ctx context.Context, op *Operation) ([]string, error) {
	// Another implementation's operation is run, if at all, with its
	// own argv: ours would not be what ran.
	if s.Argv == nil || !op.Ours() {
		return nil, nil
	}
	config := op.BarmanConfigPath()
	if config == "" {
		// As the runner does for a job that does not say (another
		// implementation's): the configuration it was started with.
		cfg, err := s.Config(ctx)
		if err != nil {
			return nil, err
		}
		config = cfg.Path
	}
	argv, err := s.Argv(config, op)
	if err != nil {
		return nil, err
	}
	return MaskArgv(argv), nil
}
