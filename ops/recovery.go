package ops

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
)

// AutoBackupID is the backup_id that lets a target_time choose the backup;
// an omitted backup_id means the same. Barman 3.13 reserves the word, so no
// backup is named so.
const AutoBackupID = "auto"

// readRecoveryOptions reads a recovery's options by p's option table and
// checks its target (readTarget).
func (p Policy) readRecoveryOptions(payload *pyjson.Object) (*RecoveryOptions, error) {
	opts, err := p.Options.readOptions(Recovery, payload)
	if err != nil {
		return nil, err
	}
	return p.readTarget(Recovery, opts)
}

// readTarget checks together the options opts of an operation of type t
// (a recovery, or a drill, which takes the same targets) read by p's
// table: at most one target, target_action only with one, and exclusive
// only with a target it can stop just before (a time, an LSN or an XID).
func (p Policy) readTarget(t Type, opts []Option) (*RecoveryOptions, error) {
	ro := &RecoveryOptions{Options: opts}
	var targets, targetKeys []string
	for _, spec := range p.Options.For(t) {
		if spec.Target {
			targetKeys = append(targetKeys, spec.Key)
		}
	}
	for _, o := range opts {
		// A false target_immediate is no target.
		if !o.Spec.Target || o.Value == false {
			continue
		}
		targets = append(targets, o.Spec.Key)
		if at, ok := o.Value.(time.Time); ok {
			ro.TargetTime = at
		}
	}
	if len(targets) > 1 {
		return nil, Errorf(EINVALID, "%s: %q and %q are both recovery targets; give at most one of %s", t, targets[0], targets[1], strings.Join(targetKeys, ", "))
	}
	if len(targets) == 1 {
		ro.Target = targets[0]
	}
	if o, ok := ro.Get("exclusive"); ok && o.Value == true {
		if ro.Target == "" || ro.Target == "target_name" || ro.Target == "target_immediate" {
			return nil, Errorf(EINVALID, `%s: "exclusive" stops recovery just before its target, so it needs one of target_time, target_lsn, target_xid`, t)
		}
	}
	if _, ok := ro.Get("target_action"); ok && ro.Target == "" {
		return nil, Errorf(EINVALID, `%s: "target_action" says what PostgreSQL does once it reaches the recovery target, so it needs one of %s`, t, strings.Join(targetKeys, ", "))
	}
	return ro, nil
}

// recoveryCommand reads and checks, against p, the remote_ssh_command and
// destination_directory a recovery gives Barman.
func (p Policy) recoveryCommand(payload *pyjson.Object, ro *RecoveryOptions) error {
	sshCmd, err := requiredString(payload, Recovery, "remote_ssh_command")
	if err != nil {
		return err
	}
	if err := p.checkSSHCommand(sshCmd); err != nil {
		return err
	}
	dest, err := requiredString(payload, Recovery, "destination_directory")
	if err != nil {
		return err
	}
	if err := checkRemotePath("destination_directory", dest); err != nil {
		return err
	}
	ro.RemoteSSHCommand, ro.DestinationDirectory = sshCmd, dest
	return nil
}

// RecoveryJob reads a recovery's job file as validation reads a request,
// for the runner: the file may have been written by another
// implementation or an older version of ours, or before the operator
// tightened the policy, so nothing in it reaches Barman unchecked. It
// returns the backup to restore (the one backup_id resolved to when the
// operation was created, when that was recorded) and the options.
func (p Policy) RecoveryJob(op *Operation) (backupID string, ro *RecoveryOptions, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("operation %s: %w", op.ID, err)
		}
	}()
	if op.Job == nil {
		return "", nil, Errorf(EINVALID, "recovery: the job file is empty")
	}
	if ro, err = p.readRecoveryOptions(op.Job); err != nil {
		return "", nil, err
	}
	if backupID = op.ResolvedBackupID(); backupID == "" {
		if backupID, err = requiredPositional(op.Job, Recovery, "backup_id"); err != nil {
			return "", nil, err
		}
	}
	if strings.HasPrefix(backupID, "-") {
		return "", nil, Errorf(EINVALID, "recovery: the resolved backup ID %q starts with \"-\", which Barman would read as an option", backupID)
	}
	if err := p.recoveryCommand(op.Job, ro); err != nil {
		return "", nil, err
	}
	return backupID, ro, nil
}

