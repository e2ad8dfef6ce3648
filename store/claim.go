package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

// RunnerSlotLockPath names the lock of one runner slot of a scope. Slot 0 is
// runner.lock; with more than one operation allowed at a time per scope, the
// others are runner-1.lock, runner-2.lock, ...
func (s *Store) RunnerSlotLockPath(server string, slot int) string {
	if slot == 0 {
		return s.RunnerLockPath(server)
	}
	return filepath.Join(s.StateDir(server), fmt.Sprintf("runner-%d.lock", slot))
}

// RunnerLaneLockPath names the lock of a lane of a scope's queue: "" is the
// main lane, whose slots RunnerSlotLockPath names; another lane has one
// lock, runner-<lane>.lock, so its operations run one at a time, beside
// those of the main lane.
func (s *Store) RunnerLaneLockPath(server, lane string) string {
	if lane == "" {
		return s.RunnerLockPath(server)
	}
	return filepath.Join(s.StateDir(server), "runner-"+lane+".lock")
}

// HasLaneWork is HasWork for the operations of one lane.
func (s *Store) HasLaneWork(server, lane string) (bool, error) {
	ids, err := s.PendingIDs(server)
	if err != nil {
		return false, err
	}
	for _, id := range ids {
		op, err := s.Get(server, id)
		if err != nil || op.Type.Lane() != lane {
			continue
		}
		if op.Phase == ops.PhaseQueued || op.Phase == ops.PhaseLost {
			return true, nil
		}
	}
	return false, nil
}

// CancelPath names the file that asks the runner of an operation to stop it.
func (s *Store) CancelPath(server, id string) string {
	return filepath.Join(s.StateDir(server), id+".cancel")
}

// PendingIDs returns, oldest first, the IDs of a scope's operations that have
// a job file and no output file. It reads directory listings only, so a
// runner can look for work in a large store cheaply.
func (s *Store) PendingIDs(server string) ([]string, error) {
	// Names only (no fs.DirEntry, no sorting of the whole directory), and a
	// set of the finished ones only: serve's sweep does this for every
	// scope, and a scope may keep 100,000 finished operations.
	names := func(dir string) ([]string, error) {
		n, err := dirNames(dir)
		if err != nil && !errors.Is(err, fs.ErrNotExist) {
			return nil, ops.Errorf(ops.EUNAVAILABLE, "cannot list %s: %v", dir, err)
		}
		return n, nil
	}
	jobs, err := names(filepath.Join(s.ScopeDir(server), "jobs"))
	if err != nil {
		return nil, err
	}
	outputs, err := names(filepath.Join(s.ScopeDir(server), "output"))
	if err != nil {
		return nil, err
	}
	finished := make(map[string]struct{}, len(outputs))
	for _, n := range outputs {
		finished[n] = struct{}{}
	}
	var pending []string
	for _, n := range jobs {
		if _, done := finished[n]; done {
			continue
		}
		if id, ok := strings.CutSuffix(n, ".json"); ok && ops.ValidName(id) {
			pending = append(pending, id)
		}
	}
	sort.Strings(pending)
	return pending, nil
}

