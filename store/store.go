// Package store keeps operations as files under Barman's barman_home, in the
// reference implementation's layout: IDs, atomic and durable writes, locks,
// claims, the per-scope index and the read caches. It implements ops.Store.
package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/filestamp"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// Store keeps operations under Barman's barman_home in the reference
// implementation's layout:
//
//	<home>/jobs/<ID>.json, <home>/output/<ID>.json            instance scope
//	<home>/<NAME>/jobs/<ID>.json, <home>/<NAME>/output/<ID>.json  server NAME
//
// Our own state (runner locks, live output) lives beside them in a hidden
// directory, <scope>/.pg-backup-api/, which the reference never reads.
type Store struct {
	Home string
	// ConfigPath is the Barman configuration that named Home, for messages.
	ConfigPath string
	// Now is the clock; tests replace it.
	Now func() time.Time
	// OnEnd, when set, is called after an operation's result is recorded
	// (End), by whichever process recorded it: a runner or a serve that
	// cancelled a queued operation. Notifications hang off it.
	OnEnd func(s *Store, server, id string)
	// ReleaseLoadMemory returns the memory of a scope's first large index
	// load to the system at once (serve), rather than keeping it as the Go
	// runtime would.
	ReleaseLoadMemory bool

	mu      sync.Mutex
	indexes map[string]*scopeIndex
	// finished keeps recently read finished operations, each valid while
	// its output file is the one it was read from.
	finished map[opKey]*finishedEntry
	// watch, when set (WatchChanges), drops finished entries as the kernel
	// reports changes to output directories, so that they are served
	// without a stat.
	watch *changeWatch
}

type opKey struct{ server, id string }

type finishedEntry struct {
	op ops.Operation
	// file is the stamp of the output file op was read from.
	file filestamp.Stamp
	// stamp is this state of the operation, as GetIfChanged gives it.
	stamp ops.Stamp
	// watched: the output directory has been watched since before op was
	// read, so the entry stands until the watch reports a change.
	watched bool
}

// maxFinishedCache bounds the finished-operation cache; it is emptied when
// full, which costs re-reads, never wrong answers.
const maxFinishedCache = 1024

// Open returns the store under cfg's barman_home, naming cfg in its
// messages. It is the one constructor: the runner and the command line use
// the *Store (paths, locks, claims, hooks, the watch) and hand it to the
// Service as its ops.Store (Opener).
func Open(cfg *ops.BarmanConfig) *Store {
	return &Store{Home: cfg.BarmanHome, ConfigPath: cfg.Path, Now: time.Now}
}

// Opener is Open for ops.Service.OpenStore, with each of configure applied
// to a store before the Service uses it (an end hook, the watch).
func Opener(configure ...func(*Store)) func(cfg *ops.BarmanConfig) ops.Store {
	return func(cfg *ops.BarmanConfig) ops.Store {
		s := Open(cfg)
		for _, c := range configure {
			c(s)
		}
		return s
	}
}

// StateDirName is our hidden directory in each scope.
const StateDirName = ".pg-backup-api"

// IDLayout is the reference's operation ID format, "%Y%m%dT%H%M%S".
const IDLayout = "20060102T150405"

// maxIDSuffix bounds the IDs tried within one second.
const maxIDSuffix = 9999

// ScopeDir returns the directory of server's operations ("" for the instance).
func (s *Store) ScopeDir(server string) string {
	if server == "" {
		return s.Home
	}
	return filepath.Join(s.Home, server)
}

// JobPath, OutputPath, LogPath and RunnerLockPath name the files of a scope.
func (s *Store) JobPath(server, id string) string {
	return filepath.Join(s.ScopeDir(server), "jobs", id+".json")
}

func (s *Store) OutputPath(server, id string) string {
	return filepath.Join(s.ScopeDir(server), "output", id+".json")
}

func (s *Store) StateDir(server string) string {
	return filepath.Join(s.ScopeDir(server), StateDirName)
}

func (s *Store) LogPath(server, id string) string {
	return filepath.Join(s.StateDir(server), id+".log")
}

func (s *Store) RunnerLockPath(server string) string {
	return filepath.Join(s.StateDir(server), "runner.lock")
}

