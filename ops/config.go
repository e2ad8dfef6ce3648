package ops

import (
	"path/filepath"
	"sort"
	"strings"
	"time"
)

// DefaultBarmanConfig is where Barman and the reference implementation look
// when nothing else is said.
const DefaultBarmanConfig = "/etc/barman.conf"

// BarmanConfig is what we need of Barman's configuration: where it keeps
// things and which servers and models exist.
type BarmanConfig struct {
	Path       string   // the main configuration file
	Files      []string // every file read, in the order Barman reads them
	IncludeDir string   // configuration_files_directory, if set
	BarmanHome string
	BarmanUser string
	Servers    map[string]*BarmanServer
	Models     map[string]*BarmanModel
	// ActiveModelFiles are the <backup_directory>/.active-model.auto files
	// consulted, present or not; config-switch changes them.
	ActiveModelFiles []string
	// Broken are the sections (servers or models) that cannot be read,
	// each with why, starting with the file:line at fault: an interpolation
	// or syntax error in one section or configuration_files_directory file
	// leaves the other servers usable, and a request for a broken one says
	// where to fix it. They are in neither Servers nor Models.
	Broken map[string]string
}

// BarmanServer is one server section, as Barman resolves it.
type BarmanServer struct {
	Name            string
	Cluster         string // "" when the configuration sets cluster to None or empty
	BackupDirectory string
	// BaseBackupsDirectory, WALsDirectory and XLogDBDirectory are where
	// Barman keeps backups of the older layout, WAL files and the WAL
	// database (basebackups_directory, wals_directory, xlogdb_directory);
	// "" means Barman's default under BackupDirectory (see the methods).
	BaseBackupsDirectory string
	WALsDirectory        string
	XLogDBDirectory      string
	// ActiveModel is the model named in <backup_directory>/.active-model.auto
	// and applied to Values, or "" when none is applied.
	ActiveModel string
	// Values holds the options of trackedOptions that are set, after the
	// active model's overrides.
	Values map[string]string
	// Problem says why Barman would disable the server or not apply its
	// active model (a model that does not exist or belongs to another
	// cluster); "" when there is none.
	Problem string
}

// BaseBackupsDir is where backups of the base/<ID>/backup.info layout are.
func (s *BarmanServer) BaseBackupsDir() string {
	if s.BaseBackupsDirectory != "" {
		return s.BaseBackupsDirectory
	}
	return filepath.Join(s.BackupDirectory, "base")
}

// WALsDir is where Barman archives WAL files (and, before 3.13, its xlog.db).
func (s *BarmanServer) WALsDir() string {
	if s.WALsDirectory != "" {
		return s.WALsDirectory
	}
	return filepath.Join(s.BackupDirectory, "wals")
}

// XLogDBDir is where Barman 3.13 and later keep <server>-xlog.db.
func (s *BarmanServer) XLogDBDir() string {
	if s.XLogDBDirectory != "" {
		return s.XLogDBDirectory
	}
	return s.WALsDir()
}

// BarmanModel is one model section (model = true).
type BarmanModel struct {
	Name    string
	Cluster string
	Values  map[string]string // the trackedOptions the model overrides
}

// CatalogBackup is one entry of a server's backup catalog (not an
// operation of type BackupOp).
type CatalogBackup struct {
	ID     string
	Name   string // backup_name, when Barman was given one
	Status string // DONE, FAILED, STARTED, ...
	Path   string // the backup.info file it was read from
	// BeginTime and EndTime are when Barman started and finished taking
	// it; zero when backup.info does not say (a backup still running).
	BeginTime, EndTime time.Time
	// BeginWAL and EndWAL are the first and last WAL segments the backup
	// needs; "" when backup.info does not say.
	BeginWAL, EndWAL string
	// EndLSN is the WAL location where the backup ended (backup.info's
	// end_xlog, X/X); "" when backup.info does not say.
	EndLSN   string
	Timeline int   // 0 when unknown
	Size     int64 // bytes, as backup.info's size; 0 when unknown
	// WALSize is the bytes of WAL archived after the backup up to the next
	// one, as `barman list-backups` reports wal_size. Only a ServerCatalog
	// whose WALKnown is true fills it.
	WALSize int64
	// Keep is the backup's keep annotation (`barman keep`): its recovery
	// target, "full" or "standalone"; "" when the backup is not kept.
	// Barman refuses to delete a kept backup, and retention skips it.
	Keep string
	// Tablespaces are the names of the backup's tablespaces (backup.info's
	// tablespaces), when TablespacesKnown; Barman refuses a relocation
	// rule that names another.
	Tablespaces      []string
	TablespacesKnown bool
	// WALSegmentSize is the bytes of a WAL segment of the server when the
	// backup was taken (backup.info's xlog_segment_size); 0 when unknown.
	WALSegmentSize int64
}

