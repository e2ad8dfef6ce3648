package jsonlog

import (
	"io"
	"sync"
	"time"
)

// Coalescer writes what it is given to w from a goroutine of its own, a
// batch at a time. serve logs a line per request, and a write system call
// per line was a large part of what a light request cost; slog writes each
// record under a lock, so the batching has to happen behind the handler,
// here. The first record into an empty buffer wakes the writer, which
// gathers for FlushDelay before it writes (as nginx's access_log buffer=
// flush=), so that under load a write carries many records and a record
// costs neither a write nor a goroutine switch. Bytes and their order are
// unchanged, and no record, a warning or an error included, waits more than
// FlushDelay plus the writes before it. Close writes what is left.
type Coalescer struct {
	w      io.Writer
	mu     sync.Mutex
	cond   *sync.Cond // signalled when the flusher takes buf
	buf    []byte
	wake   chan struct{}
	done   chan struct{}
	shut   bool // Close has begun: the flusher takes no more
	direct bool // Close has written the rest: write straight to w
}

// FlushDelay is how long the first record of a batch waits for others.
const FlushDelay = 2 * time.Millisecond

// maxPending bounds the bytes waiting: past it, Write waits for the flusher
// (a stalled standard error slows requests down, as it did before, rather
// than growing memory).
const maxPending = 1 << 20

// NewCoalescer starts writing to w; Close stops it.
func NewCoalescer(w io.Writer) *Coalescer {
	c := &Coalescer{w: w, wake: make(chan struct{}, 1), done: make(chan struct{})}
	c.cond = sync.NewCond(&c.mu)
	go c.flush()
	return c
}

// Write queues p, whole, for the next write to w. It never fails: a log
// write error was never reported either.
func (c *Coalescer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.direct {
		return c.w.Write(p)
	}
	for len(c.buf) > maxPending && !c.shut {
		c.cond.Wait()
	}
	first := len(c.buf) == 0
	c.buf = append(c.buf, p...)
	// Only the first record of a batch wakes the writer, and one past
	// maxPending, so that the writer does not gather while Write waits.
	if !c.shut && (first || len(c.buf) > maxPending) {
		select {
		case c.wake <- struct{}{}:
		default: // a wake-up is pending already
		}
	}
	return len(p), nil
}

func (c *Coalescer) flush() {
	defer close(c.done)
	var spare []byte
	gather := time.NewTimer(FlushDelay)
	gather.Stop()
	for range c.wake {
		c.mu.Lock()
		full := len(c.buf) > maxPending
		c.mu.Unlock()
		if !full {
			gather.Reset(FlushDelay)
			select {
			case <-gather.C:
			case <-c.wake: // past maxPending, or Close
				gather.Stop()
			}
		}
		c.mu.Lock()
		batch := c.buf
		c.buf = spare[:0]
		c.cond.Broadcast()
		c.mu.Unlock()
		if len(batch) > 0 {
			c.w.Write(batch)
		}
		spare = nil
		if cap(batch) <= maxPending {
			spare = batch
		}
	}
}

// Close writes what is queued, in order, and stops the goroutine; later
// writes go to w directly.
func (c *Coalescer) Close() error {
	c.mu.Lock()
	if c.shut {
		c.mu.Unlock()
		return nil
	}
	c.shut = true
	c.cond.Broadcast()
	close(c.wake)
	c.mu.Unlock()
	<-c.done
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.buf) > 0 {
		c.w.Write(c.buf)
	}
	c.buf, c.direct = nil, true
	return nil
}
