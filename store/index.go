package store

import (
	"errors"
	"fmt"
	"io/fs"
	"iter"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/filestamp"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// A scope's index is what a listing needs of every operation, kept so that
// listing 10,000 operations reads one file instead of 20,000. It is a cache,
// never the truth: it records the state of the jobs/ and output/ directories
// it was built from, and whoever finds them changed (another process, the
// Python implementation, an operator with rm) rebuilds it, reading only the
// files it does not know yet. Job files never change once written and output
// files are replaced only by rename, which changes the directory, so a
// directory that has not changed holds the files the index describes.
//
// Directory times come from a coarse kernel clock: two changes within one
// tick leave the same time. An index built less than filestamp.RacyWindow after the
// last change is therefore marked racy and checked again on next use, as git
// does for its index.

const (
	indexFileName = "index"
	indexVersion  = "pg-backup-api-index 2"
)

// dirStamp identifies one state of a directory.
type dirStamp struct {
	MtimeNs int64
	Ino     uint64
	Exists  bool
}

func stampOf(path string) (dirStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return dirStamp{}, nil
		}
		return dirStamp{}, err
	}
	if !fi.IsDir() {
		return dirStamp{}, fmt.Errorf("%s is not a directory", path)
	}
	st := dirStamp{MtimeNs: fi.ModTime().UnixNano(), Exists: true}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.Ino = sys.Ino
	}
	return st, nil
}

type scopeIndex struct {
	jobs, outputs dirStamp
	racy          bool
	entries       []indexEntry // sorted by ID
	// stamp is this state of the scope's listing, given when the index is
	// kept in memory (rememberIndex).
	stamp ops.Stamp
}

// ListIfChanged returns the scope's listing as its index holds it (IDs,
// types, times; no status of unfinished operations) and the listing's
// stamp, or no listing when the stamp is still since. The listing may be
// iterated more than once: it is one state of the index. An index built
// within the racy window gets no stamp (0), as it is checked again on
// next use.
func (s *Store) ListIfChanged(server string, since ops.Stamp) (iter.Seq[*ops.Operation], ops.Stamp, error) {
	ix, err := s.snapshot(server)
	if err != nil {
		return nil, 0, err
	}
	if ix.racy {
		return ix.seq(server), 0, nil
	}
	if since != 0 && ix.stamp == since {
		return nil, since, nil
	}
	return ix.seq(server), ix.stamp, nil
}

// seq yields the listing's operations (not the entries that are not
// operations), one Operation reused for all.
func (ix *scopeIndex) seq(server string) iter.Seq[*ops.Operation] {
	return func(yield func(*ops.Operation) bool) {
		var op ops.Operation
		var exit int
		for i := range ix.entries {
			e := &ix.entries[i]
			if e.Skip() != "" {
				continue
			}
			if !yield(e.operation(server, &op, &exit)) {
				return
			}
		}
	}
}

func (ix *scopeIndex) fresh(jobs, outputs dirStamp) bool {
	return ix != nil && !ix.racy && ix.jobs == jobs && ix.outputs == outputs
}

// snapshot returns the scope's index, rebuilding what changed since the one
// in memory or on disk.
func (s *Store) snapshot(server string) (*scopeIndex, error) {
	jobsDir := filepath.Join(s.ScopeDir(server), "jobs")
	outDir := filepath.Join(s.ScopeDir(server), "output")
	jobs, err := stampOf(jobsDir)
	if err != nil {
		return nil, ops.Errorf(ops.EUNAVAILABLE, "cannot list operations in %s: %v", jobsDir, err)
	}
	outputs, err := stampOf(outDir)
	if err != nil {
		return nil, ops.Errorf(ops.EUNAVAILABLE, "cannot list operations in %s: %v", outDir, err)
	}
	if !jobs.Exists {
		if err := s.CheckHome(); err != nil {
			return nil, err
		}
	}

	s.mu.Lock()
	cached := s.indexes[server]
	s.mu.Unlock()
	if cached.fresh(jobs, outputs) {
		return cached, nil
	}
	indexPath := filepath.Join(s.StateDir(server), indexFileName)
	if cached == nil {
		cached, _ = readIndex(indexPath)
		if cached.fresh(jobs, outputs) {
			s.rememberIndex(server, cached)
			s.afterFirstLoad(len(cached.entries))
			return cached, nil
		}
	}
	first := cached == nil
	built, err := s.rebuild(server, cached, jobs, outputs)
	if err != nil {
		return nil, err
	}
	s.rememberIndex(server, built)
	// Best effort: a reader that may not write the store still lists.
	if jobs.Exists {
		if err := os.MkdirAll(s.StateDir(server), DirMode); err == nil {
			built.write(s.StateDir(server))
		}
	}
	if first {
		s.afterFirstLoad(len(built.entries))
	}
	return built, nil
}

