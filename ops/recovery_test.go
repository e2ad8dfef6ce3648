package ops_test

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson/pyjsontest"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/ops/opstest"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// The catalog of pitrEnv's db_server_two, oldest first: three DONE backups
// with known end times, LSNs and timelines (1, 1 and 2), and a FAILED one
// without.
const (
	pitrOld     = "20261120T100000" // ended 2026-11-20 10:05:00Z
	pitrMid     = goodDone          // ended 2026-11-25 08:07:58.436364Z (the fixture's)
	pitrFailed  = badID             // FAILED, no end time
	pitrNewest  = "20261127T120000" // "nightly", ended 2026-11-27 12:10:00Z
	pitrNowText = "2026-11-28T00:00:00Z"
)

func pitrEnv(t *testing.T) (*testenv.Barman, *ops.BarmanConfig) {
	t.Helper()
	env, cfg := validateEnv(t)
	meta := filepath.Join(env.Home, srv2, "meta")
	testenv.WriteFile(t, filepath.Join(meta, pitrOld+"-backup.info"),
		"backup_name=None\nstatus=DONE\nbegin_time=2026-11-20 10:00:00+00:00\nend_time=2026-11-20 10:05:00+00:00\nend_xlog=0/3000000\ntimeline=1\n"+
			"tablespaces=[('tbs1', 16387, '/var/lib/tbs1'), ('tbs2', 16388, '/var/lib/tbs2')]\n")
	testenv.WriteFile(t, filepath.Join(meta, pitrNewest+"-backup.info"),
		"backup_name=nightly\nstatus=DONE\nbegin_time=2026-11-27 12:00:00+00:00\nend_time=2026-11-27 12:10:00+00:00\nend_xlog=0/9000000\ntimeline=2\n")
	now, _ := time.Parse(time.RFC3339, pitrNowText)
	ops.SetNow(t, now)
	return env, cfg
}

// recovery is a valid recovery payload of db_server_two with extra keys.
func recovery(backupID string, extra string) string {
	id := ""
	if backupID != "" {
		id = fmt.Sprintf(`"backup_id": %q, `, backupID)
	}
	if extra != "" {
		extra = ", " + extra
	}
	return `{"type": "recovery", ` + id + `"remote_ssh_command": "ssh x", "destination_directory": "/d"` + extra + `}`
}

