package httpd

// GET .../operations/{id}/stream (our extension): one long-lived answer
// that carries an operation's output as it is written and its end, so that
// `wait` and `logs -f` over the network cost one request, and one
// access-log line, rather than four a second for as long as Barman runs.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

// Defaults of the streams' pace and limit.
const (
	// DefaultMaxStreams bounds the streams open at once: each holds a
	// connection and reads its operation's output while it lasts.
	DefaultMaxStreams = 64
	// streamHeartbeat is how often a quiet stream says it is alive, well
	// under the idle timeouts of the proxies in front of us (60 s for
	// nginx's proxy_read_timeout).
	streamHeartbeat = 15 * time.Second
	// streamPollMin and streamPollMax bound how often the server looks at
	// the operation: often while output comes, less while it is quiet.
	// Looking costs the server a read, never a request or a log line.
	streamPollMin = 250 * time.Millisecond
	streamPollMax = 2 * time.Second
	// streamTail is how much of what was sent is kept to notice output
	// that was replaced rather than extended (cut to its tail when the
	// operation ended).
	streamTail = 256
)

// StreamContentType is the stream's media type: one JSON object a line.
const StreamContentType = "application/x-ndjson"

// StreamEvent is one line of a stream. Exactly one of Output, Heartbeat,
// Reset, Phase (without Status) or Status is set; Next is the byte offset
// in the (masked) output after what the stream has sent, which a client
// gives back as ?from= to resume without repeats.
type StreamEvent struct {
	// Output is the next piece of output: whole lines, newline included,
	// but for the last piece of an ended operation.
	Output string `json:"output,omitempty"`
	// Reset says the output is not the one the offset counted in (it was
	// cut to its tail when the operation ended): what follows is the
	// output from its start.
	Reset     bool `json:"reset,omitempty"`
	Heartbeat bool `json:"heartbeat,omitempty"`
	// Phase is sent first and whenever it changes; with Status, the end.
	Phase  ops.Phase  `json:"phase,omitempty"`
	Status ops.Status `json:"status,omitempty"`
	// ExitCode and Reason come with the end.
	ExitCode *int   `json:"exit_code,omitempty"`
	Reason   string `json:"reason,omitempty"`
	Next     int64  `json:"next"`
}

// streams is the Server's state of its streams: how many are open, and
// the pace and limit, which only tests change.
type streams struct {
	mu        sync.Mutex
	stop      chan struct{} // closed by EndStreams
	open      atomic.Int64
	max       int64
	heartbeat time.Duration
	poll      time.Duration
}

// OpenStreams is how many operation streams are being served.
func (s *Server) OpenStreams() int { return int(s.streams.open.Load()) }

// EndStreams ends every stream, now and from now on, for a server shutting
// down: http.Server.Shutdown waits for answers in flight, and a stream's
// lasts as long as its operation. Clients reconnect (to the restarted
// server) or poll. serve registers it with RegisterOnShutdown.
func (s *Server) EndStreams() {
	stop := s.streamStop()
	s.streams.mu.Lock()
	defer s.streams.mu.Unlock()
	select {
	case <-stop:
	default:
		close(stop)
	}
}

func (s *Server) streamStop() chan struct{} {
	s.streams.mu.Lock()
	defer s.streams.mu.Unlock()
	if s.streams.stop == nil {
		s.streams.stop = make(chan struct{})
	}
	return s.streams.stop
}

func (s *Server) maxStreams() int64 {
	if s.streams.max > 0 {
		return s.streams.max
	}
	return DefaultMaxStreams
}

