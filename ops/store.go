package ops

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
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

	mu      sync.Mutex
	lastID  string
	lastSeq int
	indexes map[string]*scopeIndex
	// finished keeps recently read finished operations, keyed by scope and
	// ID, each valid while its output file is the one it was read from.
	finished map[string]finishedEntry
}

type finishedEntry struct {
	op    Operation
	stamp fileStamp
}

// maxFinishedCache bounds the finished-operation cache; it is emptied when
// full, which costs re-reads, never wrong answers.
const maxFinishedCache = 1024

// NewStore returns the store kept under barmanHome.
func NewStore(barmanHome string) *Store {
	return &Store{Home: barmanHome, Now: time.Now}
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
		return Errorf(EUNAVAILABLE, "barman_home %s is not usable: %v", s.Home, err)
	}
	for _, d := range []string{"jobs", "output", StateDirName} {
		p := filepath.Join(s.ScopeDir(server), d)
		if err := MkdirAllDurable(p, DirMode); err != nil {
			return Errorf(EUNAVAILABLE, "cannot create %s: %v", p, err)
		}
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return Errorf(EUNAVAILABLE, "%s is not a directory; move it away so operations can be stored", p)
		}
	}
	return nil
}

// Extension is what we record in a job file beside the reference's keys.
type Extension struct {
	Version      string `json:"version"`
	BarmanConfig string `json:"barman_config"`
	RequestedBy  string `json:"requested_by,omitempty"`
	Client       string `json:"client,omitempty"`
	BackupID     string `json:"resolved_backup_id,omitempty"`
}

func (e Extension) object() *Object {
	o := NewObject()
	o.Set("version", e.Version)
	o.Set("barman_config", e.BarmanConfig)
	if e.RequestedBy != "" {
		o.Set("requested_by", e.RequestedBy)
	}
	if e.Client != "" {
		o.Set("client", e.Client)
	}
	if e.BackupID != "" {
		o.Set("resolved_backup_id", e.BackupID)
	}
	return o
}

// Create records req as a new operation and returns its ID. The ID is the
// reference's timestamp; when another process took that second already, a
// suffix "-NNNN" keeps it unique and still sorted by time.
func (s *Store) Create(req *Request, ext Extension) (string, error) {
	if err := s.EnsureScope(req.Server); err != nil {
		return "", err
	}
	now := s.Now()
	job := req.Payload.Clone()
	job.Set(keyOperationType, string(req.Type))
	job.Set(keyStartTime, now.Format(TimeLayout))
	ext.BackupID = req.BackupID
	job.Set(keyExtension, ext.object())
	data, err := EncodePython(job)
	if err != nil {
		return "", Errorf(EINTERNAL, "encoding job: %v", err)
	}

	base := now.Format(IDLayout)
	seq := s.firstSeq(base)
	name := idWithSeq(base, seq) + ".json"
	next := func() (string, bool) {
		seq++
		if seq > maxIDSuffix {
			return "", false
		}
		return idWithSeq(base, seq) + ".json", true
	}
	dir := filepath.Join(s.ScopeDir(req.Server), "jobs")
	name, err = createFileAtomic(dir, name, data, next)
	if err != nil {
		if errors.Is(err, errExists) {
			return "", Errorf(ECONFLICT, "more than %d operations were created in second %s; retry", maxIDSuffix+1, base)
		}
		return "", Errorf(EUNAVAILABLE, "cannot record the operation in %s: %v", dir, err)
	}
	id := strings.TrimSuffix(name, ".json")
	s.remember(base, seq)
	return id, nil
}

func idWithSeq(base string, seq int) string {
	if seq == 0 {
		return base
	}
	return fmt.Sprintf("%s-%04d", base, seq)
}

// firstSeq starts past the IDs this process already took in the same second.
func (s *Store) firstSeq(base string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastID == base {
		return s.lastSeq + 1
	}
	return 0
}

func (s *Store) remember(base string, seq int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.lastID != base || seq > s.lastSeq {
		s.lastID, s.lastSeq = base, seq
	}
}

