package httpd

import (
	"time"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

// The backup catalog's wire form, beside the operations' (wire.go): what
// GET /servers/{name}/backups[/{id}] writes, the Client reads, and
// `backups -o json` prints, from one definition.

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

// jsonTime is how the catalog's JSON writes a time: RFC 3339 in UTC.
func jsonTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

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
	s := jsonTime(t)
	return &s
}

// NewBackupJSON is b in JSON; walKnown says whether its WALSize means
// something.
func NewBackupJSON(b ops.CatalogBackup, walKnown bool) BackupJSON {
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

// NewCatalogJSON is the catalog in JSON, newest backup first.
func NewCatalogJSON(c *ops.ServerCatalog) CatalogJSON {
	j := CatalogJSON{Server: c.Server, Backups: make([]BackupJSON, 0, len(c.Backups))}
	for i := len(c.Backups) - 1; i >= 0; i-- {
		j.Backups = append(j.Backups, NewBackupJSON(c.Backups[i], c.WALKnown))
	}
	if w := c.Window; w != nil {
		j.RecoveryWindow = &RecoveryWindowJSON{Earliest: jsonTime(w.Earliest), Latest: jsonTime(w.Latest), LatestWAL: optString(w.LatestWAL)}
	}
	return j
}

// FromJSON is the backup j describes, as a remote server sent it, and
// whether its WAL size is known.
func (j BackupJSON) FromJSON() (ops.CatalogBackup, bool) {
	b := ops.CatalogBackup{ID: j.BackupID, Status: j.Status}
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
func (j CatalogJSON) FromJSON() *ops.ServerCatalog {
	c := &ops.ServerCatalog{Server: j.Server, WALKnown: len(j.Backups) > 0}
	for i := len(j.Backups) - 1; i >= 0; i-- {
		b, known := j.Backups[i].FromJSON()
		c.WALKnown = c.WALKnown && known
		c.Backups = append(c.Backups, b)
	}
	if w := j.RecoveryWindow; w != nil {
		c.Window = &ops.RecoveryWindow{}
		c.Window.Earliest, _ = time.Parse(time.RFC3339Nano, w.Earliest)
		c.Window.Latest, _ = time.Parse(time.RFC3339Nano, w.Latest)
		if w.LatestWAL != nil {
			c.Window.LatestWAL = *w.LatestWAL
		}
	}
	return c
}