// now is the clock validation reads; tests replace it.
var now = time.Now

// checkTargetTime refuses a target_time Barman cannot reach with backup:
// before the backup ended (checkTargetWindow has refused the rest).
func checkTargetTime(t Type, server string, target time.Time, backup CatalogBackup) error {
	if !backup.EndTime.IsZero() && target.Before(backup.EndTime) {
		return Errorf(EINVALID, "%s: \"target_time\" %s is before backup %s of server %q ended (%s); Barman cannot recover a backup to a time before its end: choose an older backup, or send \"backup_id\": %q to have one chosen",
			t, target.Format(time.RFC3339Nano), backup.ID, server, backup.EndTime.Format(time.RFC3339Nano), AutoBackupID)
	}
	return nil
}

// checkTargetLSN refuses a target_lsn before backup ended (its end_xlog).
// Barman does not check it, and restores: PostgreSQL then reaches the
// target before the backup is consistent and refuses to start ("requested
// recovery stop point is before consistent recovery point"), after a whole
// copy. The end LSN is the bound Barman's own target_time check and a
// "backup_id" "auto" choice use.
func checkTargetLSN(t Type, server string, ro *RecoveryOptions, backup CatalogBackup) error {
	o, ok := ro.Get("target_lsn")
	if !ok || ro.Target != "target_lsn" {
		return nil
	}
	target, ok1 := parseLSN(fmt.Sprint(o.Value))
	end, ok2 := parseLSN(backup.EndLSN)
	if !ok1 || !ok2 || target >= end {
		return nil
	}
	return Errorf(EINVALID, "%s: \"target_lsn\" %v is before backup %s of server %q ended (at WAL location %s); PostgreSQL cannot stop a recovery of that backup before it is consistent and would not start: choose an older backup, or send \"backup_id\": %q to have one chosen",
		t, o.Value, backup.ID, server, backup.EndLSN, AutoBackupID)
}

// checkTargetLSNWindow refuses a target_lsn past the end of the newest WAL
// segment archived, as checkTargetWindow refuses a target_time after it:
// Barman restores, and PostgreSQL replays all the WAL there is, then
// stops without reaching the target ("recovery ended before configured
// recovery target was reached") and does not start. Checked only when
// Barman's WAL database was read and the segment size is known.
func checkTargetLSNWindow(t Type, server string, ro *RecoveryOptions, backup CatalogBackup, cat *ServerCatalog) error {
	o, ok := ro.Get("target_lsn")
	if !ok || ro.Target != "target_lsn" || cat == nil || !cat.WALKnown || cat.Window == nil || backup.WALSegmentSize <= 0 {
		return nil
	}
	end, ok := segmentEnd(cat.Window.LatestWAL, uint64(backup.WALSegmentSize))
	if copiesPartialWAL(ro) {
		// Barman also copies the .partial of the next segment, which
		// pg_receivewal is writing, from the streaming directory.
		end += uint64(backup.WALSegmentSize)
	}
	target, ok2 := parseLSN(fmt.Sprint(o.Value))
	if !ok || !ok2 || target <= end {
		return nil
	}
	last := fmt.Sprintf("%X/%X", end>>32, uint32(end))
	return Errorf(EINVALID, "%s: \"target_lsn\" %v is after the WAL archived for server %q, which ends at %s (WAL segment %s, the newest archived); PostgreSQL would replay all of it and not start, as the target is never reached: choose a location up to %s, or wait until the WAL that covers the target is archived",
		t, o.Value, server, last, cat.Window.LatestWAL, last)
}

// copiesPartialWAL reports whether Barman will copy the segment that
// pg_receivewal is still writing (its .partial in the streaming directory)
// into the restore: "partial_wal" does, unless "get_wal" is given too, when
// Barman ignores it. A target in that segment can then be reached though
// xlog.db does not list it, so the window's upper bound is not enforced.
func copiesPartialWAL(ro *RecoveryOptions) bool {
	partial, _ := ro.Get("partial_wal")
	getWAL, _ := ro.Get("get_wal")
	return partial.Value == true && getWAL.Value != true
}

