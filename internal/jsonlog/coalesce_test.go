package jsonlog

import (
	"bytes"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer counts the writes it receives.
type lockedBuffer struct {
	mu     sync.Mutex
	b      bytes.Buffer
	writes int
	delay  time.Duration
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	time.Sleep(l.delay)
	l.mu.Lock()
	defer l.mu.Unlock()
	l.writes++
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// Every record arrives whole and in each writer's order, in fewer writes
// than records when writers pile up behind a slow one.
func TestCoalescerKeepsRecordsAndOrder(t *testing.T) {
	out := &lockedBuffer{delay: 200 * time.Microsecond}
	c := NewCoalescer(out)
	log := slog.New(slog.NewTextHandler(c, &slog.HandlerOptions{ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
		if a.Key == slog.TimeKey {
			return slog.Attr{}
		}
		return a
	}}))
	const writers, each = 8, 300
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for i := range each {
				log.Info("request", "writer", w, "seq", i, "path", "/a b")
			}
		})
	}
	wg.Wait()
	c.Close()
	log.Info("after close", "writer", 99)

	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	if len(lines) != writers*each+1 {
		t.Fatalf("%d lines, want %d", len(lines), writers*each+1)
	}
	next := make([]int, writers)
	for _, l := range lines[:len(lines)-1] {
		var w, seq int
		if _, err := fmt.Sscanf(l, "level=INFO msg=request writer=%d seq=%d path=\"/a b\"", &w, &seq); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if seq != next[w] {
			t.Fatalf("writer %d: record %d after %d", w, seq, next[w]-1)
		}
		next[w]++
	}
	if last := lines[len(lines)-1]; last != `level=INFO msg="after close" writer=99` {
		t.Errorf("last line %q, want the record written after Close", last)
	}
	if out.writes >= writers*each {
		t.Errorf("%d writes for %d records: nothing was joined", out.writes, writers*each)
	}
}

// A record is written without waiting for a later one or for Close.
func TestCoalescerWritesPromptly(t *testing.T) {
	out := &lockedBuffer{}
	c := NewCoalescer(out)
	defer c.Close()
	c.Write([]byte("one\n"))
	deadline := time.Now().Add(10 * time.Second)
	for out.String() != "one\n" {
		if time.Now().After(deadline) {
			t.Fatalf("the record was not written: %q", out.String())
		}
		time.Sleep(time.Millisecond)
	}
}

// Records that arrive one after another, with no writer contending, still
// share writes: the first one wakes the writer, which gathers the rest.
func TestCoalescerGathersUnhurriedRecords(t *testing.T) {
	out := &lockedBuffer{}
	c := NewCoalescer(out)
	const records = 200
	var want strings.Builder
	for i := range records {
		line := fmt.Sprintf("record %d\n", i)
		want.WriteString(line)
		c.Write([]byte(line))
	}
	c.Close()
	if out.String() != want.String() {
		t.Fatalf("records changed or reordered:\n%s", out.String())
	}
	if out.writes > records/4 {
		t.Errorf("%d writes for %d records written in a row: they were not gathered", out.writes, records)
	}
}

// blockingWriter holds every write until released.
type blockingWriter struct {
	lockedBuffer
	release chan struct{}
}

func (b *blockingWriter) Write(p []byte) (int, error) {
	<-b.release
	return b.lockedBuffer.Write(p)
}

// Past maxPending bytes waiting, Write waits for the writer instead of
// growing memory; nothing is lost once the writer moves again.
func TestCoalescerBackPressure(t *testing.T) {
	out := &blockingWriter{release: make(chan struct{})}
	c := NewCoalescer(out)
	chunk := bytes.Repeat([]byte("x"), 64<<10)
	const chunks = 3 * maxPending / (64 << 10)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range chunks {
			chunk[0] = byte('a' + i%26)
			c.Write(chunk)
		}
	}()
	select {
	case <-done:
		t.Fatalf("%d bytes were queued behind a stalled writer without waiting", chunks*len(chunk))
	case <-time.After(100 * time.Millisecond):
	}
	close(out.release)
	<-done
	c.Close()
	got := out.String()
	if len(got) != chunks*len(chunk) {
		t.Fatalf("%d bytes written, want %d", len(got), chunks*len(chunk))
	}
	for i := range chunks {
		if b := got[i*len(chunk)]; b != byte('a'+i%26) {
			t.Fatalf("chunk %d starts with %q: out of order", i, b)
		}
	}
}
