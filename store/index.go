package store

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"iter"
	"math"
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
	"unsafe"

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

// entryInfo is one operation as a listing shows it, field by field: what
// the index is built from and written as.
type entryInfo struct {
	ID        string
	Type      ops.Type
	StartTime string // as written in the job file
	Ours      bool
	Final     bool // finished: the fields below are settled
	Status    ops.Status
	Phase     ops.Phase
	EndTime   string
	ExitCode  *int
	Reason    string
	Skip      string // not an operation: why (the entry is reported, not listed)
	// Output identifies the output file a Final entry was read from: a
	// changed directory may hold a replaced file under the same name.
	Output filestamp.Stamp
}

// indexEntry is an entryInfo as the index keeps it in memory, 88 bytes
// instead of 230 and no strings but the ID: with 100,000 operations in a
// scope, the index was most of serve's memory. Types, statuses and phases
// are interned (a handful of values), times are kept as microseconds (what
// TimeLayout holds), and the rare free text is kept aside.
type indexEntry struct {
	ID                 string
	start, end         int64 // UnixMicro; noTime when absent or unreadable
	Output             filestamp.Stamp
	exit               int64
	typ, status, phase uint32 // interned
	flags              uint8
	extra              *entryExtra
}

type entryExtra struct {
	Reason, Skip string
}

const (
	flagOurs = 1 << iota
	flagFinal
	flagExit
)

// noTime stands for the zero time.Time, which no UnixMicro value holds.
const noTime = math.MinInt64

func microOf(t time.Time) int64 {
	if t.IsZero() {
		return noTime
	}
	return t.UnixMicro()
}

func timeOf(us int64) time.Time {
	if us == noTime {
		return time.Time{}
	}
	return time.UnixMicro(us)
}

// pack keeps i in the compact form. The times are parsed once here; written
// back they are formatted from what was parsed, which reads the same.
func (i *entryInfo) pack() indexEntry {
	e := indexEntry{ID: i.ID, Output: i.Output, start: microOf(parseTimeFast(i.StartTime)), end: microOf(parseTimeFast(i.EndTime)),
		typ: intern(string(i.Type)), status: intern(string(i.Status)), phase: intern(string(i.Phase))}
	if i.Ours {
		e.flags |= flagOurs
	}
	if i.Final {
		e.flags |= flagFinal
	}
	if i.ExitCode != nil {
		e.flags |= flagExit
		e.exit = int64(*i.ExitCode)
	}
	if i.Reason != "" || i.Skip != "" {
		e.extra = &entryExtra{Reason: i.Reason, Skip: i.Skip}
	}
	return e
}

func (e *indexEntry) info() entryInfo {
	i := entryInfo{ID: e.ID, Type: ops.Type(interned(e.typ)), Ours: e.Ours(), Final: e.Final(),
		Status: ops.Status(interned(e.status)), Phase: ops.Phase(interned(e.phase)), Reason: e.Reason(), Skip: e.Skip(), Output: e.Output}
	if t := timeOf(e.start); !t.IsZero() {
		i.StartTime = t.Format(ops.TimeLayout)
	}
	if t := timeOf(e.end); !t.IsZero() {
		i.EndTime = t.Format(ops.TimeLayout)
	}
	if e.flags&flagExit != 0 {
		v := int(e.exit)
		i.ExitCode = &v
	}
	return i
}

func (e *indexEntry) Ours() bool  { return e.flags&flagOurs != 0 }
func (e *indexEntry) Final() bool { return e.flags&flagFinal != 0 }

func (e *indexEntry) Skip() string {
	if e.extra == nil {
		return ""
	}
	return e.extra.Skip
}

func (e *indexEntry) Reason() string {
	if e.extra == nil {
		return ""
	}
	return e.extra.Reason
}

// The intern table: the types, statuses and phases seen by this process.
// Readers index a snapshot without locking; a new value (rare) copies it.
var (
	internMu    sync.Mutex
	internCodes = map[string]uint32{"": 0}
	internNames atomic.Pointer[[]string]
)

func init() {
	names := []string{""}
	internNames.Store(&names)
}

func intern(s string) uint32 {
	internMu.Lock()
	defer internMu.Unlock()
	if c, ok := internCodes[s]; ok {
		return c
	}
	old := *internNames.Load()
	names := append(old[:len(old):len(old)], strings.Clone(s))
	c := uint32(len(names) - 1)
	internCodes[names[c]] = c
	internNames.Store(&names)
	return c
}

func interned(c uint32) string { return (*internNames.Load())[c] }

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

