package ops

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
)

// The recovery options are our extension of the recovery payload: each key
// is one option of `barman recover`. The reference implementation ignores
// keys it does not know, so a payload that uses them stays valid there (it
// restores to the end of the WAL instead).

// TargetKeys are the recovery targets, at most one of which may be given.
var TargetKeys = []string{"target_time", "target_lsn", "target_xid", "target_name", "target_immediate"}

// RecoveryOptionKeys are every recovery option key, in the order their
// options are given to Barman.
var RecoveryOptionKeys = []string{
	"target_time", "target_lsn", "target_xid", "target_name", "target_immediate",
	"target_tli", "target_action", "exclusive", "standby_mode", "get_wal", "jobs", "bwlimit",
}

// AutoBackupID is the backup_id that lets a target_time choose the backup;
// an omitted backup_id means the same. Barman 3.13 reserves the word, so no
// backup is named so.
const AutoBackupID = "auto"

var lsnPattern = regexp.MustCompile(`^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$`)

// targetTimeLayouts are the forms a target_time may take: RFC 3339 and
// PostgreSQL's own output, each with a zone (a time without one would be
// read in the zone of whichever host reads it).
var targetTimeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999Z07",
	"2006-01-02T15:04:05.999999999Z07",
}

// ParseTargetTime reads a target_time.
func ParseTargetTime(s string) (time.Time, error) {
	for _, layout := range targetTimeLayouts {
		if t, err := time.Parse(layout, strings.TrimSpace(s)); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not a time with a zone: give it as RFC 3339, e.g. \"2026-01-02T14:02:00+01:00\" or \"2026-01-02 13:02:00.5Z\"", s)
}

// barmanTime is how a target time is given to Barman: Python's str() of a
// datetime, in the local zone. Barman 3.4 turns the target into an epoch
// with time.mktime, which reads the wall clock as local time, so a time in
// another zone would select the wrong WAL; PostgreSQL reads the zone.
func barmanTime(t time.Time) string {
	return t.Local().Format("2006-01-02 15:04:05.999999-07:00")
}

