package ops

import (
	"fmt"
	"strings"
	"time"
)

// CatalogReader reads a server's whole backup catalog with the reach of its
// WAL archive. It is a port of its own, not part of Catalog, so that the
// Catalogs that only resolve backups (test doubles among them) need not
// implement it; the barman package's Reader does.
type CatalogReader interface {
	ReadCatalog(server *BarmanServer) (*ServerCatalog, error)
}

// Backups reads the backup catalog of the named server, oldest first.
func (s *Service) Backups(server string) (*ServerCatalog, error) {
	cfg, err := s.Barman.Config()
	if err != nil {
		return nil, err
	}
	srv, err := cfg.Server(server)
	if err != nil {
		return nil, err
	}
	cr, ok := s.Barman.(CatalogReader)
	if !ok {
		return nil, Errorf(EINTERNAL, "this Barman reader (%T) cannot list backup catalogs", s.Barman)
	}
	return cr.ReadCatalog(srv)
}

// Backup finds one backup of the named server by ID, name or shortcut
// (latest, oldest, last-failed, ...), with the catalog it was found in.
func (s *Service) Backup(server, id string) (*ServerCatalog, Backup, error) {
	cat, err := s.Backups(server)
	if err != nil {
		return nil, Backup{}, err
	}
	b, err := FindBackup(cat.Server, cat.Backups, id)
	return cat, b, err
}

// FindBackup finds the backup that id names among backups (oldest first):
// a backup ID, a backup name, or one of Barman's shortcuts latest/last,
// oldest/first (DONE backups) and last-failed.
func FindBackup(server string, backups []Backup, id string) (Backup, error) {
	pick := func(status string, newest bool) (Backup, bool) {
		for i := range backups {
			b := backups[i]
			if newest {
				b = backups[len(backups)-1-i]
			}
			if b.Status == status {
				return b, true
			}
		}
		return Backup{}, false
	}
	var b Backup
	var found bool
	switch id {
	case "latest", "last":
		b, found = pick(BackupDone, true)
	case "oldest", "first":
		b, found = pick(BackupDone, false)
	case "last-failed":
		b, found = pick(BackupFailed, true)
	default:
		for _, c := range backups {
			if c.ID == id || (c.Name != "" && c.Name == id) {
				b, found = c, true
				break
			}
		}
	}
	if !found {
		return Backup{}, Errorf(ENOTFOUND, "backup %q does not exist for server %q (backups: %s)", id, server, describeBackups(server, backups))
	}
	return b, nil
}

// describedBackups is how many backups a not-found message names: the
// newest, which are the ones people usually mean.
const describedBackups = 5

func describeBackups(server string, backups []Backup) string {
	if len(backups) == 0 {
		return "none in the catalog"
	}
	shown := backups
	if len(shown) > describedBackups {
		shown = shown[len(shown)-describedBackups:]
	}
	parts := make([]string, 0, len(shown)+1)
	for _, b := range shown {
		parts = append(parts, b.ID+" "+b.Status)
	}
	if n := len(backups) - len(shown); n > 0 {
		parts = append(parts, fmt.Sprintf("and %d older; `pg-backup-api backups --server %s` lists them all", n, server))
	}
	return strings.Join(parts, ", ")
}

// BackupJSON is one backup as GET /servers/{name}/backups and `backups -o
// json` show it. Keys follow `barman -f json list-backups` where it has
// them (backup_id, status); what is unknown is null.
type BackupJSON struct {
	BackupID  string  `json:"backup_id"`
	Name      *string `json:"name"`
	Status    string  `json:"status"`
	BeginTime *string `json:"begin_time"`
	EndTime   *string `json:"end_time"`
	BeginWAL  *string `json:"begin_wal"`
	EndWAL    *string `json:"end_wal"`
	Timeline  *int    `json:"timeline"`
	// Size is backup.info's size in bytes (without the WAL the backup
	// needs, which Barman's size_bytes adds).
	Size *int64 `json:"size"`
	// WALSize is Barman's wal_size_bytes: WAL archived after the backup up
	// to the next one; null when Barman's WAL database cannot be read.
	WALSize *int64 `json:"wal_size"`
	// Keep is the backup's keep annotation (`barman keep`): "full" or
	// "standalone"; null when the backup is not kept.
	Keep *string `json:"keep"`
}

