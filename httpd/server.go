// Package httpd serves the documented Postgres Backup API over the operation
// engine in package ops: the same validation, store and runners as the CLI.
package httpd

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"path"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/pg-backup-api/pg-backup-api/internal/jsonlog"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// DefaultMaxBodyBytes limits a request body unless configured otherwise.
const DefaultMaxBodyBytes = 1 << 20

// Server is the HTTP API.
type Server struct {
	Service *ops.Service
	Log     *slog.Logger
	// AccessLog, when set, writes the access log in place of Log: the
	// same records, formatted by hand (jsonlog.Lines). It must write where
	// Log does, in its format and from its level.
	AccessLog *jsonlog.Lines
	// MaxBodyBytes limits request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// Diagnose runs `barman diagnose` with the given configuration for GET
	// /diagnose and returns its JSON.
	Diagnose func(ctx context.Context, barmanConfig string) ([]byte, error)
	// Auth says who may use the API; nil lets everyone in. Handler reads
	// it once; SetAccess replaces it while serving.
	Auth *Auth
	// AllowedHosts are the Host names, besides loopback ones, answered
	// when no credentials are configured (serve.allowed_hosts). Handler
	// reads it once; SetAccess replaces it while serving.
	AllowedHosts []string
	// WriteTimeout bounds how long one response may take to write, so a
	// client that stops reading holds a connection and its memory only
	// this long; 0 means DefaultWriteTimeout, negative none.
	WriteTimeout time.Duration
	// MaxHeaderBytes limits the request line and headers; larger requests
	// get a JSON 431. 0 means DefaultMaxHeaderBytes. net/http's own limit
	// (http.Server.MaxHeaderBytes) must be above it, or net/http answers
	// in text first: HardMaxHeaderBytes is such a limit.
	MaxHeaderBytes int
	// DiagnoseCacheFor is how long one `barman diagnose` answer serves
	// GET /diagnose; 0 means DefaultDiagnoseCacheFor.
	DiagnoseCacheFor time.Duration
	// Metrics serves GET /metrics (Prometheus); nil answers 404.
	Metrics http.Handler
	// ObserveRequest, when set, is told of every request once answered, by
	// route pattern ("GET /operations/{id}", "" when no route matched),
	// never by raw path, so metrics labels stay bounded.
	ObserveRequest func(route string, code int, d time.Duration)

	mux   *http.ServeMux
	probe *http.ServeMux
	// acc is who may do what, swapped whole by SetAccess (serve's reload
	// on SIGHUP) while requests are served: each request reads it once.
	acc  atomic.Pointer[access]
	diag diagnoseCache
}

// Defaults of the Server's limits.
const (
	DefaultWriteTimeout     = 2 * time.Minute
	DefaultMaxHeaderBytes   = 64 << 10
	HardMaxHeaderBytes      = 256 << 10
	DefaultDiagnoseCacheFor = 5 * time.Second
	// diagnoseTimeout bounds one `barman diagnose` run.
	diagnoseTimeout = 2 * time.Minute
)

// Route is one endpoint; the list is the single source for the mux and for
// the test that keeps the OpenAPI document honest.
type Route struct {
	Method, Pattern string
	handler         func(*Server, http.ResponseWriter, *http.Request)
}

// Routes are every endpoint we serve. The documented paths are served both
// with and without a trailing slash, as the reference lists them with one.
var Routes = []Route{
	{"GET", "/status", (*Server).status},
	{"GET", "/diagnose", (*Server).diagnose},
	{"GET", "/openapi.json", (*Server).openapi},
	{"GET", "/operations", (*Server).listOperations},
	{"POST", "/operations", (*Server).createOperation},
	{"GET", "/operations/{id}", (*Server).getOperation},
	{"GET", "/servers/{name}/operations", (*Server).listOperations},
	{"POST", "/servers/{name}/operations", (*Server).createOperation},
	{"GET", "/servers/{name}/operations/{id}", (*Server).getOperation},
	{"GET", "/servers", (*Server).listServers},
	{"GET", "/servers/{name}/backups", (*Server).listBackups},
	{"GET", "/servers/{name}/backups/{id}", (*Server).getBackup},
	{"GET", "/metrics", (*Server).metrics},
	{"POST", "/operations/{id}/cancel", (*Server).cancelOperation},
	{"POST", "/servers/{name}/operations/{id}/cancel", (*Server).cancelOperation},
}