// ServerCatalog is a server's backup catalog as read from disk, with how
// far the WAL archive reaches.
type ServerCatalog struct {
	Server  string
	Backups []CatalogBackup // oldest first
	// WALKnown says that Barman's WAL database (xlog.db) was read, so the
	// backups' WALSize and the window's LatestWAL mean something.
	WALKnown bool
	// LatestTimeline is the highest timeline of a WAL segment archived
	// (what Barman takes for a target_tli "latest" without a backup); 0
	// when unknown.
	LatestTimeline int
	// Window is the recovery window; nil when no backup is DONE.
	Window *RecoveryWindow
}

// RecoveryWindow is the span of time a recovery can reach with the backups
// and WAL on disk.
type RecoveryWindow struct {
	// Earliest is the end of the oldest DONE backup: Barman cannot recover
	// to before a backup ended.
	Earliest time.Time
	// Latest is the time of the newest WAL segment archived (or the end of
	// the newest DONE backup when no later WAL is known).
	Latest time.Time
	// LatestWAL names the newest WAL segment archived; "" when none is.
	LatestWAL string
}

// Backup statuses that matter to us.
const (
	BackupDone   = "DONE"
	BackupFailed = "FAILED"
	// BackupWaitingForWALs: the copy is done, the WAL it needs to be
	// consistent is not archived yet. Barman counts its WAL as a
	// backup's and its "auto" may choose it; we recover only DONE ones.
	BackupWaitingForWALs = "WAITING_FOR_WALS"
)

// Server returns the named server or a not-found error listing the known ones.
func (cfg *BarmanConfig) Server(name string) (*BarmanServer, error) {
	if s, ok := cfg.Servers[name]; ok {
		return s, nil
	}
	if err := cfg.broken(name); err != nil {
		return nil, err
	}
	if _, ok := cfg.Models[name]; ok {
		return nil, Errorf(ENOTFOUND, "%q is a model, not a server, in %s (servers: %s)", name, cfg.Path, cfg.serverList())
	}
	return nil, Errorf(ENOTFOUND, "server %q is not in %s (known: %s)", name, cfg.Path, cfg.serverList())
}

// Model returns the named model or a not-found error listing the known ones.
func (cfg *BarmanConfig) Model(name string) (*BarmanModel, error) {
	if m, ok := cfg.Models[name]; ok {
		return m, nil
	}
	if err := cfg.broken(name); err != nil {
		return nil, err
	}
	return nil, Errorf(ENOTFOUND, "model %q is not in %s (known: %s)", name, cfg.Path, listOrNone(sortedKeys(cfg.Models)))
}

// broken is the error for a section that cannot be read, or nil.
func (cfg *BarmanConfig) broken(name string) error {
	why, ok := cfg.Broken[name]
	if !ok {
		return nil
	}
	return Errorf(EUNAVAILABLE, "[%s] cannot be used: Barman's configuration is not valid there: %s; fix it in that file (Barman refuses it too; the other servers are unaffected here)", name, why)
}

// ServerNames returns the server names, sorted.
func (cfg *BarmanConfig) ServerNames() []string { return sortedKeys(cfg.Servers) }

func (cfg *BarmanConfig) serverList() string { return listOrNone(sortedKeys(cfg.Servers)) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func listOrNone(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, ", ")
}
