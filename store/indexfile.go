package store

// The index file, <scope>/.pg-backup-api/index: its format, its writer
// and its parser (see index.go for what the index is).

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/pg-backup-api/pg-backup-api/internal/filestamp"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// The on-disk form: a header line, then one tab-separated line per entry.
// Reasons are the only free text; tabs and newlines in them are escaped.

var fieldEscaper = strings.NewReplacer("\\", `\\`, "\t", `\t`, "\n", `\n`)
var fieldUnescaper = strings.NewReplacer(`\\`, "\\", `\t`, "\t", `\n`, "\n")

// write replaces dir's index file with ix, as WriteFileAtomicNoSync does,
// encoding straight into the file: the text of a large scope's index is
// never whole in memory.
func (ix *scopeIndex) write(dir string) error {
	f, err := os.CreateTemp(dir, "."+indexFileName+".tmp-*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	bw := bufio.NewWriterSize(f, 64<<10)
	ix.encodeTo(bw)
	err = bw.Flush()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(dir, indexFileName))
	}
	if err != nil {
		os.Remove(tmp)
	}
	return err
}

func (ix *scopeIndex) encodeTo(b io.Writer) {
	racy := 0
	if ix.racy {
		racy = 1
	}
	fmt.Fprintf(b, "%s\t%d\t%d\t%t\t%d\t%d\t%t\t%d\n", indexVersion,
		ix.jobs.MtimeNs, ix.jobs.Ino, ix.jobs.Exists, ix.outputs.MtimeNs, ix.outputs.Ino, ix.outputs.Exists, racy)
	for i := range ix.entries {
		e := ix.entries[i].info()
		exit := ""
		if e.ExitCode != nil {
			exit = strconv.Itoa(*e.ExitCode)
		}
		fmt.Fprintf(b, "%s\t%s\t%s\t%t\t%t\t%s\t%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\n",
			e.ID, fieldEscaper.Replace(string(e.Type)), fieldEscaper.Replace(e.StartTime), e.Ours, e.Final,
			e.Status, e.Phase, fieldEscaper.Replace(e.EndTime), exit, fieldEscaper.Replace(e.Reason), fieldEscaper.Replace(e.Skip),
			e.Output.Ino, e.Output.Size, e.Output.MtimeNs)
	}
}

func readIndex(path string) (*scopeIndex, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	// Line by line: the file of a large scope (14 MB for 100,000) is never
	// whole in memory. Fields are substrings of the line; what the index
	// keeps is cloned.
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxIndexLine)
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return nil, err
		}
		return nil, errors.New("empty index")
	}
	ix, err := parseIndexHeader(sc.Text())
	if err != nil {
		return nil, err
	}
	ix.entries = make([]indexEntry, 0, fi.Size()/120)
	for sc.Scan() {
		line := sc.Bytes()
		e, err := parseIndexLine(unsafe.String(unsafe.SliceData(line), len(line)))
		if err != nil {
			return nil, err
		}
		ix.entries = append(ix.entries, e)
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	ix.packIDs()
	return ix, nil
}

// packIDs keeps the entries' IDs in one string: 100,000 IDs are then one
// object for the collector to mark instead of 100,000, and no directory
// entry's name (with its ".json") stays alive through an ID cut from it.
func (ix *scopeIndex) packIDs() {
	n := 0
	for i := range ix.entries {
		n += len(ix.entries[i].ID)
	}
	var b strings.Builder
	b.Grow(n)
	for i := range ix.entries {
		b.WriteString(ix.entries[i].ID)
	}
	all, off := b.String(), 0
	for i := range ix.entries {
		end := off + len(ix.entries[i].ID)
		ix.entries[i].ID = all[off:end]
		off = end
	}
}

// maxIndexLine bounds one line of an index file; the free text in it is a
// reason, which is short.
const maxIndexLine = 16 << 20

// parseIndexHeader reads the first line of an index file.
func parseIndexHeader(line string) (*scopeIndex, error) {
	if line == "" {
		return nil, errors.New("empty index")
	}
	var head [8]string
	if splitTabs(line, head[:]) != 8 || head[0] != indexVersion {
		return nil, errors.New("not an index of this version")
	}
	ix := &scopeIndex{}
	var perr error
	num := func(s string) int64 {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			perr = err
		}
		return n
	}
	ix.jobs = dirStamp{MtimeNs: num(head[1]), Ino: uint64(num(head[2])), Exists: head[3] == "true"}
	ix.outputs = dirStamp{MtimeNs: num(head[4]), Ino: uint64(num(head[5])), Exists: head[6] == "true"}
	ix.racy = head[7] != "0"
	if perr != nil {
		return nil, errors.New("damaged index")
	}
	return ix, nil
}