// RoutePatterns are the route patterns ObserveRequest may be given.
func RoutePatterns() []string {
	patterns := make([]string, len(Routes))
	for i, rt := range Routes {
		patterns[i] = rt.Method + " " + rt.Pattern
	}
	return patterns
}

// Handler returns the API with its middleware: request IDs, access log,
// panic recovery and JSON errors for unknown paths and methods.
func (s *Server) Handler() http.Handler {
	if s.Log == nil {
		s.Log = slog.Default()
	}
	if s.MaxBodyBytes == 0 {
		s.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if s.WriteTimeout == 0 {
		s.WriteTimeout = DefaultWriteTimeout
	}
	if s.MaxHeaderBytes == 0 {
		s.MaxHeaderBytes = DefaultMaxHeaderBytes
	}
	if s.DiagnoseCacheFor == 0 {
		s.DiagnoseCacheFor = DefaultDiagnoseCacheFor
	}
	s.SetAccess(s.Auth, s.AllowedHosts)
	// Two muxes with the same routes: mux, which also has a catch-all, so
	// that a request to a route is matched once; and probe, without it, to
	// find out what net/http would answer to the rest.
	s.mux, s.probe = http.NewServeMux(), http.NewServeMux()
	for _, rt := range Routes {
		h := rt.handler
		serve := func(w http.ResponseWriter, r *http.Request) {
			if a := auditOf(r); a != nil {
				a.route = strings.TrimSuffix(r.Pattern, "/{$}")
			}
			h(s, w, r)
		}
		for _, m := range []*http.ServeMux{s.mux, s.probe} {
			m.HandleFunc(rt.Method+" "+rt.Pattern, serve)
			if strings.HasSuffix(rt.Pattern, "/operations") {
				m.HandleFunc(rt.Method+" "+rt.Pattern+"/{$}", serve)
			}
		}
	}
	// "/" has the lowest precedence and no pattern ends in a slash, so it
	// takes only what no route matches and never suppresses a redirect.
	s.mux.HandleFunc("/", s.unrouted)
	return s.withLogging(http.HandlerFunc(s.route))
}

// route dispatches, answering in JSON where the mux would answer in text.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	if p := r.URL.EscapedPath(); r.Method == http.MethodConnect || cleanPath(p) == p {
		s.mux.ServeHTTP(w, r)
		return
	}
	s.unrouted(w, r)
}

// unrouted answers a request that no route matches as is: with the mux's
// redirect, 404 or 405, in JSON.
func (s *Server) unrouted(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.probe.Handler(r)
	if a := auditOf(r); a != nil {
		a.route = strings.TrimSuffix(pattern, "/{$}")
	}
	// A path that needs cleaning gets the mux's redirect even when the clean
	// path has a pattern; answer that one in JSON too.
	if pattern != "" && (r.Method == http.MethodConnect || cleanPath(r.URL.EscapedPath()) == r.URL.EscapedPath()) {
		s.probe.ServeHTTP(w, r)
		return
	}
	probe := &headerProbe{header: http.Header{}}
	h.ServeHTTP(probe, r)
	switch probe.code {
	case http.StatusMethodNotAllowed:
		allow := probe.header.Get("Allow") + ", OPTIONS"
		w.Header().Set("Allow", allow)
		if r.Method == http.MethodOptions {
			// As the reference (Flask) answers: the methods, no body.
			w.WriteHeader(http.StatusNoContent)
			return
		}
		writeError(w, r, http.StatusMethodNotAllowed, fmt.Sprintf("method %s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, allow))
	case http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		// The mux cleans paths such as //operations with a redirect.
		w.Header().Set("Location", probe.header.Get("Location"))
		writeError(w, r, probe.code, "use the clean path "+probe.header.Get("Location"))
	default:
		writeError(w, r, http.StatusNotFound, fmt.Sprintf("no endpoint at %s; see GET /openapi.json", r.URL.Path))
	}
}

// cleanPath is the path the mux redirects a request to, as net/http does.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		np += "/"
	}
	return np
}

// headerProbe captures what the mux's own 404/405 handler would answer.
type headerProbe struct {
	header http.Header
	code   int
}

func (p *headerProbe) Header() http.Header         { return p.header }
func (p *headerProbe) Write(b []byte) (int, error) { return len(b), nil }
func (p *headerProbe) WriteHeader(code int)        { p.code = code }

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
	idBuf           [len("0123456789ab") + 16]byte // id's bytes
	idHeader        [1]string                      // the X-Request-Id header's value
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