// TestValidateRecoveryTargets: every recovery option key, accepted and
// refused, each refusal naming the key.
func TestValidateRecoveryTargets(t *testing.T) {
	_, cfg := pitrEnv(t)
	long := strings.Repeat("n", 64)
	tests := []struct {
		name    string
		payload string
		code    string // "" when valid
		msg     string // part of the error, or the resolved backup ID
	}{
		// Accepted.
		{"target_time, backup chosen: newest ended before it", recovery("", `"target_time": "2026-11-26T00:00:00Z"`), "", pitrMid},
		{"target_time with auto, at the very end of a backup", recovery("auto", `"target_time": "2026-11-27 12:10:00+00:00"`), "", pitrNewest},
		{"target_time in another zone, chosen", recovery("", `"target_time": "2026-11-25T09:07:58.5+01:00"`), "", pitrMid},
		{"target_time before the middle backup chooses the oldest", recovery("", `"target_time": "2026-11-22T00:00:00Z"`), "", pitrOld},
		{"target_time with an explicit older backup", recovery(pitrOld, `"target_time": "2026-11-27T13:00:00Z"`), "", pitrOld},
		{"target_time PostgreSQL style with short zone", recovery("latest", `"target_time": "2026-11-27 20:00:00.123+02"`), "", pitrNewest},
		{"target_lsn", recovery("oldest", `"target_lsn": "0/3000060"`), "", pitrOld},
		{"target_lsn upper case", recovery("latest", `"target_lsn": "1A/FF00AB"`), "", pitrNewest},
		{"target_xid number", recovery("latest", `"target_xid": 742`), "", pitrNewest},
		{"target_xid string", recovery("latest", `"target_xid": "742"`), "", pitrNewest},
		{"target_name", recovery("latest", `"target_name": "before-migration", "exclusive": false`), "", pitrNewest},
		{"target_name of 63 bytes", recovery("latest", `"target_name": "`+long[:63]+`"`), "", pitrNewest},
		{"target_immediate", recovery(pitrOld, `"target_immediate": true, "target_action": "promote"`), "", pitrOld},
		{"target_immediate false is no target", recovery("latest", `"target_immediate": false, "target_lsn": "0/9000000"`), "", pitrNewest},
		{"target_tli alone", recovery("latest", `"target_tli": 2`), "", pitrNewest},
		{"target_tli as a string", recovery("latest", `"target_tli": "3"`), "", pitrNewest},
		{"target_tli current", recovery("latest", `"target_tli": "current", "target_xid": 9`), "", pitrNewest},
		{"target_tli latest", recovery("latest", `"target_tli": "latest"`), "", pitrNewest},
		{"target_action pause with exclusive time", recovery("latest", `"target_time": "2026-11-27T20:00:00Z", "exclusive": true, "target_action": "pause"`), "", pitrNewest},
		{"target_action shutdown with lsn", recovery("latest", `"target_lsn": "0/9000060", "target_action": "shutdown"`), "", pitrNewest},
		{"options without a target", recovery("latest", `"standby_mode": true, "get_wal": false, "jobs": 64, "bwlimit": 0`), "", pitrNewest},
		{"jobs 1, bwlimit large, standby false", recovery("latest", `"jobs": 1, "bwlimit": 1000000, "standby_mode": false, "get_wal": true`), "", pitrNewest},
		{"unknown extra keys beside targets", recovery("latest", `"target_xid": 1, "target_whatever": {"x": 1}, "recovery_target": "y"`), "", pitrNewest},

		// The backup and the target together.
		{"backup_id omitted without a target", recovery("", ``), ops.EINVALID, `recovery needs "backup_id": a backup ID, a backup name or a shortcut (latest, oldest, auto, ...); "backup_id" is missing, which chooses the backup only with a "target_time" or a "target_lsn"`},
		{"backup_id omitted with target_xid", recovery("", `"target_xid": 5`), ops.EINVALID, `"backup_id" is missing, which chooses the backup only with a "target_time" or a "target_lsn"`},
		{"target_time in the future", recovery("latest", `"target_time": "2026-11-28T00:00:01Z"`), ops.EINVALID, `recovery: "target_time" 2026-11-28T00:00:01Z is in the future (now is 2026-11-28T00:00:00Z)`},
		{"target_time before the chosen backup ended", recovery("nightly", `"target_time": "2026-11-27T12:09:59Z"`), ops.EINVALID, `recovery: "target_time" 2026-11-27T12:09:59Z is before backup 20261127T120000 of server "db_server_two" ended (2026-11-27T12:10:00Z)`},
		{"target_lsn before the chosen backup ended", recovery("nightly", `"target_lsn": "0/8FFFFFF"`), ops.EINVALID, `recovery: "target_lsn" 0/8FFFFFF is before backup 20261127T120000 of server "db_server_two" ended (at WAL location 0/9000000); PostgreSQL cannot stop a recovery of that backup before it is consistent`},
		{"target_lsn far before the backup, lower case", recovery("latest", `"target_lsn": "0/1000000", "exclusive": true`), ops.EINVALID, `"target_lsn" 0/1000000 is before backup 20261127T120000`},
		{"target_lsn at the backup's end", recovery("nightly", `"target_lsn": "0/9000000"`), "", pitrNewest},
		{"tablespaces of the backup's", recovery(pitrOld, `"tablespaces": {"tbs2": "/srv/t2", "tbs1": "/srv/t1"}`), "", pitrOld},
		{"tablespaces unknown to backup.info: left to Barman", recovery("nightly", `"tablespaces": {"any": "/srv/t"}`), "", pitrNewest},
		{"tablespaces naming one the backup lacks", recovery(pitrOld, `"tablespaces": {"tbs1": "/srv/t1", "nosuch": "/srv/t"}`), ops.EINVALID, `recovery: "tablespaces" names tablespace "nosuch", which backup 20261120T100000 of server "db_server_two" does not have (its tablespaces: tbs1, tbs2); Barman would refuse it ("Invalid tablespace name")`},
		{"tablespaces for a backup without any", recovery(pitrMid, `"tablespaces": {"tbs1": "/srv/t1"}`), ops.EINVALID, `which backup ` + pitrMid + ` of server "db_server_two" does not have (it has no tablespaces: leave "tablespaces" out)`},
		{"target_time before every backup ended", recovery("", `"target_time": "2026-11-20T10:04:59Z"`), ops.EINVALID, `recovery: "target_time" 2026-11-20T10:04:59Z is before the recovery window of server "db_server_two", which begins 2026-11-20T10:05:00Z`},
		{"target_time before the window with a named backup", recovery("nightly", `"target_time": "2026-11-19T00:00:00Z"`), ops.EINVALID, `recovery: "target_time" 2026-11-19T00:00:00Z is before the recovery window of server "db_server_two", which begins 2026-11-20T10:05:00Z`},
		{"target_time after the newest backup, no WAL database: accepted", recovery("", `"target_time": "2026-11-27T23:59:59Z"`), "", pitrNewest},
		{"target_time future with auto", recovery("auto", `"target_time": "2027-01-01T00:00:00Z"`), ops.EINVALID, `"target_time" 2027-01-01T00:00:00Z is in the future`},
		{"target_time garbage with backup_id omitted", recovery("", `"target_time": "bad"`), ops.EINVALID, `recovery: "target_time": "bad" is not a time with a zone`},

		// At most one target.
		{"time and lsn", recovery("latest", `"target_time": "2026-11-27T20:00:00Z", "target_lsn": "0/1"`), ops.EINVALID, `recovery: "target_time" and "target_lsn" are both recovery targets; give at most one of target_time, target_lsn, target_xid, target_name, target_immediate`},
		{"name and immediate", recovery("latest", `"target_name": "x", "target_immediate": true`), ops.EINVALID, `"target_name" and "target_immediate" are both recovery targets`},
		{"xid and name", recovery("latest", `"target_xid": 5, "target_name": "x"`), ops.EINVALID, `"target_xid" and "target_name" are both recovery targets`},

		// exclusive and target_action need a target.
		{"exclusive without a target", recovery("latest", `"exclusive": true`), ops.EINVALID, `recovery: "exclusive" stops recovery just before its target, so it needs one of target_time, target_lsn, target_xid`},
		{"exclusive with target_name", recovery("latest", `"exclusive": true, "target_name": "x"`), ops.EINVALID, `"exclusive" stops recovery just before its target`},
		{"exclusive with target_immediate", recovery("latest", `"exclusive": true, "target_immediate": true`), ops.EINVALID, `"exclusive" stops recovery just before its target`},
		{"target_action without a target", recovery("latest", `"target_action": "promote"`), ops.EINVALID, `recovery: "target_action" says what PostgreSQL does once it reaches the recovery target, so it needs one of target_time`},
		{"target_action with only target_tli", recovery("latest", `"target_action": "pause", "target_tli": 1`), ops.EINVALID, `"target_action" says what PostgreSQL does`},

		// Types and formats.
		{"target_time a number", recovery("latest", `"target_time": 1764288000`), ops.EINVALID, `recovery: "target_time" must be a string holding a time with a zone, got a number`},
		{"target_time without a zone", recovery("latest", `"target_time": "2026-11-27 20:00:00"`), ops.EINVALID, `recovery: "target_time": "2026-11-27 20:00:00" is not a time with a zone`},
		{"target_time a date", recovery("latest", `"target_time": "2026-11-27"`), ops.EINVALID, `"target_time": "2026-11-27" is not a time with a zone`},
		{"target_lsn without a slash", recovery("latest", `"target_lsn": "3000060"`), ops.EINVALID, `recovery: "target_lsn" must be a WAL location as PostgreSQL writes it (X/X in hexadecimal, e.g. "0/3000060"), got "3000060"`},
		{"target_lsn not hex", recovery("latest", `"target_lsn": "0/XYZ"`), ops.EINVALID, `"target_lsn" must be a WAL location`},
		{"target_lsn dash-led", recovery("latest", `"target_lsn": "-0/1"`), ops.EINVALID, `"target_lsn" must be a WAL location`},
		{"target_lsn a number", recovery("latest", `"target_lsn": 5`), ops.EINVALID, `"target_lsn" must be a WAL location as PostgreSQL writes it (X/X in hexadecimal, e.g. "0/3000060"), got 5`},
		{"target_xid zero", recovery("latest", `"target_xid": 0`), ops.EINVALID, `recovery: "target_xid" must be a positive integer transaction ID (a number or a string of digits), got 0`},
		{"target_xid negative", recovery("latest", `"target_xid": -4`), ops.EINVALID, `"target_xid" must be a positive integer`},
		{"target_xid fraction", recovery("latest", `"target_xid": 1.5`), ops.EINVALID, `"target_xid" must be a positive integer`},
		{"target_xid words", recovery("latest", `"target_xid": "12abc"`), ops.EINVALID, `"target_xid" must be a positive integer transaction ID (a number or a string of digits), got "12abc"`},
		{"target_xid boolean", recovery("latest", `"target_xid": true`), ops.EINVALID, `"target_xid" must be a positive integer transaction ID (a number or a string of digits), got true`},
		{"target_name empty", recovery("latest", `"target_name": " "`), ops.EINVALID, `recovery: "target_name" must not be empty`},
		{"target_name a number", recovery("latest", `"target_name": 3`), ops.EINVALID, `recovery: "target_name" must be the name of a restore point`},
		{"target_name with a newline", recovery("latest", `"target_name": "a\nb"`), ops.EINVALID, `recovery: "target_name" must be the name of a restore point (a string without control characters)`},
		{"target_name too long", recovery("latest", `"target_name": "`+long+`"`), ops.EINVALID, `recovery: "target_name" is 64 bytes long; PostgreSQL's restore point names are at most 63`},
		{"target_immediate a string", recovery("latest", `"target_immediate": "true"`), ops.EINVALID, `recovery: "target_immediate" must be true or false, got "true"`},
		{"target_tli zero", recovery("latest", `"target_tli": 0`), ops.EINVALID, `recovery: "target_tli" must be a timeline number (1 or more) or "current" or "latest", got 0`},
		{"target_tli word", recovery("latest", `"target_tli": "newest"`), ops.EINVALID, `"target_tli" must be a timeline number (1 or more) or "current" or "latest", got "newest"`},
		{"target_tli null", recovery("latest", `"target_tli": null`), ops.EINVALID, `"target_tli" must be a timeline number`},
		{"target_action unknown", recovery("latest", `"target_action": "resume", "target_xid": 3`), ops.EINVALID, `recovery: "target_action" must be "pause", "shutdown" or "promote", got "resume"`},
		{"target_action case", recovery("latest", `"target_action": "Promote", "target_xid": 3`), ops.EINVALID, `"target_action" must be "pause", "shutdown" or "promote", got "Promote"`},
		{"exclusive a number", recovery("latest", `"exclusive": 1, "target_xid": 3`), ops.EINVALID, `recovery: "exclusive" must be true or false, got 1`},
		{"standby_mode a string", recovery("latest", `"standby_mode": "on"`), ops.EINVALID, `recovery: "standby_mode" must be true or false, got "on"`},
		{"get_wal null", recovery("latest", `"get_wal": null`), ops.EINVALID, `recovery: "get_wal" must be true or false, got null`},
		{"jobs zero", recovery("latest", `"jobs": 0`), ops.EINVALID, `recovery: "jobs" must be a whole number of parallel copy jobs from 1 to 64, got 0`},
		{"jobs 65", recovery("latest", `"jobs": 65`), ops.EINVALID, `"jobs" must be a whole number of parallel copy jobs from 1 to 64, got 65`},
		{"jobs a string", recovery("latest", `"jobs": "4"`), ops.EINVALID, `"jobs" must be a whole number of parallel copy jobs from 1 to 64, got "4"`},
		{"jobs a fraction", recovery("latest", `"jobs": 2.5`), ops.EINVALID, `"jobs" must be a whole number`},
		{"bwlimit negative", recovery("latest", `"bwlimit": -1`), ops.EINVALID, `recovery: "bwlimit" must be a whole number of kilobytes per second, 0 or more (0: no limit), got -1`},
		{"bwlimit a string", recovery("latest", `"bwlimit": "100"`), ops.EINVALID, `"bwlimit" must be a whole number of kilobytes per second`},
		{"bwlimit exponent", recovery("latest", `"bwlimit": 1e3`), ops.EINVALID, `"bwlimit" must be a whole number of kilobytes per second`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := validate(cfg, barman.Catalog{}, srv2, pyjsontest.MustDecode(t, tc.payload))
			if tc.code != "" {
				if req != nil {
					t.Errorf("got a request %+v with the error", req)
				}
				opstest.WantError(t, err, tc.code, tc.msg)
				return
			}
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if req.BackupID != tc.msg {
				t.Errorf("resolved backup = %q, want %q", req.BackupID, tc.msg)
			}
		})
	}
}

