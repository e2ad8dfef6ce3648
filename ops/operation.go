package ops

import (
	"slices"
	"strings"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
)

// Type is the kind of an operation, as the API and the job files spell it.
type Type string

// The documented operation types.
const (
	Recovery     Type = "recovery"
	ConfigSwitch Type = "config_switch"
	ConfigUpdate Type = "config_update"
	// BackupOp is our extension: `barman backup` on demand. The reference
	// implementation refuses the type.
	BackupOp Type = "backup"
	// KeepOp and DeleteOp are our extensions too: `barman keep` (or
	// `barman keep --release`) and `barman delete` of one backup.
	KeepOp   Type = "keep"
	DeleteOp Type = "delete"
)

// Types lists every operation type.
var Types = []Type{Recovery, ConfigSwitch, ConfigUpdate, BackupOp, KeepOp, DeleteOp, DrillOp}

// Known reports whether t is one of Types.
func (t Type) Known() bool { return slices.Contains(Types, t) }

// ServerScoped reports whether operations of type t belong to one server
// (/servers/NAME/operations) rather than to the Barman instance (/operations).
func (t Type) ServerScoped() bool {
	return t == Recovery || t == ConfigSwitch || t == BackupOp || t == KeepOp || t == DeleteOp || t == DrillOp
}

// LaneBackup is the lane of a scope's queue that backups run in: a backup
// takes hours, and Barman lets a recovery or a config_switch run meanwhile,
// so they do not wait behind it; backups still run one at a time. Keeps
// and deletes run there too, in order with the backups: they change the
// catalog a backup adds to, so "back up, then keep latest" or "delete the
// oldest, then back up" happen in the order they were asked for.
const LaneBackup = "backup"

// Lane is the lane of its scope's queue an operation of type t runs in:
// "" for the main one.
func (t Type) Lane() string {
	switch t {
	case BackupOp, KeepOp, DeleteOp:
		return LaneBackup
	case DrillOp:
		return LaneDrill
	}
	return ""
}

// Status is the documented state of an operation.
type Status string

// The documented statuses.
const (
	StatusDone       Status = "DONE"
	StatusFailed     Status = "FAILED"
	StatusInProgress Status = "IN_PROGRESS"
)

// Phase refines IN_PROGRESS and FAILED for people; it is our extension.
type Phase string

// Phases of an operation.
const (
	PhaseQueued    Phase = "queued"  // registered, waiting for its runner
	PhaseRunning   Phase = "running" // Barman is running for it
	PhaseDone      Phase = "done"
	PhaseFailed    Phase = "failed"
	PhaseLost      Phase = "lost"      // its runner died before recording a result
	PhaseCancelled Phase = "cancelled" // stopped on request; reads FAILED
	PhaseTimeout   Phase = "timeout"   // stopped when its time ran out; reads FAILED
	PhaseForeign   Phase = "foreign"   // registered by another implementation and not finished; not ours to run
)

// Keys we add to the job and output files. The first five are the reference
// implementation's; the rest are our extensions, which it ignores.
const (
	KeyType          = "type"
	KeyOperationType = "operation_type"
	KeyStartTime     = "start_time"
	KeySuccess       = "success"
	KeyEndTime       = "end_time"
	KeyOutput        = "output"
	KeyExitCode      = "exit_code"
	KeyExtension     = "pg_backup_api"
)

var reservedKeys = []string{KeyOperationType, KeyStartTime, KeySuccess, KeyEndTime, KeyOutput, KeyExitCode, KeyExtension}

// TimeLayout is Python's "%Y-%m-%dT%H:%M:%S.%f", the reference's time format
// (local time, no zone).
const TimeLayout = "2006-01-02T15:04:05.000000"

// Request is a validated request to create an operation.
type Request struct {
	Server  string // "" for the instance scope
	Type    Type
	Payload *pyjson.Object // the body as received
	// BackupID is the backup a recovery's, a keep's or a delete's
	// backup_id resolved to when it was validated. It is recorded, and
	// Barman is given it rather than backup_id: "latest" may name a newer
	// backup by the time Barman runs.
	BackupID string
	// Recovery, Backup and Keep are the payload of a recovery, a backup or
	// a keep as validation read it (nil for the other types).
	Recovery *RecoveryOptions
	Backup   *BackupOptions
	Keep     *KeepOptions
	Drill    *DrillOptions
}

// Operation is what the store knows of one operation.
type Operation struct {
	ID        string
	Server    string // "" for the instance scope
	Type      Type
	Status    Status
	Phase     Phase
	StartTime time.Time
	EndTime   time.Time
	ExitCode  *int
	Output    string
	Reason    string         // why an operation failed without Barman saying so
	Job       *pyjson.Object // the job file, or the output file once finished
	// Recorded is what we recorded of the operation beside the
	// reference's keys, as the store read it; nil when it is not ours.
	Recorded *Extension
	// BarmanArgv is the argv that runs the operation, secrets masked, when
	// a door has worked it out for people (Service.BarmanArgv, an HTTP
	// answer's detail); nil otherwise. The runner builds its own.
	BarmanArgv []string
}

// Duration is how long the operation ran, or has been running.
func (op *Operation) Duration(now time.Time) time.Duration {
	if op.StartTime.IsZero() {
		return 0
	}
	end := op.EndTime
	if end.IsZero() {
		end = now
	}
	return end.Sub(op.StartTime)
}

// ValidName reports whether s is safe as a server, model or operation name,
// before it becomes part of a file path or an INI section header: a letter
// or digit, then up to 127 letters, digits, '.', '_' or '-', and never "..".
// It is the one definition of a valid name; every door checks names here.
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return !strings.Contains(s, "..")
}
