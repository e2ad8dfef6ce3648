// Command genstore writes a synthetic Barman environment for bench/run (see
// package bench/storegen): barman.conf with server db1, a catalog with one
// DONE backup, and N finished operations of db1. It prints the paths as
// KEY=value lines.
//
//	go run ./bench/genstore -dir /var/tmp/store -n 10000
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/pg-backup-api/pg-backup-api/bench/storegen"
)

func main() {
	dir := flag.String("dir", "", "`DIR` to create the environment in")
	n := flag.Int("n", 1000, "number of finished operations of server db1")
	queued := flag.Int("queued", 0, "number of queued operations of server db1, after the finished ones")
	flag.Parse()
	if *dir == "" || *n < 1 || *queued < 0 || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: genstore -dir DIR [-n N] [-queued N]")
		os.Exit(2)
	}
	e, err := storegen.Generate(*dir, *n)
	if err == nil && *queued > 0 {
		_, err = storegen.WriteQueued(e.Home, *n, *queued, e.BarmanConf)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "genstore:", err)
		os.Exit(1)
	}
	fmt.Printf("BARMAN_CONF=%s\nCONFIG=%s\nHOME_DIR=%s\nN=%d\nSAMPLE_ID=%s\n", e.BarmanConf, e.Config, e.Home, len(e.IDs), e.SampleID)
}