// segmentEnd is the WAL location just past the segment named name
// (TTTTTTTTXXXXXXXXYYYYYYYY: timeline, then the location's high 32 bits
// and its low bits in units of size).
func segmentEnd(name string, size uint64) (uint64, bool) {
	if len(name) != 24 || size == 0 {
		return 0, false
	}
	hi, err1 := strconv.ParseUint(name[8:16], 16, 32)
	seg, err2 := strconv.ParseUint(name[16:24], 16, 32)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return hi<<32 + (seg+1)*size, true
}

// checkTablespaces refuses a relocation rule naming a tablespace backup
// does not have, as Barman's recover does ("Invalid tablespace name"),
// but before anything is recorded rather than when the operation runs.
func checkTablespaces(server string, ro *RecoveryOptions, backup CatalogBackup) error {
	o, ok := ro.Get("tablespaces")
	if !ok || !backup.TablespacesKnown {
		return nil
	}
	rules, _ := o.Value.([]Tablespace)
	for _, r := range rules {
		if slices.Contains(backup.Tablespaces, r.Name) {
			continue
		}
		has := "it has no tablespaces: leave \"tablespaces\" out"
		if len(backup.Tablespaces) > 0 {
			has = "its tablespaces: " + strings.Join(backup.Tablespaces, ", ")
		}
		return Errorf(EINVALID, "recovery: \"tablespaces\" names tablespace %q, which backup %s of server %q does not have (%s); Barman would refuse it (\"Invalid tablespace name\")",
			r.Name, backup.ID, server, has)
	}
	return nil
}

// readWindow reads server's catalog with its recovery window when catalog
// can; nil otherwise. A catalog that cannot be read here (an xlog.db
// pg-backup-api may not read, say) leaves the window unchecked, as before
// windows were checked: the backup's own checks still apply and Barman has
// the last word.
func readWindow(catalog Catalog, server *BarmanServer) *ServerCatalog {
	cr, ok := catalog.(CatalogReader)
	if !ok {
		return nil
	}
	cat, err := cr.ReadCatalog(server)
	if err != nil {
		return nil
	}
	return cat
}

// checkTargetWindow refuses a target_time outside the server's recovery
// window: in the future, before the oldest DONE backup ended, or after the
// newest WAL archived. Barman does not refuse the last: it replays every
// WAL it has and stops there, so the database would come back at an
// earlier time than asked for, without a word. The latest bound is only
// trusted when Barman's WAL database was read and names a segment;
// otherwise it is the newest backup's end, which WAL archived since may
// well pass.
func checkTargetWindow(t Type, server string, target time.Time, cat *ServerCatalog, partial bool) error {
	if n := now(); target.After(n) {
		return Errorf(EINVALID, "%s: \"target_time\" %s is in the future (now is %s); a recovery can only reach a time already archived", t, target.Format(time.RFC3339Nano), n.Format(time.RFC3339))
	}
	if cat == nil || cat.Window == nil {
		return nil
	}
	w := cat.Window
	if !w.Earliest.IsZero() && target.Before(w.Earliest) {
		return Errorf(EINVALID, "%s: \"target_time\" %s is before the recovery window of server %q, which begins %s (the end of its oldest DONE backup); Barman cannot recover to an earlier time: choose a time from %s on",
			t, target.Format(time.RFC3339Nano), server, w.Earliest.Format(time.RFC3339Nano), w.Earliest.Format(time.RFC3339Nano))
	}
	if cat.WALKnown && w.LatestWAL != "" && target.After(w.Latest) && !partial {
		return Errorf(EINVALID, "%s: \"target_time\" %s is after the recovery window of server %q, which ends %s (WAL segment %s, the newest archived); Barman would recover only to there: choose a time up to %s, or wait until the WAL that covers the target is archived",
			t, target.Format(time.RFC3339Nano), server, w.Latest.Format(time.RFC3339Nano), w.LatestWAL, w.Latest.Format(time.RFC3339Nano))
	}
	return nil
}

