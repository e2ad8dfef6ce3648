package store

import (
	"errors"
	"os"

	"golang.org/x/sys/unix"
)

// Locks here are Linux open file description locks: the kernel drops them
// when the last descriptor of the holder goes, however it dies, and unlike
// flock they can be queried without being taken, so a reader never disturbs
// a runner.

// TryLock takes an exclusive lock on f without waiting. It reports false if
// another open file description holds it.
func TryLock(f *os.File) (bool, error) {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: 0, Len: 0}
	err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk)
	if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES) {
		return false, nil
	}
	return err == nil, err
}

// Unlock releases a lock taken with TryLock.
func Unlock(f *os.File) error {
	lk := unix.Flock_t{Type: unix.F_UNLCK}
	return unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk)
}

// IsLocked reports whether some other open file description holds a lock on
// the file at path. A missing file is not locked.
func IsLocked(path string) (bool, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, os.ErrNotExist) {
			return false, nil
		}
		return false, err
	}
	defer f.Close()
	lk := unix.Flock_t{Type: unix.F_RDLCK}
	if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_GETLK, &lk); err != nil {
		return false, err
	}
	return lk.Type != unix.F_UNLCK, nil
}
