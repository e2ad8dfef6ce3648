package store

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/atomicfile"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// Operation IDs are unique across the whole store, not only within a scope:
// commands take a bare ID and look it up in every scope, so two servers'
// operations created in the same second (cron starting several backups at
// 02:00) must not share one. The reference's form is kept, the second, with
// "-NNNN" after it for the second and later operations of that second.
//
// An ID is chosen and its job file linked under one store-wide lock,
// IDLockName in the instance scope's state directory; every process that
// creates operations (each `create`, serve) takes it, for the time of a few
// stats and one link, never across an fsync. The lock file holds the last
// ID given, so the next one of the same second is found at once. That is
// only a hint, never fsynced: each candidate is also looked for in the
// jobs directory of every scope, so an ID stays unique after a crash lost
// the hint, after the clock went back, and past operations that the
// reference implementation or an older pg-backup-api recorded.

// IDLockName is the store-wide lock under which IDs are given.
const IDLockName = "ids.lock"

// idLockWait bounds the wait for the ID lock. It is held for microseconds;
// a holder that keeps it longer is stopped (SIGSTOP, a debugger), not slow.
// A variable for tests.
var idLockWait = 30 * time.Second

// allocMu makes a process's creates queue here, one at a time, rather than
// all poll the file lock.
var allocMu sync.Mutex

// IDLockPath names the store-wide ID lock.
func (s *Store) IDLockPath() string {
	return filepath.Join(s.StateDir(""), IDLockName)
}

// errIDsExhausted: every ID of a second is taken.
var errIDsExhausted = errors.New("every ID of the second is taken")

// createJob records data as the job file of a new operation of server,
// created at now, and returns its ID. The file is durable when it returns.
func (s *Store) createJob(server string, now time.Time, data []byte) (string, error) {
	base := now.Format(IDLayout)
	dir := filepath.Join(s.ScopeDir(server), "jobs")
	// Written and fsynced before the lock is taken, so the lock covers only
	// the choice of a name.
	tmp, err := atomicfile.WriteTemp(dir, base+".json", data, FileMode)
	if err != nil {
		return "", ops.Errorf(ops.EUNAVAILABLE, "cannot record the operation in %s: %v", dir, err)
	}
	defer os.Remove(tmp)
	id, err := s.linkNewID(dir, base, tmp)
	switch {
	case errors.Is(err, errIDsExhausted):
		return "", ops.Errorf(ops.ECONFLICT, "more than %d operations were created in second %s; retry", maxIDSuffix+1, base)
	case err != nil:
		if ops.ErrorCode(err) != "" {
			return "", err
		}
		return "", ops.Errorf(ops.EUNAVAILABLE, "cannot record the operation in %s: %v", dir, err)
	}
	if err := groupSyncDir(dir); err != nil {
		// Not durable, so not acknowledged: nor may it run.
		os.Remove(filepath.Join(dir, id+".json"))
		return "", ops.Errorf(ops.EUNAVAILABLE, "cannot record the operation in %s: %v", dir, err)
	}
	return id, nil
}

// linkNewID gives tmp, under dir, the name of the first ID of second base
// that no scope uses, and returns that ID.
func (s *Store) linkNewID(dir, base, tmp string) (string, error) {
	allocMu.Lock()
	defer allocMu.Unlock()
	lock, err := s.lockIDs()
	if err != nil {
		return "", err
	}
	defer lock.Close() // closing the descriptor releases the lock
	scopes, err := s.scopeJobDirs()
	if err != nil {
		return "", err
	}
	seq := 0
	if last, ok := readIDHint(lock); ok {
		if lb, ls, ok := splitID(last); ok && lb == base {
			seq = ls + 1
		}
	}
	for ; seq <= maxIDSuffix; seq++ {
		id := idWithSeq(base, seq)
		if idTaken(scopes, id) {
			continue
		}
		err := os.Link(tmp, filepath.Join(dir, id+".json"))
		if errors.Is(err, os.ErrExist) {
			continue // recorded meanwhile by a tool that does not take the lock
		}
		if err != nil {
			return "", err
		}
		writeIDHint(lock, id)
		return id, nil
	}
	return "", errIDsExhausted
}

