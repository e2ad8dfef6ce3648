// Command warm reads every regular file under a directory once, so that
// bench/run measures a first start with the store in the page cache, as
// on a machine whose memory holds it, rather than whatever the runs before
// happened to leave there. Files are opened with O_NOATIME: their access
// times stay as the first start would find them.
//
//	go run ./bench/warm /var/tmp/store
package main

import (
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: warm DIR")
		os.Exit(2)
	}
	paths := make(chan string, 256)
	var (
		wg           sync.WaitGroup
		mu           sync.Mutex
		files, bytes int64
		firstErr     error
	)
	for range 8 {
		wg.Go(func() {
			for p := range paths {
				n, err := read(p)
				mu.Lock()
				files, bytes = files+1, bytes+n
				if err != nil && firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		})
	}
	err := filepath.WalkDir(os.Args[1], func(p string, d fs.DirEntry, err error) error {
		if err == nil && d.Type().IsRegular() {
			paths <- p
		}
		return err
	})
	close(paths)
	wg.Wait()
	if err == nil {
		err = firstErr
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "warm:", err)
		os.Exit(1)
	}
	fmt.Printf("%d files, %d bytes\n", files, bytes)
}

func read(path string) (int64, error) {
	fd, err := syscall.Open(path, syscall.O_RDONLY|syscall.O_NOATIME|syscall.O_CLOEXEC, 0)
	if err == syscall.EPERM { // not our file: its access time moves, then
		fd, err = syscall.Open(path, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
	}
	if err != nil {
		return 0, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(fd), path)
	defer f.Close()
	return io.Copy(io.Discard, f)
}
