// Command pg-backup-api asks Barman to run operations and tracks them.
package main

import (
	"fmt"
	"os"

	"github.com/pg-backup-api/pg-backup-api/cli"
)

// Stamped by the release build (-ldflags -X).
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

func main() {
	app := cli.NewApp(cli.BuildInfo{Version: version, Commit: commit, Date: date}, os.Stdout, os.Stderr)
	code, msg := cli.ExitCode(cli.Run(app, os.Args))
	if msg != "" {
		fmt.Fprintln(os.Stderr, msg)
	}
	os.Exit(code)
}