// lockIDs opens and locks the store-wide ID lock, waiting for another
// holder at most idLockWait.
func (s *Store) lockIDs() (*os.File, error) {
	dir := s.StateDir("")
	if err := MkdirAllDurable(dir, DirMode); err != nil {
		return nil, ops.Errorf(ops.EUNAVAILABLE, "cannot create %s: %v", dir, err)
	}
	path := s.IDLockPath()
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, FileMode)
	if err != nil {
		return nil, ops.Errorf(ops.EUNAVAILABLE, "cannot open the ID lock %s: %v", path, err)
	}
	deadline := time.Now().Add(idLockWait)
	pause := time.Millisecond
	for {
		ok, err := TryLock(f)
		if err != nil {
			f.Close()
			return nil, ops.Errorf(ops.EUNAVAILABLE, "cannot lock %s: %v", path, err)
		}
		if ok {
			return f, nil
		}
		if time.Now().After(deadline) {
			f.Close()
			return nil, ops.Errorf(ops.EUNAVAILABLE,
				"another process has held the ID lock %s for over %s (a stopped pg-backup-api? see `fuser %s`); retry once it is gone",
				path, idLockWait, path)
		}
		time.Sleep(pause)
		pause = min(2*pause, 20*time.Millisecond)
	}
}

// scopeJobDirs returns the jobs directory of every scope that may hold
// operations: the instance's, and that of each directory of barman_home,
// configured or not (a server taken out of the configuration keeps its
// operations, and may come back).
func (s *Store) scopeJobDirs() ([]string, error) {
	names, err := dirNames(s.Home)
	if err != nil {
		return nil, ops.Errorf(ops.EUNAVAILABLE, "barman_home %s is not usable: %v", s.Home, err)
	}
	dirs := []string{filepath.Join(s.Home, "jobs")}
	for _, n := range names {
		// Not only directories: a server's directory may be a symbolic
		// link to another disk. A plain file costs one failed stat.
		if strings.HasPrefix(n, ".") || n == "jobs" || n == "output" {
			continue
		}
		dirs = append(dirs, filepath.Join(s.Home, n, "jobs"))
	}
	return dirs, nil
}

// idTaken reports whether an operation of any scope has id. A scope that
// cannot be read is passed over: nothing there can be looked up either.
func idTaken(jobDirs []string, id string) bool {
	for _, d := range jobDirs {
		if _, err := os.Lstat(filepath.Join(d, id+".json")); err == nil {
			return true
		}
	}
	return false
}

func idWithSeq(base string, seq int) string {
	if seq == 0 {
		return base
	}
	return fmt.Sprintf("%s-%04d", base, seq)
}

// splitID splits an ID into its second and its suffix number (0 for none).
func splitID(id string) (string, int, bool) {
	base, suffix, found := strings.Cut(id, "-")
	if len(base) != len(IDLayout) {
		return "", 0, false
	}
	if _, err := time.Parse(IDLayout, base); err != nil {
		return "", 0, false
	}
	if !found {
		return base, 0, true
	}
	n, err := strconv.Atoi(suffix)
	if err != nil || len(suffix) != 4 || n < 1 {
		return "", 0, false
	}
	return base, n, true
}

// readIDHint reads the last ID given from the lock file. Anything else
// there (an empty new file, a write cut by a crash) is no hint.
func readIDHint(f *os.File) (string, bool) {
	buf := make([]byte, 64)
	n, err := f.ReadAt(buf, 0)
	if err != nil && err != io.EOF {
		return "", false
	}
	id, ok := strings.CutSuffix(string(buf[:n]), "\n")
	return id, ok && id != ""
}

// writeIDHint records id as the last ID given. A failure costs the next
// create a few more stats, nothing more.
func writeIDHint(f *os.File, id string) {
	line := id + "\n"
	if _, err := f.WriteAt([]byte(line), 0); err == nil {
		f.Truncate(int64(len(line)))
	}
}
