package store

// The index in memory: one compact entry per operation of a scope (see
// index.go for what the index is and when it is rebuilt).

import (
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/filestamp"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

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
