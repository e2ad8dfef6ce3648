package barman

import (
	"bytes"
	"errors"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/filestamp"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// ReadCatalog is the package's ReadCatalog (ops.CatalogReader).
func (Catalog) ReadCatalog(server *ops.BarmanServer) (*ops.ServerCatalog, error) {
	return ReadCatalog(server)
}

// ReadCatalog reads a server's backups (ListBackups) and its WAL database,
// Barman's xlog.db, to add what `barman list-backups` reports as each
// backup's wal_size and the server's recovery window. Without an xlog.db the
// catalog says so (WALKnown false) and the window ends with the newest
// backup.
//
// The WAL database is looked for where Barman keeps it:
// <xlogdb_directory>/<server>-xlog.db (Barman 3.13 and later) or
// <wals_directory>/xlog.db (earlier), each <backup_directory>/wals unless
// the configuration moves it.
func ReadCatalog(server *ops.BarmanServer) (*ops.ServerCatalog, error) {
	backups, err := ListBackups(server)
	if err != nil {
		return nil, err
	}
	cat := &ops.ServerCatalog{Server: server.Name, Backups: backups}
	wals, err := xlogdbs.read(xlogdbPaths(server))
	if err != nil {
		return nil, ops.Errorf(ops.EUNAVAILABLE, "cannot read the WAL database of server %q: %v", server.Name, err)
	}
	if wals != nil {
		cat.WALKnown = true
		for i := range cat.Backups {
			cat.Backups[i].WALSize = wals.sizeUntilNext(cat.Backups, i)
		}
		cat.LatestTimeline = wals.latestTimeline()
	}
	cat.Window = recoveryWindow(cat.Backups, wals)
	return cat, nil
}

// xlogdbPaths are where the WAL database may be, newest layout first.
func xlogdbPaths(server *ops.BarmanServer) []string {
	return []string{filepath.Join(server.XLogDBDir(), server.Name+"-xlog.db"), filepath.Join(server.WALsDir(), "xlog.db")}
}

// copyDone are the statuses Barman counts WAL for (STATUS_COPY_DONE).
func copyDone(status string) bool {
	return status == ops.BackupDone || status == ops.BackupWaitingForWALs
}

// walEntry is one WAL segment of xlog.db.
type walEntry struct {
	name string
	size int64
	time time.Time
}

// walDB is the WAL segments of an xlog.db, in file order, with the running
// total of their sizes.
type walDB struct {
	entries []walEntry
	sums    []int64 // sums[i] is the size of entries[:i]
	sorted  bool    // entries are in name order, as Barman writes them
}

// parseXlogDB reads xlog.db lines as Barman's WalFileInfo.from_xlogdb_line
// does: "name size time" then, optional and in order, compression (Barman
// 1.x and later) and encryption (Barman 3.14 and later, which writes all
// five, "None" for neither). Only
// plain WAL segments are kept: Barman skips history files, backup labels
// and partial files when it sizes a backup's WAL, and so do we. Lines that
// do not parse are skipped (Barman would refuse the whole listing and ask
// for `barman rebuild-xlogdb`).
func parseXlogDB(data []byte) *walDB {
	db := &walDB{sorted: true}
	for len(data) > 0 {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte{'\n'})
		fields := bytes.Fields(line)
		if len(fields) < 3 || len(fields) > 5 || !isWALSegment(fields[0]) {
			continue
		}
		size, err := strconv.ParseInt(string(fields[1]), 10, 64)
		if err != nil || size < 0 {
			continue
		}
		secs, err := strconv.ParseFloat(string(fields[2]), 64)
		if err != nil || math.IsNaN(secs) || math.IsInf(secs, 0) {
			continue
		}
		whole, frac := math.Modf(secs)
		e := walEntry{name: string(fields[0]), size: size, time: time.Unix(int64(whole), int64(frac*1e9)).UTC()}
		if n := len(db.entries); n > 0 && db.entries[n-1].name >= e.name {
			db.sorted = false
		}
		db.entries = append(db.entries, e)
	}
	db.sums = make([]int64, len(db.entries)+1)
	for i, e := range db.entries {
		db.sums[i+1] = db.sums[i] + e.size
	}
	return db
}