// autoTimeline is the timeline a "backup_id" "auto" chooses on: target_tli
// as Barman's parse_target_tli reads it without a backup (a number;
// "latest", the highest timeline archived), 0 for any. Barman refuses
// "current" with "auto", since it is the timeline of a backup not yet
// chosen; pg-backup-api gives Barman the backup it chose, so "current" is
// that backup's timeline and any backup fits.
func autoTimeline(t Type, server string, ro *RecoveryOptions, cat *ServerCatalog) (int, error) {
	o, ok := ro.Get("target_tli")
	if !ok {
		return 0, nil
	}
	switch v := o.Value.(type) {
	case int64:
		return int(v), nil
	case string:
		if v != "latest" {
			return 0, nil
		}
		if cat == nil || !cat.WALKnown || cat.LatestTimeline == 0 {
			return 0, Errorf(EINVALID, `%s: "target_tli" "latest" with "backup_id" "auto" chooses a backup on the highest timeline archived, which cannot be read for server %q (its WAL database is missing or names no WAL segment); give the timeline's number or name the backup`, t, server)
		}
		return cat.LatestTimeline, nil
	}
	return 0, nil
}

// chooseAutoBackup is the backup "backup_id" "auto" names, as Barman 3.13.1
// and later choose it (cli.py's recover, utils.get_backup_id_from_target_*):
// among the backups Barman can restore (DONE or WAITING_FOR_WALS), newest
// ID first, the first on timeline tli (any, when 0) that ended at or before
// the target_time or the target_lsn, or with neither the newest. Barman
// chooses for no other target, and neither does this. pg-backup-api
// restores only a DONE backup, so Barman's choice being WAITING_FOR_WALS
// is refused rather than replaced with another.
func chooseAutoBackup(t Type, server string, backups []CatalogBackup, ro *RecoveryOptions, tli int) (CatalogBackup, error) {
	var fits func(CatalogBackup) bool
	var what string
	switch ro.Target {
	case "":
		fits, what = func(CatalogBackup) bool { return true }, "without a recovery target"
	case "target_time":
		target := ro.TargetTime
		fits = func(b CatalogBackup) bool { return !b.EndTime.IsZero() && !b.EndTime.After(target) }
		what = fmt.Sprintf("that ended at or before \"target_time\" %s", target.Format(time.RFC3339Nano))
	case "target_lsn":
		o, _ := ro.Get("target_lsn")
		target, _ := parseLSN(fmt.Sprint(o.Value))
		fits = func(b CatalogBackup) bool {
			end, ok := parseLSN(b.EndLSN)
			return ok && end <= target
		}
		what = fmt.Sprintf("that ended at or before \"target_lsn\" %v", o.Value)
	default:
		return CatalogBackup{}, Errorf(EINVALID, `%s: "backup_id" "auto" chooses the backup from a "target_time" or a "target_lsn", or the newest without a target, as Barman does; it cannot choose one for %q (Barman refuses it too): name the backup in "backup_id"`, t, ro.Target)
	}
	if tli != 0 {
		what += fmt.Sprintf(" on timeline %d", tli)
	}
	sorted := slices.Clone(backups)
	slices.SortFunc(sorted, func(a, b CatalogBackup) int { return strings.Compare(b.ID, a.ID) })
	for _, b := range sorted {
		if b.Status != BackupDone && b.Status != BackupWaitingForWALs {
			continue
		}
		if tli != 0 && b.Timeline != tli || !fits(b) {
			continue
		}
		if b.Status != BackupDone {
			return CatalogBackup{}, Errorf(EINVALID, `%s: "backup_id" "auto" names backup %s of server %q (the newest %s, as Barman chooses), which has status %s; only a DONE backup can be recovered: wait until its WAL is archived, or name another backup`, t, b.ID, server, what, b.Status)
		}
		return b, nil
	}
	return CatalogBackup{}, Errorf(EINVALID, `%s: "backup_id" "auto" finds no backup of server %q %s (DONE or WAITING_FOR_WALS, as Barman looks; Barman would say "Cannot find any candidate backup for recovery."); name a backup, or change the target`, t, server, what)
}

// parseLSN reads a WAL location, X/X in hexadecimal, as a number.
func parseLSN(s string) (uint64, bool) {
	hi, lo, ok := strings.Cut(s, "/")
	if !ok {
		return 0, false
	}
	h, err1 := strconv.ParseUint(hi, 16, 32)
	l, err2 := strconv.ParseUint(lo, 16, 32)
	if err1 != nil || err2 != nil {
		return 0, false
	}
	return h<<32 | l, true
}

