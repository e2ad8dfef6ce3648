package notify

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/atomicfile"
)

// The outbox's layout under its directory:
//
//	pending/<key>.json    an event not yet delivered to every target, with
//	                      each target's delivery state
//	delivered/<key>.json  a finished event, kept a while so that enqueueing
//	                      it again is a no-op rather than a second round
//	.dispatch.lock        held by the one dispatcher that delivers
//
// Every file is written whole (temporary file, fsync, rename or link, fsync
// of the directory), so a crash leaves the old state or the new one.
const (
	pendingDir   = "pending"
	deliveredDir = "delivered"
	lockName     = ".dispatch.lock"
)

const (
	fileMode = 0o600
	dirMode  = 0o700
)

// Envelope is one event in the outbox with its delivery state.
type Envelope struct {
	Key        string    `json:"key"`
	EnqueuedAt time.Time `json:"enqueued_at"`
	// Event is the body exactly as sent: kept as bytes so that every retry
	// sends, and signs, the same document.
	Event json.RawMessage `json:"event"`
	// Targets holds the state of each target that was attempted, by target
	// id.
	Targets map[string]*TargetState `json:"targets,omitempty"`
	// Name is the event name (done, failed), for the targets' filters.
	Name string `json:"name"`
}

// TargetState is one target's delivery of one event.
type TargetState struct {
	Attempts     int       `json:"attempts"`
	FirstAttempt time.Time `json:"first_attempt"`
	LastError    string    `json:"last_error,omitempty"`
	// NextAttempt is when a failed delivery may be tried again: kept on
	// disk, so that a restarted dispatcher keeps to the backoff instead of
	// sending every pending failure at once.
	NextAttempt *time.Time `json:"next_attempt,omitempty"`
	Acked       *time.Time `json:"acked,omitempty"`     // 2xx or exit 0 seen
	Abandoned   *time.Time `json:"abandoned,omitempty"` // given up after GiveUpAfter
}

func (t *TargetState) finished() bool { return t != nil && (t.Acked != nil || t.Abandoned != nil) }

// Outbox is a durable queue of events in a directory. Enqueue may be called
// from any process (the runner); the delivery state is changed only by the
// dispatcher holding the directory's lock.
type Outbox struct {
	dir string
	mu  sync.Mutex // serialises rewrites of envelopes within this process
	now func() time.Time
}

// OpenOutbox uses dir as an outbox, creating it when missing.
func OpenOutbox(dir string) (*Outbox, error) {
	if dir == "" {
		return nil, errors.New("notify: outbox directory not given")
	}
	for _, d := range []string{dir, filepath.Join(dir, pendingDir), filepath.Join(dir, deliveredDir)} {
		if err := os.MkdirAll(d, dirMode); err != nil {
			return nil, fmt.Errorf("notify: cannot create the outbox %s: %w", d, err)
		}
	}
	return &Outbox{dir: dir, now: time.Now}, nil
}

// Dir returns the outbox's directory.
func (o *Outbox) Dir() string { return o.dir }

// Enqueue stores ev durably for delivery. It reports false, and changes
// nothing, when an event with the same idempotency key is already pending or
// was delivered: the runner may enqueue again after a crash without the
// receivers hearing twice.
func (o *Outbox) Enqueue(ev Event) (bool, error) {
	if !validKey(ev.IdempotencyKey) {
		return false, fmt.Errorf("notify: event of operation %s has no valid idempotency key; build it with NewEvent", ev.OperationID)
	}
	body, err := ev.Body()
	if err != nil {
		return false, fmt.Errorf("notify: cannot encode the event of operation %s: %w", ev.OperationID, err)
	}
	name := ev.IdempotencyKey + ".json"
	if _, err := os.Stat(filepath.Join(o.dir, deliveredDir, name)); err == nil {
		return false, nil
	}
	env := Envelope{Key: ev.IdempotencyKey, EnqueuedAt: o.now().UTC(), Event: body, Name: ev.Event}
	data, err := json.Marshal(env)
	if err != nil {
		return false, err
	}
	dir := filepath.Join(o.dir, pendingDir)
	tmp, err := writeTemp(dir, name, data)
	if err != nil {
		return false, fmt.Errorf("notify: cannot write to the outbox %s: %w", dir, err)
	}
	defer os.Remove(tmp)
	// link(2) publishes the complete file only if the name is free, which
	// makes a second enqueue a no-op even from another process.
	if err := os.Link(tmp, filepath.Join(dir, name)); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return false, nil
		}
		return false, fmt.Errorf("notify: cannot write to the outbox %s: %w", dir, err)
	}
	if err := syncDir(dir); err != nil {
		return false, err
	}
	return true, nil
}

