package httpd

import (
	"net/http"
)

// listBackups is our extension: a server's backup catalog, read from the
// backup.info files and Barman's WAL database without starting Barman.
// Like every GET it needs the read permission (authenticate checks it).
func (s *Server) listBackups(w http.ResponseWriter, r *http.Request) {
	cat, err := s.Service.Backups(r.Context(), r.PathValue("name"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, NewCatalogJSON(cat))
}

// getBackup is our extension: one backup, by ID, name or shortcut (latest,
// oldest, last-failed, ...), as the recovery's backup_id resolves it.
func (s *Server) getBackup(w http.ResponseWriter, r *http.Request) {
	cat, b, err := s.Service.Backup(r.Context(), r.PathValue("name"), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, NewBackupJSON(b, cat.WALKnown))
}