// intValue reads a JSON integer, or when strOK a string of decimal digits.
func intValue(v any, strOK bool) (int64, bool) {
	var s string
	switch v := v.(type) {
	case json.Number:
		s = v.String()
	case string:
		if !strOK {
			return 0, false
		}
		s = v
	default:
		return 0, false
	}
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// recoveryOption is one recovery option key read and checked: the Barman
// arguments it becomes, and whether it sets a target.
type recoveryOption struct {
	args   []string
	target bool
	time   time.Time // target_time, when given
}

// readRecoveryOption checks the value of one recovery option key.
func readRecoveryOption(key string, v any) (recoveryOption, error) {
	bad := func(format string, args ...any) (recoveryOption, error) {
		return recoveryOption{}, Errorf(EINVALID, "recovery: %q "+format, append([]any{key}, args...)...)
	}
	flag := "--" + strings.ReplaceAll(key, "_", "-")
	str := func() (string, bool) {
		s, ok := v.(string)
		return s, ok && strings.IndexFunc(s, isControl) < 0
	}
	switch key {
	case "target_time":
		s, ok := v.(string)
		if !ok {
			return bad("must be a string holding a time with a zone, got %s", pyjson.TypeName(v))
		}
		t, err := ParseTargetTime(s)
		if err != nil {
			return recoveryOption{}, Errorf(EINVALID, "recovery: %q: %v", key, err)
		}
		return recoveryOption{args: []string{flag + "=" + barmanTime(t)}, target: true, time: t}, nil
	case "target_lsn":
		s, ok := str()
		if !ok || !lsnPattern.MatchString(s) {
			return bad("must be a WAL location as PostgreSQL writes it (X/X in hexadecimal, e.g. \"0/3000060\"), got %s", describeValue(v))
		}
		return recoveryOption{args: []string{flag + "=" + s}, target: true}, nil
	case "target_xid":
		n, ok := intValue(v, true)
		if !ok || n < 1 {
			return bad("must be a positive integer transaction ID (a number or a string of digits), got %s", describeValue(v))
		}
		return recoveryOption{args: []string{flag + "=" + strconv.FormatInt(n, 10)}, target: true}, nil
	case "target_name":
		s, ok := str()
		switch {
		case !ok:
			return bad("must be the name of a restore point (a string without control characters), got %s", describeValue(v))
		case strings.TrimSpace(s) == "":
			return bad("must not be empty")
		case len(s) > 63:
			return bad("is %d bytes long; PostgreSQL's restore point names are at most 63", len(s))
		}
		// Barman writes it between single quotes into the restored
		// cluster's postgresql.auto.conf (recovery_target_name = '%s')
		// without escaping: a quote or backslash would end or change the
		// value and let the rest become configuration.
		if i := strings.IndexAny(s, `'"\`); i >= 0 {
			return bad("%q holds %q at byte %d, which Barman would write unescaped into PostgreSQL's configuration; a restore point name used here may hold any character but quotes, backslashes and control characters", s, s[i], i)
		}
		return recoveryOption{args: []string{flag + "=" + s}, target: true}, nil
	case "target_tli":
		if s, ok := v.(string); ok && (s == "current" || s == "latest") {
			return recoveryOption{args: []string{flag + "=" + s}}, nil
		}
		n, ok := intValue(v, true)
		if !ok || n < 1 {
			return bad(`must be a timeline number (1 or more) or "current" or "latest", got %s`, describeValue(v))
		}
		return recoveryOption{args: []string{flag + "=" + strconv.FormatInt(n, 10)}}, nil
	case "target_action":
		s, _ := v.(string)
		if s != "pause" && s != "shutdown" && s != "promote" {
			return bad(`must be "pause", "shutdown" or "promote", got %s`, describeValue(v))
		}
		return recoveryOption{args: []string{flag + "=" + s}}, nil
	case "target_immediate", "exclusive", "standby_mode", "get_wal":
		b, ok := v.(bool)
		if !ok {
			return bad("must be true or false, got %s", describeValue(v))
		}
		switch {
		case b:
			return recoveryOption{args: []string{flag}, target: key == "target_immediate"}, nil
		case key == "get_wal":
			return recoveryOption{args: []string{"--no-get-wal"}}, nil
		}
		return recoveryOption{}, nil
	case "jobs":
		n, ok := intValue(v, false)
		if !ok || n < 1 || n > 64 {
			return bad("must be a whole number of parallel copy jobs from 1 to 64, got %s", describeValue(v))
		}
		return recoveryOption{args: []string{flag + "=" + strconv.FormatInt(n, 10)}}, nil
	case "bwlimit":
		n, ok := intValue(v, false)
		if !ok {
			return bad("must be a whole number of kilobytes per second, 0 or more (0: no limit), got %s", describeValue(v))
		}
		return recoveryOption{args: []string{flag + "=" + strconv.FormatInt(n, 10)}}, nil
	}
	return recoveryOption{}, fmt.Errorf("%q is not a recovery option", key)
}

// recoveryOptions reads the recovery option keys of payload and checks them
// together: at most one target, and exclusive and target_action only with
// one.
func recoveryOptions(payload *pyjson.Object) (args []string, targetTime time.Time, err error) {
	var targets []string
	got := map[string]recoveryOption{}
	for _, key := range RecoveryOptionKeys {
		v, ok := payload.Get(key)
		if !ok {
			continue
		}
		opt, err := readRecoveryOption(key, v)
		if err != nil {
			return nil, time.Time{}, err
		}
		got[key] = opt
		if opt.target {
			targets = append(targets, key)
		}
		if key == "target_time" {
			targetTime = opt.time
		}
		args = append(args, opt.args...)
	}
	if len(targets) > 1 {
		return nil, time.Time{}, Errorf(EINVALID, "recovery: %q and %q are both recovery targets; give at most one of %s", targets[0], targets[1], strings.Join(TargetKeys, ", "))
	}
	if opt, ok := got["exclusive"]; ok && len(opt.args) > 0 {
		if len(targets) == 0 || targets[0] == "target_name" || targets[0] == "target_immediate" {
			return nil, time.Time{}, Errorf(EINVALID, `recovery: "exclusive" stops recovery just before its target, so it needs one of target_time, target_lsn, target_xid`)
		}
	}
	if _, ok := got["target_action"]; ok && len(targets) == 0 {
		return nil, time.Time{}, Errorf(EINVALID, `recovery: "target_action" says what PostgreSQL does once it reaches the recovery target, so it needs one of %s`, strings.Join(TargetKeys, ", "))
	}
	return args, targetTime, nil
}

// RecoveryArgs returns the options of `barman recover` that a recovery's
// payload asks for, checked as validation checks them: a job file may have
// been written by another implementation.
func RecoveryArgs(payload *pyjson.Object) ([]string, error) {
	args, _, err := recoveryOptions(payload)
	return args, err
}

// now is the clock validation reads; tests replace it.
var now = time.Now

// checkTargetTime refuses a target_time Barman cannot reach with backup:
// in the future, or before the backup ended.
func checkTargetTime(server string, target time.Time, backup Backup) error {
	if n := now(); target.After(n) {
		return Errorf(EINVALID, "recovery: \"target_time\" %s is in the future (now is %s); a recovery can only reach a time already archived", target.Format(time.RFC3339Nano), n.Format(time.RFC3339))
	}
	if !backup.EndTime.IsZero() && target.Before(backup.EndTime) {
		return Errorf(EINVALID, "recovery: \"target_time\" %s is before backup %s of server %q ended (%s); Barman cannot recover a backup to a time before its end: choose an older backup, or send \"backup_id\": %q to have one chosen",
			target.Format(time.RFC3339Nano), backup.ID, server, backup.EndTime.Format(time.RFC3339Nano), AutoBackupID)
	}
	return nil
}

// chooseBackup is the newest DONE backup that ended before target.
func chooseBackup(server string, backups []Backup, target time.Time) (Backup, error) {
	var oldest *Backup
	for i := len(backups) - 1; i >= 0; i-- {
		b := backups[i]
		if b.Status != BackupDone || b.EndTime.IsZero() {
			continue
		}
		if !b.EndTime.After(target) {
			return b, nil
		}
		oldest = &backups[i]
	}
	if oldest == nil {
		return Backup{}, Errorf(EINVALID, "recovery: no DONE backup of server %q to choose for \"target_time\" %s", server, target.Format(time.RFC3339Nano))
	}
	return Backup{}, Errorf(EINVALID, "recovery: no DONE backup of server %q ended before \"target_time\" %s; the oldest, %s, ended %s",
		server, target.Format(time.RFC3339Nano), oldest.ID, oldest.EndTime.Format(time.RFC3339Nano))
}

// backupNamePattern is Barman's backup ID format, which a backup name may
// not take.
var backupIDPattern = regexp.MustCompile(`^\d{8}T\d{6}$`)

// reservedBackupNames are Barman's shortcuts (RESERVED_BACKUP_IDS, 3.13).
var reservedBackupNames = []string{"latest", "last", "oldest", "first", "last-failed", "latest-full", "last-full", "auto"}

func validateBackup(req *Request) error {
	if raw, ok := req.Payload.Get("backup_name"); ok {
		name, ok := raw.(string)
		switch {
		case !ok:
			return Errorf(EINVALID, `backup: "backup_name" must be a string, got %s`, pyjson.TypeName(raw))
		case strings.TrimSpace(name) == "":
			return Errorf(EINVALID, `backup: "backup_name" must not be empty (leave it out for a backup without a name)`)
		case strings.IndexFunc(name, isControl) >= 0:
			return Errorf(EINVALID, `backup: "backup_name" contains a control character`)
		case len(name) > 255:
			return Errorf(EINVALID, `backup: "backup_name" is %d bytes long; at most 255 are accepted`, len(name))
		case strings.HasPrefix(name, "-"):
			return Errorf(EINVALID, `backup: "backup_name" %q starts with "-": a recovery could not name it, since Barman would read it as an option`, name)
		case backupIDPattern.MatchString(name):
			return Errorf(EINVALID, `backup: "backup_name" %q has the form of a backup ID, which Barman refuses as a name`, name)
		}
		for _, r := range reservedBackupNames {
			if name == r {
				return Errorf(EINVALID, `backup: "backup_name" %q is one of Barman's shortcuts (%s), which Barman refuses as a name`, name, strings.Join(reservedBackupNames, ", "))
			}
		}
	}
	if raw, ok := req.Payload.Get("immediate_checkpoint"); ok {
		if _, ok := raw.(bool); !ok {
			return Errorf(EINVALID, `backup: "immediate_checkpoint" must be true or false, got %s`, describeValue(raw))
		}
	}
	return nil
}

// BackupArgs returns the arguments after `barman -c CONF` that take the
// backup op asks for.
func BackupArgs(server string, payload *pyjson.Object) []string {
	args := []string{"backup", server}
	if name, ok := payload.String("backup_name"); ok && name != "" {
		args = append(args, "--name="+name)
	}
	if v, _ := payload.Get("immediate_checkpoint"); v == true {
		args = append(args, "--immediate-checkpoint")
	}
	return append(args, "--wait")
}