// ReadJSONFile reads a store file. Files written by other tools are read
// leniently (a repeated key keeps its last value, as Python's json does).
func ReadJSONFile(path string) (*Object, error) {
	data, err := readStoreFile(path)
	if err != nil {
		return nil, err
	}
	obj, err := DecodeObject(data, DecodeOptions{})
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return obj, nil
}

// readStoreFile reads a file of jobs/ or output/, where other tools and
// people put files too. Only a regular file is read: opening a FIFO there
// would block until some writer came, hanging the listing, request or
// runner that looked.
func readStoreFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	switch mode := fi.Mode(); {
	case mode.IsDir():
		return nil, &fs.PathError{Op: "read", Path: path, Err: syscall.EISDIR}
	case mode&fs.ModeNamedPipe != 0:
		return nil, &fs.PathError{Op: "read", Path: path, Err: errors.New("is a named pipe, not a regular file")}
	case !mode.IsRegular():
		return nil, &fs.PathError{Op: "read", Path: path, Err: errors.New("is not a regular file")}
	}
	return io.ReadAll(f)
}

// Get returns one operation of a scope.
func (s *Store) Get(server, id string) (*Operation, error) {
	if !ValidName(id) {
		return nil, Errorf(ENOTFOUND, "operation %q does not exist: not a valid operation ID", id)
	}
	key := server + "/" + id
	stamp, finished := fileStampOf(s.OutputPath(server, id))
	if finished {
		s.mu.Lock()
		e, ok := s.finished[key]
		s.mu.Unlock()
		if ok && e.stamp == stamp {
			op := e.op
			return &op, nil
		}
	}
	op, err := s.read(server, id)
	if err != nil {
		return nil, err
	}
	// Output files are written once; one rewritten within the racy window
	// could keep its stamp, so only settled ones are kept.
	if finished && op.Status != StatusInProgress && time.Since(time.Unix(0, stamp.MtimeNs)) > racyWindow {
		s.mu.Lock()
		if s.finished == nil || len(s.finished) >= maxFinishedCache {
			s.finished = map[string]finishedEntry{}
		}
		s.finished[key] = finishedEntry{*op, stamp}
		s.mu.Unlock()
	}
	return op, nil
}

// read reads one operation from its files.
func (s *Store) read(server, id string) (*Operation, error) {
	path := s.JobPath(server, id)
	data, err := readStoreFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, s.notFound(server, id)
		}
		if os.IsPermission(err) {
			return nil, Errorf(EUNAVAILABLE, "cannot read operation %s: %v", id, err)
		}
		return damagedJob(server, id, path, err), nil
	}
	job, err := DecodeObject(data, DecodeOptions{})
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
	return Errorf(ENOTFOUND, "operation %s does not exist %s", id, s.scopeName(server))
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
	return Errorf(EUNAVAILABLE, "barman_home %s%s %s, so no operation can be read or stored; check barman_home in the [barman] section of that file, the Barman configuration given with --barman-config or PG_BACKUP_API_BARMAN_CONF, and that the directory is mounted and readable by this user", s.Home, from, why)
}

// damagedJob is an operation whose job file cannot be read as one. It reads
// FAILED with the reason, as an operation with a damaged output file does,
// so that whoever asks for it by ID learns what is wrong instead of getting
// a server error, and no runner ever picks it up.
func damagedJob(server, id, path string, err error) *Operation {
	return &Operation{ID: id, Server: server, Status: StatusFailed, Phase: PhaseFailed,
		Reason: fmt.Sprintf("the job file %s is damaged (%v); so what was requested is unknown; move the file away once inspected", path, err)}
}

func (s *Store) scopeName(server string) string {
	if server == "" {
		return "at instance level"
	}
	return fmt.Sprintf("for server %q", server)
}