func (p Policy) validateRecovery(cfg *BarmanConfig, catalog Catalog, req *Request) error {
	// The options first: a target_time may choose the backup.
	ro, err := p.readRecoveryOptions(req.Payload)
	if err != nil {
		return err
	}
	raw, hasID := req.Payload.Get("backup_id")
	auto := !hasID || raw == AutoBackupID
	var backupID string
	switch {
	case !hasID && ro.Target != "target_time" && ro.Target != "target_lsn":
		// Left out, it chooses only from a target: a recovery of the
		// newest backup is asked for by name ("auto" or "latest").
		return Errorf(EINVALID, `recovery needs "backup_id": a backup ID, a backup name or a shortcut (latest, oldest, auto, ...); "backup_id" is missing, which chooses the backup only with a "target_time" or a "target_lsn"`)
	case !auto:
		if backupID, err = requiredPositional(req.Payload, Recovery, "backup_id"); err != nil {
			return err
		}
	}
	if err := p.recoveryCommand(req.Payload, ro); err != nil {
		return err
	}
	server, err := cfg.Server(req.Server)
	if err != nil {
		return err
	}
	backup, _, err := targetBackup(Recovery, catalog, server, ro, auto, func() (CatalogBackup, error) {
		backup, err := catalog.ResolveBackup(server, backupID)
		if err == nil && backup.Status != BackupDone {
			err = Errorf(EINVALID, "backup %s of server %q has status %s; only a DONE backup can be recovered", backup.ID, req.Server, backup.Status)
		}
		return backup, err
	})
	if err != nil {
		return err
	}
	if err := checkTablespaces(req.Server, ro, backup); err != nil {
		return err
	}
	req.BackupID = backup.ID
	req.Recovery = ro
	return nil
}

// targetBackup is the backup an operation of type t (a recovery or a
// drill) restores to ro's target: the one "backup_id" "auto" chooses when
// auto, else resolve's; the target is checked against the recovery window
// and the backup. With a target_time the window is checked before a
// backup is chosen or resolved: its bounds are what the caller can act on.
//
// It returns the server's catalog too when it read it (nil otherwise).
func targetBackup(t Type, catalog Catalog, server *BarmanServer, ro *RecoveryOptions, auto bool, resolve func() (CatalogBackup, error)) (CatalogBackup, *ServerCatalog, error) {
	name := server.Name
	var cat *ServerCatalog
	if !ro.TargetTime.IsZero() || auto || ro.Target == "target_lsn" {
		cat = readWindow(catalog, server)
	}
	if !ro.TargetTime.IsZero() {
		if err := checkTargetWindow(t, name, ro.TargetTime, cat, copiesPartialWAL(ro)); err != nil {
			return CatalogBackup{}, nil, err
		}
	}
	var backup CatalogBackup
	var err error
	if auto {
		tli, err := autoTimeline(t, name, ro, cat)
		if err != nil {
			return CatalogBackup{}, nil, err
		}
		var backups []CatalogBackup
		if cat != nil {
			backups = cat.Backups
		} else {
			lister, ok := catalog.(BackupLister)
			if !ok {
				return CatalogBackup{}, nil, Errorf(EUNAVAILABLE, `%s: the backup catalog cannot be listed here, so "backup_id" "auto" cannot choose a backup; name the backup`, t)
			}
			if backups, err = lister.ListBackups(server); err != nil {
				return CatalogBackup{}, nil, err
			}
		}
		if backup, err = chooseAutoBackup(t, name, backups, ro, tli); err != nil {
			return CatalogBackup{}, nil, err
		}
	} else if backup, err = resolve(); err != nil {
		return CatalogBackup{}, nil, err
	}
	if !ro.TargetTime.IsZero() {
		if err := checkTargetTime(t, name, ro.TargetTime, backup); err != nil {
			return CatalogBackup{}, nil, err
		}
	}
	if err := checkTargetLSN(t, name, ro, backup); err != nil {
		return CatalogBackup{}, nil, err
	}
	if err := checkTargetLSNWindow(t, name, ro, backup, cat); err != nil {
		return CatalogBackup{}, nil, err
	}
	return backup, cat, nil
}
