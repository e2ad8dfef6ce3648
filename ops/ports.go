package ops

import (
	"iter"
	"time"
)

// The ports: what the domain needs from the world, declared here and
// implemented by the adapters (store for the files under barman_home, barman
// for Barman's configuration and catalog, runner for runner processes). ops
// imports none of them; the command line hands the concrete values to the
// Service.

// Catalog finds backups in a server's backup catalog.
type Catalog interface {
	// ResolveBackup finds the backup that id names for server: a backup
	// ID, a backup name, or one of Barman's shortcuts (latest, oldest, ...).
	ResolveBackup(server *BarmanServer, id string) (CatalogBackup, error)
}

// BackupLister is a Catalog that lists a server's backups, oldest first, so
// that a recovery target can choose one.
type BackupLister interface {
	ListBackups(server *BarmanServer) ([]CatalogBackup, error)
}

// Barman is Barman's side as the domain reads it: its configuration, its
// backup catalog and its option table.
type Barman interface {
	Catalog
	// Options is the table of the options of Barman's commands that
	// operations may use (see OptionTable).
	Options() OptionTable
	// Config returns Barman's configuration as it stands; edits and
	// config-switch results are seen without a restart.
	Config() (*BarmanConfig, error)
	// FreshConfig is Config checked against the files now, never answered
	// from a recent check: creating an operation needs it, since a
	// config_update that just ended may have added the model it names.
	FreshConfig() (*BarmanConfig, error)
}

// Stamp identifies one state of an operation or of a scope's listing, as
// the store tells it: the same stamp while that state stands, and never
// again once it changes, so an answer computed from a read made with a
// stamp may be kept under it. 0 is no stamp: nothing may be kept.
type Stamp uint64

// Store keeps the operations under one barman_home.
type Store interface {
	// CheckHome fails when barman_home is missing or unusable.
	CheckHome() error
	// Create records req as a new operation and returns its ID.
	Create(req *Request, ext Extension) (string, error)
	// Get returns one operation of a scope ("" is the instance scope).
	Get(server, id string) (*Operation, error)
	// List returns the operations of a scope, oldest first, and the files
	// it passed over.
	List(server string, opts ListOptions) ([]*Operation, []Skipped, error)
	// Each calls fn with the operations of a scope, oldest first, until fn
	// returns false, and returns the files it passed over. The operation fn
	// gets is valid during the call only: a large scope is streamed
	// without holding all of it.
	Each(server string, opts ListOptions, fn func(*Operation) bool) ([]Skipped, error)
	// GetIfChanged is Get for a caller that keeps what it made of an
	// operation under the operation's stamp: it returns the operation and
	// its stamp, or no operation when the stamp is still since. The stamp
	// is 0 while the operation may still change (not finished, or changed
	// too recently to tell), and nothing should be kept under it.
	GetIfChanged(server, id string, since Stamp) (*Operation, Stamp, error)
	// ListIfChanged is the scope's listing (IDs, types and times, as List
	// without Status) for a caller that keeps what it made of it under its
	// stamp: no listing when the stamp is still since. The listing may be
	// iterated more than once; each operation is valid while it is yielded.
	ListIfChanged(server string, since Stamp) (iter.Seq[*Operation], Stamp, error)
	// Scopes returns the scopes that have operations stored: "" for the
	// instance, then those of servers.
	Scopes(servers []string) []string
	// HasWork reports whether a scope has operations for a runner to run
	// or to finalize.
	HasWork(server string) (bool, error)
	// RequestCancel records that by asked to cancel an operation. A queued
	// one ends at once (FAILED, phase cancelled); a running one is left to
	// its runner, which sees the request and stops Barman.
	RequestCancel(server, id, by string) error
	// Prune removes a scope's operations that finished before cutoff and
	// returns their IDs.
	Prune(server string, cutoff time.Time, dryRun bool) ([]string, error)
}

// Launcher makes sure a runner works through a scope of cfg's barman_home:
// EnsureRunner starts one unless one is already active. The runner package
// provides the real one.
type Launcher interface {
	EnsureRunner(cfg *BarmanConfig, server string) error
}

// TypeLauncher is a Launcher that can start only the runner an operation of
// type t needs (the one of its lane), as Create does for a new operation.
type TypeLauncher interface {
	EnsureRunnerFor(cfg *BarmanConfig, server string, t Type) error
}