// parseIndexLines reads entry lines, each ending in a newline.
func parseIndexLines(rest string) ([]indexEntry, error) {
	entries := make([]indexEntry, 0, strings.Count(rest, "\n"))
	for rest != "" {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		e, err := parseIndexLine(line)
		if err != nil {
			return nil, err
		}
		entries = append(entries, e)
	}
	return entries, nil
}

// parseIndexLine reads one entry line, without its newline.
func parseIndexLine(line string) (indexEntry, error) {
	var perr error
	num := func(s string) int64 {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			perr = err
		}
		return n
	}
	var f [14]string
	if splitTabs(line, f[:]) != 14 {
		return indexEntry{}, errors.New("damaged index line")
	}
	e := entryInfo{
		ID: strings.Clone(f[0]), Type: ops.Type(unescapeField(f[1])), StartTime: unescapeField(f[2]),
		Ours: f[3] == "true", Final: f[4] == "true", Status: ops.Status(f[5]), Phase: ops.Phase(f[6]),
		EndTime: unescapeField(f[7]), Reason: strings.Clone(unescapeField(f[9])), Skip: strings.Clone(unescapeField(f[10])),
	}
	e.Output = filestamp.Stamp{Ino: uint64(num(f[11])), Size: num(f[12]), MtimeNs: num(f[13])}
	if f[8] != "" {
		exit := int(num(f[8]))
		e.ExitCode = &exit
	}
	if perr != nil {
		return indexEntry{}, errors.New("damaged index")
	}
	return e.pack(), nil
}

// readIndexTail reads the newest n entries of the index file at path, and
// its header, without reading the rest: `list -n 20` of a scope of 100,000
// need not read 14 MB. Lines are sorted by ID, so the newest are last.
func readIndexTail(path string, n int) (*scopeIndex, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := fi.Size()
	head := make([]byte, min(size, 512))
	if _, err := io.ReadFull(f, head); err != nil {
		return nil, err
	}
	nl := bytes.IndexByte(head, '\n')
	if nl < 0 {
		return nil, errors.New("damaged index header")
	}
	ix, err := parseIndexHeader(string(head[:nl]))
	if err != nil {
		return nil, err
	}
	bodyStart := int64(nl + 1)
	// Read back from the end until n+1 line ends are in hand (the first
	// may end a line cut in the middle) or the header is reached.
	chunk := int64(max(n, 1)) * 160
	for {
		from := max(size-chunk, bodyStart)
		buf := make([]byte, size-from)
		if _, err := f.ReadAt(buf, from); err != nil && err != io.EOF {
			return nil, err
		}
		if len(buf) > 0 && buf[len(buf)-1] != '\n' {
			return nil, errors.New("damaged index: the last line has no end")
		}
		lines := bytes.Count(buf, []byte("\n"))
		if from == bodyStart || lines > n {
			if from > bodyStart {
				buf = buf[bytes.IndexByte(buf, '\n')+1:] // the cut line
				lines--
			}
			for ; lines > n; lines-- {
				buf = buf[bytes.IndexByte(buf, '\n')+1:]
			}
			if ix.entries, err = parseIndexLines(string(buf)); err != nil {
				return nil, err
			}
			return ix, nil
		}
		chunk *= 4
	}
}

// splitTabs splits s at tabs into f and returns how many fields s has.
func splitTabs(s string, f []string) int {
	n := 0
	for {
		field, more, found := strings.Cut(s, "\t")
		if n < len(f) {
			f[n] = field
		}
		n++
		if !found {
			return n
		}
		s = more
	}
}

func unescapeField(s string) string {
	if strings.IndexByte(s, '\\') < 0 {
		return s
	}
	return fieldUnescaper.Replace(s)
}

// parseTimeFast reads TimeLayout ("2006-01-02T15:04:05.000000") in local
// time, as time.ParseInLocation does for well-formed values.
func parseTimeFast(s string) time.Time {
	if len(s) != len(ops.TimeLayout) || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' || s[19] != '.' {
		t, _ := time.ParseInLocation(ops.TimeLayout, s, time.Local)
		return t
	}
	d := func(i, j int) (int, bool) {
		v := 0
		for ; i < j; i++ {
			c := s[i]
			if c < '0' || c > '9' {
				return 0, false
			}
			v = v*10 + int(c-'0')
		}
		return v, true
	}
	y, ok1 := d(0, 4)
	mo, ok2 := d(5, 7)
	dd, ok3 := d(8, 10)
	h, ok4 := d(11, 13)
	mi, ok5 := d(14, 16)
	se, ok6 := d(17, 19)
	us, ok7 := d(20, 26)
	if !(ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7) || mo < 1 || mo > 12 || dd < 1 || dd > 31 || h > 23 || mi > 59 || se > 59 {
		t, _ := time.ParseInLocation(ops.TimeLayout, s, time.Local)
		return t
	}
	t := time.Date(y, time.Month(mo), dd, h, mi, se, us*1000, time.Local)
	if t.Day() != dd { // 31 April and such: what ParseInLocation refuses
		return time.Time{}
	}
	return t
}
