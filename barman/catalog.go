package barman

import (
	"bufio"
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

// ListBackups reads a server's catalog from disk, oldest first, in both
// layouts Barman has used: <backup_directory>/meta/<ID>-backup.info (3.13.2
// and later) and <backup_directory>/base/<ID>/backup.info (earlier). It never
// starts Barman. A missing catalog is an empty one.
func ListBackups(server *ops.BarmanServer) ([]ops.Backup, error) {
	byID := map[string]ops.Backup{}
	read := func(id, path string) error {
		if _, seen := byID[id]; seen {
			return nil
		}
		data, err := os.ReadFile(path)
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return ops.Errorf(ops.EUNAVAILABLE, "cannot read backup catalog of server %q: %v", server.Name, err)
		}
		info := ParseBackupInfo(data)
		b := ops.Backup{ID: id, Name: info["backup_name"], Status: info["status"], Path: path,
			BeginTime: parseInfoTime(info["begin_time"]), EndTime: parseInfoTime(info["end_time"])}
		if b.Name == "None" {
			b.Name = ""
		}
		if size, err := strconv.ParseInt(info["size"], 10, 64); err == nil && size > 0 {
			b.Size = size
		}
		byID[id] = b
		return nil
	}

	metaDir := filepath.Join(server.BackupDirectory, "meta")
	entries, err := os.ReadDir(metaDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, ops.Errorf(ops.EUNAVAILABLE, "cannot read backup catalog of server %q: %v", server.Name, err)
	}
	for _, e := range entries {
		id, ok := strings.CutSuffix(e.Name(), "-backup.info")
		if !ok || id == "" || e.IsDir() {
			continue
		}
		if err := read(id, filepath.Join(metaDir, e.Name())); err != nil {
			return nil, err
		}
	}
	baseDir := filepath.Join(server.BackupDirectory, "base")
	entries, err = os.ReadDir(baseDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, ops.Errorf(ops.EUNAVAILABLE, "cannot read backup catalog of server %q: %v", server.Name, err)
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		if err := read(e.Name(), filepath.Join(baseDir, e.Name(), "backup.info")); err != nil {
			return nil, err
		}
	}

	backups := make([]ops.Backup, 0, len(byID))
	for _, b := range byID {
		backups = append(backups, b)
	}
	sort.Slice(backups, func(i, j int) bool { return backups[i].ID < backups[j].ID })
	return backups, nil
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
	info := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 4*1024*1024)
	for sc.Scan() {
		key, value, ok := strings.Cut(sc.Text(), "=")
		if !ok {
			continue
		}
		info[strings.TrimSpace(key)] = strings.TrimSpace(value)
	}
	return info
}

// Catalog reads servers' backup catalogs from disk (ops.Catalog).
type Catalog struct{}

// ListBackups is the package's ListBackups (ops.BackupLister).
func (Catalog) ListBackups(server *ops.BarmanServer) ([]ops.Backup, error) {
	return ListBackups(server)
}

// ResolveBackup is the package's ResolveBackup.
func (Catalog) ResolveBackup(server *ops.BarmanServer, id string) (ops.Backup, error) {
	return ResolveBackup(server, id)
}

// ResolveBackup finds the backup that id names for server: a backup ID, a
// backup name, or one of Barman's shortcuts latest/last, oldest/first,
// last-failed.
func ResolveBackup(server *ops.BarmanServer, id string) (ops.Backup, error) {
	backups, err := ListBackups(server)
	if err != nil {
		return ops.Backup{}, err
	}
	pick := func(status string, newest bool) (ops.Backup, bool) {
		for i := range backups {
			b := backups[i]
			if newest {
				b = backups[len(backups)-1-i]
			}
			if b.Status == status {
				return b, true
			}
		}
		return ops.Backup{}, false
	}
	var b ops.Backup
	var found bool
	switch id {
	case "latest", "last":
		b, found = pick(ops.BackupDone, true)
	case "oldest", "first":
		b, found = pick(ops.BackupDone, false)
	case "last-failed":
		b, found = pick(ops.BackupFailed, true)
	default:
		for _, c := range backups {
			if c.ID == id || (c.Name != "" && c.Name == id) {
				b, found = c, true
				break
			}
		}
	}
	if !found {
		return ops.Backup{}, ops.Errorf(ops.ENOTFOUND, "backup %q does not exist for server %q (backups: %s)", id, server.Name, describeBackups(backups))
	}
	return b, nil
}

func describeBackups(backups []ops.Backup) string {
	if len(backups) == 0 {
		return "none in " + "the catalog"
	}
	parts := make([]string, 0, len(backups))
	for _, b := range backups {
		parts = append(parts, b.ID+" "+b.Status)
	}
	return strings.Join(parts, ", ")
}
