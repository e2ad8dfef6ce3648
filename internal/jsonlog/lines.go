package jsonlog

import (
	"bytes"
	"encoding/json"
	"io"
	"log/slog"
	"math"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"
)

// Lines writes records byte for byte as the logger New returns for the same
// writer, format and level would, but formats them by hand into a reused
// buffer. It is for serve's access log, a line per request, where slog's
// generic handler (a Record, its attribute values, the handler's state) was
// a large part of what a light request cost. It knows only what New
// configures: no ReplaceAttr, no groups, no source.
//
// A Lines and the logger may share a writer: each record is one Write, as
// slog makes it, so the writer must take concurrent writes whole (a
// Coalescer or an *os.File does).
type Lines struct {
	w     io.Writer
	json  bool
	level slog.Leveler
	pool  sync.Pool // of *Line
	stamp atomic.Pointer[secondStamp]
}

// secondStamp is one second formatted, RFC 3339 without its fraction: the
// records of the same second share it.
type secondStamp struct {
	sec  int64
	loc  *time.Location
	date string // 2006-01-02T15:04:05
	zone string // Z or -07:00
}

// appendTime writes t as slog does: with milliseconds in text, all of
// its nanoseconds (trailing zeros trimmed) in JSON.
func (l *Lines) appendTime(b []byte, t time.Time) []byte {
	sec, loc := t.Unix(), t.Location()
	st := l.stamp.Load()
	if st == nil || st.sec != sec || st.loc != loc {
		f := t.Truncate(time.Second).AppendFormat(nil, time.RFC3339)
		const dateLen = len("2006-01-02T15:04:05")
		if len(f) <= dateLen || f[dateLen-3] != ':' {
			// A year of other than four digits: as slog, slowly.
			if l.json {
				return t.Round(0).AppendFormat(b, time.RFC3339Nano)
			}
			return appendRFC3339Millis(b, t)
		}
		st = &secondStamp{sec: sec, loc: loc, date: string(f[:dateLen]), zone: string(f[dateLen:])}
		l.stamp.Store(st)
	}
	b = append(b, st.date...)
	ns := t.Nanosecond()
	if !l.json {
		ms := ns / 1e6
		b = append(b, '.', byte('0'+ms/100), byte('0'+ms/10%10), byte('0'+ms%10))
	} else if ns != 0 {
		var frac [10]byte
		frac[0] = '.'
		for i := 9; i > 0; i-- {
			frac[i] = byte('0' + ns%10)
			ns /= 10
		}
		n := 10
		for frac[n-1] == '0' {
			n--
		}
		b = append(b, frac[:n]...)
	}
	return append(b, st.zone...)
}

// NewLines is the hand-formatted counterpart of New(w, format, level).
func NewLines(w io.Writer, format string, level slog.Leveler) (*Lines, error) {
	f, err := ParseFormat(format)
	if err != nil {
		return nil, err
	}
	if level == nil {
		level = slog.LevelInfo // as slog.HandlerOptions reads nil
	}
	return &Lines{w: w, json: f == JSON, level: level}, nil
}

// Enabled reports whether records at level are written, as the logger's
// Enabled does.
func (l *Lines) Enabled(level slog.Level) bool {
	return level >= l.level.Level()
}

// Line is one record being formatted; End writes it. A Line must not be
// used after End.
type Line struct {
	l   *Lines
	buf []byte
}

// maxPooledLine keeps an unusually long record's buffer out of the pool.
const maxPooledLine = 16 << 10

// Start begins a record made at t, as the logger's Log(ctx, level, msg)
// would begin it. It does not check Enabled.
func (l *Lines) Start(t time.Time, level slog.Level, msg string) *Line {
	ln, _ := l.pool.Get().(*Line)
	if ln == nil {
		ln = &Line{l: l, buf: make([]byte, 0, 512)}
	}
	b := ln.buf[:0]
	if l.json {
		b = append(b, `{"time":"`...)
		b = l.appendTime(b, t)
		b = append(b, `","level":`...)
		b = appendJSONString(b, level.String())
		b = append(b, `,"msg":`...)
		b = appendJSONString(b, msg)
	} else {
		b = append(b, "time="...)
		b = l.appendTime(b, t)
		b = append(b, " level="...)
		b = appendTextString(b, level.String())
		b = append(b, " msg="...)
		b = appendTextString(b, msg)
	}
	ln.buf = b
	return ln
}

func (ln *Line) key(k string) {
	if ln.l.json {
		ln.buf = append(ln.buf, ',')
		ln.buf = appendJSONString(ln.buf, k)
		ln.buf = append(ln.buf, ':')
	} else {
		ln.buf = append(ln.buf, ' ')
		ln.buf = appendTextString(ln.buf, k)
		ln.buf = append(ln.buf, '=')
	}
}

