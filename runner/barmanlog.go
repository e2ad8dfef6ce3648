package runner

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/internal/pgmask"
)

// Barman often prints a generic line ("Unable to process a set of
// changes") and logs the cause to its log_file only. A failed operation's
// output gets the records that its Barman process wrote there while it ran,
// within these bounds: the last barmanLogMaxLines lines, at most
// barmanLogMaxBytes, found in at most the last barmanLogMaxScan bytes
// written while it ran. Variables only so that tests can use small ones.
var (
	barmanLogMaxLines       = 200
	barmanLogMaxBytes       = 64 << 10
	barmanLogMaxScan  int64 = 32 << 20
)

// barmanLogMaxLine cuts a single line of the log: a record quoting a large
// document must not crowd out the others.
const barmanLogMaxLine = 4 << 10

// barmanLog is Barman's log_file as it was when one Barman process
// started, so that the records that process wrote can be picked out once it
// has ended. It is best effort: what goes wrong is said in one line of the
// report, and never fails the operation's finishing.
type barmanLog struct {
	path string // absolute
	pid  int    // Barman's process, once started
	// record matches the first line of a record and captures its process
	// id; the lines that do not match continue the record before them.
	record *regexp.Regexp
	// f is the log as it was at the start, still open, so that what was
	// written before a rotation (a rename) can still be read from it; nil
	// when there was no log yet.
	f      *os.File
	offset int64 // f's size at the start
	note   string
	// wrapper is the program --barman-command starts when it is not barman
	// itself: its pid may not be Barman's.
	wrapper string
}

// watchBarmanLog notes where Barman's log ends, before Barman starts with
// configuration conf. It returns nil when Barman logs to its standard error
// (no log_file), which is the operation's output already.
func watchBarmanLog(conf, program string) *barmanLog {
	w := &barmanLog{}
	if base := filepath.Base(program); base != "barman" {
		w.wrapper = base
	}
	s, err := barman.ReadLogSettings(conf)
	if err != nil {
		w.note = "cannot tell where Barman logs: " + err.Error()
		return w
	}
	if s.File == "" {
		return nil
	}
	// Barman calls os.path.abspath on it, in the working directory it
	// inherits from us.
	if w.path, err = filepath.Abs(s.File); err != nil {
		w.path = s.File
	}
	if w.record, w.note = recordPattern(s.Format); w.note != "" {
		return w
	}
	f, size, err := openLog(w.path)
	switch {
	case err == nil:
		w.f, w.offset = f, size
	case errors.Is(err, fs.ErrNotExist):
		// Barman creates it: all of it will be new.
	default:
		w.note = "cannot read it: " + err.Error()
	}
	return w
}

// openLog opens a log file for reading and returns its size. Without
// O_NONBLOCK, opening a FIFO would wait for a writer.
func openLog(path string) (*os.File, int64, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err // the path is in the report's heading
		}
		return nil, 0, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		switch {
		case fi.IsDir():
			err = errors.New("it is a directory, not a file")
		case fi.Mode()&fs.ModeNamedPipe != 0:
			err = errors.New("it is a named pipe, not a file")
		default:
			err = errors.New("it is not a regular file")
		}
	}
	if err != nil {
		f.Close()
		return nil, 0, err
	}
	return f, fi.Size(), nil
}

func (w *barmanLog) close() {
	if w != nil && w.f != nil {
		w.f.Close()
		w.f = nil
	}
}

// report returns, masked, the block that a failed operation's output gets:
// the records of Barman's process between a heading and an end line, or
// one line that says why there are none.
func (w *barmanLog) report() (block string) {
	defer func() {
		// A bug here must not cost the operation its result.
		if v := recover(); v != nil {
			block = w.line(fmt.Sprintf("cannot be read: internal error in pg-backup-api (%v)", v))
		}
	}()
	if w.note != "" {
		return w.line(w.note)
	}
	var c collector
	var notes []string
	if w.f != nil {
		fi, err := w.f.Stat()
		if err != nil {
			return w.line("cannot read it: " + err.Error())
		}
		start := w.offset
		if fi.Size() < start {
			// Truncated in place (logrotate's copytruncate): what it holds
			// now was all written since.
			start = 0
			notes = append(notes, "it was truncated while Barman ran; what it holds now was searched")
		}
		if err := w.scan(&c, w.f, start, fi.Size()); err != nil {
			return w.line("cannot read it: " + err.Error())
		}
		// Rotated by a rename: Barman's WatchedFileHandler goes on in a new
		// file at the path, all of it written since.
		if pi, err := os.Stat(w.path); err == nil && !os.SameFile(fi, pi) {
			notes = append(notes, "it was rotated while Barman ran; the old file and the new were searched")
			if err := w.scanPath(&c); err != nil {
				notes = append(notes, "cannot read the new file: "+err.Error())
			}
		}
	} else if err := w.scanPath(&c); errors.Is(err, fs.ErrNotExist) {
		return w.line("it does not exist: Barman logged nothing there")
	} else if err != nil {
		return w.line("cannot read it: " + err.Error())
	}
	if len(c.lines) == 0 {
		why := "no records of this process since it started"
		if w.wrapper != "" {
			why += fmt.Sprintf(" (--barman-command starts %s: if it does not exec Barman, as sudo does not, Barman's pid is another)", w.wrapper)
		}
		return w.line(strings.Join(append([]string{why}, notes...), "; "))
	}
	var b strings.Builder
	b.WriteString(w.heading() + " ---\n")
	for _, n := range notes {
		b.WriteString("[pg-backup-api: " + n + "]\n")
	}
	if c.scanCut {
		fmt.Fprintf(&b, "[pg-backup-api: only the last %d bytes written while Barman ran were searched]\n", barmanLogMaxScan)
	}
	if c.dropped > 0 {
		fmt.Fprintf(&b, "[pg-backup-api: the first %d lines of this process were left out; the last %d follow]\n", c.dropped, len(c.lines))
	}
	for _, l := range c.lines {
		b.WriteString(l)
		b.WriteByte('\n')
	}
	b.WriteString("--- end of barman.log ---\n")
	return pgmask.Text(b.String())
}

