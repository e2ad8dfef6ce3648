// Package metrics exposes pg-backup-api's state in the Prometheus exposition
// format: operations by state, queues, HTTP traffic and the freshness of
// Barman's backups, for operators who already run Prometheus.
//
// Everything a scrape reports is either counted in memory as it happens
// (finished operations, HTTP requests) or read from small sources the caller
// supplies: the store's index for operations and queues, and a cached read
// of Barman's catalog on disk. A scrape never lists the store's files and
// never starts Barman, so scraping every few seconds costs next to nothing.
//
// The metrics live in their own registry rather than the global one so that
// tests, and several servers in one process, never see each other's series.
package metrics

import (
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Namespace prefixes every metric name.
const Namespace = "pg_backup_api"

// InstanceScope is the scope label of operations that belong to the Barman
// instance rather than to one server. An empty label value reads in
// Prometheus as a missing label, so the instance needs a name; "barman" can
// never be a server's name because [barman] is Barman's global section.
const InstanceScope = "barman"

// Unmatched is the route label of requests that matched no route (404s,
// probes, scanners): raw paths would give an attacker unbounded series.
const Unmatched = "unmatched"

// DefaultCatalogTTL is how long a read of Barman's catalog is reused.
const DefaultCatalogTTL = 30 * time.Second

// maxRoutes bounds the route label when the caller gives no list of routes.
const maxRoutes = 64

// Count is the number of operations of one scope, type and status.
type Count struct {
	Scope  string // server name, or "" for the instance scope
	Type   string // recovery, config_switch, config_update
	Status string // DONE, FAILED, IN_PROGRESS
	N      int
}

// Queue describes the operations of one scope waiting for their runner.
type Queue struct {
	Scope string // server name, or "" for the instance scope
	Depth int
	// OldestQueued is when the longest-waiting operation was registered;
	// zero when the queue is empty.
	OldestQueued time.Time
}

// OperationSource reports the store's operations. Both methods are called on
// every scrape, so they must answer from memory (the store's index), never
// by reading the operation files.
type OperationSource interface {
	OperationCounts() ([]Count, error)
	Queues() ([]Queue, error)
}

// ServerCatalog summarises one Barman server's backup catalog.
type ServerCatalog struct {
	Server string
	// Backups counts the server's backups by Barman status (DONE, FAILED,
	// STARTED, ...).
	Backups map[string]int
	// LastBackupEnd is the end time of the newest DONE backup; zero when
	// there is none, and then no series is exported for it.
	LastBackupEnd time.Time
	// LastBackupSize is the size in bytes of that backup.
	LastBackupSize int64
	// RecoveryWindowStart is the earliest point the server can be recovered
	// to: the end time of its oldest DONE backup, since a backup is
	// consistent only once replayed to its end. Zero when unknown.
	RecoveryWindowStart time.Time
}

// CatalogSource reads Barman's catalogs from disk. It is called at most once
// per CatalogTTL and must never start Barman.
type CatalogSource interface {
	CatalogStats() ([]ServerCatalog, error)
}

// Options configures New. Every field may be left zero.
type Options struct {
	Version       string // this program's version
	BarmanVersion string // Barman's version, "" when unknown
	Operations    OperationSource
	Catalog       CatalogSource
	// Drills reports the servers' restore drills; nil exports no drill
	// series.
	Drills DrillSource
	// CatalogTTL is how long a catalog read is reused; 0 means
	// DefaultCatalogTTL.
	CatalogTTL time.Duration
	// Routes lists the route patterns the HTTP metrics may carry; any other
	// route is counted as Unmatched. Without it, the first 64 distinct
	// routes are kept and later ones are counted as Unmatched.
	Routes []string
	// Log receives errors of the sources and of the exposition; nil
	// discards them.
	Log *slog.Logger
	// Now is the clock for queue ages; nil means time.Now.
	Now func() time.Time
}

// Metrics holds the registry and the instruments fed by the caller.
type Metrics struct {
	reg *prometheus.Registry
	log *slog.Logger

	finished     *prometheus.CounterVec
	duration     *prometheus.HistogramVec
	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec

	observers     sync.Map // requestKey → requestObservers
	observerCount atomic.Int64
	routeMu       sync.Mutex
	routes        map[string]bool
	routesOpen    bool // routes grows up to maxRoutes

	servers func() ([]string, bool) // the configured servers, when known
	now     func() time.Time
	sources *sourceCollector

	checksMu sync.Mutex
	checks   *checkCollector // set by StartChecks

	// Ends observed before /metrics first answered a GET are held until it
	// has: see ObserveFinished.
	gateMu  sync.Mutex
	scraped bool
	held    []heldEnd
}

type heldEnd struct {
	scope, typ, status string
	d                  time.Duration
}

// maxHeld bounds the ends held before the first scrape; beyond it they are
// counted at once (a process never scraped would otherwise grow forever).
const maxHeld = 4096

// DurationBuckets suit operations that last from seconds (a config switch)
// to many hours (a recovery of a large cluster).
var DurationBuckets = []float64{1, 5, 15, 30, 60, 120, 300, 600, 1200, 1800, 3600, 7200, 14400, 28800, 57600, 86400}

// New builds the registry with every collector registered.
func New(opts Options) (*Metrics, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.CatalogTTL <= 0 {
		opts.CatalogTTL = DefaultCatalogTTL
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		log: opts.Log,
		finished: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "operations_finished_total",
			Help: "Operations that ended while this process ran, by scope, type and final status.",
		}, []string{"scope", "type", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "operation_duration_seconds",
			Help:    "Duration of operations that ended while this process ran, from start to end.",
			Buckets: DurationBuckets,
		}, []string{"type"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: Namespace, Name: "http_requests_total",
			Help: "HTTP requests answered, by route pattern and status code.",
		}, []string{"route", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: Namespace, Name: "http_request_duration_seconds",
			Help:    "Time to answer HTTP requests, by route pattern.",
			Buckets: prometheus.DefBuckets,
		}, []string{"route"}),
		routes: map[string]bool{},
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	for _, r := range opts.Routes {
		if r != "" {
			m.routes[r] = true
		}
	}
	m.routesOpen = len(opts.Routes) == 0

	buildInfo := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace: Namespace, Name: "build_info",
		Help:        "Always 1; its labels tell the version of pg-backup-api and of Barman.",
		ConstLabels: prometheus.Labels{"version": opts.Version, "barman_version": opts.BarmanVersion},
	})
	buildInfo.Set(1)

	sources := newSourceCollector(opts.Operations, opts.Catalog, opts.CatalogTTL, opts.Now, m.log)
	m.servers, m.sources = sources.servers, sources
	m.now = opts.Now
	cs := []prometheus.Collector{
		zeroFilled{m.finished, m.duration, sources.servers}, m.httpRequests, m.httpDuration, buildInfo, sources,
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	}
	if opts.Drills != nil {
		cs = append(cs, newDrillCollector(opts.Drills, m.log))
	}
	for _, c := range cs {
		if err := m.reg.Register(c); err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
	}
	return m, nil
}

