package store

// An operation's output file: how it settles the operation's status, and
// how it is written when the operation ends.

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// fillStatus works out where op stands. The order of the checks matters: a
// runner writes the output file before it lets go of the operation's log
// lock and before it removes the log, so rechecking the output after seeing
// no lock or no log is never fooled by a runner that just finished.
func (s *Store) fillStatus(op *ops.Operation) error {
	done, err := s.readOutput(op)
	if err != nil || done {
		return err
	}
	if !op.Ours() {
		op.Status, op.Phase = ops.StatusInProgress, ops.PhaseForeign
		return nil
	}
	logPath := s.LogPath(op.Server, op.ID)
	_, statErr := os.Stat(logPath)
	locked, lockErr := IsLocked(logPath)
	if lockErr != nil {
		return ops.Errorf(ops.EUNAVAILABLE, "cannot check the runner of operation %s: %v", op.ID, lockErr)
	}
	if locked {
		op.Status, op.Phase = ops.StatusInProgress, ops.PhaseRunning
		if out, err := os.ReadFile(logPath); err == nil {
			op.Output = string(out)
		}
		return nil
	}
	if done, err := s.readOutput(op); err != nil || done {
		return err
	}
	if statErr != nil {
		op.Status, op.Phase = ops.StatusInProgress, ops.PhaseQueued
		return nil
	}
	op.Status, op.Phase = ops.StatusFailed, ops.PhaseLost
	op.Reason = ops.LostReason
	if out, err := os.ReadFile(logPath); err == nil {
		op.Output = string(out)
	}
	return nil
}

func (s *Store) readOutput(op *ops.Operation) (bool, error) {
	path := s.OutputPath(op.Server, op.ID)
	data, _, err := readStoreFileStamp(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil
		}
		return false, ops.Errorf(ops.EUNAVAILABLE, "cannot read the result of operation %s: %v", op.ID, err)
	}
	decodeOutput(op, path, data)
	return true, nil
}

// decodeOutput settles op from the output file at path, read as data.
func decodeOutput(op *ops.Operation, path string, data []byte) {
	out, err := pyjson.DecodeObject(data, pyjson.DecodeOptions{})
	if err != nil {
		// It ended, but how is unreadable: never claim DONE for it.
		op.Status, op.Phase = ops.StatusFailed, ops.PhaseFailed
		op.Reason = fmt.Sprintf("the output file %s is damaged (%v); Barman's result is unknown", path, err)
		return
	}
	op.Job = out
	success, _ := out.Get(ops.KeySuccess)
	b, _ := success.(bool)
	if et, ok := out.String(ops.KeyEndTime); ok {
		op.EndTime, _ = time.ParseInLocation(ops.TimeLayout, et, time.Local)
	}
	op.Output, _ = out.String(ops.KeyOutput)
	if n, ok := out.Get(ops.KeyExitCode); ok {
		if num, ok := n.(json.Number); ok {
			if v, err := strconv.Atoi(num.String()); err == nil {
				op.ExitCode = &v
			}
		}
	}
	op.Recorded = RecordOf(out)
	rec, _ := readExtensionRecord(out)
	op.Reason = rec.Reason
	settleOutput(op, b, rec.EndReason)
}

// settleOutput sets op's status and phase from its output file's success
// and end_reason, once op.Reason is read.
func settleOutput(op *ops.Operation, success bool, endReason string) {
	if success {
		op.Status, op.Phase = ops.StatusDone, ops.PhaseDone
	} else {
		op.Status, op.Phase = ops.StatusFailed, ops.PhaseFailed
	}
	if endReason != "" && op.Status == ops.StatusFailed {
		switch ops.Phase(endReason) {
		case ops.PhaseLost, ops.PhaseCancelled, ops.PhaseTimeout:
			op.Phase = ops.Phase(endReason)
		}
	}
	if op.Reason == ops.LostReason {
		op.Phase = ops.PhaseLost
	}
}

// finish writes the output file of an operation: the job plus the result.
func (s *Store) finish(server, id string, res ops.Result) error {
	job, err := ReadJSONFile(s.JobPath(server, id))
	if err != nil {
		return fmt.Errorf("reading job %s: %w", id, err)
	}
	out := job.Clone()
	out.Set(ops.KeySuccess, res.Success)
	if res.EndTime.IsZero() {
		res.EndTime = s.Now()
	}
	out.Set(ops.KeyEndTime, res.EndTime.Format(ops.TimeLayout))
	out.Set(ops.KeyOutput, res.Output)
	out.Set(ops.KeyExitCode, json.Number(strconv.Itoa(res.ExitCode)))
	if res.Reason != "" || res.EndReason != "" {
		out.Set(ops.KeyExtension, withEnd(out, res.Reason, res.EndReason))
	}
	data, err := pyjson.EncodePython(out)
	if err != nil {
		return err
	}
	dir := filepath.Join(s.ScopeDir(server), "output")
	if err := MkdirAllDurable(dir, DirMode); err != nil {
		return err
	}
	return WriteFileAtomic(dir, id+".json", data)
}
