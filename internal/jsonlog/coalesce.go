package jsonlog

import (
	"io"
	"sync"
)

// Coalescer writes what it is given to w from a goroutine of its own,
// joining the records that arrive while a write is under way into the next
// one. serve logs a line per request, and one write system call per line
// was a large part of what a light request cost; slog writes each record
// under a lock, so the batching has to happen behind the handler, here.
// Bytes and their order are unchanged, and a record waits only while an
// earlier write is being made. Close writes what is left.
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
	c.buf = append(c.buf, p...)
	if !c.shut {
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
	for range c.wake {
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
