package cli

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/olekukonko/tablewriter"
	"github.com/olekukonko/tablewriter/renderer"
	"github.com/olekukonko/tablewriter/tw"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/internal/termsafe"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/urfave/cli/v2"
)

// Output formats.
const (
	formatTable = "table" // for people: aligned columns, colour, relative times
	formatPlain = "plain" // for scripts: tab-separated, stable, no decoration
	formatJSON  = "json"  // for programs: documented shapes
)

// printer renders results in the chosen format.
type printer struct {
	w      io.Writer
	tty    bool // w is a terminal
	format string
	color  bool
	now    time.Time
}

// newPrinter is the command's one printer, on standard output as the
// process's streams (ioOf) found it.
func newPrinter(c *cli.Context) (*printer, error) {
	s := ioOf(c)
	p := &printer{w: s.Out, tty: s.IsStdoutTTY(), now: time.Now()}
	switch f := c.String("output"); f {
	case "":
		p.format = formatPlain
		if p.tty {
			p.format = formatTable
		}
	case formatTable, formatPlain, formatJSON:
		p.format = f
	default:
		return nil, usageError("unknown output format %q: use table, plain or json", f)
	}
	p.color = s.ColorEnabled() && !c.Bool("no-color") && p.format == formatTable
	return p, nil
}

// safe is text from elsewhere as it may be printed: see iostreams.IOStreams.SafeOut.
func (p *printer) safe(text string) string {
	if p.tty {
		return termsafe.Strip(text)
	}
	return text
}

// field is a value from elsewhere (an ID, a name, a type, a status that a
// store file, a backup.info or a remote server wrote) as a table cell or a
// "Key: value" line shows it: without terminal controls, bidirectional
// controls, tabs and line feeds, on a terminal or not, since plain output
// is read on terminals too (less, cat, watch) and a line feed in a cell
// forges a row. -o json keeps every byte.
func (p *printer) field(text string) string { return termsafe.Line(text) }

