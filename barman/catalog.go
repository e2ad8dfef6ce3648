package barman

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/filestamp"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// ListBackups reads a server's catalog from disk, oldest first, in both
// layouts Barman has used: <backup_directory>/meta/<ID>-backup.info (3.13.2
// and later) and <basebackups_directory>/<ID>/backup.info (earlier). It never
// starts Barman. A missing catalog is an empty one. Each backup.info is
// parsed again only when its stamp changed (infoCache), so listing hundreds
// of backups costs a directory read and a stat per backup.
func ListBackups(server *ops.BarmanServer) ([]ops.CatalogBackup, error) {
	type candidate struct{ id, path string }
	var found []candidate
	seen := map[string]bool{}
	unreadable := func(err error) error {
		return ops.Errorf(ops.EUNAVAILABLE, "cannot read backup catalog of server %q: %v", server.Name, err)
	}

	// meta/ first: when Barman has moved a backup there, its old base/
	// file is stale.
	metaDir := filepath.Join(server.BackupDirectory, "meta")
	entries, err := os.ReadDir(metaDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, unreadable(err)
	}
	keeps := map[string]bool{} // IDs with a meta/<ID>-keep annotation
	for _, e := range entries {
		if id, ok := strings.CutSuffix(e.Name(), "-"+keepAnnotation); ok && !e.IsDir() {
			keeps[id] = true
		}
		id, ok := strings.CutSuffix(e.Name(), "-backup.info")
		if !ok || id == "" || e.IsDir() || seen[id] {
			continue
		}
		seen[id] = true
		found = append(found, candidate{id, filepath.Join(metaDir, e.Name())})
	}
	baseDir := server.BaseBackupsDir()
	entries, err = os.ReadDir(baseDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, unreadable(err)
	}
	for _, e := range entries {
		if !e.IsDir() || seen[e.Name()] {
			continue
		}
		found = append(found, candidate{e.Name(), filepath.Join(baseDir, e.Name(), "backup.info")})
	}

	backups := make([]ops.CatalogBackup, 0, len(found))
	paths := make([]string, 0, len(found))
	for _, c := range found {
		b, ok, err := infos.read(c.id, c.path)
		if err != nil {
			return nil, unreadable(err)
		}
		if ok {
			if b.Keep, err = readKeep(server, c.id, keeps[c.id]); err != nil {
				return nil, unreadable(err)
			}
			backups = append(backups, b)
			paths = append(paths, c.path)
		}
	}
	infos.keepOnly(server.BackupDirectory, paths)
	sort.Slice(backups, func(i, j int) bool { return backups[i].ID < backups[j].ID })
	return backups, nil
}

// keepAnnotation is the name of the annotation `barman keep` writes
// (KeepManager.ANNOTATION_KEY, Barman 2.14).
const keepAnnotation = "keep"

// readKeep reads a backup's keep annotation: its recovery target, "" when
// the backup is not kept. Barman 3.13.3 and later write it as
// meta/<ID>-keep; earlier releases as <ID>/annotations/keep in the
// backup's own directory, where a later Barman still finds it (and moves
// it) until it is next read, so both are looked at. inMeta says the
// listing of meta/ saw the first. The file holds the target and nothing
// else (no newline); an empty one still keeps the backup for Barman
// (should_keep_backup), and reads "unknown" here.
func readKeep(server *ops.BarmanServer, id string, inMeta bool) (string, error) {
	paths := []string{filepath.Join(server.BaseBackupsDir(), id, "annotations", keepAnnotation)}
	if inMeta {
		paths = append([]string{filepath.Join(server.BackupDirectory, "meta", id+"-"+keepAnnotation)}, paths...)
	}
	for _, p := range paths {
		data, err := readSmall(p, 256)
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			continue
		}
		if err != nil {
			return "", err
		}
		target := strings.TrimSpace(string(data))
		if target == "" {
			target = "unknown"
		}
		return target, nil
	}
	return "", nil
}

// readSmall reads at most limit bytes of the file at path: an annotation
// is a word, and a huge file there must not cost a listing its memory.
func readSmall(path string, limit int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, limit))
}

// backupFromInfo is the catalog entry a backup.info describes.
func backupFromInfo(id, path string, info map[string]string) ops.CatalogBackup {
	b := ops.CatalogBackup{ID: id, Name: info["backup_name"], Status: info["status"], Path: path,
		BeginTime: parseInfoTime(info["begin_time"]), EndTime: parseInfoTime(info["end_time"]),
		BeginWAL: infoString(info["begin_wal"]), EndWAL: infoString(info["end_wal"]), EndLSN: infoString(info["end_xlog"])}
	b.Name = infoString(b.Name)
	if size, err := strconv.ParseInt(info["size"], 10, 64); err == nil && size > 0 {
		b.Size = size
	}
	if tli, err := strconv.Atoi(info["timeline"]); err == nil && tli > 0 {
		b.Timeline = tli
	}
	if seg, err := strconv.ParseInt(info["xlog_segment_size"], 10, 64); err == nil && seg > 0 {
		b.WALSegmentSize = seg
	}
	if v, ok := info["tablespaces"]; ok {
		b.Tablespaces, b.TablespacesKnown = tablespaceNames(v)
	}
	return b
}