// String adds the attribute slog.String(k, v).
func (ln *Line) String(k, v string) {
	ln.key(k)
	if ln.l.json {
		ln.buf = appendJSONString(ln.buf, v)
	} else {
		ln.buf = appendTextString(ln.buf, v)
	}
}

// Int adds the attribute slog.Int64(k, v).
func (ln *Line) Int(k string, v int64) {
	ln.key(k)
	ln.buf = strconv.AppendInt(ln.buf, v, 10)
}

// Float adds the attribute slog.Float64(k, v).
func (ln *Line) Float(k string, v float64) {
	ln.key(k)
	if ln.l.json {
		ln.buf = appendJSONFloat(ln.buf, v)
	} else {
		ln.buf = strconv.AppendFloat(ln.buf, v, 'g', -1, 64)
	}
}

// End finishes the record and writes it in one Write.
func (ln *Line) End() {
	if ln.l.json {
		ln.buf = append(ln.buf, '}')
	}
	ln.buf = append(ln.buf, '\n')
	ln.l.w.Write(ln.buf) // as slog.Logger, which drops the handler's error
	if cap(ln.buf) <= maxPooledLine {
		ln.l.pool.Put(ln)
	}
}

// The functions below are log/slog's own (Go 1.26, handler.go,
// text_handler.go, json_handler.go), which are not exported; the tests
// compare their output with slog's for arbitrary strings.

// appendRFC3339Millis is slog's text time: RFC 3339 with milliseconds.
func appendRFC3339Millis(b []byte, t time.Time) []byte {
	// RFC3339Nano trims trailing zeros: add 1/10 ms for exactly four
	// digits, then drop the fourth.
	const prefixLen = len("2006-01-02T15:04:05.000")
	n := len(b)
	t = t.Truncate(time.Millisecond).Add(time.Millisecond / 10)
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b[:n+prefixLen], b[n+prefixLen+1:]...)
}

// appendTextString is how slog's TextHandler writes a string: bare unless
// it needs quoting, then Go-quoted.
func appendTextString(b []byte, s string) []byte {
	if needsQuoting(s) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

func needsQuoting(s string) bool {
	if len(s) == 0 {
		return true
	}
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			if !textBare[b] {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}

// jsonBare is encoding/json's safeSet: the ASCII bytes a JSON string
// holds as they are. textBare are those a text value holds unquoted: the
// same but for space and '=', and with the backslash.
var jsonBare, textBare = func() (j, t [utf8.RuneSelf]bool) {
	for b := range utf8.RuneSelf {
		j[b] = b >= ' ' && b != '"' && b != '\\'
		t[b] = b == '\\' || (b != ' ' && b != '=' && j[b])
	}
	return j, t
}()

const hexDigits = "0123456789abcdef"

// slogInvalidUTF8 is how the slog this binary is built with writes a byte
// of invalid UTF-8 in a JSON string: `\ufffd` up to Go 1.26, the rune
// U+FFFD itself from Go 1.27 (its JSON v2, go.dev/cl/687116). Asked of slog
// once rather than assumed, so Lines stays byte for byte slog's on either.
var slogInvalidUTF8 = sync.OnceValue(func() string {
	var out bytes.Buffer
	slog.New(slog.NewJSONHandler(&out, nil)).Info("\xff")
	if bytes.Contains(out.Bytes(), []byte(`"msg":"\ufffd"`)) {
		return `\ufffd`
	}
	return "\ufffd"
})

// appendJSONString is slog's JSON string, quotes included: no HTML
// escaping, invalid UTF-8 as U+FFFD (see slogInvalidUTF8), U+2028 and
// U+2029 escaped.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		if b := s[i]; b < utf8.RuneSelf {
			if jsonBare[b] {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			buf = append(buf, '\\')
			switch b {
			case '\\', '"':
				buf = append(buf, b)
			case '\n':
				buf = append(buf, 'n')
			case '\r':
				buf = append(buf, 'r')
			case '\t':
				buf = append(buf, 't')
			default:
				buf = append(buf, 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, slogInvalidUTF8()...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\u202`...)
			buf = append(buf, hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// appendJSONFloat is encoding/json's float64, which slog's JSONHandler
// uses: 'f' format but for very small or large magnitudes, e-09 as e-9.
func appendJSONFloat(b []byte, f float64) []byte {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		// slog writes the encoder's error in place of the value.
		_, err := json.Marshal(f)
		return appendJSONString(b, "!ERROR:"+err.Error())
	}
	format := byte('f')
	if abs := math.Abs(f); abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		if n := len(b); n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b
}
