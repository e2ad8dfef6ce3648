package ops

import (
	"fmt"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
)

// Extension is what we record of an operation beside the reference's keys:
// the Service hands it to Store.Create, and the store gives it back on the
// operations it reads (Operation.Recorded). Its form in the files is the
// store's (store/record.go).
type Extension struct {
	Version      string
	BarmanConfig string
	RequestedBy  string
	Client       string
	// BackupID is the backup a recovery's backup_id resolved to when the
	// operation was created; Store.Create takes it from the Request.
	BackupID string
}

// Payload is the request as the caller sent it: the job (or output) file
// less the keys the store adds. Nil when the operation came from a listing.
func (op *Operation) Payload() *pyjson.Object {
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
func (op *Operation) Ours() bool { return op.Recorded != nil }

// BarmanConfigPath is the Barman configuration the operation was validated
// against, which its runner passes to Barman.
func (op *Operation) BarmanConfigPath() string { return op.recorded().BarmanConfig }

// RequestedBy is who asked for the operation, as recorded at create time
// ("" for another implementation's operations).
func (op *Operation) RequestedBy() string { return op.recorded().RequestedBy }

// recorded is op.Recorded, or an empty record when op is not ours.
func (op *Operation) recorded() Extension {
	if op.Recorded == nil {
		return Extension{}
	}
	return *op.Recorded
}

// LostReason explains an operation whose runner died.
const LostReason = "runner lost: the process running Barman for this operation died before recording a result; check Barman's log and the destination before retrying"

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
	// Limit, when positive, keeps only the Limit newest operations (of
	// those before Before, when set): one page of a long listing, still
	// oldest first. A page costs the same wherever it is in the listing.
	Limit int
	// Before, when set, keeps only operations whose ID sorts before it;
	// the first ID of one page is the Before of the next, older page.
	Before string
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

// ResolvedBackupID is the backup a recovery's backup_id named when the
// operation was created ("" when unknown, as for another implementation's
// operations). Barman is given this ID, not backup_id: a shortcut such as
// "latest" could name a newer backup by the time the operation runs.
func (op *Operation) ResolvedBackupID() string { return op.recorded().BackupID }