// infoString is a backup.info string value; Python's None is "".
func infoString(v string) string {
	if v == "None" {
		return ""
	}
	return v
}

// infoCache keeps the backups parsed from backup.info files while their
// stamps stay the same. A file changed within filestamp.RacyWindow of its
// reading is read again next time: its stamp may not move on the next
// change (Barman rewrites backup.info as a backup goes from STARTED to
// DONE).
type infoCache struct {
	mu    sync.Mutex
	files map[string]cachedInfo // path -> entry
}

type cachedInfo struct {
	stamp  filestamp.Stamp
	readAt time.Time
	backup ops.CatalogBackup
}

var infos = &infoCache{files: map[string]cachedInfo{}}

// read returns the backup at path, and false when the file is not there.
func (c *infoCache) read(id, path string) (ops.CatalogBackup, bool, error) {
	stamp, ok := filestamp.Of(path)
	if !ok {
		return ops.CatalogBackup{}, false, nil
	}
	c.mu.Lock()
	e, hit := c.files[path]
	c.mu.Unlock()
	if hit && e.stamp == stamp && e.readAt.Sub(time.Unix(0, stamp.MtimeNs)) >= filestamp.RacyWindow {
		return e.backup, true, nil
	}
	readAt := time.Now()
	data, err := os.ReadFile(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return ops.CatalogBackup{}, false, nil
		}
		return ops.CatalogBackup{}, false, err
	}
	b := backupFromInfo(id, path, ParseBackupInfo(data))
	// The stamp taken before reading: if the file changed in between, the
	// stale stamp only costs a read next time.
	c.mu.Lock()
	c.files[path] = cachedInfo{stamp: stamp, readAt: readAt, backup: b}
	c.mu.Unlock()
	return b, true, nil
}

// keepOnly forgets the files under dir that a listing no longer found, so
// deleted backups do not stay in memory.
func (c *infoCache) keepOnly(dir string, paths []string) {
	keep := make(map[string]bool, len(paths))
	for _, p := range paths {
		keep[p] = true
	}
	prefix := filepath.Clean(dir) + string(filepath.Separator)
	c.mu.Lock()
	defer c.mu.Unlock()
	for p := range c.files {
		if strings.HasPrefix(p, prefix) && !keep[p] {
			delete(c.files, p)
		}
	}
}

// backupInfoTimeLayouts are how backup.info writes times: Python's
// str(datetime) with a zone, with or without microseconds.
var backupInfoTimeLayouts = []string{"2006-01-02 15:04:05.999999-07:00", "2006-01-02 15:04:05-07:00"}

// parseInfoTime reads a backup.info time; "None" and the unreadable are zero.
func parseInfoTime(v string) time.Time {
	for _, layout := range backupInfoTimeLayouts {
		if t, err := time.Parse(layout, v); err == nil {
			return t
		}
	}
	return time.Time{}
}

// ParseBackupInfo reads Barman's backup.info "key=value" lines. Values are
// kept as written (Python reprs such as None stay "None").
func ParseBackupInfo(data []byte) map[string]string {
	info := make(map[string]string, 40)
	// Line by line without a bufio.Scanner: its buffer would cost more
	// than the file when hundreds of backups are read at once.
	for len(data) > 0 {
		var line []byte
		line, data, _ = bytes.Cut(data, []byte{'\n'})
		key, value, ok := bytes.Cut(line, []byte{'='})
		if !ok {
			continue
		}
		info[string(bytes.TrimSpace(key))] = string(bytes.TrimSpace(value))
	}
	return info
}

// Catalog reads servers' backup catalogs from disk (ops.Catalog).
type Catalog struct{}

// ListBackups is the package's ListBackups (ops.BackupLister).
func (Catalog) ListBackups(server *ops.BarmanServer) ([]ops.CatalogBackup, error) {
	return ListBackups(server)
}

// ResolveBackup is the package's ResolveBackup.
func (Catalog) ResolveBackup(server *ops.BarmanServer, id string) (ops.CatalogBackup, error) {
	return ResolveBackup(server, id)
}

// ResolveBackup finds the backup that id names for server: a backup ID, a
// backup name, or one of Barman's shortcuts latest/last, oldest/first,
// last-failed.
func ResolveBackup(server *ops.BarmanServer, id string) (ops.CatalogBackup, error) {
	backups, err := ListBackups(server)
	if err != nil {
		return ops.CatalogBackup{}, err
	}
	return ops.FindBackup(server.Name, backups, id)
}
