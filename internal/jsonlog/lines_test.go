package jsonlog

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"math"
	"testing"
	"time"
)

// viaSlog is what the logger New returns writes for the record.
func viaSlog(t testing.TB, format string, at time.Time, level slog.Level, msg string, attrs ...slog.Attr) string {
	t.Helper()
	var buf bytes.Buffer
	log, err := New(&buf, format, slog.LevelDebug)
	if err != nil {
		t.Fatal(err)
	}
	r := slog.NewRecord(at, level, msg, 0)
	r.AddAttrs(attrs...)
	if err := log.Handler().Handle(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return buf.String()
}

// viaLines writes the same record with Lines.
func viaLines(t testing.TB, format string, at time.Time, level slog.Level, msg string, attrs ...slog.Attr) string {
	t.Helper()
	var buf bytes.Buffer
	l, err := NewLines(&buf, format, slog.LevelDebug)
	if err != nil {
		t.Fatal(err)
	}
	ln := l.Start(at, level, msg)
	for _, a := range attrs {
		switch a.Value.Kind() {
		case slog.KindString:
			ln.String(a.Key, a.Value.String())
		case slog.KindInt64:
			ln.Int(a.Key, a.Value.Int64())
		case slog.KindFloat64:
			ln.Float(a.Key, a.Value.Float64())
		default:
			t.Fatalf("attribute kind %v is not one Lines writes", a.Value.Kind())
		}
	}
	ln.End()
	return buf.String()
}

func sameAsSlog(t testing.TB, at time.Time, level slog.Level, msg string, attrs ...slog.Attr) {
	t.Helper()
	for _, format := range []string{Text, JSON} {
		want := viaSlog(t, format, at, level, msg, attrs...)
		if got := viaLines(t, format, at, level, msg, attrs...); got != want {
			t.Fatalf("%s record differs from slog's:\n got %q\nwant %q", format, got, want)
		}
	}
}

// An access-log line with the awkward values a request can bring: every
// one written exactly as slog writes it.
func TestLinesAreSlogsBytes(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 890123456, time.FixedZone("X", 5*3600+1800))
	strs := []string{"", "/status", "/a b", `/q"uote`, "/k=v", "/back\\slash", "/nl\nx", "/tab\t\r", "\x00\x1f\x7f",
		"\xff\xfe", "é/ü", "\u2028\u2029", "\u00a0", "\u200b", "日本", "<html>&", "a\xc3"}
	for _, s := range strs {
		sameAsSlog(t, at, slog.LevelInfo, "request", slog.String("method", "GET"), slog.String("path", s),
			slog.Int("status", 200), slog.Float64("duration_ms", 0.123), slog.String("client", s))
		sameAsSlog(t, at, slog.LevelWarn, s, slog.String(s+"k", s))
	}
	for _, f := range []float64{0, 0.001, 1.5, 12.345, 999999, 1e6, 1234567.891, 1e20, 1e21, 1e-6, 1e-7, -2.5e-9, math.MaxFloat64,
		math.SmallestNonzeroFloat64, math.Inf(1), math.Inf(-1), math.NaN()} {
		sameAsSlog(t, at, slog.LevelInfo, "request", slog.Float64("duration_ms", f))
	}
	for _, lv := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError, slog.LevelInfo + 2, slog.LevelError + 4} {
		sameAsSlog(t, at, lv, "m", slog.Int("n", -7))
	}
	for _, at := range []time.Time{time.Now(), time.Now().UTC(), time.Unix(0, 0), time.Date(2026, 1, 1, 0, 0, 0, 999999999, time.Local),
		time.Date(2026, 1, 1, 0, 0, 0, 1000000, time.UTC), time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} {
		sameAsSlog(t, at, slog.LevelInfo, "request", slog.String("path", "/status"))
	}
}

func FuzzLinesAreSlogsBytes(f *testing.F) {
	f.Add("/status", "127.0.0.1", "token:ops", 0.5, int64(200), int64(1772600767890123456))
	f.Add("/a b\"=\\\n\t\x00\x7f", "", "cert:CN=a b,O=x", 1e21, int64(-1), int64(0))
	f.Add("\xff\u2028é日本\u00a0", "::1", "anonymous", -1e-7, int64(431), int64(-1))
	f.Fuzz(func(t *testing.T, path, client, ident string, d float64, status, nanos int64) {
		at := time.Unix(0, nanos) // 1677 to 2262: inside the years slog writes
		sameAsSlog(t, at, slog.LevelInfo, "request", slog.String("method", path), slog.String("path", path),
			slog.Int64("status", status), slog.Float64("duration_ms", d), slog.String("client", client),
			slog.String("identity", ident), slog.String(ident, client))
		sameAsSlog(t, at, slog.LevelWarn, path, slog.String("k", ident))
	})
}