// RecoveryWindowJSON is a RecoveryWindow in JSON.
type RecoveryWindowJSON struct {
	Earliest  string  `json:"earliest"`
	Latest    string  `json:"latest"`
	LatestWAL *string `json:"latest_wal"`
}

// CatalogJSON is a server's catalog in JSON, newest backup first as
// `barman list-backups` lists them.
type CatalogJSON struct {
	Server         string              `json:"server"`
	Backups        []BackupJSON        `json:"backups"`
	RecoveryWindow *RecoveryWindowJSON `json:"recovery_window"`
}

// JSONTime is how the catalog's JSON writes a time: RFC 3339 in UTC.
func JSONTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func optString(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func optTime(t time.Time) *string {
	if t.IsZero() {
		return nil
	}
	s := JSONTime(t)
	return &s
}

// ToJSON is b in JSON; walKnown says whether its WALSize means something.
func (b Backup) ToJSON(walKnown bool) BackupJSON {
	j := BackupJSON{BackupID: b.ID, Name: optString(b.Name), Status: b.Status,
		BeginTime: optTime(b.BeginTime), EndTime: optTime(b.EndTime),
		BeginWAL: optString(b.BeginWAL), EndWAL: optString(b.EndWAL), Keep: optString(b.Keep)}
	if b.Timeline > 0 {
		tli := b.Timeline
		j.Timeline = &tli
	}
	if b.Size > 0 {
		size := b.Size
		j.Size = &size
	}
	if walKnown {
		size := b.WALSize
		j.WALSize = &size
	}
	return j
}

// ToJSON is the catalog in JSON, newest backup first.
func (c *ServerCatalog) ToJSON() CatalogJSON {
	j := CatalogJSON{Server: c.Server, Backups: make([]BackupJSON, 0, len(c.Backups))}
	for i := len(c.Backups) - 1; i >= 0; i-- {
		j.Backups = append(j.Backups, c.Backups[i].ToJSON(c.WALKnown))
	}
	if w := c.Window; w != nil {
		j.RecoveryWindow = &RecoveryWindowJSON{Earliest: JSONTime(w.Earliest), Latest: JSONTime(w.Latest), LatestWAL: optString(w.LatestWAL)}
	}
	return j
}

// FromJSON is the backup j describes, as a remote server sent it, and
// whether its WAL size is known.
func (j BackupJSON) FromJSON() (Backup, bool) {
	b := Backup{ID: j.BackupID, Status: j.Status}
	deref := func(s *string) string {
		if s == nil {
			return ""
		}
		return *s
	}
	parse := func(s *string) time.Time {
		t, _ := time.Parse(time.RFC3339Nano, deref(s))
		return t
	}
	b.Name, b.BeginWAL, b.EndWAL, b.Keep = deref(j.Name), deref(j.BeginWAL), deref(j.EndWAL), deref(j.Keep)
	b.BeginTime, b.EndTime = parse(j.BeginTime), parse(j.EndTime)
	if j.Timeline != nil {
		b.Timeline = *j.Timeline
	}
	if j.Size != nil {
		b.Size = *j.Size
	}
	if j.WALSize != nil {
		b.WALSize = *j.WALSize
	}
	return b, j.WALSize != nil
}

// FromJSON is the catalog j describes, oldest backup first.
func (j CatalogJSON) FromJSON() *ServerCatalog {
	c := &ServerCatalog{Server: j.Server, WALKnown: len(j.Backups) > 0}
	for i := len(j.Backups) - 1; i >= 0; i-- {
		b, known := j.Backups[i].FromJSON()
		c.WALKnown = c.WALKnown && known
		c.Backups = append(c.Backups, b)
	}
	if w := j.RecoveryWindow; w != nil {
		c.Window = &RecoveryWindow{}
		c.Window.Earliest, _ = time.Parse(time.RFC3339Nano, w.Earliest)
		c.Window.Latest, _ = time.Parse(time.RFC3339Nano, w.Latest)
		if w.LatestWAL != nil {
			c.Window.LatestWAL = *w.LatestWAL
		}
	}
	return c
}
