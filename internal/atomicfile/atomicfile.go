// Package atomicfile writes files that readers see whole or not at all, and
// that survive a crash once written: the data goes to a hidden temporary
// file in the same directory, is fsynced, takes its name by rename (or
// link), and the directory is fsynced. The store and the notification
// outbox keep their records this way.
package atomicfile

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// Sync forces a file or a directory to disk. It is a variable only so that
// tests can see what was made durable, and when: a missing fsync loses
// nothing until a power cut, so no other test would notice.
var Sync = (*os.File).Sync

// WriteTemp writes data to a new hidden temporary file in dir, with mode,
// fsynced, and returns its path. Nobody lists hidden files, so a crash
// leaves at worst a stray temporary file, never a half-written record.
func WriteTemp(dir, name string, data []byte, mode fs.FileMode) (string, error) {
	f, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return "", err
	}
	tmp := f.Name()
	fail := func(err error) (string, error) {
		f.Close()
		os.Remove(tmp)
		return "", err
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Chmod(mode); err != nil {
		return fail(err)
	}
	if err := Sync(f); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// Write replaces dir/name with data: a reader sees the old file or the new
// one, never a part, and the new one survives a crash once this returns.
func Write(dir, name string, data []byte, mode fs.FileMode) error {
	tmp, err := WriteTemp(dir, name, data, mode)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		os.Remove(tmp)
		return err
	}
	return SyncDir(dir)
}

// SyncDir makes the names in dir durable: those linked, renamed or removed
// before the call.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := Sync(d); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}
