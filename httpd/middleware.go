package httpd

// The middleware every request goes through (Handler): its state (request
// ID, audit trail), the access log and the write deadline.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"sync/atomic"
	"time"
	"unsafe"
)

type ctxKey int

// stateKey holds a request's *reqState.
const stateKey ctxKey = 0

// reqState is what the middleware learns about a request as it goes. It is
// also the request's context (holding itself under stateKey) and the
// response writer's wrapper, so that the middleware's state costs one
// allocation per request rather than one for each part.
type reqState struct {
	context.Context // the request's own, which it extends
	rec             statusRecorder
	id              string
	audit           audit
	identity        identity
	// authFailed: the request was refused for its credentials (none, a
	// wrong token, a certificate not allowed), which the access log
	// reports per client and interval rather than line by line.
	authFailed bool
	idBuf      [len("0123456789ab") + 16]byte // id's bytes
	idHeader   [1]string                      // the X-Request-Id header's value
}

// Value makes the state findable from the request: stateOf.
func (st *reqState) Value(key any) any {
	if key == stateKey {
		return st
	}
	return st.Context.Value(key)
}

func stateOf(r *http.Request) *reqState {
	st, _ := r.Context().Value(stateKey).(*reqState)
	return st
}

func requestID(r *http.Request) string {
	if st := stateOf(r); st != nil {
		return st.id
	}
	return ""
}

// Request IDs are a random per-process prefix and a counter: unique, and
// far cheaper per request than reading random bytes each time.
var (
	requestIDPrefix = func() string {
		var b [6]byte
		rand.Read(b[:])
		return hex.EncodeToString(b[:])
	}()
	requestIDCounter atomic.Uint64
)

// newRequestID gives st its ID, in its own bytes: the string is never
// allocated apart, and the bytes never change once written.
func (st *reqState) newRequestID() {
	n := copy(st.idBuf[:], requestIDPrefix)
	b := strconv.AppendUint(st.idBuf[:n], requestIDCounter.Add(1), 16)
	st.id = unsafe.String(&st.idBuf[0], len(b))
	st.idHeader[0] = st.id
}

// statusRecorder remembers the status code for the access log.
type statusRecorder struct {
	http.ResponseWriter
	code int
}

func (s *statusRecorder) WriteHeader(code int) {
	if s.code == 0 {
		s.code = code
	}
	s.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

func (s *statusRecorder) Write(b []byte) (int, error) {
	if s.code == 0 {
		s.code = http.StatusOK
	}
	return s.ResponseWriter.Write(b)
}

// writeDeadliner is net/http's own response writer, as the middleware gets it.
type writeDeadliner interface{ SetWriteDeadline(time.Time) error }

func (s *Server) withLogging(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		if s.WriteTimeout > 0 {
			// Per request rather than http.Server.WriteTimeout, so that
			// GET /diagnose can wait for Barman longer. Not every writer
			// supports deadlines (httptest's recorder does not). net/http
			// clears the deadline after each response, so it cannot be
			// kept from one request to the next to save this call.
			if dw, ok := w.(writeDeadliner); ok {
				dw.SetWriteDeadline(start.Add(s.WriteTimeout)) // without a ResponseController to allocate
			} else {
				http.NewResponseController(w).SetWriteDeadline(start.Add(s.WriteTimeout))
			}
		}
		st := &reqState{Context: r.Context(), rec: statusRecorder{ResponseWriter: w}}
		st.newRequestID()
		r = r.WithContext(st)
		// Set directly: the key is canonical and the value st's own.
		w.Header()["X-Request-Id"] = st.idHeader[:]
		rec := &st.rec
		var ok bool
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.Log.Error("panic", "request_id", st.id, "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
				if rec.code == 0 {
					writeError(rec, r, http.StatusInternalServerError, "internal error")
				}
			}
			end := time.Now()
			s.logRequest(r, st, end, end.Sub(start))
			if s.ObserveRequest != nil {
				s.ObserveRequest(st.audit.route, rec.code, end.Sub(start))
			}
		}()
		if size := headerSize(r); size > s.MaxHeaderBytes {
			writeError(rec, r, http.StatusRequestHeaderFieldsTooLarge, fmt.Sprintf("the request line and headers are %d bytes, more than the %d this server accepts", size, s.MaxHeaderBytes))
			return
		}
		if r, ok = s.authenticate(rec, r); ok {
			next.ServeHTTP(rec, r)
		}
	})
}

// logRequest writes the access-log line: by hand through AccessLog when
// serve gives one, else through Log, the same bytes either way.
func (s *Server) logRequest(r *http.Request, st *reqState, end time.Time, d time.Duration) {
	who := st.identity
	if who.Name == "" {
		who.Name = "anonymous"
	}
	if st.authFailed && !s.Limits.failures.admit(who.Client, st.rec.code, s.reportFailures) {
		return
	}
	ms := float64(d.Microseconds()) / 1000
	if l := s.AccessLog; l != nil {
		if !l.Enabled(slog.LevelInfo) {
			return
		}
		ln := l.Start(end, slog.LevelInfo, "request")
		ln.String("method", r.Method)
		ln.String("path", r.URL.Path)
		ln.Int("status", int64(st.rec.code))
		ln.Float("duration_ms", ms)
		ln.String("client", who.Client)
		ln.String("identity", who.Name)
		ln.String("scheme", s.access().scheme(r))
		ln.String("request_id", st.id)
		if st.audit.permission != "" {
			ln.String("permission", st.audit.permission)
			if st.audit.denied {
				ln.String("denied", st.audit.permission)
			}
		}
		ln.End()
		return
	}
	attrs := []slog.Attr{slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.Int("status", st.rec.code),
		slog.Float64("duration_ms", ms), slog.String("client", who.Client),
		slog.String("identity", who.Name), slog.String("scheme", s.access().scheme(r)), slog.String("request_id", st.id)}
	if st.audit.permission != "" {
		attrs = append(attrs, slog.String("permission", st.audit.permission))
		if st.audit.denied {
			attrs = append(attrs, slog.String("denied", st.audit.permission))
		}
	}
	s.Log.LogAttrs(r.Context(), slog.LevelInfo, "request", attrs...)
}

// audit is what the access log records about a request's permission check.
type audit struct {
	permission string // the permission the request needed
	denied     bool   // the credential lacked it
	route      string // the route pattern that answered, "" for none
}

func auditOf(r *http.Request) *audit {
	if st := stateOf(r); st != nil {
		return &st.audit
	}
	return nil
}

// headerSize counts the request line and headers as net/http's own limit
// does, roughly: names, values and separators.
func headerSize(r *http.Request) int {
	n := len(r.Method) + len(r.RequestURI) + len(r.Proto) + 4
	for k, vs := range r.Header {
		for _, v := range vs {
			n += len(k) + len(v) + 4
		}
	}
	return n
}
