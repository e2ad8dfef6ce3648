package store

import (
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/pg-backup-api/pg-backup-api/internal/atomicfile"
)

// File and directory modes of the store: operations carry connection strings
// and SSH commands, so only Barman's user reads them.
const (
	FileMode = 0o600
	DirMode  = 0o700
)

// WriteFileAtomic replaces dir/name with data: a reader sees the old file or
// the new one, never a part, and the new one survives a crash once this
// returns.
func WriteFileAtomic(dir, name string, data []byte) error {
	return atomicfile.Write(dir, name, data, FileMode)
}

// Group commit. A new record is durable once its own file is fsynced and,
// after it got its name, its directory is fsynced. The file fsyncs are each
// request's own, but one directory fsync covers every name linked before it
// started, so concurrent creates of a scope share them, as a database's
// commits share a log flush: while one directory fsync runs, the creates
// that link meanwhile wait and then share the next one. None returns before
// a directory fsync that started after its link has succeeded, so nothing is
// acknowledged before it is durable; a lone create pays exactly what it did
// before (one fsync of its file, one of the directory).

// dirCommitter batches the directory fsyncs of one directory.
type dirCommitter struct {
	mu      sync.Mutex
	cond    *sync.Cond
	started uint64 // directory fsyncs begun
	done    uint64 // directory fsyncs finished (done <= started)
	running bool
	err     error // the outcome of fsync number done
}

var (
	committersMu sync.Mutex
	committers   = map[string]*dirCommitter{}
)

func committerOf(dir string) *dirCommitter {
	committersMu.Lock()
	defer committersMu.Unlock()
	c := committers[dir]
	if c == nil {
		c = &dirCommitter{}
		c.cond = sync.NewCond(&c.mu)
		committers[dir] = c
	}
	return c
}

// groupSyncDir returns once a directory fsync that began after the call has
// finished, with its error: the names linked in dir before the call are then
// durable. Whoever finds no fsync running does the next one for everyone
// waiting.
func groupSyncDir(dir string) error {
	c := committerOf(dir)
	c.mu.Lock()
	defer c.mu.Unlock()
	// A running fsync may have begun before our link: only the next counts.
	need := c.started + 1
	for c.done < need {
		if c.running {
			c.cond.Wait()
			continue
		}
		c.running = true
		c.started++
		n := c.started
		c.mu.Unlock()
		err := syncDir(dir)
		c.mu.Lock()
		c.running = false
		c.done, c.err = n, err
		c.cond.Broadcast()
	}
	return c.err
}

func syncDir(dir string) error { return atomicfile.SyncDir(dir) }

// WriteFileAtomicNoSync is WriteFileAtomic for files that can be rebuilt
// (caches): all or nothing for readers, but not forced to disk.
func WriteFileAtomicNoSync(dir, name string, data []byte) error {
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return err
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		os.Remove(tmp)
		return err
	}
	return nil
}

// MkdirAllDurable is os.MkdirAll whose new directories survive a power cut:
// each directory it creates is fsynced into its parent, as a file's name is
// after a rename. Directories that already exist cost one stat.
func MkdirAllDurable(path string, perm os.FileMode) error {
	if fi, err := os.Stat(path); err == nil {
		if !fi.IsDir() {
			return &os.PathError{Op: "mkdir", Path: path, Err: syscall.ENOTDIR}
		}
		return nil
	}
	parent := filepath.Dir(path)
	if parent != path {
		if err := MkdirAllDurable(parent, perm); err != nil {
			return err
		}
	}
	if err := os.Mkdir(path, perm); err != nil {
		if os.IsExist(err) {
			return nil // made by another process meanwhile; it syncs it
		}
		return err
	}
	return syncDir(parent)
}