func operationFromJob(server, id string, job *Object) *Operation {
	op := &Operation{ID: id, Server: server, Job: job}
	if t, ok := job.String(keyOperationType); ok {
		op.Type = Type(t)
	} else if t, ok := job.String(keyType); ok {
		op.Type = Type(t)
	}
	if st, ok := job.String(keyStartTime); ok {
		op.StartTime, _ = time.ParseInLocation(TimeLayout, st, time.Local)
	}
	return op
}

// Payload is the request as the caller sent it: the job (or output) file
// less the keys the store adds. Nil when the operation came from a listing.
func (op *Operation) Payload() *Object {
	if op.Job == nil {
		return nil
	}
	p := op.Job.Clone()
	for _, k := range reservedKeys {
		p.Delete(k)
	}
	return p
}

// Ours reports whether we registered the operation, and so may run it.
func (op *Operation) Ours() bool {
	if op.Job == nil {
		return false
	}
	_, ok := op.Job.Get(keyExtension)
	return ok
}

// BarmanConfigPath is the Barman configuration the operation was validated
// against, which its runner passes to Barman.
func (op *Operation) BarmanConfigPath() string {
	if op.Job == nil {
		return ""
	}
	if ext, ok := op.Job.Get(keyExtension); ok {
		if o, ok := ext.(*Object); ok {
			p, _ := o.String("barman_config")
			return p
		}
	}
	return ""
}

// fillStatus works out where op stands. The order of the checks matters: a
// runner writes the output file before it lets go of the operation's log
// lock and before it removes the log, so rechecking the output after seeing
// no lock or no log is never fooled by a runner that just finished.
func (s *Store) fillStatus(op *Operation) error {
	done, err := s.readOutput(op)
	if err != nil || done {
		return err
	}
	if !op.Ours() {
		op.Status, op.Phase = StatusInProgress, PhaseForeign
		return nil
	}
	logPath := s.LogPath(op.Server, op.ID)
	_, statErr := os.Stat(logPath)
	locked, lockErr := IsLocked(logPath)
	if lockErr != nil {
		return Errorf(EUNAVAILABLE, "cannot check the runner of operation %s: %v", op.ID, lockErr)
	}
	if locked {
		op.Status, op.Phase = StatusInProgress, PhaseRunning
		if out, err := os.ReadFile(logPath); err == nil {
			op.Output = string(out)
		}
		return nil
	}
	if done, err := s.readOutput(op); err != nil || done {
		return err
	}
	if statErr != nil {
		op.Status, op.Phase = StatusInProgress, PhaseQueued
		return nil
	}
	op.Status, op.Phase = StatusFailed, PhaseLost
	op.Reason = LostReason
	if out, err := os.ReadFile(logPath); err == nil {
		op.Output = string(out)
	}
	return nil
}

// LostReason explains an operation whose runner died.
const LostReason = "runner lost: the process running Barman for this operation died before recording a result; check Barman's log and the destination before retrying"

func (s *Store) readOutput(op *Operation) (bool, error) {
	path := s.OutputPath(op.Server, op.ID)
	data, err := readStoreFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, Errorf(EUNAVAILABLE, "cannot read the result of operation %s: %v", op.ID, err)
	}
	out, err := DecodeObject(data, DecodeOptions{})
	if err != nil {
		// It ended, but how is unreadable: never claim DONE for it.
		op.Status, op.Phase = StatusFailed, PhaseFailed
		op.Reason = fmt.Sprintf("the output file %s is damaged (%v); Barman's result is unknown", path, err)
		return true, nil
	}
	op.Job = out
	success, _ := out.Get(keySuccess)
	if b, _ := success.(bool); b {
		op.Status, op.Phase = StatusDone, PhaseDone
	} else {
		op.Status, op.Phase = StatusFailed, PhaseFailed
	}
	if et, ok := out.String(keyEndTime); ok {
		op.EndTime, _ = time.ParseInLocation(TimeLayout, et, time.Local)
	}
	op.Output, _ = out.String(keyOutput)
	if n, ok := out.Get(keyExitCode); ok {
		if num, ok := n.(json.Number); ok {
			if v, err := strconv.Atoi(num.String()); err == nil {
				op.ExitCode = &v
			}
		}
	}
	if ext, ok := out.Get(keyExtension); ok {
		if o, ok := ext.(*Object); ok {
			op.Reason, _ = o.String("reason")
			if end, _ := o.String("end_reason"); end != "" && op.Status == StatusFailed {
				switch Phase(end) {
				case PhaseLost, PhaseCancelled, PhaseTimeout:
					op.Phase = Phase(end)
				}
			}
		}
	}
	if op.Reason == LostReason {
		op.Phase = PhaseLost
	}
	return true, nil
}

