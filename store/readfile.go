package store

// Reading the files of jobs/ and output/, where other tools and people put
// files too.

import (
	"errors"
	"fmt"
	"io/fs"
	"sync/atomic"
	"syscall"

	"github.com/pg-backup-api/pg-backup-api/internal/filestamp"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
)

// ReadJSONFile reads a store file. Files written by other tools are read
// leniently (a repeated key keeps its last value, as Python's json does).
func ReadJSONFile(path string) (*pyjson.Object, error) {
	data, err := readStoreFile(path)
	if err != nil {
		return nil, err
	}
	obj, err := pyjson.DecodeObject(data, pyjson.DecodeOptions{})
	if err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	return obj, nil
}

// readStoreFile reads a file of jobs/ or output/, where other tools and
// people put files too. Only a regular file is read: opening a FIFO there
// would block until some writer came, hanging the listing, request or
// runner that looked.
func readStoreFile(path string) ([]byte, error) {
	data, _, err := readStoreFileStamp(path)
	return data, err
}

// readStoreFileStamp is readStoreFile that also returns the stamp of the
// file it read, taken from the open file: the stamp of those very bytes.
// It calls the system directly: an index build reads every file of a
// scope, and an os.File costs a poller registration (a wasted epoll_ctl on
// a regular file) and an extra read to find the end.
func readStoreFileStamp(path string) ([]byte, filestamp.Stamp, error) {
	return readStoreFileInto(path, nil)
}

// noAtimeRefused records that the kernel refused O_NOATIME (the files are
// not the process's and it lacks CAP_FOWNER), so that later opens do not
// try it again: files of one store share an owner.
var noAtimeRefused atomic.Bool

// openNoAtime opens a store file for reading without updating its access
// time where the kernel allows it, as backup tools read: on a file system
// mounted relatime, the first read of a file written since its last access
// writes its inode, so the first index build of 100,000 operations dirtied
// 200,000 inodes and took twice as long.
func openNoAtime(path string) (int, error) {
	const flags = syscall.O_RDONLY | syscall.O_NONBLOCK | syscall.O_CLOEXEC
	var fd int
	var err error
	if !noAtimeRefused.Load() {
		err = ignoringEINTR(func() (err error) {
			fd, err = syscall.Open(path, flags|syscall.O_NOATIME, 0)
			return err
		})
		if err != syscall.EPERM {
			return fd, err
		}
		noAtimeRefused.Store(true)
	}
	err = ignoringEINTR(func() (err error) {
		fd, err = syscall.Open(path, flags, 0)
		return err
	})
	return fd, err
}

// readStoreFileInto is readStoreFileStamp reading into scratch when the
// file fits: the index build reads 200,000 files of a large scope.
func readStoreFileInto(path string, scratch []byte) ([]byte, filestamp.Stamp, error) {
	fd, err := openNoAtime(path)
	if err != nil {
		return nil, filestamp.Stamp{}, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	defer syscall.Close(fd)
	var st syscall.Stat_t
	if err := ignoringEINTR(func() error { return syscall.Fstat(fd, &st) }); err != nil {
		return nil, filestamp.Stamp{}, &fs.PathError{Op: "stat", Path: path, Err: err}
	}
	switch st.Mode & syscall.S_IFMT {
	case syscall.S_IFREG:
	case syscall.S_IFDIR:
		return nil, filestamp.Stamp{}, &fs.PathError{Op: "read", Path: path, Err: syscall.EISDIR}
	case syscall.S_IFIFO:
		return nil, filestamp.Stamp{}, &fs.PathError{Op: "read", Path: path, Err: errors.New("is a named pipe, not a regular file")}
	default:
		return nil, filestamp.Stamp{}, &fs.PathError{Op: "read", Path: path, Err: errors.New("is not a regular file")}
	}
	stamp := filestamp.Stamp{Ino: st.Ino, Size: st.Size, MtimeNs: st.Mtim.Nano()}
	// Read the size fstat gave, and stop there: store files are replaced
	// by rename, never grown in place, so this saves the usual extra read
	// that only finds the end. A file that says it is empty (as some
	// special files do) is read to its end.
	size := int(st.Size)
	if size == 0 {
		size = 512
	}
	var buf []byte
	if st.Size > 0 && cap(scratch) >= size {
		buf = scratch[:0:size]
	} else {
		buf = make([]byte, 0, size)
	}
	for {
		if len(buf) == cap(buf) {
			if st.Size > 0 {
				return buf, stamp, nil
			}
			buf = append(buf, 0)[:len(buf)]
		}
		var n int
		err := ignoringEINTR(func() (err error) {
			n, err = syscall.Read(fd, buf[len(buf):cap(buf)])
			return err
		})
		if err != nil {
			return nil, filestamp.Stamp{}, &fs.PathError{Op: "read", Path: path, Err: err}
		}
		if n <= 0 {
			return buf, stamp, nil
		}
		buf = buf[:len(buf)+n]
	}
}

func ignoringEINTR(f func() error) error {
	for {
		if err := f(); err != syscall.EINTR {
			return err
		}
	}
}
