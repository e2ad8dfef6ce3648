package ops

import (
	"context"
	"fmt"
	"strings"
)

// CatalogReader reads a server's whole backup catalog with the reach of its
// WAL archive. It is a port of its own, not part of Catalog, so that the
// Catalogs that only resolve backups (test doubles among them) need not
// implement it; the barman package's Reader does.
type CatalogReader interface {
	ReadCatalog(server *BarmanServer) (*ServerCatalog, error)
}

// Backups reads the backup catalog of the named server, oldest first.
func (s *Service) Backups(ctx context.Context, server string) (*ServerCatalog, error) {
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
func (s *Service) Backup(ctx context.Context, server, id string) (*ServerCatalog, CatalogBackup, error) {
	cat, err := s.Backups(ctx, server)
	if err != nil {
		return nil, CatalogBackup{}, err
	}
	b, err := FindBackup(cat.Server, cat.Backups, id)
	return cat, b, err
}

// FindBackup finds the backup that id names among backups (oldest first):
// a backup ID, a backup name, or one of Barman's shortcuts latest/last,
// oldest/first (DONE backups) and last-failed.
func FindBackup(server string, backups []CatalogBackup, id string) (CatalogBackup, error) {
	pick := func(status string, newest bool) (CatalogBackup, bool) {
		for i := range backups {
			b := backups[i]
			if newest {
				b = backups[len(backups)-1-i]
			}
			if b.Status == status {
				return b, true
			}
		}
		return CatalogBackup{}, false
	}
	var b CatalogBackup
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
		return CatalogBackup{}, Errorf(ENOTFOUND, "backup %q does not exist for server %q (backups: %s)", id, server, describeBackups(server, backups))
	}
	return b, nil
}

// describedBackups is how many backups a not-found message names: the
// newest, which are the ones people usually mean.
const describedBackups = 5

func describeBackups(server string, backups []CatalogBackup) string {
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
