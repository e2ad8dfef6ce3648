package ops

import (
	"fmt"
	"strings"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
)

// The keep targets Barman knows (KeepManager.supported_targets).
const (
	KeepFull       = "full"
	KeepStandalone = "standalone"
)

// KeepOptions are a keep as validation read it: its options, in the
// table's order. Exactly one of Target and Release is set.
type KeepOptions struct {
	Options []Option
	// Target is "full" or "standalone" for a keep, "" for a release.
	Target string
	// Release removes the keep annotation instead of adding one.
	Release bool
}

// readKeepOptions reads a keep's options from the table (target, release)
// and checks that it asks for one thing: a target, or release: true.
func (p Policy) readKeepOptions(payload *pyjson.Object) (*KeepOptions, error) {
	opts, err := p.Options.readOptions(KeepOp, payload)
	if err != nil {
		return nil, err
	}
	ko := &KeepOptions{Options: opts}
	_, hasRelease := payload.Get("release")
	for _, o := range opts {
		switch v := o.Value.(type) {
		case string:
			if o.Spec.Key == "target" {
				ko.Target = v
			}
		case bool:
			if o.Spec.Key == "release" {
				if !v {
					return nil, Errorf(EINVALID, `keep: "release" must be true when given (got false); to keep the backup send "target" alone`)
				}
				ko.Release = true
			}
		}
	}
	switch {
	case ko.Target != "" && hasRelease:
		return nil, Errorf(EINVALID, `keep takes either "target" (%q or %q, to keep the backup) or "release": true (to remove its keep), not both`, KeepFull, KeepStandalone)
	case ko.Target == "" && !ko.Release:
		return nil, Errorf(EINVALID, `keep needs "target": %q (keep the backup and the WAL to recover it to any point after it) or %q (keep only the WAL it needs to be consistent), or "release": true to remove its keep`, KeepFull, KeepStandalone)
	}
	return ko, nil
}

// resolveLifecycleBackup reads backup_id, which names the backup a keep or
// a delete acts on as it names a recovery's, and finds it in the catalog.
func resolveLifecycleBackup(cfg *BarmanConfig, catalog Catalog, req *Request) (CatalogBackup, error) {
	if _, ok := req.Payload.Get("backup_id"); !ok {
		return CatalogBackup{}, Errorf(EINVALID, `%s needs "backup_id": a backup ID, a backup name or a shortcut (latest, oldest, last-failed, ...)`, req.Type)
	}
	id, err := requiredPositional(req.Payload, req.Type, "backup_id")
	if err != nil {
		return CatalogBackup{}, err
	}
	if id == AutoBackupID {
		return CatalogBackup{}, Errorf(EINVALID, `%s: "backup_id" %q chooses a backup only for a recovery (from its target_time or target_lsn); name the backup: an ID, a name or a shortcut such as latest`, req.Type, id)
	}
	server, err := cfg.Server(req.Server)
	if err != nil {
		return CatalogBackup{}, err
	}
	return catalog.ResolveBackup(server, id)
}

func (p Policy) validateKeep(cfg *BarmanConfig, catalog Catalog, req *Request) error {
	ko, err := p.readKeepOptions(req.Payload)
	if err != nil {
		return err
	}
	backup, err := resolveLifecycleBackup(cfg, catalog, req)
	if err != nil {
		return err
	}
	// Barman's own words (cli.py, keep): it refuses the same, but only once
	// the operation runs.
	if !ko.Release && backup.Status != BackupDone {
		return Errorf(EINVALID, "Cannot add keep to backup %s because it has status %s. Only backups with status DONE can be kept.", backup.ID, backup.Status)
	}
	req.BackupID = backup.ID
	req.Keep = ko
	return nil
}

func validateDelete(cfg *BarmanConfig, catalog Catalog, req *Request) error {
	backup, err := resolveLifecycleBackup(cfg, catalog, req)
	if err != nil {
		return err
	}
	// Barman's own words (server.py, delete_backup), which it would only
	// print as a warning before failing the operation.
	if backup.Keep != "" {
		return Errorf(ECONFLICT, "Skipping delete of backup %s for server %s as it has a current keep request. If you really want to delete this backup please remove the keep and try again. (keep target: %s; release it with a keep operation with \"release\": true)", backup.ID, req.Server, backup.Keep)
	}
	req.BackupID = backup.ID
	return nil
}

// lifecycleBackupID is the backup a keep's or a delete's job acts on: the
// one its backup_id resolved to when the operation was created, when that
// was recorded.
func lifecycleBackupID(op *Operation) (string, error) {
	id := op.ResolvedBackupID()
	if id == "" {
		var err error
		if id, err = requiredPositional(op.Job, op.Type, "backup_id"); err != nil {
			return "", err
		}
	}
	if strings.HasPrefix(id, "-") {
		return "", Errorf(EINVALID, "%s: the resolved backup ID %q starts with \"-\", which Barman would read as an option", op.Type, id)
	}
	return id, nil
}

// KeepJob reads a keep's job file as validation reads a request, for the
// runner: the backup to act on and the options.
func (p Policy) KeepJob(op *Operation) (backupID string, ko *KeepOptions, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("operation %s: %w", op.ID, err)
		}
	}()
	if op.Job == nil {
		return "", nil, Errorf(EINVALID, "keep: the job file is empty")
	}
	if ko, err = p.readKeepOptions(op.Job); err != nil {
		return "", nil, err
	}
	if backupID, err = lifecycleBackupID(op); err != nil {
		return "", nil, err
	}
	return backupID, ko, nil
}

// DeleteJob reads a delete's job file, for the runner: the backup to
// delete.
func DeleteJob(op *Operation) (string, error) {
	if op.Job == nil {
		return "", fmt.Errorf("operation %s: delete: the job file is empty", op.ID)
	}
	id, err := lifecycleBackupID(op)
	if err != nil {
		return "", fmt.Errorf("operation %s: %w", op.ID, err)
	}
	return id, nil
}

// BackupJob reads a backup's job file as validation reads a request, for
// the runner.
func (p Policy) BackupJob(op *Operation) (*BackupOptions, error) {
	if op.Job == nil {
		return nil, fmt.Errorf("operation %s: backup: the job file is empty", op.ID)
	}
	opts, err := p.Options.readOptions(BackupOp, op.Job)
	if err != nil {
		return nil, fmt.Errorf("operation %s: %w", op.ID, err)
	}
	return &BackupOptions{Options: opts}, nil
}

func (p Policy) validateBackup(req *Request) error {
	opts, err := p.Options.readOptions(BackupOp, req.Payload)
	if err != nil {
		return err
	}
	req.Backup = &BackupOptions{Options: opts}
	return nil
}