// Claim makes an operation the caller's to run or to end: its log file
// appears under its final name already locked, so no reader ever sees it
// unlocked while the caller lives. It fails with an error matching
// os.ErrExist when someone else claimed the operation first.
func (s *Store) Claim(server, id string) (*os.File, error) {
	f, err := os.CreateTemp(s.StateDir(server), "."+id+".log.tmp-*")
	if err != nil {
		return nil, err
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if ok, err := TryLock(f); err != nil || !ok {
		f.Close()
		return nil, fmt.Errorf("locking new log %s: %v", tmp, err)
	}
	if err := os.Link(tmp, s.LogPath(server, id)); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// Release lets go of an operation claimed and found already ended: the log
// goes, then the lock.
func (s *Store) Release(server, id string, claim *os.File) {
	os.Remove(s.LogPath(server, id))
	os.Remove(s.CancelPath(server, id))
	claim.Close()
}

// End records res as an operation's result, then lets go of the operation:
// the output file is durable before the log, the cancel request and the
// claim go, so no reader ever sees the operation neither running nor ended.
// claim is nil for an operation whose runner was lost (nobody holds its
// log). When the result cannot be recorded, only the claim is let go: the
// operation then reads lost, and the next runner records it so.
func (s *Store) End(server, id string, claim *os.File, res ops.Result) error {
	if err := s.finish(server, id, res); err != nil {
		if claim != nil {
			claim.Close()
		}
		return err
	}
	os.Remove(s.LogPath(server, id))
	os.Remove(s.CancelPath(server, id))
	if claim != nil {
		claim.Close()
	}
	if s.OnEnd != nil {
		s.OnEnd(s, server, id)
	}
	return nil
}

// RequestCancel records that by asked to cancel an operation. The request
// is written first, so a runner that claims the operation from then on sees
// it before starting Barman. A queued operation is claimed and ends here,
// FAILED with phase cancelled; a running one is left to its runner, which
// polls for the request and stops Barman.
func (s *Store) RequestCancel(server, id, by string) error {
	if err := WriteFileAtomic(s.StateDir(server), id+".cancel", []byte(by+"\n")); err != nil {
		return ops.Errorf(ops.EUNAVAILABLE, "cannot record the cancel request: %v", err)
	}
	claim, err := s.Claim(server, id)
	switch {
	case errors.Is(err, os.ErrExist):
		return nil // running: its runner stops it
	case err != nil:
		return ops.Errorf(ops.EUNAVAILABLE, "cannot cancel operation %s: %v", id, err)
	}
	if _, err := os.Stat(s.OutputPath(server, id)); err == nil {
		// It ended while the request was written.
		s.Release(server, id, claim)
		return nil
	}
	err = s.End(server, id, claim, ops.Result{
		Success: false, ExitCode: -1, Reason: "cancelled by " + by + " before it started",
		EndReason: ops.PhaseCancelled,
	})
	if err != nil {
		return ops.Errorf(ops.EUNAVAILABLE, "cannot record the cancellation of %s: %v", id, err)
	}
	return nil
}

// CancelRequested returns who asked to cancel the operation, if anyone did.
func (s *Store) CancelRequested(server, id string) (string, bool) {
	data, err := os.ReadFile(s.CancelPath(server, id))
	if err != nil {
		return "", false
	}
	who := strings.TrimSpace(string(data))
	if who == "" {
		who = "unknown"
	}
	return who, true
}

// HasWork reports whether a scope has an operation of ours that is queued,
// or whose runner was lost and whose result is not yet recorded.
func (s *Store) HasWork(server string) (bool, error) {
	ids, err := s.PendingIDs(server)
	if err != nil {
		return false, err
	}
	for _, id := range ids {
		op, err := s.Get(server, id)
		if err != nil {
			continue
		}
		if op.Phase == ops.PhaseQueued || op.Phase == ops.PhaseLost {
			return true, nil
		}
	}
	return false, nil
}

// Prune removes the files of a scope's operations that finished before
// cutoff, and returns their IDs; with dryRun it only returns them. Queued,
// running and foreign unfinished operations are never touched. The job file
// goes first: an output file without its job is invisible, while a job file
// of ours without its output would read queued and run again.
func (s *Store) Prune(server string, cutoff time.Time, dryRun bool) ([]string, error) {
	list, _, err := s.List(server, ops.ListOptions{Status: true})
	if err != nil {
		return nil, err
	}
	var pruned []string
	for _, op := range list {
		if op.Status == ops.StatusInProgress {
			continue
		}
		ended := op.EndTime
		if ended.IsZero() {
			ended = op.StartTime
		}
		if ended.IsZero() || !ended.Before(cutoff) {
			continue
		}
		if !dryRun {
			if err := os.Remove(s.JobPath(server, op.ID)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return pruned, ops.Errorf(ops.EUNAVAILABLE, "cannot remove operation %s: %v", op.ID, err)
			}
			os.Remove(s.OutputPath(server, op.ID))
			os.Remove(s.LogPath(server, op.ID))
			os.Remove(s.CancelPath(server, op.ID))
		}
		pruned = append(pruned, op.ID)
	}
	if !dryRun && len(pruned) > 0 {
		syncDir(filepath.Join(s.ScopeDir(server), "jobs"))
		syncDir(filepath.Join(s.ScopeDir(server), "output"))
	}
	return pruned, nil
}
