// Command durable measures the disk's serial durable-write limit, the
// yardstick of bench/run's create figure: one process writing a small file
// durably in a loop, as a store without group commit must for each record
// (write a temporary file, fsync it, rename it into place, fsync the
// directory). It prints the rate in writes per second.
//
//	go run ./bench/durable -dir /var/tmp/x -duration 5s
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

func main() {
	dir := flag.String("dir", "", "`DIR` to write in (on the disk to measure, not tmpfs)")
	dur := flag.Duration("duration", 5*time.Second, "how long to write")
	size := flag.Int("size", 400, "bytes per file, about one job file")
	flag.Parse()
	if *dir == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: durable -dir DIR [-duration 5s] [-size 400]")
		os.Exit(2)
	}
	n, elapsed, err := run(*dir, *dur, *size)
	if err != nil {
		fmt.Fprintln(os.Stderr, "durable:", err)
		os.Exit(1)
	}
	fmt.Printf("%.0f\n", float64(n)/elapsed.Seconds())
}

func run(dir string, dur time.Duration, size int) (int, time.Duration, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return 0, 0, err
	}
	d, err := os.Open(dir)
	if err != nil {
		return 0, 0, err
	}
	defer d.Close()
	data := make([]byte, size)
	for i := range data {
		data[i] = 'x'
	}
	start := time.Now()
	n := 0
	for time.Since(start) < dur {
		name := filepath.Join(dir, strconv.Itoa(n)+".json")
		tmp := filepath.Join(dir, ".tmp-"+strconv.Itoa(n))
		f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return n, 0, err
		}
		if _, err := f.Write(data); err != nil {
			return n, 0, err
		}
		if err := f.Sync(); err != nil {
			return n, 0, err
		}
		if err := f.Close(); err != nil {
			return n, 0, err
		}
		if err := os.Rename(tmp, name); err != nil {
			return n, 0, err
		}
		if err := d.Sync(); err != nil {
			return n, 0, err
		}
		n++
	}
	return n, time.Since(start), nil
}