func (w *barmanLog) heading() string {
	where := w.path
	if where == "" {
		where = "log_file unknown"
	}
	return fmt.Sprintf("--- barman.log (pid %d, %s)", w.pid, where)
}

// line is a report of one line: the heading and why there is nothing more.
func (w *barmanLog) line(why string) string {
	return pgmask.Text(w.heading() + ": " + strings.ReplaceAll(why, "\n", " ") + " ---\n")
}

// scanPath searches all of the file now at the path.
func (w *barmanLog) scanPath(c *collector) error {
	f, size, err := openLog(w.path)
	if err != nil {
		return err
	}
	defer f.Close()
	return w.scan(c, f, 0, size)
}

// scan collects the records of w.pid in f's bytes [start, end).
func (w *barmanLog) scan(c *collector, f *os.File, start, end int64) error {
	partial := false
	if end-start > barmanLogMaxScan {
		start = end - barmanLogMaxScan
		partial = true
		c.scanCut = true
	}
	r := bufio.NewReaderSize(io.NewSectionReader(f, start, end-start), 64<<10)
	pid := fmt.Sprint(w.pid)
	mine := false // whether the record being read is of w.pid
	for first := true; ; first = false {
		line, err := readLine(r)
		if line == "" && err != nil {
			if err == io.EOF {
				return nil
			}
			return err
		}
		if first && partial {
			continue // the rest of a line cut by the bound
		}
		if m := w.record.FindStringSubmatch(line); m != nil {
			mine = m[1] == pid
		}
		// A line before the first record's start continues a record that
		// began before Barman did: not its own.
		if mine {
			c.add(line)
		}
	}
}

// readLine returns the next line of r without its newline, cut to
// barmanLogMaxLine bytes.
func readLine(r *bufio.Reader) (string, error) {
	var b []byte
	cut := false
	for {
		chunk, err := r.ReadSlice('\n')
		if room := barmanLogMaxLine - len(b); len(chunk) > room {
			chunk, cut = chunk[:max(room, 0)], true
		}
		b = append(b, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		line := strings.TrimSuffix(strings.ToValidUTF8(string(b), "\uFFFD"), "\n")
		if cut {
			line = strings.TrimSuffix(line, "\uFFFD") + " [... cut]"
		}
		if err != nil && len(b) > 0 && err == io.EOF {
			err = nil // a last line without its newline
		}
		return line, err
	}
}

// collector keeps the last lines found, within barmanLogMaxLines and
// barmanLogMaxBytes, since the cause of a failure is logged last.
type collector struct {
	lines   []string
	bytes   int
	dropped int
	scanCut bool
}

func (c *collector) add(line string) {
	c.lines = append(c.lines, line)
	c.bytes += len(line) + 1
	for len(c.lines) > barmanLogMaxLines || (c.bytes > barmanLogMaxBytes && len(c.lines) > 1) {
		c.bytes -= len(c.lines[0]) + 1
		c.lines = c.lines[1:]
		c.dropped++
	}
}

// pyField is one conversion of a Python %-style format with a mapping key,
// as logging's PercentStyle validates it, or a literal "%%".
var pyField = regexp.MustCompile(`%(?:\((\w+)\)[#0+ -]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?([diouxXeEfFgGcrsa])|%)`)

// recordPattern turns Barman's log_format into a pattern that matches the
// first line of a record and captures its %(process) field; or says why it
// cannot, rather than guess which lines are whose.
func recordPattern(format string) (*regexp.Regexp, string) {
	var re strings.Builder
	re.WriteString("^")
	haveProcess := false
	rest := format
	for rest != "" {
		loc := pyField.FindStringSubmatchIndex(rest)
		if loc == nil || strings.Contains(rest[:loc[0]], "%") {
			return nil, fmt.Sprintf("its log_format %q is not a format Python's logging reads; cannot tell this process's records", format)
		}
		re.WriteString(regexp.QuoteMeta(rest[:loc[0]]))
		if loc[2] < 0 {
			re.WriteString("%")
			rest = rest[loc[1]:]
			continue
		}
		name, conv := rest[loc[2]:loc[3]], rest[loc[4]:loc[5]]
		rest = rest[loc[1]:]
		switch {
		case name == "process" && !haveProcess:
			if !strings.Contains("diusra", conv) {
				return nil, fmt.Sprintf("its log_format %q writes %%(process) as %q, not in decimal; cannot tell this process's records", format, conv)
			}
			re.WriteString(` *(\d+) *`)
			haveProcess = true
		case name == "asctime" && conv == "s":
			// logging's default time format; Barman sets no datefmt.
			re.WriteString(` *\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} *`)
		case strings.Contains("diu", conv):
			re.WriteString(` *-?\d+ *`)
		default:
			re.WriteString(`.*?`)
		}
	}
	if !haveProcess {
		return nil, fmt.Sprintf("its log_format %q has no %%(process)d, so this process's records cannot be told from others'; look in the file", format)
	}
	re.WriteString("$")
	return regexp.MustCompile(re.String()), ""
}
