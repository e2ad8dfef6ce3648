package notify

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/pgmask"
)

// Defaults of a Dispatcher.
const (
	DefaultPollInterval = time.Second
	DefaultMinBackoff   = 2 * time.Second
	DefaultMaxBackoff   = 5 * time.Minute
	DefaultGiveUpAfter  = 72 * time.Hour
	DefaultKeepDone     = 7 * 24 * time.Hour
)

// Dispatcher delivers the outbox's events to the configured targets.
type Dispatcher struct {
	Outbox *Outbox
	// Config is the targets, validated; SetConfig replaces it while Run
	// delivers.
	Config Config
	// Log receives one line per attempt; nil discards.
	Log *slog.Logger
	// Client sends webhooks; nil means a client that follows no redirect
	// (a 3xx is a failed delivery: a POST must not turn into a GET).
	Client *http.Client
	// PollInterval is how often Run looks for events enqueued by other
	// processes; 0 means DefaultPollInterval.
	PollInterval time.Duration
	// MinBackoff and MaxBackoff bound the wait before a failed delivery is
	// tried again; it doubles from MinBackoff on each failure, with jitter.
	MinBackoff, MaxBackoff time.Duration
	// GiveUpAfter is how long after its first failed attempt a delivery is
	// abandoned; 0 means DefaultGiveUpAfter.
	GiveUpAfter time.Duration
	// KeepDone is how long delivered events are remembered so that a
	// repeated Enqueue stays a no-op; 0 means DefaultKeepDone.
	KeepDone time.Duration
	// UserAgent is sent with webhooks; "" means "pg-backup-api".
	UserAgent string

	once    sync.Once
	cur     atomic.Pointer[Config] // set by SetConfig; nil: Config
	kick    chan struct{}
	mu      sync.Mutex
	retryAt map[string]time.Time // key + "/" + target id -> earliest next try
	now     func() time.Time
}

type target struct {
	id      string
	name    string // for logs: redacted URL or the program
	events  []string
	timeout time.Duration
	webhook *Webhook
	command *Command
}

func webhookID(url string) string { return "webhook-" + shortHash(url) }
func commandID(argv []string) string {
	return "command-" + shortHash(strings.Join(argv, "\x00"))
}

func shortHash(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:8])
}

func (d *Dispatcher) init() {
	d.once.Do(func() {
		d.kick = make(chan struct{}, 1)
		d.retryAt = map[string]time.Time{}
		if d.now == nil {
			d.now = time.Now
		}
		if d.Log == nil {
			d.Log = slog.New(slog.DiscardHandler)
		}
		if d.Client == nil {
			d.Client = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		}
		if d.PollInterval <= 0 {
			d.PollInterval = DefaultPollInterval
		}
		if d.MinBackoff <= 0 {
			d.MinBackoff = DefaultMinBackoff
		}
		if d.MaxBackoff < d.MinBackoff {
			d.MaxBackoff = max(DefaultMaxBackoff, d.MinBackoff)
		}
		if d.GiveUpAfter <= 0 {
			d.GiveUpAfter = DefaultGiveUpAfter
		}
		if d.KeepDone <= 0 {
			d.KeepDone = DefaultKeepDone
		}
		if d.UserAgent == "" {
			d.UserAgent = "pg-backup-api"
		}
	})
}

// SetConfig makes cfg, validated, the targets of every delivery pass that
// starts from now on (serve's reload on SIGHUP); a pass under way finishes
// with the targets it started with. Events are kept in the outbox, so one
// that a new target subscribes to and that is not yet complete is
// delivered to it too.
func (d *Dispatcher) SetConfig(cfg Config) {
	d.cur.Store(&cfg)
	d.Notify()
}

// config is the targets in force.
func (d *Dispatcher) config() *Config {
	if c := d.cur.Load(); c != nil {
		return c
	}
	return &d.Config
}