func (s *Server) streamOperation(w http.ResponseWriter, r *http.Request) {
	server, id := r.PathValue("name"), r.PathValue("id")
	var from int64
	if v := r.URL.Query().Get("from"); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			writeError(w, r, http.StatusBadRequest, fmt.Sprintf("from %q: give the byte offset the last event's \"next\" said, a whole number from 0", v))
			return
		}
		from = n
	}
	if n := s.streams.open.Add(1); n > s.maxStreams() {
		s.streams.open.Add(-1)
		w.Header().Set("Retry-After", "30")
		writeError(w, r, http.StatusServiceUnavailable, fmt.Sprintf("this server already streams %d operations, its limit; poll GET %s instead, or retry later",
			s.maxStreams(), strings.TrimSuffix(r.URL.Path, "/stream")))
		return
	}
	defer s.streams.open.Add(-1)
	// The operation is looked up before anything is sent, so that a wrong
	// scope or ID is a plain 404 like GET's.
	op, err := s.Service.Get(r.Context(), server, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The middleware's write deadline would cut a long stream: each write
	// extends it instead, so a client that stops reading is still let go.
	rc := http.NewResponseController(w)
	w.Header().Set("Content-Type", StreamContentType)
	w.Header().Set("Cache-Control", "no-store")
	// nginx buffers answers unless told not to: the lines would not flow.
	w.Header().Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)

	st := streamState{sent: from}
	// send writes events, each with the offset after it, and flushes them
	// together: a burst of lines is one write to the connection.
	send := func(events ...StreamEvent) bool {
		if s.WriteTimeout > 0 {
			rc.SetWriteDeadline(time.Now().Add(s.WriteTimeout))
		}
		var b []byte
		for _, ev := range events {
			if ev.Output == "" && !ev.Reset {
				ev.Next = st.sent
			}
			data, err := json.Marshal(ev)
			if err != nil {
				return false
			}
			b = append(append(b, data...), '\n')
		}
		if _, err := w.Write(b); err != nil {
			return false // the client went away or stopped reading
		}
		return rc.Flush() == nil
	}
	heartbeat, poll := s.streams.heartbeat, s.streams.poll
	if heartbeat <= 0 {
		heartbeat = streamHeartbeat
	}
	if poll <= 0 {
		poll = streamPollMin
	}
	stop := s.streamStop()
	lastSend := time.Now()
	var phase ops.Phase
	wait, maxWait := poll, min(8*poll, streamPollMax)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for first := true; ; first = false {
		if !first {
			op, err = s.Service.Get(r.Context(), server, id)
			if err != nil {
				// Pruned, or the store went away: say so in the stream,
				// which can no longer answer with a status.
				s.Log.Warn("stream ended early", "request_id", requestID(r), "operation_id", id, "error", err)
				send(StreamEvent{Status: ops.StatusFailed, Reason: "the server can no longer read the operation: " + ops.ErrorMessage(err)})
				return
			}
		}
		ended := op.Status != ops.StatusInProgress
		events := st.output(ops.MaskSecrets(op.Output), ended)
		if len(events) > 0 && !send(events...) {
			return
		}
		if len(events) > 0 {
			lastSend = time.Now()
			wait = poll
		} else {
			wait = min(2*wait, maxWait)
		}
		if ended {
			send(StreamEvent{Status: op.Status, Phase: op.Phase, ExitCode: op.ExitCode, Reason: op.Reason})
			return
		}
		if op.Phase != phase {
			phase = op.Phase
			if !send(StreamEvent{Phase: phase}) {
				return
			}
			lastSend = time.Now()
		}
		if time.Since(lastSend) >= heartbeat {
			if !send(StreamEvent{Heartbeat: true}) {
				return
			}
			lastSend = time.Now()
		}
		next := min(wait, time.Until(lastSend.Add(heartbeat)))
		timer.Reset(max(next, time.Millisecond))
		select {
		case <-r.Context().Done():
			return
		case <-stop:
			return
		case <-timer.C:
		}
	}
}

// streamState is what a stream has sent of an operation's masked output.
type streamState struct {
	sent int64  // bytes of output sent (or given as from=)
	tail string // the last bytes sent, to tell the output was replaced
}

// output is the events that bring the client from what it has to out, a
// line each: whole lines while the operation runs (a line being written
// may still change its masking), everything once it ended.
func (st *streamState) output(out string, ended bool) []StreamEvent {
	var events []StreamEvent
	replaced := st.sent > int64(len(out)) ||
		(st.tail != "" && out[st.sent-int64(len(st.tail)):st.sent] != st.tail) ||
		// A resume (from=, nothing sent yet) must land after a newline.
		(st.tail == "" && st.sent > 0 && out[st.sent-1] != '\n')
	if replaced {
		st.sent, st.tail = 0, ""
		events = append(events, StreamEvent{Reset: true})
	}
	rest := out[st.sent:]
	if !ended {
		rest = rest[:strings.LastIndexByte(rest, '\n')+1]
	}
	if rest == "" {
		return events
	}
	for rest != "" {
		line := rest
		if nl := strings.IndexByte(rest, '\n'); nl >= 0 {
			line = rest[:nl+1]
		}
		rest = rest[len(line):]
		st.sent += int64(len(line))
		events = append(events, StreamEvent{Output: line, Next: st.sent})
	}
	st.tail = out[max(0, st.sent-streamTail):st.sent]
	return events
}
