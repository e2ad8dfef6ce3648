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
