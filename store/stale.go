package store

import (
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Every file the store writes is first a hidden temporary file beside its
// final name (".<name>.tmp-<digits>", os.CreateTemp's form), fsynced, then
// renamed or linked. A crash or a power cut between the two leaves the
// temporary file behind; nothing reads it, but nothing removed it either,
// so they piled up (empty ones after a power cut: the data never reached
// the disk). Runners and serve remove them when they start.

// StaleTempAge is how old a temporary file must be before it counts as a
// crashed writer's: a live writer holds its temporary file for an fsync or
// two, milliseconds, so one five minutes old is nobody's. A younger one may
// be a concurrent create's, which would fail if it vanished.
const StaleTempAge = 5 * time.Minute

// isTempName reports whether name has the form of the store's temporary
// files: ".<name>.tmp-" then os.CreateTemp's random digits. Nothing else
// is touched, whatever its age.
func isTempName(name string) bool {
	if !strings.HasPrefix(name, ".") {
		return false
	}
	i := strings.LastIndex(name, ".tmp-")
	if i < 1 {
		return false
	}
	digits := name[i+len(".tmp-"):]
	if digits == "" {
		return false
	}
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// RemoveStaleTemps removes the temporary files of crashed writers (see
// StaleTempAge) from the directories of server's scope: jobs, output and
// our state directory. Each removal is reported to logf, when set, with the
// file's path and modification time. It returns the paths removed; a
// directory or file that cannot be read or removed is passed over, as the
// next start will try again.
func (s *Store) RemoveStaleTemps(server string, logf func(path string, modified time.Time)) []string {
	if s.Home == "" {
		return nil // no barman_home: no store, and "" must not mean the working directory
	}
	cutoff := s.Now().Add(-StaleTempAge)
	var removed []string
	for _, d := range []string{"jobs", "output", StateDirName} {
		dir := filepath.Join(s.ScopeDir(server), d)
		names, err := dirNames(dir)
		if err != nil {
			continue
		}
		for _, n := range names {
			if !isTempName(n) {
				continue
			}
			p := filepath.Join(dir, n)
			fi, err := os.Lstat(p)
			if err != nil || !fi.Mode().IsRegular() || !fi.ModTime().Before(cutoff) {
				continue
			}
			if os.Remove(p) != nil {
				continue
			}
			removed = append(removed, p)
			if logf != nil {
				logf(p, fi.ModTime())
			}
		}
	}
	return removed
}

// RemoveAllStaleTemps is RemoveStaleTemps for every scope of the store: the
// instance's and each server directory under barman_home (serve answers for
// all of them).
func (s *Store) RemoveAllStaleTemps(logf func(path string, modified time.Time)) []string {
	removed := s.RemoveStaleTemps("", logf)
	names, err := dirNames(s.Home)
	if err != nil || s.Home == "" {
		return removed
	}
	for _, n := range names {
		if strings.HasPrefix(n, ".") || n == "jobs" || n == "output" {
			continue
		}
		if fi, err := os.Stat(filepath.Join(s.Home, n)); err != nil || !fi.IsDir() {
			continue
		}
		removed = append(removed, s.RemoveStaleTemps(n, logf)...)
	}
	return removed
}