// Pending returns the events not yet finished, oldest first. An event found
// both pending and delivered (enqueued again while it was being finished)
// is removed from pending: it was delivered. An unreadable file is renamed
// to <key>.json.bad and reported in errs so that it is looked at once, not
// on every poll.
func (o *Outbox) Pending() (envs []*Envelope, errs []error) {
	dir := filepath.Join(o.dir, pendingDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, []error{fmt.Errorf("notify: cannot read the outbox %s: %w", dir, err)}
	}
	for _, e := range entries {
		key, ok := strings.CutSuffix(e.Name(), ".json")
		if !ok || !validKey(key) || e.IsDir() {
			continue
		}
		path := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(o.dir, deliveredDir, e.Name())); err == nil {
			os.Remove(path)
			continue
		}
		env, err := readEnvelope(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				continue // finished meanwhile
			}
			errs = append(errs, fmt.Errorf("notify: outbox file %s is unreadable (%v); set aside as %s.bad", path, err, e.Name()))
			os.Rename(path, path+".bad")
			continue
		}
		envs = append(envs, env)
	}
	sort.SliceStable(envs, func(i, j int) bool { return envs[i].EnqueuedAt.Before(envs[j].EnqueuedAt) })
	return envs, errs
}

func readEnvelope(path string) (*Envelope, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var env Envelope
	if err := json.Unmarshal(data, &env); err != nil {
		return nil, err
	}
	if !validKey(env.Key) || len(env.Event) == 0 {
		return nil, errors.New("no key or no event")
	}
	if env.Targets == nil {
		env.Targets = map[string]*TargetState{}
	}
	return &env, nil
}

// Update applies change to the stored state of key's target and writes the
// envelope back whole before returning, so an acknowledgement survives a
// crash once Update returns.
func (o *Outbox) Update(key, target string, change func(*TargetState)) (*Envelope, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	dir := filepath.Join(o.dir, pendingDir)
	env, err := readEnvelope(filepath.Join(dir, key+".json"))
	if err != nil {
		return nil, fmt.Errorf("notify: cannot read outbox entry %s: %w", key, err)
	}
	st := env.Targets[target]
	if st == nil {
		st = &TargetState{}
		env.Targets[target] = st
	}
	change(st)
	data, err := json.Marshal(env)
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(dir, key+".json", data); err != nil {
		return nil, fmt.Errorf("notify: cannot record the delivery of %s: %w", key, err)
	}
	return env, nil
}

// Finish moves a fully delivered event to delivered/, where it keeps a later
// Enqueue of the same key from sending it again.
func (o *Outbox) Finish(key string) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	from := filepath.Join(o.dir, pendingDir, key+".json")
	to := filepath.Join(o.dir, deliveredDir, key+".json")
	if err := os.Rename(from, to); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil // finished already
		}
		return fmt.Errorf("notify: cannot finish outbox entry %s: %w", key, err)
	}
	if err := syncDir(filepath.Join(o.dir, deliveredDir)); err != nil {
		return err
	}
	return syncDir(filepath.Join(o.dir, pendingDir))
}

// Prune removes delivered events finished more than keep ago. An operation's
// runner enqueues its end at most minutes after it happens, so a few days
// of memory are plenty.
func (o *Outbox) Prune(keep time.Duration) error {
	dir := filepath.Join(o.dir, deliveredDir)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	cutoff := o.now().Add(-keep)
	for _, e := range entries {
		info, err := e.Info()
		if err != nil || e.IsDir() {
			continue
		}
		if info.ModTime().Before(cutoff) {
			os.Remove(filepath.Join(dir, e.Name()))
		}
	}
	// Temporary files of writers that crashed are never published; anything
	// older than a day is theirs.
	for _, d := range []string{pendingDir, deliveredDir} {
		entries, _ := os.ReadDir(filepath.Join(o.dir, d))
		for _, e := range entries {
			if info, err := e.Info(); err == nil && strings.HasPrefix(e.Name(), ".") && strings.Contains(e.Name(), ".tmp-") && info.ModTime().Before(o.now().Add(-24*time.Hour)) {
				os.Remove(filepath.Join(o.dir, d, e.Name()))
			}
		}
	}
	return nil
}

func validKey(k string) bool {
	if len(k) != 32 {
		return false
	}
	for _, c := range k {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

func writeTemp(dir, name string, data []byte) (string, error) {
	return atomicfile.WriteTemp(dir, name, data, fileMode)
}

func writeFileAtomic(dir, name string, data []byte) error {
	return atomicfile.Write(dir, name, data, fileMode)
}

func syncDir(dir string) error { return atomicfile.SyncDir(dir) }
