package cli

// The process's streams (package iostreams) as every command reads them:
// NewApp leaves them in the application's Metadata, so that every command's
// context carries them.

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/pg-backup-api/pg-backup-api/cli/iostreams"
	"github.com/pg-backup-api/pg-backup-api/internal/termsafe"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/urfave/cli/v2"
)

// ioKey is where NewApp leaves the streams in the application's Metadata.
const ioKey = "pg-backup-api/iostreams"

// ioOf returns the streams NewApp was given.
func ioOf(c *cli.Context) *iostreams.IOStreams {
	if s, ok := c.App.Metadata[ioKey].(*iostreams.IOStreams); ok {
		return s
	}
	// An App not built by NewApp (none is today): decide now.
	return iostreams.New(c.App.Reader, c.App.Writer, c.App.ErrWriter)
}

// progress draws a one-line status on standard error while waiting, when
// that is a terminal and the results are not JSON.
type progress struct {
	on    bool
	w     io.Writer
	width int
	start time.Time
}

func newProgress(c *cli.Context, p *printer) *progress {
	s := ioOf(c)
	return &progress{on: s.IsStderrTTY() && p.format != formatJSON, w: s.ErrOut, width: s.ProgressWidth(), start: time.Now()}
}

func (pr *progress) update(op *ops.Operation) {
	if !pr.on {
		return
	}
	line := lastLines(op.Output, 1)
	if i := strings.LastIndexByte(line, '\n'); i >= 0 {
		line = line[i+1:]
	}
	msg := fmt.Sprintf("%s %s %s", op.ID, op.Phase, humanDuration(time.Since(pr.start)))
	if line != "" {
		msg += " | " + termsafe.Strip(ops.MaskSecrets(line)) // pr.on: a terminal
	}
	if len(msg) > pr.width {
		msg = msg[:pr.width-3] + "..."
	}
	fmt.Fprintf(pr.w, "\r\x1b[K%s", msg)
}

func (pr *progress) done() {
	if pr.on {
		fmt.Fprint(pr.w, "\r\x1b[K")
	}
}