// isWALSegment reports whether name is a plain WAL segment: 24 hex digits.
func isWALSegment(name []byte) bool {
	if len(name) != 24 {
		return false
	}
	for _, c := range name {
		if !('0' <= c && c <= '9' || 'A' <= c && c <= 'F' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// sizeUntilNext is Barman's wal_until_next_size for backups[i]: the WAL
// archived after the backup's end WAL, on its timeline or an earlier one,
// up to and including the end WAL of the next backup whose copy is done.
// As Barman, it is 0 for a backup whose copy is not done.
func (db *walDB) sizeUntilNext(backups []ops.CatalogBackup, i int) int64 {
	b := backups[i]
	if !copyDone(b.Status) || len(b.BeginWAL) != 24 || len(b.EndWAL) != 24 {
		return 0
	}
	nextEnd := ""
	for _, n := range backups[i+1:] {
		if copyDone(n.Status) {
			nextEnd = n.EndWAL
			break
		}
	}
	tli := b.BeginWAL[:8]
	if !db.sorted {
		// Barman's own walk, which stops at the first segment past the
		// next backup in file order.
		var total int64
		for _, e := range db.entries {
			if e.name < b.BeginWAL || e.name[:8] > tli {
				continue
			}
			if nextEnd != "" && e.name > nextEnd {
				break
			}
			if e.name > b.EndWAL {
				total += e.size
			}
		}
		return total
	}
	// In name order the same segments are one run: after EndWAL, at most
	// nextEnd, and before any later timeline.
	from := sort.Search(len(db.entries), func(k int) bool { return db.entries[k].name > b.EndWAL })
	to := sort.Search(len(db.entries), func(k int) bool {
		name := db.entries[k].name
		return name[:8] > tli || (nextEnd != "" && name > nextEnd)
	})
	if to <= from {
		return 0
	}
	return db.sums[to] - db.sums[from]
}

// recoveryWindow is from the end of the oldest DONE backup to the newest
// WAL segment archived since it began (or the end of the newest DONE
// backup, when that is later or no WAL is known).
func recoveryWindow(backups []ops.CatalogBackup, db *walDB) *ops.RecoveryWindow {
	var oldest, newest *ops.CatalogBackup
	for i := range backups {
		if backups[i].Status != ops.BackupDone || backups[i].EndTime.IsZero() {
			continue
		}
		if oldest == nil {
			oldest = &backups[i]
		}
		newest = &backups[i]
	}
	if oldest == nil {
		return nil
	}
	w := &ops.RecoveryWindow{Earliest: oldest.EndTime, Latest: newest.EndTime}
	if db != nil {
		var last *walEntry
		for k := range db.entries {
			e := &db.entries[k]
			if e.name >= oldest.BeginWAL && (last == nil || e.name > last.name) {
				last = e
			}
		}
		if last != nil {
			w.LatestWAL = last.name
			if last.time.After(w.Latest) {
				w.Latest = last.time
			}
		}
	}
	return w
}

// xlogdbCache keeps the parsed WAL database while its stamp stays the same
// (see infoCache for the racy window).
type xlogdbCache struct {
	mu    sync.Mutex
	files map[string]cachedXlogDB
}

type cachedXlogDB struct {
	stamp  filestamp.Stamp
	readAt time.Time
	db     *walDB
}

var xlogdbs = &xlogdbCache{files: map[string]cachedXlogDB{}}

// read parses the first of paths that exists; nil when none does.
func (c *xlogdbCache) read(paths []string) (*walDB, error) {
	for _, path := range paths {
		stamp, ok := filestamp.Of(path)
		if !ok {
			continue
		}
		c.mu.Lock()
		e, hit := c.files[path]
		c.mu.Unlock()
		if hit && e.stamp == stamp && e.readAt.Sub(time.Unix(0, stamp.MtimeNs)) >= filestamp.RacyWindow {
			return e.db, nil
		}
		readAt := time.Now()
		data, err := os.ReadFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return nil, err
		}
		db := parseXlogDB(data)
		c.mu.Lock()
		c.files[path] = cachedXlogDB{stamp: stamp, readAt: readAt, db: db}
		c.mu.Unlock()
		return db, nil
	}
	return nil, nil
}

// LastArchivedWAL is the newest WAL segment of the server's xlog.db, read as
// ReadCatalog reads it, and the time Barman recorded for it: what tells
// whether archiving (and `barman cron`, which files the WAL) still runs.
// The segment is the one with the latest time rather than the highest
// name: the question is when Barman last filed WAL, whatever its timeline. Empty name and zero time when there is no xlog.db or no segment.
func LastArchivedWAL(server *ops.BarmanServer) (string, time.Time, error) {
	db, err := xlogdbs.read(xlogdbPaths(server))
	if err != nil {
		return "", time.Time{}, ops.Errorf(ops.EUNAVAILABLE, "cannot read the WAL database of server %q: %v", server.Name, err)
	}
	if db == nil {
		return "", time.Time{}, nil
	}
	var last *walEntry
	for i := range db.entries {
		if e := &db.entries[i]; last == nil || e.time.After(last.time) {
			last = e
		}
	}
	if last == nil {
		return "", time.Time{}, nil
	}
	return last.name, last.time, nil
}

// latestTimeline is the highest timeline of the WAL segments in db: what
// Barman's get_latest_archived_wals_info finds in its archive's directories
// (named for a segment's first 16 hex digits, the timeline first), for a
// target_tli "latest" without a backup. History files, which have no such
// directory, do not count; 0 when db names no segment.
func (db *walDB) latestTimeline() int {
	latest := 0
	for _, e := range db.entries {
		if len(e.name) < 24 {
			continue
		}
		tli, err := strconv.ParseUint(e.name[:8], 16, 32)
		if err != nil {
			continue
		}
		if _, err := strconv.ParseUint(e.name[8:24], 16, 64); err == nil && int(tli) > latest {
			latest = int(tli)
		}
	}
	return latest
}
