package store

import (
	"path/filepath"
	"slices"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/filestamp"
)

// PendingQueue is a runner's view of the operations of a scope that have no
// output file, kept between the operations it runs. Listing both
// directories before each operation cost time in proportion to everything
// stored, so a deep queue drained slower than it filled. The view is listed
// again only when the jobs directory changed (a new operation, or one
// removed), or when the last listing was taken within
// filestamp.RacyWindow of that directory's last change, whose time the
// kernel's coarse clock may not tell apart from a later one.
//
// The view may hold operations that have ended since: the caller reads
// each one before running it, as it did with a fresh listing, and drops
// those that can never be queued again.
type PendingQueue struct {
	s      *Store
	server string
	ids    []string // sorted, oldest first
	jobs   dirStamp // the jobs directory when ids was listed
	valid  bool
	drop   map[string]bool // to leave out of ids at the next IDs
}

// NewPendingQueue returns an empty view of server's pending operations;
// the first IDs lists them.
func (s *Store) NewPendingQueue(server string) *PendingQueue {
	return &PendingQueue{s: s, server: server}
}

// IDs returns the pending operations, oldest first, listing them again
// when the jobs directory may have changed since the last time.
func (q *PendingQueue) IDs() ([]string, error) {
	jobs, err := stampOf(filepath.Join(q.s.ScopeDir(q.server), "jobs"))
	if err == nil && q.valid && jobs == q.jobs {
		if len(q.drop) > 0 {
			q.ids = slices.DeleteFunc(q.ids, func(id string) bool { return q.drop[id] })
			clear(q.drop)
		}
		return q.ids, nil
	}
	clear(q.drop)
	ids, err := q.s.PendingIDs(q.server)
	if err != nil {
		q.valid = false
		return nil, err
	}
	q.ids, q.jobs = ids, jobs
	// A directory changed within the racy window may change again without
	// its time moving: trust this listing once only.
	q.valid = jobs.Exists && time.Since(time.Unix(0, jobs.MtimeNs)) > filestamp.RacyWindow
	return q.ids, nil
}

// Drop leaves id out of the view from the next IDs on (the slice IDs
// returned last is not changed): it ended, or it is not queued and can
// never be again (running, another implementation's, lost).
func (q *PendingQueue) Drop(id string) {
	if q.drop == nil {
		q.drop = map[string]bool{}
	}
	q.drop[id] = true
}

// Invalidate makes the next IDs list the directories again.
func (q *PendingQueue) Invalidate() { q.valid = false }