// fail answers with err. Faults of ours are logged with the request ID that
// the body carries, and their details stay in the log.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := statusFor(err)
	msg := ops.ErrorMessage(err)
	if code == http.StatusInternalServerError {
		s.Log.Error("internal error", "request_id", requestID(r), "error", err)
		msg = "internal error; the server log has the details under this request ID"
	} else if code >= 500 {
		s.Log.Warn("unavailable", "request_id", requestID(r), "error", err)
	}
	writeError(w, r, code, msg)
}

// statusBody is the reference's answer to GET /status byte for byte: a JSON
// string and no newline. Clients compare the body with it.
const statusBody = `"OK"`

// statusContentLength and statusBodyBytes are shared by every status
// answer, never modified.
var (
	statusContentLength = []string{strconv.Itoa(len(statusBody))}
	statusBodyBytes     = []byte(statusBody)
)

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = statusContentLength
	w.WriteHeader(http.StatusOK)
	w.Write(statusBodyBytes)
}

// wantDetail reports whether the caller asked for our extension fields.
func wantDetail(r *http.Request) bool {
	if r.URL.RawQuery == "" {
		return false // most requests: no query to parse into a map
	}
	switch r.URL.Query().Get("detail") {
	case "1", "true", "yes":
		return true
	}
	return false
}

// listPage reads the list extension's paging parameters, ?limit=N (the N
// newest) and ?before=ID (only older operations), or says what is wrong.
func listPage(r *http.Request) (ops.ListOptions, string) {
	var page ops.ListOptions
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return page, fmt.Sprintf("limit %q: give a positive whole number of operations", v)
		}
		page.Limit = n
	}
	if v := q.Get("before"); v != "" {
		if !ops.ValidName(v) {
			return page, fmt.Sprintf("before %q: give an operation ID, such as the first one of the page before", v)
		}
		page.Before = v
	}
	return page, ""
}

func (s *Server) listOperations(w http.ResponseWriter, r *http.Request) {
	server := r.PathValue("name")
	withDetail := wantDetail(r)
	page, bad := listPage(r)
	if bad != "" {
		writeError(w, r, http.StatusBadRequest, bad)
		return
	}
	paged := page.Limit > 0 || page.Before != ""
	if !withDetail && paged {
		list, _, err := s.Service.List(server, page)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write(encodeList(list))
		return
	}
	if !withDetail {
		body, err := s.Service.ListMemo(server, encodeListSeq)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write(body)
		return
	}
	page.Status = true
	// One operation at a time from the store into a small buffer: neither
	// the list nor its encoding is ever whole in memory, and a client that
	// stops reading holds the buffer only.
	var bw *bufio.Writer
	start := func() {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		bw = bufio.NewWriterSize(w, 32<<10)
		bw.WriteString(`{"operations":[`)
	}
	n, broken := 0, false
	skipped, err := s.Service.Each(server, page, func(op *ops.Operation) bool {
		data, err := json.Marshal(listItem{ID: op.ID, Type: op.Type, Detail: detailOf(op, false)})
		if err != nil {
			s.Log.Error("cannot encode an operation", "request_id", requestID(r), "operation_id", op.ID, "error", err)
			broken = true
			return false
		}
		if bw == nil {
			start()
		}
		if n > 0 {
			bw.WriteByte(',')
		}
		n++
		if _, err := bw.Write(data); err != nil {
			// The client went away or stopped reading past the deadline.
			broken = true
			return false
		}
		return true
	})
	if err != nil && bw == nil {
		s.fail(w, r, err)
		return
	}
	for _, sk := range skipped {
		s.Log.Warn("skipped a file in the store", "request_id", requestID(r), "path", sk.Path, "error", sk.Err)
	}
	if broken {
		return
	}
	if bw == nil {
		start()
	}
	bw.WriteString("]}\n")
	bw.Flush()
}