func (d *Dispatcher) targets() []target {
	var ts []target
	cfg := d.config()
	for i := range cfg.Webhooks {
		w := &cfg.Webhooks[i]
		ts = append(ts, target{id: webhookID(w.URL), name: redactURL(w.URL), events: orBoth(w.Events), timeout: orDefault(w.Timeout.Duration, DefaultWebhookTimeout), webhook: w})
	}
	for i := range cfg.Commands {
		c := &cfg.Commands[i]
		if len(c.Argv) == 0 {
			continue
		}
		ts = append(ts, target{id: commandID(c.Argv), name: c.Argv[0], events: orBoth(c.Events), timeout: orDefault(c.Timeout.Duration, DefaultCommandTimeout), command: c})
	}
	return ts
}

func orBoth(ev []string) []string {
	if len(ev) == 0 {
		return []string{EventDone, EventFailed}
	}
	return ev
}

func orDefault(v, def time.Duration) time.Duration {
	if v <= 0 {
		return def
	}
	return v
}

// Notify asks Run to look at the outbox now rather than at its next poll,
// e.g. right after this process enqueued an event. It never blocks.
func (d *Dispatcher) Notify() {
	d.init()
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Run delivers events until ctx ends. Only one dispatcher delivers from an
// outbox at a time, across processes: the others wait for its lock. A
// delivery cut short by ctx is not recorded and is sent again by the next
// dispatcher, with the same idempotency key.
func (d *Dispatcher) Run(ctx context.Context) error {
	d.init()
	unlock, err := d.lock(ctx)
	if err != nil {
		return err
	}
	if unlock == nil {
		return ctx.Err()
	}
	defer unlock()
	d.Log.Info("notify: dispatcher started", "outbox", d.Outbox.Dir(), "targets", len(d.targets()))
	lastPrune := time.Time{}
	for {
		if time.Since(lastPrune) > time.Hour {
			if err := d.Outbox.Prune(d.KeepDone); err != nil {
				d.Log.Warn("notify: cannot prune the outbox", "error", err)
			}
			lastPrune = time.Now()
		}
		next := d.DeliverPending(ctx)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		wait := d.PollInterval
		if !next.IsZero() {
			wait = min(wait, max(next.Sub(d.now()), 10*time.Millisecond))
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-d.kick:
			t.Stop()
		case <-t.C:
		}
	}
}

// lock takes the outbox's dispatcher lock, waiting while another dispatcher
// holds it. It returns a nil unlock when ctx ended first.
func (d *Dispatcher) lock(ctx context.Context) (func(), error) {
	path := filepath.Join(d.Outbox.Dir(), lockName)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, fileMode)
	if err != nil {
		return nil, fmt.Errorf("notify: cannot open %s: %w", path, err)
	}
	told := false
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("notify: cannot lock %s: %w", path, err)
		}
		if !told {
			d.Log.Info("notify: another dispatcher delivers from this outbox; waiting for it to stop", "outbox", d.Outbox.Dir())
			told = true
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, nil
		case <-time.After(d.PollInterval):
		}
	}
}