// operation fills op from e; exit holds its exit code.
func (e *indexEntry) operation(server string, op *ops.Operation, exit *int) *ops.Operation {
	*op = ops.Operation{ID: e.ID, Server: server, Type: ops.Type(interned(e.typ)), Status: ops.Status(interned(e.status)),
		Phase: ops.Phase(interned(e.phase)), Reason: e.Reason(), StartTime: timeOf(e.start), EndTime: timeOf(e.end)}
	if e.flags&flagExit != 0 {
		*exit = int(e.exit)
		op.ExitCode = exit
	}
	return op
}

// The on-disk form: a header line, then one tab-separated line per entry.
// Reasons are the only free text; tabs and newlines in them are escaped.

var fieldEscaper = strings.NewReplacer("\\", `\\`, "\t", `\t`, "\n", `\n`)
var fieldUnescaper = strings.NewReplacer(`\\`, "\\", `\t`, "\t", `\n`, "\n")

// write replaces dir's index file with ix, as WriteFileAtomicNoSync does,
// encoding straight into the file: the text of a large scope's index is
// never whole in memory.
func (ix *scopeIndex) write(dir string) error {
	f, err := os.CreateTemp(dir, "."+indexFileName+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	bw := bufio.NewWriterSize(f, 64<<10)
	ix.encodeTo(bw)
	err = bw.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, indexFileName))
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

func (ix *scopeIndex) encodeTo(b io.Writer) {
	racy := 0
	if ix.racy {
		racy = 1
	}
	fmt.Fprintf(b, "%s\t%d\t%d\t%t\t%d\t%d\t%t\t%d\n", indexVersion,
		ix.jobs.MtimeNs, ix.jobs.Ino, ix.jobs.Exists, ix.outputs.MtimeNs, ix.outputs.Ino, ix.outputs.Exists, racy)
	for i := range ix.entries {
		e := ix.entries[i].info()
		exit := ""
		if e.ExitCode != nil {
			exit = strconv.Itoa(*e.ExitCode)
		}
		fmt.Fprintf(b, "%s\t%s\t%s\t%t\t%t\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\n",
			e.ID, fieldEscaper.Replace(string(e.Type)), fieldEscaper.Replace(e.StartTime), e.Ours, e.Final,
			e.Status, e.Phase, fieldEscaper.Replace(e.EndTime), exit, fieldEscaper.Replace(e.Reason), fieldEscaper.Replace(e.Skip),
			e.Output.Ino, e.Output.Size, e.Output.MtimeNs)
	}
}

func readIndex(path string) (*scopeIndex, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	// Line by line: the file of a large scope (14 MB for 100,000) is never
	// whole in memory. Fields are substrings of the line; what the index
	// keeps is cloned.
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxIndexLine)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, err
		}
		return nil, errors.New("empty index")
	}
	ix, err := parseIndexHeader(sc.Text())
	if err != nil {
		return nil, err
	}
	ix.entries = make([]indexEntry, 0, fi.Size()/120)
	for sc.Scan() {
		line := sc.Bytes()
		e, err := parseIndexLine(unsafe.String(unsafe.SliceData(line), len(line)))
		if err != nil {
			return nil, err
		}
		ix.entries = append(ix.entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	ix.packIDs()
	return ix, nil
}

// packIDs keeps the entries' IDs in one string: 100,000 IDs are then one
// object for the collector to mark instead of 100,000, and no directory
// entry's name (with its ".json") stays alive through an ID cut from it.
func (ix *scopeIndex) packIDs() {
	n := 0
	for i := range ix.entries {
		n += len(ix.entries[i].ID)
	}
	var b strings.Builder
	b.Grow(n)
	for i := range ix.entries {
		b.WriteString(ix.entries[i].ID)
	}
	all, off := b.String(), 0
	for i := range ix.entries {
		end := off + len(ix.entries[i].ID)
		ix.entries[i].ID = all[off:end]
		off = end
	}
}

// maxIndexLine bounds one line of an index file; the free text in it is a
// reason, which is short.
const maxIndexLine = 16 << 20

// parseIndexHeader reads the first line of an index file.
func parseIndexHeader(line string) (*scopeIndex, error) {
	if line == "" {
		return nil, errors.New("empty index")
	}
	var head [8]string
	if splitTabs(line, head[:]) != 8 || head[0] != indexVersion {
		return nil, errors.New("not an index of this version")
	}
	ix := &scopeIndex{}
	var perr error
	num := func(s string) int64 {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			perr = err
		}
		return n
	}
	ix.jobs = dirStamp{MtimeNs: num(head[1]), Ino: uint64(num(head[2])), Exists: head[3] == "true"}
	ix.outputs = dirStamp{MtimeNs: num(head[4]), Ino: uint64(num(head[5])), Exists: head[6] == "true"}
	ix.racy = head[7] != "0"
	if perr != nil {
		return nil, errors.New("damaged index")
	}
	return ix, nil
}

