package httpd

// Limits on what clients can make the server write: the log, the store,
// the disk.

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"syscall"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/bytesize"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
)

// Limits bound what clients can make the server write. Its zero value is
// the defaults. serve reads them at start.
type Limits struct {
	// CreatesPerMinute is how many operations one credential may create
	// per minute: a burst of that many, then one each 60/N seconds; more
	// get 429 with Retry-After. 0 means DefaultCreatesPerMinute, negative
	// no limit.
	CreatesPerMinute int
	// MinFreeBytes: creates get 507 while the file system of barman_home
	// has less free space than this and less than 1 % of its size (both:
	// a job file is small, and a recovery must stay possible on a large
	// disk that is only mostly full). 0 means DefaultMinFreeBytes,
	// negative never.
	MinFreeBytes int64

	failures failureLog
	creates  createLimiter
}

// Defaults of Limits.
const (
	DefaultCreatesPerMinute = 60
	DefaultMinFreeBytes     = 64 << 20
	// minFreePercent is the share of the file system that must also be
	// lacking for a create to be refused.
	minFreePercent = 1.0
)

// statfs is syscall.Statfs; a variable for tests.
var statfs = syscall.Statfs

// admitCreate is the last check of a create before validation: the
// config_update changes that need admin (authorizeConfigUpdate), the
// credential's create rate, and the free space of the store's file system.
// It answers the refusal itself and returns false.
func (s *Server) admitCreate(w http.ResponseWriter, r *http.Request, payload *pyjson.Object) bool {
	if payload == nil {
		return true // refused as malformed next; nothing is written
	}
	if !s.authorizeConfigUpdate(w, r, payload) {
		return false
	}
	who := identityOf(r)
	key := who.Name
	if key == "anonymous" {
		key = "client " + who.Client // no credentials configured
	}
	if wait, ok := s.Limits.creates.take(key, s.Limits.CreatesPerMinute, time.Now()); !ok {
		secs := int(math.Ceil(wait.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeError(w, r, http.StatusTooManyRequests, fmt.Sprintf("%s created more than %d operations in the last minute; retry in %d s (the limit is serve.creates_per_minute)",
			who.Name, s.Limits.createsPerMinute(), secs))
		return false
	}
	cfg, err := s.Service.Config(r.Context())
	if err != nil || cfg.BarmanHome == "" {
		return true // validation says what is wrong
	}
	if msg := s.Limits.diskFull(cfg.BarmanHome); msg != "" {
		writeError(w, r, http.StatusInsufficientStorage, msg)
		return false
	}
	return true
}

func (l *Limits) createsPerMinute() int {
	if l.CreatesPerMinute == 0 {
		return DefaultCreatesPerMinute
	}
	return l.CreatesPerMinute
}

// diskFull says why creates are refused for want of space under dir, or
// "" when they are not.
func (l *Limits) diskFull(dir string) string {
	minFree := l.MinFreeBytes
	if minFree == 0 {
		minFree = DefaultMinFreeBytes
	}
	if minFree < 0 {
		return ""
	}
	var st syscall.Statfs_t
	if err := statfs(dir, &st); err != nil {
		return "" // the create says what is wrong with dir, if anything
	}
	free := int64(st.Bavail) * int64(st.Bsize)
	size := int64(st.Blocks) * int64(st.Bsize)
	if free >= minFree || float64(free) >= float64(size)*minFreePercent/100 {
		return ""
	}
	return fmt.Sprintf("the file system of %s has %s free of %s, less than the %s (and %g %%) kept free: operations are not created until space is freed there (serve.min_free_bytes sets the margin)",
		dir, bytesize.String(uint64(free)), bytesize.String(uint64(size)), bytesize.String(uint64(minFree)), minFreePercent)
}

// createLimiter is a token bucket per credential: full (N creates) at
// first, refilled at N a minute.
type createLimiter struct {
	mu      sync.Mutex
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	last   time.Time
}

// take spends one of key's creates at now, or says how long until one is
// available.
func (c *createLimiter) take(key string, perMinute int, now time.Time) (time.Duration, bool) {
	if perMinute == 0 {
		perMinute = DefaultCreatesPerMinute
	}
	if perMinute < 0 {
		return 0, true
	}
	rate := float64(perMinute) / 60 // per second
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.buckets == nil {
		c.buckets = map[string]*bucket{}
	}
	b := c.buckets[key]
	if b == nil {
		if len(c.buckets) >= maxFailureClients {
			c.dropFull(now, float64(perMinute), rate)
		}
		b = &bucket{tokens: float64(perMinute), last: now}
		c.buckets[key] = b
	}
	b.tokens = math.Min(float64(perMinute), b.tokens+now.Sub(b.last).Seconds()*rate)
	b.last = now
	if b.tokens >= 1 {
		b.tokens--
		return 0, true
	}
	return time.Duration((1 - b.tokens) / rate * float64(time.Second)), false
}

// dropFull forgets the buckets that have refilled: they hold nothing a new
// one would not.
func (c *createLimiter) dropFull(now time.Time, capacity, rate float64) {
	for k, b := range c.buckets {
		if b.tokens+now.Sub(b.last).Seconds()*rate >= capacity {
			delete(c.buckets, k)
		}
	}
}

// A client that keeps failing authentication (a wrong token in a retry
// loop, a scanner) would otherwise write one access-log line per request,
// as fast as it can send them, and bury everything else. The first failure
// of a client is logged as any request is; the following ones within
// authFailureInterval are counted, and when the interval ends one line says
// how many there were. The next failure after that is logged again. Each
// kind of refusal (401: no or a wrong token; 403: a certificate not
// allowed, a token over plain HTTP) is counted apart, so that a client's
// first of each is seen.

// authFailureInterval is the window of one client's counted failures; a
// variable for tests.
var authFailureInterval = time.Minute

// maxFailureClients bounds the clients counted at once, so that failures
// from many addresses (an IPv6 range) cannot grow the table without end;
// beyond it, failures are counted together under "other clients".
const maxFailureClients = 4096

const otherClients = "other clients"

type failureLog struct {
	mu      sync.Mutex
	clients map[failureKey]*failureWindow
}

type failureKey struct {
	client string
	status int
}

type failureWindow struct {
	more int // failures not logged since the window began
}

// admit reports whether a failed authentication from client is to be
// logged: the first of its window. The others are counted, and report is
// called with their number when the window ends.
func (l *failureLog) admit(client string, status int, report func(client string, status, n int, window time.Duration)) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.clients == nil {
		l.clients = map[failureKey]*failureWindow{}
	}
	key := failureKey{client, status}
	w := l.clients[key]
	if w == nil && len(l.clients) >= maxFailureClients {
		key.client = otherClients
		w = l.clients[key]
	}
	if w != nil {
		w.more++
		return false
	}
	w = &failureWindow{}
	l.clients[key] = w
	window := authFailureInterval
	time.AfterFunc(window, func() {
		l.mu.Lock()
		n := w.more
		delete(l.clients, key)
		l.mu.Unlock()
		if n > 0 {
			report(key.client, key.status, n, window)
		}
	})
	return true
}

// reportFailures is the line that stands for a client's failed
// authentications that were not logged one by one.
func (s *Server) reportFailures(client string, status, n int, window time.Duration) {
	s.Log.Warn(fmt.Sprintf("%d more failed authentications from %s in the last %s (status %d)", n, client, window, status),
		"client", client, "status", status, "failed_authentications", n, "interval", window.String())
}