// DeliverPending makes one pass over the outbox: every due delivery is
// attempted once, targets in parallel, each target's events in order. It
// returns the earliest time a failed delivery is due again (zero if none).
// Run calls it; tests and a final flush may call it directly, but only
// while no Run works on the same outbox.
func (d *Dispatcher) DeliverPending(ctx context.Context) time.Time {
	d.init()
	envs, errs := d.Outbox.Pending()
	for _, err := range errs {
		d.Log.Error(err.Error())
	}
	targets := d.targets()
	// Events nobody subscribes to, or already delivered everywhere, are
	// finished without an attempt.
	var live []*Envelope
	for _, env := range envs {
		if d.complete(env, targets) {
			d.finish(env)
			continue
		}
		live = append(live, env)
	}
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		next time.Time
	)
	for _, t := range targets {
		wg.Go(func() {
			n := d.deliverTo(ctx, t, targets, live)
			mu.Lock()
			if !n.IsZero() && (next.IsZero() || n.Before(next)) {
				next = n
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	return next
}

// finishIfComplete finishes env, freshly written by Update, once every
// subscribed target is done with it. Update serialises the writes, so only
// the target whose write completed the event sees it complete.
func (d *Dispatcher) finishIfComplete(env *Envelope, targets []target) {
	if d.complete(env, targets) {
		d.finish(env)
	}
}

func (d *Dispatcher) complete(env *Envelope, targets []target) bool {
	for _, t := range targets {
		if slices.Contains(t.events, env.Name) && !env.Targets[t.id].finished() {
			return false
		}
	}
	return true
}

func (d *Dispatcher) finish(env *Envelope) {
	if err := d.Outbox.Finish(env.Key); err != nil {
		d.Log.Error(err.Error())
		return
	}
	d.mu.Lock()
	for k := range d.retryAt {
		if strings.HasPrefix(k, env.Key+"/") {
			delete(d.retryAt, k)
		}
	}
	d.mu.Unlock()
}

// deliverTo attempts t's due deliveries in order. A receiver that cannot be
// reached (network error, timeout) is not tried again in this pass: the
// next events would only wait for the same timeout. One that answers with
// an error may still take the next events.
func (d *Dispatcher) deliverTo(ctx context.Context, t target, targets []target, envs []*Envelope) time.Time {
	var next time.Time
	later := func(at time.Time) {
		if next.IsZero() || at.Before(next) {
			next = at
		}
	}
	for _, env := range envs {
		if ctx.Err() != nil {
			return next
		}
		if !slices.Contains(t.events, env.Name) || env.Targets[t.id].finished() {
			continue
		}
		rk := env.Key + "/" + t.id
		st := env.Targets[t.id]
		d.mu.Lock()
		due := d.retryAt[rk]
		d.mu.Unlock()
		if st != nil && st.NextAttempt != nil && st.NextAttempt.After(due) {
			due = *st.NextAttempt // set by a dispatcher before a restart
		}
		if now := d.now(); now.Before(due) {
			later(due)
			continue
		}
		attempt := 1
		if st != nil {
			attempt = st.Attempts + 1
		}
		start := time.Now()
		reachable, err := d.attempt(ctx, t, env)
		took := time.Since(start)
		if ctx.Err() != nil {
			// Cut short by shutdown: neither success nor a failure of the
			// receiver. The next dispatcher sends it again.
			d.Log.Info("notify: delivery interrupted by shutdown; it will be sent again", "target", t.name, "key", env.Key, "attempt", attempt)
			return next
		}
		now := d.now()
		if err == nil {
			fresh, uerr := d.Outbox.Update(env.Key, t.id, func(s *TargetState) {
				s.Attempts++
				if s.FirstAttempt.IsZero() {
					s.FirstAttempt = now.UTC()
				}
				at := now.UTC()
				s.Acked, s.LastError, s.NextAttempt = &at, "", nil
			})
			if uerr != nil {
				// Delivered but not recorded: it will be sent again, which
				// the idempotency key makes harmless.
				d.Log.Error("notify: delivered but could not record it", "target", t.name, "key", env.Key, "error", uerr)
				continue
			}
			d.Log.Info("notify: delivered", "target", t.name, "key", env.Key, "event", env.Name, "attempt", attempt, "duration_ms", took.Milliseconds())
			d.finishIfComplete(fresh, targets)
			continue
		}
		var giveUp bool
		wait := d.backoff(attempt)
		fresh, uerr := d.Outbox.Update(env.Key, t.id, func(s *TargetState) {
			s.Attempts++
			if s.FirstAttempt.IsZero() {
				s.FirstAttempt = now.UTC()
			}
			s.LastError = err.Error()
			if now.Sub(s.FirstAttempt) >= d.GiveUpAfter {
				at := now.UTC()
				s.Abandoned, s.NextAttempt, giveUp = &at, nil, true
				return
			}
			at := now.Add(wait).UTC()
			s.NextAttempt = &at
		})
		if uerr != nil {
			d.Log.Error("notify: cannot record a failed delivery", "target", t.name, "key", env.Key, "error", uerr)
		}
		if giveUp && uerr == nil {
			d.Log.Error("notify: delivery abandoned", "target", t.name, "key", env.Key, "event", env.Name, "attempt", attempt, "error", err, "tried_for", d.GiveUpAfter.String())
			d.finishIfComplete(fresh, targets)
			continue
		}
		d.mu.Lock()
		d.retryAt[rk] = now.Add(wait)
		d.mu.Unlock()
		later(now.Add(wait))
		d.Log.Warn("notify: delivery failed", "target", t.name, "key", env.Key, "event", env.Name, "attempt", attempt, "duration_ms", took.Milliseconds(), "error", err, "retry_in", wait.Round(time.Millisecond).String())
		if !reachable {
			return next
		}
	}
	return next
}

// backoff is the wait after the attempt-th failure: doubling from
// MinBackoff, capped at MaxBackoff, and drawn from its upper half so that
// many events failing together do not come back together.
func (d *Dispatcher) backoff(attempt int) time.Duration {
	w := d.MinBackoff
	for i := 1; i < attempt && w < d.MaxBackoff; i++ {
		w *= 2
	}
	w = min(w, d.MaxBackoff)
	half := w / 2
	return half + rand.N(half+1)
}

// attempt delivers env to t once. reachable is false when the target could
// not be reached at all (network error, timeout).
func (d *Dispatcher) attempt(ctx context.Context, t target, env *Envelope) (reachable bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	if t.webhook != nil {
		reachable, err = d.post(ctx, t, env)
	} else {
		reachable, err = d.run(ctx, t, env)
	}
	if err != nil {
		// The error is logged and kept in the outbox: no URL in it may show
		// a token, whoever wrote it.
		err = errors.New(redactURLs(err.Error()))
	}
	return reachable, err
}

func (d *Dispatcher) post(ctx context.Context, t target, env *Envelope) (bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.webhook.URL, bytes.NewReader(env.Event))
	if err != nil {
		return false, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", d.UserAgent)
	req.Header.Set(HeaderSignature, Sign(t.webhook.Secret, env.Event))
	req.Header.Set(HeaderSignatureV1, SignV1(t.webhook.Secret, d.now(), env.Key, env.Event))
	req.Header.Set(HeaderIdempotency, env.Key)
	req.Header.Set(HeaderDelivery, env.Key)
	req.Header.Set(HeaderEvent, env.Name)
	resp, err := d.Client.Do(req)
	if err != nil {
		if ctx.Err() == context.DeadlineExceeded {
			return false, fmt.Errorf("no answer within %s", t.timeout)
		}
		// url.Error quotes the URL with only its password hidden: name
		// the target as the logs do.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			uerr.URL = t.name
		}
		return false, fmt.Errorf("cannot reach the receiver: %s", err)
	}
	defer resp.Body.Close()
	// Read a little of the answer: for the log, and so the connection can
	// be reused.
	head, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		msg := fmt.Sprintf("receiver answered %s", resp.Status)
		if resp.StatusCode >= 300 && resp.StatusCode < 400 {
			msg += " (a redirect is not followed: configure the final URL)"
		}
		if s := strings.TrimSpace(string(head)); s != "" {
			msg += ": " + oneLine(s, 200)
		}
		return true, errors.New(msg)
	}
	return true, nil
}

// run feeds the event to a local command on standard input. The command
// runs in its own process group so that the timeout also stops whatever it
// started; success is exit status 0.
func (d *Dispatcher) run(ctx context.Context, t target, env *Envelope) (bool, error) {
	cmd := exec.CommandContext(ctx, t.command.Argv[0], t.command.Argv[1:]...)
	cmd.Stdin = bytes.NewReader(env.Event)
	var out cappedBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	cmd.Env = append(os.Environ(),
		"PG_BACKUP_API_EVENT="+env.Name,
		"PG_BACKUP_API_IDEMPOTENCY_KEY="+env.Key,
	)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if err == nil {
		return true, nil
	}
	if ctx.Err() == context.DeadlineExceeded {
		return false, fmt.Errorf("%s did not finish within %s and was killed", t.name, t.timeout)
	}
	msg := fmt.Sprintf("%s: %v", t.name, err)
	if s := strings.TrimSpace(out.String()); s != "" {
		msg += ": " + oneLine(pgmask.Text(s), 200)
	}
	var exit *exec.ExitError
	return errors.As(err, &exit), errors.New(msg)
}

func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > n {
		s = s[:n] + "..."
	}
	return s
}

// cappedBuffer keeps the first 4 KiB a command writes, for the log, and
// discards the rest without blocking the command.
type cappedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (c *cappedBuffer) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if room := 4096 - c.buf.Len(); room > 0 {
		c.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

func (c *cappedBuffer) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String()
}