// releaseAfter is the size of a first index load after which a long-lived
// process hands the memory it needed back (ReleaseLoadMemory): loading
// 100,000 entries peaks at several times what the index keeps.
const releaseAfter = 20000

// afterFirstLoad returns the heap of a large first load of a scope's index
// to the system, in a long-lived process: the Go runtime would otherwise
// keep it for the next burst, which never comes in that size (later
// rebuilds reuse what is in memory).
func (s *Store) afterFirstLoad(entries int) {
	if s.ReleaseLoadMemory && entries >= releaseAfter {
		debug.FreeOSMemory()
	}
}

// tailSnapshot answers a page of the newest opts.Limit operations from the
// end of the index file, when no index is in memory yet (a new process) and
// the one on disk is fresh; false sends the caller to snapshot.
func (s *Store) tailSnapshot(server string, opts ops.ListOptions) (*scopeIndex, bool) {
	if opts.Limit <= 0 || opts.Before != "" {
		return nil, false
	}
	s.mu.Lock()
	cached := s.indexes[server]
	s.mu.Unlock()
	if cached != nil {
		return nil, false
	}
	jobs, err := stampOf(filepath.Join(s.ScopeDir(server), "jobs"))
	if err != nil || !jobs.Exists {
		return nil, false
	}
	outputs, err := stampOf(filepath.Join(s.ScopeDir(server), "output"))
	if err != nil {
		return nil, false
	}
	ix, err := readIndexTail(filepath.Join(s.StateDir(server), indexFileName), opts.Limit)
	if err != nil || !ix.fresh(jobs, outputs) {
		return nil, false
	}
	return ix, true
}

func (s *Store) rememberIndex(server string, ix *scopeIndex) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.indexes == nil {
		s.indexes = map[string]*scopeIndex{}
	}
	if ix.stamp == 0 {
		ix.stamp = nextStamp()
	}
	s.indexes[server] = ix
}

func dirNames(dir string) ([]string, error) {
	f, err := os.Open(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	defer f.Close()
	return f.Readdirnames(-1)
}

// rebuild makes an index of the scope as it is now, reusing what old knows
// of files that are still there.
func (s *Store) rebuild(server string, old *scopeIndex, jobs, outputs dirStamp) (*scopeIndex, error) {
	start := time.Now()
	jobsDir := filepath.Join(s.ScopeDir(server), "jobs")
	jobNames, err := dirNames(jobsDir)
	if err != nil {
		return nil, ops.Errorf(ops.EUNAVAILABLE, "cannot list operations in %s: %v", jobsDir, err)
	}
	outNames, err := dirNames(filepath.Join(s.ScopeDir(server), "output"))
	if err != nil {
		return nil, ops.Errorf(ops.EUNAVAILABLE, "cannot list operations: %v", err)
	}
	finished := make(map[string]bool, len(outNames))
	for _, n := range outNames {
		if id, ok := strings.CutSuffix(n, ".json"); ok {
			finished[id] = true
		}
	}
	known := map[string]*indexEntry{}
	if old != nil {
		for i := range old.entries {
			known[old.entries[i].ID] = &old.entries[i]
		}
	}

	ix := &scopeIndex{jobs: jobs, outputs: outputs}
	ids := make([]string, 0, len(jobNames))
	for _, name := range jobNames {
		if id, ok := strings.CutSuffix(name, ".json"); ok && !strings.HasPrefix(name, ".") {
			ids = append(ids, id)
		}
	}
	ix.entries = make([]indexEntry, len(ids))
	// Each entry costs a file read or two and little CPU: a few workers
	// keep the disk and both cores busy on a first build of a large scope.
	forEachParallel(len(ids), rebuildWorkers, func(i int) {
		id := ids[i]
		var e entryInfo
		old, seen := known[id]
		switch {
		case seen && old.Skip() != "":
			// A damaged job file may have been rewritten: look again.
			e = s.indexJob(server, id)
		case !seen:
			e = s.indexJob(server, id)
		default:
			e = old.info()
		}
		if e.Skip == "" {
			switch {
			case finished[id] && !e.Final:
				s.indexOutput(server, &e)
			case finished[id]:
				if now, ok := filestamp.Of(s.OutputPath(server, id)); !ok || now != e.Output {
					s.indexOutput(server, &e) // replaced since
				}
			case e.Final:
				e = s.indexJob(server, id) // its output went away
			}
		}
		ix.entries[i] = e.pack()
	})
	sort.Slice(ix.entries, func(i, j int) bool { return ix.entries[i].ID < ix.entries[j].ID })
	ix.packIDs()
	latest := max(jobs.MtimeNs, outputs.MtimeNs)
	ix.racy = start.Sub(time.Unix(0, latest)) < filestamp.RacyWindow
	return ix, nil
}

// rebuildWorkers bounds the files read at once while an index is built.
const rebuildWorkers = 8

// forEachParallel calls f(0) ... f(n-1) from up to workers goroutines.
func forEachParallel(n, workers int, f func(i int)) {
	if n < 64 || workers < 2 {
		for i := range n {
			f(i)
		}
		return
	}
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(workers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				f(i)
			}
		})
	}
	wg.Wait()
}