// EnsureScope creates a scope's directories.
func (s *Store) EnsureScope(server string) error {
	if _, err := os.Stat(s.Home); err != nil {
		return ops.Errorf(ops.EUNAVAILABLE, "barman_home %s is not usable: %v", s.Home, err)
	}
	for _, d := range []string{"jobs", "output", StateDirName} {
		p := filepath.Join(s.ScopeDir(server), d)
		if err := MkdirAllDurable(p, DirMode); err != nil {
			return ops.Errorf(ops.EUNAVAILABLE, "cannot create %s: %v", p, err)
		}
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return ops.Errorf(ops.EUNAVAILABLE, "%s is not a directory; move it away so operations can be stored", p)
		}
	}
	return nil
}

// Create records req as a new operation and returns its ID. The ID is the
// reference's timestamp; when another operation of any scope took that
// second already, a suffix "-NNNN" keeps it unique across the store and
// still sorted by time (see createJob).
func (s *Store) Create(req *ops.Request, ext ops.Extension) (string, error) {
	if err := s.EnsureScope(req.Server); err != nil {
		return "", err
	}
	now := s.Now()
	job := req.Payload.Clone()
	job.Set(ops.KeyOperationType, string(req.Type))
	job.Set(ops.KeyStartTime, now.Format(ops.TimeLayout))
	job.Set(ops.KeyExtension, newExtensionRecord(ext, req.BackupID).object())
	data, err := pyjson.EncodePython(job)
	if err != nil {
		return "", ops.Errorf(ops.EINTERNAL, "encoding job: %v", err)
	}
	return s.createJob(req.Server, now, data)
}

// Get returns one operation of a scope.
func (s *Store) Get(server, id string) (*ops.Operation, error) {
	op, _, err := s.get(server, id)
	return op, err
}

// GetIfChanged returns one operation and its stamp, or no operation when
// its stamp is still since: the caller holds what it made of it. A finished
// operation is kept in the finished cache while its output file is the one
// it was read from: checking it costs one stat, or nothing while the store
// watches its directories (WatchChanges).
func (s *Store) GetIfChanged(server, id string, since ops.Stamp) (*ops.Operation, ops.Stamp, error) {
	if since != 0 {
		s.mu.Lock()
		e := s.finished[opKey{server, id}]
		unchanged := e != nil && e.watched && e.stamp == since
		s.mu.Unlock()
		if unchanged {
			return nil, since, nil
		}
	}
	e, look, err := s.cachedFinished(server, id)
	if err != nil {
		return nil, 0, err
	}
	if e == nil {
		op, e, err := s.readAndKeep(server, id, look)
		if err != nil || e == nil {
			return op, 0, err
		}
		return op, e.stamp, nil
	}
	if e.stamp == since {
		return nil, since, nil
	}
	op := e.op
	return &op, e.stamp, nil
}

// statOutput looks at an output file's stamp; the tests count its calls.
var statOutput = filestamp.Of

// nextStamp is a stamp never given before in this process: each state of
// an operation or a listing gets its own, so a stamp held by a caller
// never comes back once what it stamped changed, whichever store or
// barman_home it came from.
func nextStamp() ops.Stamp { return ops.Stamp(stampSeq.Add(1)) }

var stampSeq atomic.Uint64

// get returns one operation, and its entry in the finished cache when it
// is kept there.
func (s *Store) get(server, id string) (*ops.Operation, *finishedEntry, error) {
	e, look, err := s.cachedFinished(server, id)
	if err != nil {
		return nil, nil, err
	}
	if e != nil {
		op := e.op
		return &op, e, nil
	}
	return s.readAndKeep(server, id, look)
}

// outputLook is what cachedFinished saw of an operation's output, which
// readAndKeep needs to decide whether what it reads may be kept.
type outputLook struct {
	scope    *watchedScope
	gen      uint64
	stamp    filestamp.Stamp
	finished bool
}

// cachedFinished returns the finished cache's entry for an operation while
// it is valid: trusted while the watch stands, else checked with a stat of
// the output file.
func (s *Store) cachedFinished(server, id string) (*finishedEntry, outputLook, error) {
	if !ops.ValidName(id) {
		return nil, outputLook{}, ops.Errorf(ops.ENOTFOUND, "operation %q does not exist: not a valid operation ID", id)
	}
	key := opKey{server, id}
	// The watch must stand before the output is looked at: a change after
	// that is then either reported before the entry is kept (and the
	// generation tells) or drops the entry after.
	var look outputLook
	look.scope, look.gen = s.watchScope(server)
	if look.scope != nil {
		s.mu.Lock()
		e, ok := s.finished[key]
		s.mu.Unlock()
		if ok && e.watched {
			return e, look, nil
		}
	}
	look.stamp, look.finished = statOutput(s.OutputPath(server, id))
	if look.finished {
		s.mu.Lock()
		e, ok := s.finished[key]
		if ok && e.file == look.stamp && look.scope != nil && look.scope.current(look.gen) {
			e.watched = true // unchanged since the watch stood
		}
		s.mu.Unlock()
		if ok && e.file == look.stamp {
			return e, look, nil
		}
	}
	return nil, look, nil
}