// TestValidateBackupOperation: the backup type's keys.
func TestValidateBackupOperation(t *testing.T) {
	_, cfg := validateEnv(t)
	tests := []struct {
		name, server, payload, code, msg string
	}{
		{"plain", srv2, `{"type": "backup"}`, "", ""},
		{"named, immediate checkpoint", srv2, `{"type": "backup", "backup_name": "before migration", "immediate_checkpoint": true}`, "", ""},
		{"immediate_checkpoint false, extra keys", srv2, `{"type": "backup", "immediate_checkpoint": false, "note": "x"}`, "", ""},
		{"to the instance", "", `{"type": "backup"}`, ops.EINVALID, "backup is a server operation: send it to a server's operations"},
		{"unknown server", "db2", `{"type": "backup"}`, ops.ENOTFOUND, `server "db2" is not in`},
		{"name a number", srv2, `{"type": "backup", "backup_name": 3}`, ops.EINVALID, `backup: "backup_name" must be a string, got a number`},
		{"name empty", srv2, `{"type": "backup", "backup_name": ""}`, ops.EINVALID, `backup: "backup_name" must not be empty`},
		{"name a shortcut", srv2, `{"type": "backup", "backup_name": "latest"}`, ops.EINVALID, `backup: "backup_name" "latest" is one of Barman's shortcuts`},
		{"name auto", srv2, `{"type": "backup", "backup_name": "auto"}`, ops.EINVALID, `"backup_name" "auto" is one of Barman's shortcuts`},
		{"name a backup ID", srv2, `{"type": "backup", "backup_name": "20261125T080758"}`, ops.EINVALID, `backup: "backup_name" "20261125T080758" has the form of a backup ID`},
		{"name dash-led", srv2, `{"type": "backup", "backup_name": "-x"}`, ops.EINVALID, `backup: "backup_name" "-x" starts with "-"`},
		{"name with a newline", srv2, `{"type": "backup", "backup_name": "a\nb"}`, ops.EINVALID, `backup: "backup_name" contains a control character`},
		{"name too long", srv2, `{"type": "backup", "backup_name": "` + strings.Repeat("x", 256) + `"}`, ops.EINVALID, `"backup_name" is 256 bytes long`},
		{"immediate_checkpoint a string", srv2, `{"type": "backup", "immediate_checkpoint": "yes"}`, ops.EINVALID, `backup: "immediate_checkpoint" must be true or false, got "yes"`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := validate(cfg, barman.Catalog{}, tc.server, pyjsontest.MustDecode(t, tc.payload))
			if tc.code != "" {
				if req != nil {
					t.Errorf("got a request %+v with the error", req)
				}
				opstest.WantError(t, err, tc.code, tc.msg)
				return
			}
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if req.Type != ops.BackupOp {
				t.Errorf("type = %s", req.Type)
			}
		})
	}
}