// Registry returns the registry, for tests and for adding collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves /metrics. A failing source does not fail the scrape: its
// series are left out, pg_backup_api_metrics_source_up says which one
// failed, and the error goes to the log.
//
// The first GET it answers releases the ends ObserveFinished held.
func (m *Metrics) Handler() http.Handler {
	h := promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{
		ErrorLog:      slogPrinter{m.log},
		ErrorHandling: promhttp.ContinueOnError,
		Registry:      m.reg, // counts promhttp's own errors
	})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.ServeHTTP(w, r)
		// A HEAD (a load balancer's probe) shows no series to anyone.
		if r.Method == http.MethodGet {
			m.releaseHeld()
		}
	})
}

// releaseHeld counts the ends held until the first scrape.
func (m *Metrics) releaseHeld() {
	m.gateMu.Lock()
	if m.scraped {
		m.gateMu.Unlock()
		return
	}
	m.scraped = true
	held := m.held
	m.held = nil
	m.gateMu.Unlock()
	for _, e := range held {
		m.observeFinished(e.scope, e.typ, e.status, e.d)
	}
}

type slogPrinter struct{ log *slog.Logger }

func (p slogPrinter) Println(v ...any) { p.log.Warn("metrics: " + fmt.Sprint(v...)) }

// ObserveFinished records an operation that ended: scope is the server name
// ("" for the instance), status its final status (DONE or FAILED), d the
// time from its start to its end.
//
// An end observed before /metrics has first answered a GET is counted
// only once it has: a series whose first sample Prometheus sees is already
// 1 shows no increase(), so a failure in the first scrape interval after a
// start (a queued operation that serve's runner fails at once) would page
// no one. Held, the first scrape shows it at 0 and the next at 1.
func (m *Metrics) ObserveFinished(scope, typ, status string, d time.Duration) {
	m.gateMu.Lock()
	if !m.scraped && len(m.held) < maxHeld {
		m.held = append(m.held, heldEnd{scope, typ, status, d})
		m.gateMu.Unlock()
		return
	}
	m.gateMu.Unlock()
	m.observeFinished(scope, typ, status, d)
}