// readAndKeep reads one operation from its files and keeps it in the
// finished cache when it has settled.
func (s *Store) readAndKeep(server, id string, look outputLook) (*ops.Operation, *finishedEntry, error) {
	op, err := s.read(server, id)
	if err != nil {
		return nil, nil, err
	}
	// Output files are written once; one rewritten within the racy window
	// could keep its stamp, so only settled ones are kept.
	if look.finished && op.Status != ops.StatusInProgress && time.Since(time.Unix(0, look.stamp.MtimeNs)) > filestamp.RacyWindow {
		e := &finishedEntry{op: *op, file: look.stamp, stamp: nextStamp()}
		s.mu.Lock()
		e.watched = look.scope != nil && look.scope.current(look.gen)
		if s.finished == nil || len(s.finished) >= maxFinishedCache {
			s.finished = map[opKey]*finishedEntry{}
		}
		s.finished[opKey{server, id}] = e
		s.mu.Unlock()
		return op, e, nil
	}
	return op, nil, nil
}

// read reads one operation from its files.
func (s *Store) read(server, id string) (*ops.Operation, error) {
	path := s.JobPath(server, id)
	data, err := readStoreFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, s.notFound(server, id)
		}
		if os.IsPermission(err) {
			return nil, ops.Errorf(ops.EUNAVAILABLE, "cannot read operation %s: %v", id, err)
		}
		return damagedJob(server, id, path, err), nil
	}
	job, err := pyjson.DecodeObject(data, pyjson.DecodeOptions{})
	if err != nil {
		return damagedJob(server, id, path, err), nil
	}
	op := operationFromJob(server, id, job)
	if op.Type == "" {
		return damagedJob(server, id, path, errors.New("it has no operation_type; it is not an operation file")), nil
	}
	if err := s.fillStatus(op); err != nil {
		return nil, err
	}
	return op, nil
}

// notFound is the answer for an operation whose job file is not there:
// not found, unless the whole store is missing.
func (s *Store) notFound(server, id string) error {
	if err := s.CheckHome(); err != nil {
		return err
	}
	return ops.Errorf(ops.ENOTFOUND, "operation %s does not exist %s", id, s.scopeName(server))
}

// CheckHome fails when barman_home is missing or unusable. Reads call it
// only when they find nothing, so that a mistyped barman_home is reported
// instead of passing for an empty store (a monitor that alerts on failed
// operations would otherwise fall silent), at no cost to reads that find
// something. A barman_home without jobs/ yet is a fresh install: fine.
func (s *Store) CheckHome() error {
	fi, err := os.Stat(s.Home)
	if err == nil && fi.IsDir() {
		return nil
	}
	from := ""
	if s.ConfigPath != "" {
		from = " (from " + s.ConfigPath + ")"
	}
	var why string
	switch {
	case err == nil:
		why = "is not a directory"
	case errors.Is(err, fs.ErrNotExist):
		why = "does not exist"
	default:
		why = fmt.Sprintf("cannot be read: %v", err)
	}
	return ops.Errorf(ops.EUNAVAILABLE, "barman_home %s%s %s, so no operation can be read or stored; check barman_home in the [barman] section of that file, the Barman configuration given with --barman-config or PG_BACKUP_API_BARMAN_CONF, and that the directory is mounted and readable by this user", s.Home, from, why)
}

// damagedJob is an operation whose job file cannot be read as one. It reads
// FAILED with the reason, as an operation with a damaged output file does,
// so that whoever asks for it by ID learns what is wrong instead of getting
// a server error, and no runner ever picks it up.
func damagedJob(server, id, path string, err error) *ops.Operation {
	return &ops.Operation{ID: id, Server: server, Status: ops.StatusFailed, Phase: ops.PhaseFailed,
		Reason: fmt.Sprintf("the job file %s is damaged (%v); so what was requested is unknown; move the file away once inspected", path, err)}
}

func (s *Store) scopeName(server string) string {
	if server == "" {
		return "at instance level"
	}
	return fmt.Sprintf("for server %q", server)
}