// readBufs are the buffers job and output files are read into while an
// index is built; nothing read is kept from them (scanTop and pyjson copy
// what they return).
var readBufs = sync.Pool{New: func() any { b := make([]byte, 0, 4096); return &b }}

// keepBuf makes data's array the pooled buffer when it outgrew it, up to a
// size worth keeping.
func keepBuf(scratch *[]byte, data []byte) {
	if cap(data) > cap(*scratch) && cap(data) <= 64<<10 {
		*scratch = data[:0]
	}
}

// indexJob reads what a listing needs from a job file.
func (s *Store) indexJob(server, id string) entryInfo {
	e := entryInfo{ID: id}
	if !ops.ValidName(id) {
		e.Skip = "not an operation ID"
		return e
	}
	path := s.JobPath(server, id)
	scratch := readBufs.Get().(*[]byte)
	defer readBufs.Put(scratch)
	data, _, err := readStoreFileInto(path, *scratch)
	if err != nil {
		e.Skip = err.Error()
		return e
	}
	keepBuf(scratch, data)
	var opType, typ string
	var hasOpType, hasType bool
	if scanTop(data, func(key string, raw []byte) {
		switch key {
		case ops.KeyOperationType:
			opType, hasOpType = unquote(raw)
		case ops.KeyType:
			typ, hasType = unquote(raw)
		case ops.KeyStartTime:
			e.StartTime, _ = unquote(raw)
		case ops.KeyExtension:
			e.Ours = true
		}
	}) {
		// As operationFromJob: operation_type when it is a string, else type.
		switch {
		case hasOpType:
			e.Type = ops.Type(opType)
		case hasType:
			e.Type = ops.Type(typ)
		}
		if e.Type == "" {
			e = entryInfo{ID: id, Skip: "no operation_type: not an operation file"}
		}
		return e
	}
	job, err := pyjson.DecodeObject(data, pyjson.DecodeOptions{})
	if err != nil {
		e.Skip = fmt.Sprintf("%s: %v", path, err)
		return e
	}
	op := operationFromJob(server, id, job)
	if op.Type == "" {
		e.Skip = "no operation_type: not an operation file"
		return e
	}
	e.Type = op.Type
	e.StartTime, _ = job.String(ops.KeyStartTime)
	e.Ours = op.Ours()
	return e
}

// indexOutput settles an entry from its output file.
func (s *Store) indexOutput(server string, e *entryInfo) {
	op := &ops.Operation{ID: e.ID, Server: server}
	path := s.OutputPath(server, e.ID)
	scratch := readBufs.Get().(*[]byte)
	defer readBufs.Put(scratch)
	data, stamp, err := readStoreFileInto(path, *scratch)
	if err != nil {
		e.Final = false
		return
	}
	keepBuf(scratch, data)
	if !scanOutput(op, data) {
		decodeOutput(op, path, data)
	}
	e.Final, e.Output = true, stamp
	e.Status, e.Phase, e.Reason, e.ExitCode = op.Status, op.Phase, op.Reason, op.ExitCode
	if !op.EndTime.IsZero() {
		e.EndTime = op.EndTime.Format(ops.TimeLayout)
	}
}

// scanOutput is decodeOutput for what the index keeps (all but the output
// text and the job), by scanTop; false when data needs pyjson.
func scanOutput(op *ops.Operation, data []byte) bool {
	var success bool
	var endTime string
	var exit, ext []byte
	if !scanTop(data, func(key string, raw []byte) {
		switch key {
		case ops.KeySuccess:
			success = string(raw) == "true"
		case ops.KeyEndTime:
			endTime, _ = unquote(raw)
		case ops.KeyExitCode:
			exit = raw
		case ops.KeyExtension:
			ext = raw
		}
	}) {
		return false
	}
	if endTime != "" {
		op.EndTime, _ = time.ParseInLocation(ops.TimeLayout, endTime, time.Local)
	}
	if len(exit) > 0 && (exit[0] == '-' || exit[0] >= '0' && exit[0] <= '9') {
		if v, err := strconv.Atoi(string(exit)); err == nil {
			op.ExitCode = &v
		}
	}
	endReason := ""
	if len(ext) > 0 && ext[0] == '{' {
		op.Reason, endReason = scanEndRecord(ext)
	}
	settleOutput(op, success, endReason)
	return true
}