func (m *Metrics) observeFinished(scope, typ, status string, d time.Duration) {
	m.finished.WithLabelValues(scopeLabel(scope), typ, status).Inc()
	if d < 0 {
		d = 0
	}
	m.duration.WithLabelValues(typ).Observe(d.Seconds())
}

// ObserveRequest records one answered HTTP request. route is the pattern
// that matched ("GET /operations/{id}"), "" when none did; code 0 is read as
// 200, which net/http sends when a handler writes nothing.
func (m *Metrics) ObserveRequest(route string, code int, d time.Duration) {
	if code == 0 {
		code = http.StatusOK
	}
	// Every request of a server is observed: the labelled children are
	// looked up once per route and status, not hashed per request.
	key := requestKey{route, code}
	o, ok := m.observers.Load(key)
	if !ok {
		label := m.routeLabel(route)
		o = requestObservers{
			count:    m.httpRequests.WithLabelValues(label, strconv.Itoa(code)),
			duration: m.httpDuration.WithLabelValues(label),
		}
		// Routes and status codes are few; the bound is for a caller
		// that passes raw paths anyway.
		if m.observerCount.Add(1) <= maxObservers {
			m.observers.Store(key, o)
		}
	}
	obs := o.(requestObservers)
	obs.count.Inc()
	obs.duration.Observe(d.Seconds())
}

// maxObservers bounds the cache of ObserveRequest.
const maxObservers = 4096

type requestKey struct {
	route string
	code  int
}

type requestObservers struct {
	count    prometheus.Counter
	duration prometheus.Observer
}

func (m *Metrics) routeLabel(route string) string {
	if route == "" {
		return Unmatched
	}
	m.routeMu.Lock()
	defer m.routeMu.Unlock()
	if m.routes[route] {
		return route
	}
	if m.routesOpen && len(m.routes) < maxRoutes {
		m.routes[route] = true
		return route
	}
	return Unmatched
}

// Middleware counts the requests that next answers. route tells the route
// pattern of a request ("" for none); it is called after next has answered,
// so it may read r.Pattern, which http.ServeMux sets when next is the mux
// itself. A nil route reads r.Pattern.
func (m *Metrics) Middleware(next http.Handler, route func(*http.Request) string) http.Handler {
	if route == nil {
		route = func(r *http.Request) string { return r.Pattern }
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &codeRecorder{ResponseWriter: w}
		defer func() {
			// A panicking handler is still counted, as the 500 the server's
			// recovery will send.
			if p := recover(); p != nil {
				if rec.code == 0 {
					rec.code = http.StatusInternalServerError
				}
				m.ObserveRequest(route(r), rec.code, time.Since(start))
				panic(p)
			}
			m.ObserveRequest(route(r), rec.code, time.Since(start))
		}()
		next.ServeHTTP(rec, r)
	})
}

// codeRecorder remembers the status code; Unwrap keeps http.ResponseController
// (flush, deadlines) working through it.
type codeRecorder struct {
	http.ResponseWriter
	code int
}

func (c *codeRecorder) WriteHeader(code int) {
	if c.code == 0 {
		c.code = code
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *codeRecorder) Write(b []byte) (int, error) {
	if c.code == 0 {
		c.code = http.StatusOK
	}
	return c.ResponseWriter.Write(b)
}

func (c *codeRecorder) Unwrap() http.ResponseWriter { return c.ResponseWriter }

// zeroFilled is the counter of finished operations and their histogram,
// with every scope, type and final status a configured server (or the
// instance) may report present from the first scrape, at 0. Without it
// the first FAILED after a start is born at 1, and increase() over it is
// 0: the alert on the first failure would never fire. Servers added to
// Barman's configuration join on the next scrape.
type zeroFilled struct {
	finished *prometheus.CounterVec
	duration *prometheus.HistogramVec
	servers  func() ([]string, bool)
}

func (z zeroFilled) Describe(ch chan<- *prometheus.Desc) {
	z.finished.Describe(ch)
	z.duration.Describe(ch)
}

func (z zeroFilled) Collect(ch chan<- prometheus.Metric) {
	servers, _ := z.servers()
	for _, k := range zeroOperationKeys(servers) {
		if k.status != string(ops.StatusInProgress) {
			z.finished.WithLabelValues(k.scope, k.typ, k.status)
		}
	}
	for _, typ := range ops.Types {
		z.duration.WithLabelValues(string(typ))
	}
	z.finished.Collect(ch)
	z.duration.Collect(ch)
}

func scopeLabel(scope string) string {
	if scope == "" {
		return InstanceScope
	}
	return scope
}