// TestServiceBarmanLacksOption: an option the installed Barman does not
// have is refused before anything is written, naming the version that added
// it; the same request is recorded with a Barman that has it.
func TestServiceBarmanLacksOption(t *testing.T) {
	env, _ := pitrEnv(t)
	env.WithStore(t)
	root := filepath.Dir(env.Home)
	svcFor := func(v ops.Version) *ops.Service {
		return &ops.Service{Barman: barman.NewReader(env.Conf), OpenStore: store.Opener(), Version: "test",
			BarmanVersion: func() (ops.Version, error) { return v, nil }}
	}
	tests := []struct {
		name      string
		installed ops.Version
		payload   string
		msg       string
	}{
		{"target_lsn on 2.8", ops.Version{2, 8, 0}, recovery("latest", `"target_lsn": "0/9000060"`), "recovery: \"target_lsn\" needs `barman recover --target-lsn`, which Barman added in 2.9.0; the installed Barman is 2.8.0 (upgrade Barman to use it)"},
		{"bwlimit on 2.8", ops.Version{2, 8, 0}, recovery("latest", `"bwlimit": 10`), "\"bwlimit\" needs `barman recover --bwlimit`, which Barman added in 2.9.0"},
		{"target_immediate on 2.2", ops.Version{2, 2, 0}, recovery("latest", `"target_immediate": true`), "\"target_immediate\" needs `barman recover --target-immediate`, which Barman added in 2.3.0"},
		{"target_action on 2.3", ops.Version{2, 3, 0}, recovery("latest", `"target_action": "pause", "target_xid": 4`), "\"target_action\" needs `barman recover --target-action`, which Barman added in 2.4.0"},
		{"standby_mode on 2.3", ops.Version{2, 3, 0}, recovery("latest", `"standby_mode": true`), "\"standby_mode\" needs `barman recover --standby-mode`, which Barman added in 2.4.0"},
		{"get_wal on 2.1", ops.Version{2, 1, 0}, recovery("latest", `"get_wal": false`), "\"get_wal\" needs `barman recover --get-wal/--no-get-wal`, which Barman added in 2.2.0"},
		{"jobs on 2.1", ops.Version{2, 1, 0}, recovery("latest", `"jobs": 2`), "\"jobs\" needs `barman recover --jobs`, which Barman added in 2.2.0"},
		{"target_tli latest on 2.18", ops.Version{2, 18, 0}, recovery("latest", `"target_tli": "latest"`), "\"target_tli\" needs `barman recover --target-tli latest`, which Barman added in 2.19.0"},
		{"backup on 2.9", ops.Version{2, 9, 0}, `{"type": "backup"}`, "backup: a backup operation needs `barman backup --wait`, which Barman added in 2.10.0"},
		{"backup_name on 3.2", ops.Version{3, 2, 0}, `{"type": "backup", "backup_name": "x"}`, "backup: \"backup_name\" needs `barman backup --name`, which Barman added in 3.3.0; the installed Barman is 3.2.0"},
		// Barman 3.3.0 to 3.4.0 take --name and drop it with --wait: the
		// sandbox's 3.4.0 left backup.info without backup_name.
		{"backup_name on 3.4.0", ops.Version{3, 4, 0}, `{"type": "backup", "backup_name": "x"}`, "backup: \"backup_name\" needs Barman 3.4.1 or later: the releases from 3.3.0 until then drop the name of a backup taken with --wait, which a backup operation always gives (the backup would end DONE without its name); the installed Barman is 3.4.0"},
		{"backup_name on 3.3.2", ops.Version{3, 3, 2}, `{"type": "backup", "backup_name": "x"}`, "\"backup_name\" needs Barman 3.4.1 or later"},
	}
	before := testenv.Snapshot(t, root)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := svcFor(tc.installed).Create(context.Background(), srv2, pyjsontest.MustDecode(t, tc.payload), ops.Requester{Name: "test"})
			if id != "" {
				t.Errorf("got an ID %q", id)
			}
			opstest.WantError(t, err, ops.EINVALID, tc.msg)
			if diff := testenv.DiffSnapshots(before, testenv.Snapshot(t, root)); diff != "" {
				t.Errorf("the refused request changed the file tree:\n%s", diff)
			}
		})
	}
	// What 2.8 lacks, 2.9 has; a numeric target_tli is older than 2.0;
	// the sandbox's Barman 3.4 has every option but a working backup_name.
	for _, tc := range []struct {
		v       ops.Version
		payload string
	}{
		{ops.Version{2, 9, 0}, recovery("latest", `"target_lsn": "0/9000060", "bwlimit": 10`)},
		{ops.Version{2, 0, 0}, recovery("latest", `"target_tli": 2, "target_time": "2026-11-27T20:00:00Z", "exclusive": true`)},
		{ops.Version{3, 4, 0}, recovery("", `"target_time": "2026-11-27T20:00:00Z", "target_action": "promote", "target_tli": "current", "standby_mode": true, "get_wal": true, "jobs": 2, "bwlimit": 5`)},
		{ops.Version{3, 4, 0}, `{"type": "backup", "immediate_checkpoint": true}`},
		{ops.Version{3, 4, 1}, `{"type": "backup", "backup_name": "x", "immediate_checkpoint": true}`},
	} {
		if _, err := svcFor(tc.v).Create(context.Background(), srv2, pyjsontest.MustDecode(t, tc.payload), ops.Requester{Name: "test"}); err != nil {
			t.Errorf("Barman %s refused %s: %v", tc.v, tc.payload, err)
		}
	}
}

