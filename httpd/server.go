// Package httpd serves the documented Postgres Backup API over the operation
// engine in package ops: the same validation, store and runners as the CLI.
package httpd

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"sync/atomic"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/jsonlog"
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
	// Limits bound what clients can make the server write (limits.go).
	Limits Limits

	mux   *http.ServeMux
	probe *http.ServeMux
	// acc is who may do what, swapped whole by SetAccess (serve's reload
	// on SIGHUP) while requests are served: each request reads it once.
	acc     atomic.Pointer[access]
	diag    diagnoseCache
	answers answerCache
	streams streams
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

// Routes are every endpoint we serve. The operation collections
// (/operations, /servers/{name}/operations) are served with and without a
// trailing slash, as the reference lists them with one; every other path
// without.
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
	{"GET", "/operations/{id}/stream", (*Server).streamOperation},
	{"GET", "/servers/{name}/operations/{id}/stream", (*Server).streamOperation},
}

// RoutePatterns are the route patterns ObserveRequest may be given.
func RoutePatterns() []string {
	patterns := make([]string, len(Routes))
	for i, rt := range Routes {
		patterns[i] = rt.Method + " " + rt.Pattern
	}
	return patterns
}

// Handler returns the API with its middleware: slash merging, the write
// deadline, request IDs, the header size limit, authentication and the Host
// check (authenticate), the access log and metrics, panic recovery, and
// JSON errors for unknown paths and methods.
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
	// Slashes are merged before anything else reads the path, so that the
	// access checks (authenticate's open /status and /metrics among them),
	// the routing and the log all see the one path that is served.
	return mergeSlashes(s.withLogging(http.HandlerFunc(s.route)))
}

// mergeSlashes answers a path with doubled slashes (//status, as a client
// whose base URL ends in "/" sends) as the path with single ones, for every
// method, as the reference does: the mux would redirect instead, and a
// client that does not resend a POST after a redirect would create nothing.
// Only slashes are merged: a path with . or .. segments is not resolved
// (route answers 404), as the reference does not resolve them either.
func mergeSlashes(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodConnect || !strings.Contains(r.URL.Path, "//") {
			next.ServeHTTP(w, r)
			return
		}
		// Merged in the escaped form, which the mux matches segment by
		// segment: an escaped slash (%2F) stays inside its segment.
		escaped := squeezeSlashes(r.URL.EscapedPath())
		unescaped, err := url.PathUnescape(escaped)
		if err != nil {
			next.ServeHTTP(w, r) // cannot happen: EscapedPath is valid
			return
		}
		u := *r.URL
		u.Path, u.RawPath = unescaped, escaped
		r2 := *r
		r2.URL = &u
		next.ServeHTTP(w, &r2)
	})
}

// squeezeSlashes replaces every run of slashes in p with one.
func squeezeSlashes(p string) string {
	var b strings.Builder
	b.Grow(len(p))
	for i := 0; i < len(p); i++ {
		if p[i] == '/' && i > 0 && p[i-1] == '/' {
			continue
		}
		b.WriteByte(p[i])
	}
	return b.String()
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
	// path has a pattern; that one is answered below.
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
			// As the reference (Flask) answers: 200, the methods, no body.
			w.Header().Set("Content-Length", "0")
			w.WriteHeader(http.StatusOK)
			return
		}
		writeError(w, r, http.StatusMethodNotAllowed, fmt.Sprintf("method %s is not allowed on %s (allowed: %s)", r.Method, r.URL.Path, allow))
	case http.StatusMovedPermanently, http.StatusTemporaryRedirect, http.StatusPermanentRedirect:
		// Slashes are merged already (mergeSlashes), so what the mux would
		// redirect is a path with . or .. segments. The reference does not
		// resolve them and a redirect would leave a POST unsent: 404.
		writeError(w, r, http.StatusNotFound, fmt.Sprintf("no endpoint at %s: . and .. segments are not resolved; send the path without them", r.URL.Path))
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
