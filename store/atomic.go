package store

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// File and directory modes of the store: operations carry connection strings
// and SSH commands, so only Barman's user reads them.
const (
	FileMode = 0o600
	DirMode  = 0o700
)

// fsync forces a file or a directory to disk. It is a variable only so that
// tests can see what the store made durable, and when: a missing fsync loses
// nothing until a power cut, so no other test would notice.
var fsync = (*os.File).Sync

// writeTemp writes data to a new hidden temporary file in dir, fsynced, and
// returns its path. Nobody lists hidden files, so a crash leaves at worst a
// stray temporary file, never a half-written record.
func writeTemp(dir, name string, data []byte) (string, error) {
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
	if err := f.Chmod(FileMode); err != nil {
		return fail(err)
	}
	if err := fsync(f); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return "", err
	}
	return tmp, nil
}

// WriteFileAtomic replaces dir/name with data: a reader sees the old file or
// the new one, never a part, and the new one survives a crash once this
// returns.
func WriteFileAtomic(dir, name string, data []byte) error {
	tmp, err := writeTemp(dir, name, data)
	if err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, name)); err != nil {
		os.Remove(tmp)
		return err
	}
	return syncDir(dir)
}

// errExists is returned by createFileAtomic when the name is taken.
var errExists = errors.New("file exists")

// createFileAtomic is WriteFileAtomic that fails with errExists instead of
// replacing an existing file: link(2) publishes the complete file under its
// name only if nobody holds that name yet.
func createFileAtomic(dir, name string, data []byte, next func() (string, bool)) (string, error) {
	tmp, err := writeTemp(dir, name, data)
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp)
	for {
		err := os.Link(tmp, filepath.Join(dir, name))
		if err == nil {
			return name, syncDir(dir)
		}
		if !errors.Is(err, os.ErrExist) {
			return "", err
		}
		var ok bool
		if name, ok = next(); !ok {
			return "", errExists
		}
	}
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := fsync(d); err != nil {
		return fmt.Errorf("fsync %s: %w", dir, err)
	}
	return nil
}

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