func (s *Server) getOperation(w http.ResponseWriter, r *http.Request) {
	detail := wantDetail(r)
	variant := 0
	if detail {
		variant = 1
	}
	// Finished operations never change: their answer is encoded once.
	body, err := s.Service.GetMemo(r.PathValue("name"), r.PathValue("id"), variant, func(op *ops.Operation) []byte {
		body := operationStatus{OperationID: op.ID, Status: op.Status}
		if detail {
			body.Type = op.Type
			body.Detail = detailOf(op, true)
			body.Detail.Status = ""
		}
		data, err := json.Marshal(body)
		if err != nil {
			return nil
		}
		return append(data, '\n')
	})
	if err == nil && body == nil {
		err = ops.Errorf(ops.EINTERNAL, "cannot encode operation %s", r.PathValue("id"))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// jsonContentType is shared by the hot paths' headers, never modified.
var jsonContentType = []string{"application/json"}

// listServers is our extension: the configured Barman servers, so a remote
// client can list every scope.
// metrics serves the Prometheus exposition (an extension).
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	if s.Metrics == nil {
		writeError(w, r, http.StatusNotFound, "metrics are not served by this server")
		return
	}
	s.Metrics.ServeHTTP(w, r)
}

func (s *Server) listServers(w http.ResponseWriter, r *http.Request) {
	cfg, err := s.Service.Config()
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, serversResponse{Servers: cfg.ServerNames()})
}

// cancelOperation is our extension: stop a queued or running operation.
func (s *Server) cancelOperation(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, PermRecover) {
		return
	}
	op, err := s.Service.Cancel(r.PathValue("name"), r.PathValue("id"), requester(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body := operationStatus{OperationID: op.ID, Status: op.Status, Type: op.Type, Detail: detailOf(op, false)}
	body.Detail.Status = ""
	writeJSON(w, http.StatusAccepted, body)
}

func (s *Server) createOperation(w http.ResponseWriter, r *http.Request) {
	server := r.PathValue("name")
	code, payload, msg := s.decodeCreate(w, r)
	// The permission depends on the type, so it is checked once the body
	// is decoded and before anything is validated or written. A body
	// without a type we know needs one of the permissions that create
	// something: a read-only credential learns nothing from validation.
	var need Permission
	if payload != nil {
		typ, ok := payload.String("type")
		if _, present := payload.Get("type"); !present && server != "" {
			typ, ok = string(ops.Recovery), true // as validation reads it
		}
		if ok {
			need = permissionFor(ops.Type(typ), payload)
		}
	}
	if !s.authorize(w, r, need) {
		return
	}
	if code != 0 {
		writeError(w, r, code, msg)
		return
	}
	id, err := s.Service.Create(server, payload, requester(r))
	if err != nil && id == "" {
		s.fail(w, r, err)
		return
	}
	if err != nil {
		// Recorded; the periodic sweep will start its runner.
		s.Log.Warn("runner not started", "request_id", requestID(r), "operation_id", id, "error", err)
	}
	w.Header().Set("Location", strings.TrimSuffix(r.URL.Path, "/")+"/"+id)
	writeJSON(w, http.StatusAccepted, createResponse{OperationID: id})
}

// isJSON reports whether a Content-Type announces JSON the way the
// reference (Flask's is_json) reads it: application/json, or any
// application/<type>+json such as application/vnd.api+json, whatever the
// parameters.
func isJSON(contentType string) bool {
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
		return false
	}
	if mediaType == "application/json" {
		return true
	}
	sub, ok := strings.CutPrefix(mediaType, "application/")
	return ok && len(sub) > len("+json") && strings.HasSuffix(sub, "+json")
}

// decodeCreate reads a create request's JSON body, or says what is wrong
// with it (a status and a message).
func (s *Server) decodeCreate(w http.ResponseWriter, r *http.Request) (int, *pyjson.Object, string) {
	if !isJSON(r.Header.Get("Content-Type")) {
		return http.StatusBadRequest, nil, fmt.Sprintf("content-type must be application/json (or application/<type>+json), got %q", r.Header.Get("Content-Type"))
	}
	body, err := readBody(w, r, s.MaxBodyBytes)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return http.StatusRequestEntityTooLarge, nil, fmt.Sprintf("request body is larger than %d bytes", tooBig.Limit)
		}
		return http.StatusBadRequest, nil, "cannot read request body: " + err.Error()
	}
	payload, err := pyjson.DecodeObject(body, pyjson.DecodeOptions{RejectDuplicateKeys: true})
	if err != nil {
		return http.StatusBadRequest, nil, err.Error()
	}
	return 0, payload, ""
}

// requester names who asked, for the operation's audit trail.
func requester(r *http.Request) ops.Requester {
	who := identityOf(r)
	return ops.Requester{Name: "http:" + who.Name, Client: who.Client}
}

func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body := http.MaxBytesReader(w, r.Body, limit)
	defer body.Close()
	return io.ReadAll(body)
}