// Skipped is a file that a listing passed over, and why.
type Skipped struct {
	Path string
	Err  error
}

func (sk Skipped) Error() string { return fmt.Sprintf("skipped %s: %v", sk.Path, sk.Err) }

// ListOptions say how much a listing reads.
type ListOptions struct {
	// Status reads each operation's output and liveness too; without it only
	// the job files are read (all the documented list needs).
	Status bool
}

// List returns the operations of a scope, oldest first. Files that cannot be
// read as operations are reported in skipped, never fatal. It reads the
// scope's index (see index.go) and, for status, checks only the operations
// that have not finished.
func (s *Store) List(server string, opts ListOptions) (ops []*Operation, skipped []Skipped, err error) {
	ix, err := s.snapshot(server)
	if err != nil {
		return nil, nil, err
	}
	jobsDir := filepath.Join(s.ScopeDir(server), "jobs")
	ops = make([]*Operation, 0, len(ix.entries))
	slab := make([]Operation, len(ix.entries))
	for i := range ix.entries {
		e := &ix.entries[i]
		if e.Skip != "" {
			skipped = append(skipped, Skipped{filepath.Join(jobsDir, e.ID+".json"), errors.New(e.Skip)})
			continue
		}
		if !opts.Status || e.Final {
			ops = append(ops, e.operation(server, &slab[i]))
			continue
		}
		op, err := s.Get(server, e.ID)
		if err != nil {
			if ErrorCode(err) == ENOTFOUND {
				continue // removed since the listing
			}
			skipped = append(skipped, Skipped{filepath.Join(jobsDir, e.ID+".json"), err})
			continue
		}
		ops = append(ops, op)
	}
	return ops, skipped, nil
}

// Result is what a runner records when an operation ends.
type Result struct {
	Success  bool
	ExitCode int // -1 when Barman did not exit by itself
	Output   string
	Reason   string // set when we, not Barman, ended the operation
	// EndReason is PhaseLost, PhaseCancelled or PhaseTimeout when one of
	// those ended the operation.
	EndReason Phase
	EndTime   time.Time
}

// Finish writes the output file of an operation: the job plus the result.
func (s *Store) Finish(server, id string, res Result) error {
	job, err := ReadJSONFile(s.JobPath(server, id))
	if err != nil {
		return fmt.Errorf("reading job %s: %w", id, err)
	}
	out := job.Clone()
	out.Set(keySuccess, res.Success)
	if res.EndTime.IsZero() {
		res.EndTime = s.Now()
	}
	out.Set(keyEndTime, res.EndTime.Format(TimeLayout))
	out.Set(keyOutput, res.Output)
	out.Set(keyExitCode, json.Number(strconv.Itoa(res.ExitCode)))
	if res.Reason != "" || res.EndReason != "" {
		ext := NewObject()
		if e, ok := out.Get(keyExtension); ok {
			if o, ok := e.(*Object); ok {
				ext = o.Clone()
			}
		}
		if res.Reason != "" {
			ext.Set("reason", res.Reason)
		}
		if res.EndReason != "" {
			ext.Set("end_reason", string(res.EndReason))
		}
		out.Set(keyExtension, ext)
	}
	data, err := EncodePython(out)
	if err != nil {
		return err
	}
	dir := filepath.Join(s.ScopeDir(server), "output")
	if err := MkdirAllDurable(dir, DirMode); err != nil {
		return err
	}
	return WriteFileAtomic(dir, id+".json", data)
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