func operationFromJob(server, id string, job *pyjson.Object) *ops.Operation {
	op := &ops.Operation{ID: id, Server: server, Job: job, Recorded: RecordOf(job)}
	if t, ok := job.String(ops.KeyOperationType); ok {
		op.Type = ops.Type(t)
	} else if t, ok := job.String(ops.KeyType); ok {
		op.Type = ops.Type(t)
	}
	if st, ok := job.String(ops.KeyStartTime); ok {
		op.StartTime, _ = time.ParseInLocation(ops.TimeLayout, st, time.Local)
	}
	return op
}

// List returns the operations of a scope, oldest first. Files that cannot be
// read as operations are reported in skipped, never fatal. It reads the
// scope's index (see index.go) and, for status, checks only the operations
// that have not finished.
func (s *Store) List(server string, opts ops.ListOptions) (list []*ops.Operation, skipped []ops.Skipped, err error) {
	ix, ok := s.tailSnapshot(server, opts)
	if !ok {
		if ix, err = s.snapshot(server); err != nil {
			return nil, nil, err
		}
	}
	jobsDir := filepath.Join(s.ScopeDir(server), "jobs")
	entries := pageOf(ix.entries, opts)
	list = make([]*ops.Operation, 0, len(entries))
	slab := make([]ops.Operation, len(entries))
	exits := make([]int, len(entries))
	for i := range entries {
		e := &entries[i]
		if skip := e.Skip(); skip != "" {
			skipped = append(skipped, ops.Skipped{Path: filepath.Join(jobsDir, e.ID+".json"), Err: errors.New(skip)})
			continue
		}
		if !opts.Status || e.Final() {
			list = append(list, e.operation(server, &slab[i], &exits[i]))
			continue
		}
		op, err := s.Get(server, e.ID)
		if err != nil {
			if ops.ErrorCode(err) == ops.ENOTFOUND {
				continue // removed since the listing
			}
			skipped = append(skipped, ops.Skipped{Path: filepath.Join(jobsDir, e.ID+".json"), Err: err})
			continue
		}
		list = append(list, op)
	}
	return list, skipped, nil
}

// Each is List streamed: fn gets each operation in turn, in an Operation
// reused for the next, until it returns false.
func (s *Store) Each(server string, opts ops.ListOptions, fn func(*ops.Operation) bool) (skipped []ops.Skipped, err error) {
	ix, ok := s.tailSnapshot(server, opts)
	if !ok {
		if ix, err = s.snapshot(server); err != nil {
			return nil, err
		}
	}
	jobsDir := filepath.Join(s.ScopeDir(server), "jobs")
	var op ops.Operation
	var exit int
	for _, e := range pageOf(ix.entries, opts) {
		if skip := e.Skip(); skip != "" {
			skipped = append(skipped, ops.Skipped{Path: filepath.Join(jobsDir, e.ID+".json"), Err: errors.New(skip)})
			continue
		}
		if !opts.Status || e.Final() {
			if !fn(e.operation(server, &op, &exit)) {
				break
			}
			continue
		}
		got, err := s.Get(server, e.ID)
		if err != nil {
			if ops.ErrorCode(err) == ops.ENOTFOUND {
				continue // removed since the listing
			}
			skipped = append(skipped, ops.Skipped{Path: filepath.Join(jobsDir, e.ID+".json"), Err: err})
			continue
		}
		if !fn(got) {
			break
		}
	}
	return skipped, nil
}

// pageOf is the part of entries (sorted by ID) that opts asks for: those
// before opts.Before, then the last opts.Limit of them. Entries that are
// not operations count toward the limit, so a page never grows unbounded
// over a run of damaged files.
func pageOf(entries []indexEntry, opts ops.ListOptions) []indexEntry {
	if opts.Before != "" {
		entries = entries[:sort.Search(len(entries), func(i int) bool { return entries[i].ID >= opts.Before })]
	}
	if opts.Limit > 0 && len(entries) > opts.Limit {
		entries = entries[len(entries)-opts.Limit:]
	}
	return entries
}

// Scopes returns the servers that have operations stored, and "" for the
// instance scope when it has any, in that order.
func (s *Store) Scopes(servers []string) []string {
	var scopes []string
	if _, err := os.Stat(filepath.Join(s.Home, "jobs")); err == nil {
		scopes = append(scopes, "")
	}
	for _, name := range servers {
		if _, err := os.Stat(filepath.Join(s.Home, name, "jobs")); err == nil {
			scopes = append(scopes, name)
		}
	}
	return scopes
}