// parseIndexLines reads entry lines, each ending in a newline.
func parseIndexLines(rest string) ([]indexEntry, error) {
	entries := make([]indexEntry, 0, strings.Count(rest, "\n"))
	for rest != "" {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		e, err := parseIndexLine(line)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// parseIndexLine reads one entry line, without its newline.
func parseIndexLine(line string) (indexEntry, error) {
	var perr error
	num := func(s string) int64 {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			perr = err
		}
		return n
	}
	var f [14]string
	if splitTabs(line, f[:]) != 14 {
		return indexEntry{}, errors.New("damaged index line")
	}
	e := entryInfo{
		ID: strings.Clone(f[0]), Type: ops.Type(unescapeField(f[1])), StartTime: unescapeField(f[2]),
		Ours: f[3] == "true", Final: f[4] == "true", Status: ops.Status(f[5]), Phase: ops.Phase(f[6]),
		EndTime: unescapeField(f[7]), Reason: strings.Clone(unescapeField(f[9])), Skip: strings.Clone(unescapeField(f[10])),
	}
	e.Output = filestamp.Stamp{Ino: uint64(num(f[11])), Size: num(f[12]), MtimeNs: num(f[13])}
	if f[8] != "" {
		exit := int(num(f[8]))
		e.ExitCode = &exit
	}
	if perr != nil {
		return indexEntry{}, errors.New("damaged index")
	}
	return e.pack(), nil
}

// readIndexTail reads the newest n entries of the index file at path, and
// its header, without reading the rest: `list -n 20` of a scope of 100,000
// need not read 14 MB. Lines are sorted by ID, so the newest are last.
func readIndexTail(path string, n int) (*scopeIndex, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	head := make([]byte, min(size, 512))
	if _, err := io.ReadFull(f, head); err != nil {
		return nil, err
	}
	nl := bytes.IndexByte(head, '\n')
	if nl < 0 {
		return nil, errors.New("damaged index header")
	}
	ix, err := parseIndexHeader(string(head[:nl]))
	if err != nil {
		return nil, err
	}
	bodyStart := int64(nl + 1)
	// Read back from the end until n+1 line ends are in hand (the first
	// may end a line cut in the middle) or the header is reached.
	chunk := int64(max(n, 1)) * 160
	for {
		from := max(size-chunk, bodyStart)
		buf := make([]byte, size-from)
		if _, err := f.ReadAt(buf, from); err != nil && err != io.EOF {
			return nil, err
		}
		if len(buf) > 0 && buf[len(buf)-1] != '\n' {
			return nil, errors.New("damaged index: the last line has no end")
		}
		lines := bytes.Count(buf, []byte("\n"))
		if from == bodyStart || lines > n {
			if from > bodyStart {
				buf = buf[bytes.IndexByte(buf, '\n')+1:] // the cut line
				lines--
			}
			for ; lines > n; lines-- {
				buf = buf[bytes.IndexByte(buf, '\n')+1:]
			}
			if ix.entries, err = parseIndexLines(string(buf)); err != nil {
				return nil, err
			}
			return ix, nil
		}
		chunk *= 4
	}
}

// splitTabs splits s at tabs into f and returns how many fields s has.
func splitTabs(s string, f []string) int {
	n := 0
	for {
		field, more, found := strings.Cut(s, "\t")
		if n < len(f) {
			f[n] = field
		}
		n++
		if !found {
			return n
		}
		s = more
	}
}

func unescapeField(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	return fieldUnescaper.Replace(s)
}

// parseTimeFast reads TimeLayout ("2006-01-02T15:04:05.000000") in local
// time, as time.ParseInLocation does for well-formed values.
func parseTimeFast(s string) time.Time {
	if len(s) != len(ops.TimeLayout) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' {
		t, _ := time.ParseInLocation(ops.TimeLayout, s, time.Local)
		return t
	}
	d := func(i, j int) (int, bool) {
		v := 0
		for ; i < j; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	y, ok1 := d(0, 4)
	mo, ok2 := d(5, 7)
	dd, ok3 := d(8, 10)
	h, ok4 := d(11, 13)
	mi, ok5 := d(14, 16)
	se, ok6 := d(17, 19)
	us, ok7 := d(20, 26)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || mo < 1 || mo > 12 || dd < 1 || dd > 31 || h > 23 || mi > 59 || se > 59 {
		t, _ := time.ParseInLocation(ops.TimeLayout, s, time.Local)
		return t
	}
	t := time.Date(y, time.Month(mo), dd, h, mi, se, us*1000, time.Local)
	if t.Day() != dd { // 31 April and such: what ParseInLocation refuses
		return time.Time{}
	}
	return t
}
