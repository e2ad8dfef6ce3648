// Command pg-backup-api asks Barman to run operations and tracks them.
package main

import (
	"fmt"
	"os"

	"github.com/pg-backup-api/pg-backup-api/cli"
	"github.com/pg-backup-api/pg-backup-api/cli/iostreams"
)

// Stamped by the release build (-ldflags -X).
var (
	version = "dev"
	commit  = "none"
	date    = "unknown"
)

func main() {
	ios := iostreams.System()
	app := cli.NewApp(cli.BuildInfo{Version: version, Commit: commit, Date: date}, ios)
	code, msg := cli.ExitCode(cli.Run(app, os.Args))
	if msg != "" {
		fmt.Fprintln(ios.ErrOut, msg)
	}
	os.Exit(code)
}
