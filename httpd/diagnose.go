package httpd

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

// diagnose answers Barman's own `barman diagnose` JSON. Concurrent
// requests share one run and its answer serves for DiagnoseCacheFor; HEAD
// runs nothing and answers with the status of the last run (200 if none).
func (s *Server) diagnose(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodHead {
		code := http.StatusOK
		if last := s.diag.lastResult(); last != nil {
			code = last.code
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		return
	}
	cfg, err := s.Service.Config(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// Waiting for Barman may take longer than a response may take to write.
	http.NewResponseController(w).SetWriteDeadline(time.Now().Add(diagnoseTimeout + s.WriteTimeout))
	res, err := s.diag.get(r.Context(), s.DiagnoseCacheFor, func() *diagnoseResult { return s.runDiagnose(cfg.Path) })
	if err != nil {
		writeError(w, r, http.StatusServiceUnavailable, "gave up waiting for barman diagnose: "+err.Error())
		return
	}
	if res.code != http.StatusOK {
		writeError(w, r, res.code, res.msg)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(res.body)
}

func (s *Server) runDiagnose(configPath string) *diagnoseResult {
	// Not the request's context: other requests wait for this run too.
	ctx, cancel := context.WithTimeout(context.Background(), diagnoseTimeout)
	defer cancel()
	out, err := s.Diagnose(ctx, configPath)
	if err != nil {
		// The error may quote Barman's output, conninfo and all.
		return &diagnoseResult{code: http.StatusServiceUnavailable, msg: ops.MaskSecrets(err.Error())}
	}
	// Barman redacts some of its own output, but not every form libpq
	// reads (password = x, postgres://u:x@db in a conninfo): mask it as
	// everything else is, keeping the JSON as Barman wrote it otherwise.
	return &diagnoseResult{code: http.StatusOK, body: ops.MaskJSON(out)}
}

// diagnoseResult is one run's answer.
type diagnoseResult struct {
	code int
	body []byte
	msg  string
	at   time.Time
}

// diagnoseCache shares one `barman diagnose` among concurrent requests and
// keeps its answer for a while, so requests cannot start Barman at will.
type diagnoseCache struct {
	mu      sync.Mutex
	running chan struct{} // closed when the run in flight ends
	last    *diagnoseResult
}

func (c *diagnoseCache) lastResult() *diagnoseResult {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.last
}

func (c *diagnoseCache) get(ctx context.Context, fresh time.Duration, run func() *diagnoseResult) (*diagnoseResult, error) {
	c.mu.Lock()
	if c.last != nil && time.Since(c.last.at) < fresh {
		defer c.mu.Unlock()
		return c.last, nil
	}
	if c.running == nil {
		done := make(chan struct{})
		c.running = done
		go func() {
			res := run()
			res.at = time.Now()
			c.mu.Lock()
			c.last, c.running = res, nil
			c.mu.Unlock()
			close(done)
		}()
	}
	done := c.running
	c.mu.Unlock()
	select {
	case <-done:
		return c.lastResult(), nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