func (p *printer) json(v any) error {
	enc := json.NewEncoder(p.w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// table writes rows under header: borderless columns on a terminal.
func (p *printer) table(header []string, rows [][]string) error {
	if p.format == formatPlain {
		for _, r := range rows {
			fmt.Fprintln(p.w, strings.Join(r, "\t"))
		}
		return nil
	}
	var buf strings.Builder
	t := tablewriter.NewTable(&buf,
		tablewriter.WithRenderer(renderer.NewBlueprint(tw.Rendition{
			Borders: tw.BorderNone,
			Symbols: tw.NewSymbols(tw.StyleNone),
			Settings: tw.Settings{
				Separators: tw.Separators{BetweenRows: tw.Off, BetweenColumns: tw.Off},
				Lines:      tw.Lines{ShowHeaderLine: tw.Off},
			},
		})),
		tablewriter.WithHeaderAutoFormat(tw.Off),
		tablewriter.WithHeaderAlignment(tw.AlignLeft),
		tablewriter.WithRowAlignment(tw.AlignLeft),
		tablewriter.WithPadding(tw.Padding{Left: "", Right: "  ", Overwrite: true}),
		tablewriter.WithTrimSpace(tw.Off),
		tablewriter.WithRowAutoWrap(tw.WrapNone),
	)
	t.Header(header)
	if err := t.Bulk(rows); err != nil {
		return err
	}
	if err := t.Render(); err != nil {
		return err
	}
	for _, line := range strings.Split(strings.TrimRight(buf.String(), "\n"), "\n") {
		if _, err := fmt.Fprintln(p.w, strings.TrimRight(line, " ")); err != nil {
			return err
		}
	}
	return nil
}

// statusText colours a status on a terminal.
func (p *printer) statusText(op *ops.Operation) string {
	s := p.field(string(op.Status)) // a remote server's answer may say anything
	switch op.Phase {
	case ops.PhaseQueued, ops.PhaseLost, ops.PhaseForeign, ops.PhaseCancelled, ops.PhaseTimeout:
		s += " (" + string(op.Phase) + ")"
	}
	if !p.color {
		return s
	}
	code := "33" // yellow: in progress
	switch op.Status {
	case ops.StatusDone:
		code = "32"
	case ops.StatusFailed:
		code = "31"
	}
	return "\x1b[" + code + "m" + s + "\x1b[0m"
}

// when shows a time: relative on a terminal, RFC 3339 otherwise.
func (p *printer) when(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	if p.format == formatTable {
		return t.Format("2006-01-02 15:04:05") + " (" + ago(p.now.Sub(t)) + ")"
	}
	return t.Format(time.RFC3339)
}

func (p *printer) whenShort(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	if p.format == formatTable {
		return ago(p.now.Sub(t))
	}
	return t.Format(time.RFC3339)
}

func ago(d time.Duration) string {
	if d < 0 {
		return "in the future"
	}
	return humanDuration(d) + " ago"
}

// humanDuration prints "6s", "3m", "2h5m", "4d".
func humanDuration(d time.Duration) string {
	switch {
	case d < 10*time.Second:
		return fmt.Sprintf("%.1fs", d.Seconds())
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%ds", int(d.Minutes()), int(d.Seconds())%60)
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh%dm", int(d.Hours()), int(d.Minutes())%60)
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// operationJSON is the documented JSON shape of one operation (-o json).
type operationJSON struct {
	ID              string   `json:"id"`
	Server          *string  `json:"server"`
	Type            ops.Type `json:"type"`
	Status          string   `json:"status"`
	Phase           string   `json:"phase"`
	StartTime       *string  `json:"start_time"`
	EndTime         *string  `json:"end_time"`
	DurationSeconds *float64 `json:"duration_seconds"`
	ExitCode        *int     `json:"exit_code"`
	Reason          string   `json:"reason,omitempty"`
	Payload         any      `json:"payload,omitempty"`
	Output          *string  `json:"output,omitempty"`
	// What inspect adds: see httpd's Detail.
	ResolvedBackupID string   `json:"resolved_backup_id,omitempty"`
	RequestedBy      string   `json:"requested_by,omitempty"`
	BarmanArgv       []string `json:"barman_argv,omitempty"`
}

func toJSON(op *ops.Operation, now time.Time, detail bool) operationJSON {
	j := operationJSON{
		ID: op.ID, Type: op.Type, Status: string(op.Status), Phase: string(op.Phase),
		ExitCode: op.ExitCode, Reason: op.Reason,
	}
	if op.Server != "" {
		s := op.Server
		j.Server = &s
	}
	if !op.StartTime.IsZero() {
		s := op.StartTime.Format(time.RFC3339Nano)
		j.StartTime = &s
		d := op.Duration(now).Seconds()
		j.DurationSeconds = &d
	}
	if !op.EndTime.IsZero() {
		s := op.EndTime.Format(time.RFC3339Nano)
		j.EndTime = &s
	}
	if detail {
		j.Payload = maskedJSON(payloadOf(op))
		out := ops.MaskSecrets(op.Output)
		j.Output = &out
		j.ResolvedBackupID, j.RequestedBy, j.BarmanArgv = op.ResolvedBackupID(), op.RequestedBy(), op.BarmanArgv
	}
	return j
}

// payloadOf is the request as the caller sent it.
func payloadOf(op *ops.Operation) *pyjson.Object {
	if p := op.Payload(); p != nil {
		return p
	}
	return pyjson.NewObject()
}

func scopeLabel(server string) string {
	if server == "" {
		return "(instance)"
	}
	return server
}

// warnSkipped names the store files that are not operations; a file's
// name and what it holds are anyone's, so they are shown as a person's
// terminal may show them.
func warnSkipped(c *cli.Context, skipped []ops.Skipped) {
	for _, s := range skipped {
		fmt.Fprintf(ioOf(c).ErrOut, "pg-backup-api: warning: %s\n", termsafe.Line(fmt.Sprint(s)))
	}
}

// maskedJSON is v as JSON with passwords masked, still the same JSON.
func maskedJSON(v any) json.RawMessage {
	data, err := pyjson.EncodePython(v)
	if err != nil {
		return nil
	}
	return json.RawMessage(ops.MaskJSON(data))
}

func nullableString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// failureTail is what a failed operation's report shows of its output: its
// last 20 lines, or, when the runner added the lines Barman logged to its
// log_file, the last 10 of Barman's own output and the last 20 from that
// block on, so that the block does not push out the error Barman printed.
func failureTail(output string) string {
	i := strings.Index(output, "--- barman.log (")
	if i < 0 || (i > 0 && output[i-1] != '\n') {
		return lastLines(output, 20)
	}
	before := lastLines(output[:i], 10)
	if strings.TrimSpace(before) == "" {
		return lastLines(output[i:], 20)
	}
	return before + "\n" + lastLines(output[i:], 20)
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	return "  " + strings.ReplaceAll(s, "\n", "\n  ") + "\n"
}