// TestServiceRefusedTargetWritesNothing: a target that is refused, for any
// reason, leaves the store as it was; one that is accepted records the
// backup it chose.
func TestServiceRefusedTargetWritesNothing(t *testing.T) {
	env, _ := pitrEnv(t)
	env.WithStore(t)
	root := filepath.Dir(env.Home)
	svc := &ops.Service{Barman: barman.NewReader(env.Conf), OpenStore: store.Opener(), Version: "test"}
	before := testenv.Snapshot(t, root)
	for _, payload := range []string{
		recovery("", `"target_time": "2026-11-20T00:00:00Z"`),
		recovery("latest", `"target_time": "2030-01-01T00:00:00Z"`),
		recovery("latest", `"target_time": "2026-11-27T12:00:00Z"`),
		recovery("latest", `"target_lsn": "0/1", "target_xid": 3`),
		recovery("latest", `"target_action": "pause"`),
		recovery("", ``),
	} {
		if id, err := svc.Create(context.Background(), srv2, pyjsontest.MustDecode(t, payload), ops.Requester{Name: "test"}); err == nil || id != "" {
			t.Errorf("%s: id %q, err %v; want a refusal", payload, id, err)
		}
	}
	if diff := testenv.DiffSnapshots(before, testenv.Snapshot(t, root)); diff != "" {
		t.Errorf("refused targets changed the file tree:\n%s", diff)
	}
	id, err := svc.Create(context.Background(), srv2, pyjsontest.MustDecode(t, recovery("", `"target_time": "2026-11-26T00:00:00Z"`)), ops.Requester{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	op, err := svc.Get(context.Background(), srv2, id)
	if err != nil {
		t.Fatal(err)
	}
	if got := op.ResolvedBackupID(); got != pitrMid {
		t.Errorf("resolved_backup_id = %q, want %q", got, pitrMid)
	}
	if _, ok := op.Job.Get("backup_id"); ok {
		t.Errorf("the job has a backup_id the request did not send")
	}
	// The runner reads the job back to the same target, parsed once more
	// from the file.
	backupID, ro, err := withOptions(ops.Policy{}).RecoveryJob(op)
	if err != nil || backupID != pitrMid || ro.Target != "target_time" || !ro.TargetTime.Equal(time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)) || len(ro.Options) != 1 {
		t.Errorf("RecoveryJob = %q, %+v, %v", backupID, ro, err)
	}
}

// TestValidateWithoutOptionTable: validation that was not handed Barman's
// option table refuses a recovery or a backup rather than ignoring their
// options (an ignored target_time would restore to the end of the WAL).
func TestValidateWithoutOptionTable(t *testing.T) {
	_, cfg := pitrEnv(t)
	for _, payload := range []string{recovery("latest", `"target_lsn": "0/1"`), `{"type": "backup"}`} {
		req, err := ops.Policy{}.Validate(cfg, barman.Catalog{}, srv2, pyjsontest.MustDecode(t, payload))
		if req != nil {
			t.Errorf("%s: got a request", payload)
		}
		opstest.WantError(t, err, ops.EINTERNAL, "without Barman's option table")
	}
}

// TestValidateBarman3Options: each of Barman 3.x's options refuses a bad
// value with a 400 naming the key and what it takes, and one the installed
// Barman lacks names the release that brings it; nothing is written.
func TestValidateBarman3Options(t *testing.T) {
	env, cfg := pitrEnv(t)
	env.WithStore(t)
	root := filepath.Dir(env.Home)
	backup := func(extra string) string { return `{"type": "backup", ` + extra + `}` }
	bad := []struct{ payload, msg string }{
		{recovery("latest", `"tablespaces": ["/srv"]`), `recovery: "tablespaces" must be an object of tablespace name to its new location`},
		{recovery("latest", `"tablespaces": {}`), `"tablespaces" must be an object`},
		{recovery("latest", `"tablespaces": {"a:b": "/srv"}`), `the tablespace name "a:b" holds ':'`},
		{recovery("latest", `"tablespaces": {"tbs": "relative"}`), `"tablespaces.tbs" "relative" must be an absolute path`},
		{recovery("latest", `"tablespaces": {"tbs": "/srv/$(id)"}`), `"tablespaces.tbs" "/srv/$(id)" holds '$'`},
		{recovery("latest", `"delta_restore": "yes"`), `recovery: "delta_restore" must be true or false, got "yes"`},
		{recovery("latest", `"recovery_staging_path": "/tmp/a b"`), `"recovery_staging_path" "/tmp/a b" holds ' '`},
		{recovery("latest", `"staging_wal_directory": "/var/../etc"`), `"staging_wal_directory" "/var/../etc" has a ".." component`},
		{recovery("latest", `"tablespaces": {"tbs": "//"}`), `"tablespaces.tbs" "//" is the root directory`},
		{recovery("latest", `"recovery_staging_path": "/./"`), `"recovery_staging_path" "/./" is the root directory`},
		{recovery("latest", `"network_compression": 1`), `"network_compression" must be true or false`},
		{recovery("latest", `"retry_times": -1`), `"retry_times" must be a whole number of retries of a failed copy, 0 or more (0: none), got -1`},
		{recovery("latest", `"retry_sleep": "5"`), `"retry_sleep" must be a whole number of seconds`},
		{recovery("latest", `"jobs_start_batch_period": 0`), `"jobs_start_batch_period" must be a whole number of seconds, 1 or more, got 0`},
		{recovery("latest", `"jobs_start_batch_size": 1.5`), `"jobs_start_batch_size" must be a whole number of copy jobs, 1 or more, got 1.5`},
		{recovery("latest", `"recovery_conf_filename": "../postgresql.conf"`), `"recovery_conf_filename" must be a file name of letters, digits and - _ . (no directory)`},
		{recovery("latest", `"recovery_option_port": 70000`), `"recovery_option_port" must be a TCP port number from 1 to 65535, got 70000`},
		{recovery("latest", `"combine_mode": "move"`), `"combine_mode" must be "copy", "link", "clone" or "copy-file-range", got "move"`},
		{recovery("latest", `"partial_wal": "yes"`), `recovery: "partial_wal" must be true or false, got "yes"`},
		{recovery("latest", `"skip_archive_wal": 1`), `recovery: "skip_archive_wal" must be true or false, got 1`},
		{backup(`"incremental": "--help"`), `backup: "incremental" is "--help", which starts with "-"`},
		{backup(`"incremental": ""`), `backup: "incremental" must be a backup ID, a backup name or a shortcut`},
		{backup(`"reuse_backup": "hardlink"`), `backup: "reuse_backup" must be "off", "copy" or "link", got "hardlink"`},
		{backup(`"jobs": 0`), `backup: "jobs" must be a whole number of parallel copy jobs from 1 to 64, got 0`},
		{backup(`"bwlimit": -5`), `backup: "bwlimit" must be a whole number of kilobytes per second`},
		{backup(`"wait_timeout": "10m"`), `backup: "wait_timeout" must be a whole number of seconds to wait for the backup's WAL`},
		{backup(`"manifest": null`), `backup: "manifest" must be true or false`},
	}
	svc := &ops.Service{Barman: barman.NewReader(env.Conf), OpenStore: store.Opener(), Version: "test"}
	before := testenv.Snapshot(t, root)
	for _, tc := range bad {
		t.Run(tc.payload, func(t *testing.T) {
			_, err := validate(cfg, barman.Catalog{}, srv2, pyjsontest.MustDecode(t, tc.payload))
			opstest.WantError(t, err, ops.EINVALID, tc.msg)
			if id, err := svc.Create(context.Background(), srv2, pyjsontest.MustDecode(t, tc.payload), ops.Requester{Name: "test"}); id != "" || err == nil {
				t.Errorf("Create = %q, %v", id, err)
			}
		})
	}
	old := []struct {
		installed ops.Version
		payload   string
		msg       string
	}{
		{ops.Version{3, 15, 0}, recovery("latest", `"delta_restore": false`), "recovery: \"delta_restore\" needs `barman recover --delta-restore/--no-delta-restore`, which Barman added in 3.16.0; the installed Barman is 3.15.0"},
		{ops.Version{2, 19, 0}, recovery("latest", `"recovery_staging_path": "/s"`), "\"recovery_staging_path\" needs `barman recover --recovery-staging-path`, which Barman added in 3.0.0"},
		{ops.Version{3, 12, 0}, recovery("latest", `"staging_wal_directory": "/s"`), "which Barman added in 3.13.0; the installed Barman is 3.12.0"},
		{ops.Version{2, 2, 0}, recovery("latest", `"network_compression": true`), "which Barman added in 2.3.0"},
		{ops.Version{3, 4, 0}, recovery("latest", `"jobs_start_batch_size": 2`), "`barman recover --jobs-start-batch-size`, which Barman added in 3.5.0"},
		{ops.Version{3, 4, 0}, recovery("latest", `"jobs_start_batch_period": 2`), "which Barman added in 3.5.0"},
		{ops.Version{3, 4, 0}, recovery("latest", `"recovery_conf_filename": "x.conf"`), "which Barman added in 3.5.0"},
		{ops.Version{3, 16, 0}, recovery("latest", `"recovery_option_port": 22`), "`barman recover --recovery-option-port`, which Barman added in 3.17.0; the installed Barman is 3.16.0"},
		{ops.Version{3, 15, 0}, recovery("latest", `"combine_mode": "link"`), "which Barman added in 3.16.0"},
		{ops.Version{3, 18, 0}, recovery("latest", `"partial_wal": true`), "recovery: \"partial_wal\" needs `barman recover --partial-wal`, which Barman added in 3.19.0; the installed Barman is 3.18.0"},
		{ops.Version{3, 19, 1}, recovery("latest", `"skip_archive_wal": true`), "recovery: \"skip_archive_wal\" needs `barman recover --skip-archive-wal`, which Barman added in 3.20.0; the installed Barman is 3.19.1"},
		{ops.Version{3, 10, 0}, backup(`"incremental": "latest"`), "backup: \"incremental\" needs `barman backup --incremental`, which Barman added in 3.11.0"},
		{ops.Version{2, 8, 0}, backup(`"bwlimit": 1`), "\"bwlimit\" needs `barman backup --bwlimit`, which Barman added in 2.9.0"},
		{ops.Version{3, 6, 0}, backup(`"manifest": true`), "`barman backup --manifest/--no-manifest`, which Barman added in 3.7.0"},
	}
	for _, tc := range old {
		t.Run(tc.installed.String()+" "+tc.payload, func(t *testing.T) {
			svc := &ops.Service{Barman: barman.NewReader(env.Conf), OpenStore: store.Opener(), Version: "test",
				BarmanVersion: func() (ops.Version, error) { return tc.installed, nil }}
			id, err := svc.Create(context.Background(), srv2, pyjsontest.MustDecode(t, tc.payload), ops.Requester{Name: "test"})
			if id != "" {
				t.Errorf("got an ID %q", id)
			}
			opstest.WantError(t, err, ops.EINVALID, tc.msg)
		})
	}
	if diff := testenv.DiffSnapshots(before, testenv.Snapshot(t, root)); diff != "" {
		t.Errorf("refused requests changed the file tree:\n%s", diff)
	}
	// Barman 3.20 has every one of them.
	all := recovery("latest", `"tablespaces": {"tbs1": "/srv/tbs1"}, "delta_restore": true, "recovery_staging_path": "/s", "staging_wal_directory": "/w", "network_compression": true, "retry_times": 1, "retry_sleep": 2, "jobs_start_batch_period": 3, "jobs_start_batch_size": 4, "recovery_conf_filename": "r.conf", "recovery_option_port": 22, "combine_mode": "clone", "partial_wal": true, "skip_archive_wal": true`)
	svc317 := &ops.Service{Barman: barman.NewReader(env.Conf), OpenStore: store.Opener(), Version: "test",
		BarmanVersion: func() (ops.Version, error) { return ops.Version{3, 20, 0}, nil }}
	for _, payload := range []string{all, backup(`"incremental": "latest", "reuse_backup": "off", "jobs": 2, "bwlimit": 10, "retry_times": 1, "retry_sleep": 1, "wait_timeout": 60, "manifest": false`)} {
		if _, err := svc317.Create(context.Background(), srv2, pyjsontest.MustDecode(t, payload), ops.Requester{Name: "test"}); err != nil {
			t.Errorf("Barman 3.20 refused %s: %v", payload, err)
		}
	}
}

// TestValidateTargetTimeWindow: with Barman's WAL database read, a
// target_time after the newest archived WAL is refused with the window's
// end (Barman would stop there without a word); up to it, accepted.
func TestValidateTargetTimeWindow(t *testing.T) {
	env, cfg := pitrEnv(t)
	// The newest WAL segment was archived at 2026-11-27 18:00:00Z.
	last := time.Date(2026, 11, 27, 18, 0, 0, 0, time.UTC)
	testenv.WriteFile(t, filepath.Join(env.Home, srv2, "wals", "xlog.db"), fmt.Sprintf(
		"000000010000000000000001\t16777216\t%d\tNone\n000000010000000000000002\t16777216\t%d\tNone\n",
		last.Add(-time.Hour).Unix(), last.Unix()))
	tests := []validateCase{
		{"at the newest WAL's time", recovery("", `"target_time": "2026-11-27T18:00:00Z"`), "", pitrNewest},
		{"named backup, inside the window", recovery(pitrOld, `"target_time": "2026-11-27T17:00:00Z"`), "", pitrOld},
		{"after the newest WAL, chosen backup", recovery("", `"target_time": "2026-11-27T18:00:01Z"`), ops.EINVALID,
			`recovery: "target_time" 2026-11-27T18:00:01Z is after the recovery window of server "db_server_two", which ends 2026-11-27T18:00:00Z (WAL segment 000000010000000000000002, the newest archived)`},
		{"after the newest WAL, named backup", recovery("latest", `"target_time": "2026-11-27T23:00:00+01:00"`), ops.EINVALID,
			`which ends 2026-11-27T18:00:00Z`},
		{"the future still says so", recovery("latest", `"target_time": "2026-11-28T00:00:01Z"`), ops.EINVALID, `is in the future`},
		// The .partial being streamed, which partial_wal copies, may hold it.
		{"after the newest WAL, with partial_wal", recovery("latest", `"target_time": "2026-11-27T18:00:01Z", "partial_wal": true`), "", pitrNewest},
		{"after the newest WAL, partial_wal with get_wal", recovery("latest", `"target_time": "2026-11-27T18:00:01Z", "partial_wal": true, "get_wal": true`), ops.EINVALID, `which ends 2026-11-27T18:00:00Z`},
		{"before the window still names its start", recovery("", `"target_time": "2026-11-01T00:00:00Z"`), ops.EINVALID, `which begins 2026-11-20T10:05:00Z`},
	}
	runValidateCases(t, cfg, tests)
}

// TestValidateAutoBackup: "backup_id" "auto" chooses as Barman 3.13.1 and
// later do (cli.py's recover): the newest backup that ended at or before a
// target_time or a target_lsn, or the newest without a target, each on
// target_tli when given; any other target is refused, as Barman refuses it.
func TestValidateAutoBackup(t *testing.T) {
	env, cfg := pitrEnv(t)
	tests := []validateCase{
		{"no target: the newest", recovery("auto", ``), "", pitrNewest},
		{"no target, timeline 1", recovery("auto", `"target_tli": 1`), "", pitrMid},
		{"no target, timeline current: any", recovery("auto", `"target_tli": "current"`), "", pitrNewest},
		{"lsn at a backup's end", recovery("auto", `"target_lsn": "0/6000000"`), "", pitrMid},
		{"lsn just before it", recovery("auto", `"target_lsn": "0/5FFFFFF"`), "", pitrOld},
		{"lsn after the newest", recovery("auto", `"target_lsn": "1/0"`), "", pitrNewest},
		{"lsn on timeline 1", recovery("auto", `"target_lsn": "1/0", "target_tli": 1`), "", pitrMid},
		{"lsn with backup_id left out", recovery("", `"target_lsn": "0/9000000"`), "", pitrNewest},
		{"time on timeline 1", recovery("auto", `"target_time": "2026-11-27T20:00:00Z", "target_tli": "1"`), "", pitrMid},
		{"lsn before every backup", recovery("auto", `"target_lsn": "0/1"`), ops.EINVALID, `recovery: "backup_id" "auto" finds no backup of server "db_server_two" that ended at or before "target_lsn" 0/1 (DONE or WAITING_FOR_WALS, as Barman looks; Barman would say "Cannot find any candidate backup for recovery."); name a backup, or change the target`},
		{"no backup on timeline 3", recovery("auto", `"target_tli": 3`), ops.EINVALID, `finds no backup of server "db_server_two" without a recovery target on timeline 3`},
		{"xid", recovery("auto", `"target_xid": 5`), ops.EINVALID, `recovery: "backup_id" "auto" chooses the backup from a "target_time" or a "target_lsn", or the newest without a target, as Barman does; it cannot choose one for "target_xid" (Barman refuses it too): name the backup in "backup_id"`},
		{"name", recovery("auto", `"target_name": "x"`), ops.EINVALID, `it cannot choose one for "target_name"`},
		{"immediate", recovery("auto", `"target_immediate": true`), ops.EINVALID, `it cannot choose one for "target_immediate"`},
		{"latest timeline without a WAL database", recovery("auto", `"target_tli": "latest"`), ops.EINVALID, `recovery: "target_tli" "latest" with "backup_id" "auto" chooses a backup on the highest timeline archived, which cannot be read for server "db_server_two"`},
	}
	runValidateCases(t, cfg, tests)

	// "latest" is the highest timeline archived: with WAL of timeline 1
	// only, the newest backup on timeline 1.
	wals := filepath.Join(env.Home, srv2, "wals", "xlog.db")
	testenv.WriteFile(t, wals, "000000010000000000000009\t16777216\t1795780000\tNone\n00000001.history\t42\t1795780000\tNone\n")
	if req, err := validate(cfg, barman.Catalog{}, srv2, pyjsontest.MustDecode(t, recovery("auto", `"target_tli": "latest"`))); err != nil || req.BackupID != pitrMid {
		t.Errorf("latest timeline 1: chose %v, %v; want %s", req, err, pitrMid)
	}
	testenv.WriteFile(t, wals, "000000010000000000000009\t16777216\t1795780000\tNone\n00000002000000000000000A\t16777216\t1795780100\tNone\n")
	if req, err := validate(cfg, barman.Catalog{}, srv2, pyjsontest.MustDecode(t, recovery("auto", `"target_tli": "latest"`))); err != nil || req.BackupID != pitrNewest {
		t.Errorf("latest timeline 2: chose %v, %v; want %s", req, err, pitrNewest)
	}

	// Barman's choice WAITING_FOR_WALS is refused, not replaced by an
	// older DONE backup Barman would not choose.
	testenv.WriteFile(t, filepath.Join(env.Home, srv2, "meta", "20261127T130000-backup.info"),
		"backup_name=None\nstatus=WAITING_FOR_WALS\nbegin_time=2026-11-27 13:00:00+00:00\nend_time=2026-11-27 13:10:00+00:00\nend_xlog=0/A000000\ntimeline=2\n")
	_, err := validate(cfg, barman.Catalog{}, srv2, pyjsontest.MustDecode(t, recovery("auto", ``)))
	opstest.WantError(t, err, ops.EINVALID, `recovery: "backup_id" "auto" names backup 20261127T130000 of server "db_server_two" (the newest without a recovery target, as Barman chooses), which has status WAITING_FOR_WALS; only a DONE backup can be recovered`)
	if req, err := validate(cfg, barman.Catalog{}, srv2, pyjsontest.MustDecode(t, recovery("auto", `"target_lsn": "0/9FFFFFF"`))); err != nil || req.BackupID != pitrNewest {
		t.Errorf("lsn before the waiting backup ended: chose %v, %v; want %s", req, err, pitrNewest)
	}
}

// TestValidateTargetLSNWindow: with Barman's WAL database read, a
// target_lsn past the end of the newest segment archived is refused with
// that end (PostgreSQL would replay everything and not start); up to it,
// accepted; without the backup's segment size it is left to Barman.
func TestValidateTargetLSNWindow(t *testing.T) {
	env, cfg := pitrEnv(t)
	testenv.WriteFile(t, filepath.Join(env.Home, srv2, "wals", "xlog.db"),
		"000000010000000000000006\t16777216\t1764000000\tNone\n000000010000000000000007\t16777216\t1764003600\tNone\n")
	tests := []validateCase{
		{"at the newest segment's end", recovery(pitrMid, `"target_lsn": "0/8000000"`), "", pitrMid},
		{"inside the newest segment", recovery(pitrMid, `"target_lsn": "0/7FFFFFF"`), "", pitrMid},
		{"past the newest segment", recovery(pitrMid, `"target_lsn": "0/8000001"`), ops.EINVALID,
			`recovery: "target_lsn" 0/8000001 is after the WAL archived for server "db_server_two", which ends at 0/8000000 (WAL segment 000000010000000000000007, the newest archived); PostgreSQL would replay all of it and not start`},
		{"far past, chosen by auto", recovery("auto", `"target_lsn": "1/0"`), "", pitrNewest},
		{"far past, a backup with its segment size", recovery(pitrMid, `"target_lsn": "1/0"`), ops.EINVALID, `which ends at 0/8000000`},
		// partial_wal copies the .partial of the segment being streamed.
		{"in the segment being streamed, with partial_wal", recovery(pitrMid, `"target_lsn": "0/8000001", "partial_wal": true`), "", pitrMid},
		{"past the segment being streamed, with partial_wal", recovery(pitrMid, `"target_lsn": "0/9000001", "partial_wal": true`), ops.EINVALID, `which ends at 0/9000000`},
		{"partial_wal with get_wal, which Barman ignores then", recovery(pitrMid, `"target_lsn": "0/8000001", "partial_wal": true, "get_wal": true`), ops.EINVALID, `which ends at 0/8000000`},
	}
	runValidateCases(t, cfg, tests)
}

// validateCase is a payload of db_server_two and what validation makes of
// it: an error's code and part of its message, or "" and the backup the
// payload resolves to.
type validateCase struct{ name, payload, code, msg string }

func runValidateCases(t *testing.T, cfg *ops.BarmanConfig, tests []validateCase) {
	t.Helper()
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := validate(cfg, barman.Catalog{}, srv2, pyjsontest.MustDecode(t, tc.payload))
			if tc.code != "" {
				opstest.WantError(t, err, tc.code, tc.msg)
				return
			}
			if err != nil {
				t.Fatalf("Validate: %v", err)
			}
			if req.BackupID != tc.msg {
				t.Errorf("resolved backup = %q, want %q", req.BackupID, tc.msg)
			}
		})
	}
}