func TestLinesRespectTheLevel(t *testing.T) {
	var lv slog.LevelVar
	lv.Set(slog.LevelWarn)
	l, err := NewLines(io.Discard, Text, &lv)
	if err != nil {
		t.Fatal(err)
	}
	if l.Enabled(slog.LevelInfo) || !l.Enabled(slog.LevelWarn) {
		t.Errorf("at WARN: Enabled(INFO) = %v, Enabled(WARN) = %v", l.Enabled(slog.LevelInfo), l.Enabled(slog.LevelWarn))
	}
	lv.Set(slog.LevelInfo)
	if !l.Enabled(slog.LevelInfo) {
		t.Error("the level changed to INFO, Enabled(INFO) is still false")
	}
	if l, _ := NewLines(io.Discard, Text, nil); l.Enabled(slog.LevelDebug) || !l.Enabled(slog.LevelInfo) {
		t.Error("a nil level is not INFO, as slog reads it")
	}
	if l, err := NewLines(io.Discard, "yaml", nil); err == nil || l != nil {
		t.Errorf("an unknown format gave %v, %v; want a refusal", l, err)
	}
}

// Records of the same second share its formatted date: every one is still
// slog's, whatever its fraction, zone or year.
func TestLinesTimesWithinASecond(t *testing.T) {
	var text, js bytes.Buffer
	lt, _ := NewLines(&text, Text, nil)
	lj, _ := NewLines(&js, JSON, nil)
	base := time.Date(2026, 3, 29, 0, 59, 59, 0, time.UTC)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		paris = time.FixedZone("CET", 3600)
	}
	var times []time.Time
	for _, ns := range []int{0, 1, 999, 1000000, 1500000, 10000000, 120000000, 999999999, 500000000} {
		at := base.Add(time.Duration(ns))
		times = append(times, at, at.In(paris), at.Local(), at.In(time.FixedZone("odd", -(3*3600+1800))))
	}
	// Across a second, a daylight-saving change (Paris, 2026-03-29 01:00
	// UTC), and years slog writes without the shared date.
	times = append(times, base.Add(time.Second).In(paris), base.Add(time.Second+time.Millisecond), time.Date(12345, 1, 1, 0, 0, 0, 5, time.UTC),
		time.Date(-1, 1, 1, 0, 0, 0, 5, time.UTC), base)
	for _, at := range times {
		text.Reset()
		js.Reset()
		lt.Start(at, slog.LevelInfo, "m").End()
		lj.Start(at, slog.LevelInfo, "m").End()
		if want := viaSlog(t, Text, at, slog.LevelInfo, "m"); text.String() != want {
			t.Errorf("%v text: got %q, want %q", at, text.String(), want)
		}
		if at.Year() < 0 || at.Year() > 9999 {
			continue // slog adds an error to the record; Lines is given time.Now
		}
		if want := viaSlog(t, JSON, at, slog.LevelInfo, "m"); js.String() != want {
			t.Errorf("%v json: got %q, want %q", at, js.String(), want)
		}
	}
}

// A pooled buffer is reused: one record's bytes never leak into the next.
func TestLinesReuseNoBytes(t *testing.T) {
	var buf bytes.Buffer
	l, _ := NewLines(&buf, JSON, nil)
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	ln := l.Start(at, slog.LevelInfo, "long")
	ln.String("pad", string(bytes.Repeat([]byte("x"), 300)))
	ln.End()
	buf.Reset()
	l.Start(at, slog.LevelInfo, "short").End()
	if got, want := buf.String(), `{"time":"2026-01-02T03:04:05Z","level":"INFO","msg":"short"}`+"\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

func BenchmarkAccessLine(b *testing.B) {
	at := time.Now()
	for _, format := range []string{Text, JSON} {
		b.Run(format+"/lines", func(b *testing.B) {
			l, _ := NewLines(io.Discard, format, slog.LevelInfo)
			b.ReportAllocs()
			for b.Loop() {
				ln := l.Start(at, slog.LevelInfo, "request")
				ln.String("method", "GET")
				ln.String("path", "/servers/db1/operations/20261125T012320")
				ln.Int("status", 200)
				ln.Float("duration_ms", 0.042)
				ln.String("client", "127.0.0.1")
				ln.String("identity", "anonymous")
				ln.String("scheme", "http")
				ln.String("request_id", "0123456789ab1f")
				ln.End()
			}
		})
		b.Run(format+"/slog", func(b *testing.B) {
			log, _ := New(io.Discard, format, slog.LevelInfo)
			b.ReportAllocs()
			for b.Loop() {
				log.LogAttrs(context.Background(), slog.LevelInfo, "request", slog.String("method", "GET"),
					slog.String("path", "/servers/db1/operations/20261125T012320"), slog.Int("status", 200),
					slog.Float64("duration_ms", 0.042), slog.String("client", "127.0.0.1"), slog.String("identity", "anonymous"),
					slog.String("scheme", "http"), slog.String("request_id", "0123456789ab1f"))
			}
		})
	}
}
