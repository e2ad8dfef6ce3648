package barman

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// Command is how Barman is run: the program and its leading arguments (for
// example "sudo -u barman barman"), and the policy a job is checked against
// again before it runs. It is the one place that builds Barman's command
// lines: each operation's (Args, with the options of the Options table),
// `-v`, `diagnose` and `check`.
type Command struct {
	argv   []string
	policy ops.Policy
}

// NewCommand returns the Command for command, split on spaces (no shell is
// involved); "" means "barman". Jobs are checked against the default policy
// until WithPolicy says otherwise.
func NewCommand(command string) Command {
	argv := strings.Fields(command)
	if len(argv) == 0 {
		argv = []string{"barman"}
	}
	return Command{argv: argv}
}

// WithPolicy returns c checking each job against p (ssh_destinations,
// ssh_programs) before building its argv, as validation checked the
// request: the operator may have tightened the policy since, and a job file
// may have been written by another implementation.
func (c Command) WithPolicy(p ops.Policy) Command {
	c.policy = p
	return c
}

// base is the program and its leading arguments, then -c config when a
// configuration is given, in a slice of its own.
func (c Command) base(config string) []string {
	argv := append([]string{}, c.argv...)
	if config != "" {
		argv = append(argv, "-c", config)
	}
	return argv
}

// The Barman commands of the operations on backups: the Command column of
// Options, and the subcommand Args gives.
const (
	recoverCmd = "recover"
	backupCmd  = "backup"
	keepCmd    = "keep"
	deleteCmd  = "delete"
)

// Options is the option table: each row is one payload key of an operation
// (our extension), the kind of value it takes, the Barman option it
// becomes, and the first Barman release that has it (Barman's NEWS; zero
// for options older than Barman 2.0). Validation (ops, by kind, through
// ops.Policy.Options), the version gates, the argv (Args), the flags of
// `create recovery`, `create backup` and `create keep` and their shell
// completions are all read from it, so a new Barman option is one row
// here. Every flag is given joined to its value (--flag=VALUE), so that a
// value starting with "-" stays a value.
var Options = withDrillRows(ops.OptionTable{
	{Type: ops.Recovery, Key: "target_time", Kind: ops.KindTime, Command: recoverCmd, Flag: "--target-time", Target: true,
		Usage: "recover to this `TIME`, with a zone (RFC 3339, e.g. 2026-01-02T14:02:00+01:00)"},
	{Type: ops.Recovery, Key: "target_lsn", Kind: ops.KindLSN, Command: recoverCmd, Flag: "--target-lsn", Since: ops.Version{Major: 2, Minor: 9}, Target: true,
		Usage: "recover to this WAL location `LSN` (X/X, e.g. 0/3000060)"},
	{Type: ops.Recovery, Key: "target_xid", Kind: ops.KindXID, Command: recoverCmd, Flag: "--target-xid", Target: true,
		Usage: "recover to this transaction `XID`"},
	{Type: ops.Recovery, Key: "target_name", Kind: ops.KindRestorePoint, Command: recoverCmd, Flag: "--target-name", Target: true,
		Usage: "recover to this restore point `NAME` (pg_create_restore_point)"},
	{Type: ops.Recovery, Key: "target_immediate", Kind: ops.KindBool, Command: recoverCmd, Flag: "--target-immediate", Since: ops.Version{Major: 2, Minor: 3}, Target: true,
		Usage: "end recovery as soon as the backup is consistent"},
	{Type: ops.Recovery, Key: "target_tli", Kind: ops.KindTimeline, Command: recoverCmd, Flag: "--target-tli", Values: []string{"current", "latest"},
		ValueSince: map[string]ops.Version{"current": {Major: 2, Minor: 19}, "latest": {Major: 2, Minor: 19}},
		Usage:      "recover along timeline `TLI`: a number, current or latest"},
	{Type: ops.Recovery, Key: "target_action", Kind: ops.KindEnum, Command: recoverCmd, Flag: "--target-action", Since: ops.Version{Major: 2, Minor: 4}, Values: []string{"pause", "shutdown", "promote"},
		Usage: "what PostgreSQL does at the target: `ACTION` pause, shutdown or promote (needs a target)"},
	{Type: ops.Recovery, Key: "exclusive", Kind: ops.KindBool, Command: recoverCmd, Flag: "--exclusive",
		Usage: "stop just before the target (needs --target-time, --target-lsn or --target-xid)"},
	{Type: ops.Recovery, Key: "standby_mode", Kind: ops.KindBool, Command: recoverCmd, Flag: "--standby-mode", Since: ops.Version{Major: 2, Minor: 4},
		Usage: "start the restored cluster as a standby"},
	{Type: ops.Recovery, Key: "get_wal", Kind: ops.KindBool, Command: recoverCmd, Flag: "--get-wal", NoFlag: "--no-get-wal", Since: ops.Version{Major: 2, Minor: 2},
		Usage: "fetch WAL from Barman with get-wal during recovery (--get-wal=false: do not)"},
	{Type: ops.Recovery, Key: "jobs", Kind: ops.KindInt, Command: recoverCmd, Flag: "--jobs", Since: ops.Version{Major: 2, Minor: 2}, Min: 1, Max: 64,
		Want: "a whole number of parallel copy jobs from 1 to 64", Usage: "copy with `N` parallel jobs (1-64)", Short: "j"},
	{Type: ops.Recovery, Key: "bwlimit", Kind: ops.KindInt, Command: recoverCmd, Flag: "--bwlimit", Since: ops.Version{Major: 2, Minor: 9}, Min: 0,
		Want: "a whole number of kilobytes per second, 0 or more (0: no limit)", Usage: "limit the copy to `KBPS` kilobytes per second (0: no limit)"},
	// Barman 3.x's restore options (each release from its cli.py). Paths on
	// the Barman host (local_staging_path, staging_path with
	// staging_location local) are not offered: Barman writes there and
	// removes what it wrote, as its own user, and config_update refuses the
	// same settings by default; recovery_staging_path and
	// staging_wal_directory are on the target host, which the ssh command
	// already reaches as its own user, and are held to
	// destination_directory's path policy.
	{Type: ops.Recovery, Key: "tablespaces", Kind: ops.KindTablespaces, Command: recoverCmd, Flag: "--tablespace",
		Usage: "relocate tablespace NAME to LOCATION on the target host: `NAME:LOCATION`, as Barman's, once per tablespace (or a JSON object of them, e.g. '{\"tbs1\": \"/srv/tbs1\"}')"},
	{Type: ops.Recovery, Key: "delta_restore", Kind: ops.KindBool, Command: recoverCmd, Flag: "--delta-restore", NoFlag: "--no-delta-restore", Since: ops.Version{Major: 3, Minor: 16},
		Usage: "copy only what differs from what the destination holds (--delta-restore=false: copy everything)"},
	{Type: ops.Recovery, Key: "recovery_staging_path", Kind: ops.KindRemotePath, Command: recoverCmd, Flag: "--recovery-staging-path", Since: ops.Version{Major: 3, Minor: 0},
		Usage: "stage a compressed backup in `DIR` on the target host (required to restore one)"},
	{Type: ops.Recovery, Key: "staging_wal_directory", Kind: ops.KindRemotePath, Command: recoverCmd, Flag: "--staging-wal-directory", Since: ops.Version{Major: 3, Minor: 13},
		Usage: "stage WAL files for PITR in `DIR` on the target host (default: barman_wal in the destination)"},
	{Type: ops.Recovery, Key: "network_compression", Kind: ops.KindBool, Command: recoverCmd, Flag: "--network-compression", NoFlag: "--no-network-compression", Since: ops.Version{Major: 2, Minor: 3},
		Usage: "compress the copy over the network (--network-compression=false: do not)"},
	{Type: ops.Recovery, Key: "retry_times", Kind: ops.KindInt, Command: recoverCmd, Flag: "--retry-times", Min: 0,
		Want: "a whole number of retries of a failed copy, 0 or more (0: none)", Usage: "retry a failed copy `N` times (0: never)"},
	{Type: ops.Recovery, Key: "retry_sleep", Kind: ops.KindInt, Command: recoverCmd, Flag: "--retry-sleep", Min: 0,
		Want: "a whole number of seconds to wait before retrying a failed copy, 0 or more", Usage: "wait `SECONDS` before retrying a failed copy"},
	{Type: ops.Recovery, Key: "jobs_start_batch_period", Kind: ops.KindInt, Command: recoverCmd, Flag: "--jobs-start-batch-period", Since: ops.Version{Major: 3, Minor: 5}, Min: 1,
		Want: "a whole number of seconds, 1 or more", Usage: "start each batch of copy jobs over `SECONDS`"},
	{Type: ops.Recovery, Key: "jobs_start_batch_size", Kind: ops.KindInt, Command: recoverCmd, Flag: "--jobs-start-batch-size", Since: ops.Version{Major: 3, Minor: 5}, Min: 1,
		Want: "a whole number of copy jobs, 1 or more", Usage: "start at most `N` copy jobs in one batch"},
	{Type: ops.Recovery, Key: "recovery_conf_filename", Kind: ops.KindFileName, Command: recoverCmd, Flag: "--recovery-conf-filename", Since: ops.Version{Major: 3, Minor: 5},
		Usage: "write the recovery settings into `FILE` of the data directory (PostgreSQL 12 and later; default postgresql.auto.conf)"},
	{Type: ops.Recovery, Key: "recovery_option_port", Kind: ops.KindInt, Command: recoverCmd, Flag: "--recovery-option-port", Since: ops.Version{Major: 3, Minor: 17}, Min: 1, Max: 65535,
		Want: "a TCP port number from 1 to 65535", Usage: "the `PORT` barman-wal-restore reaches Barman's ssh on, in the restore_command"},
	{Type: ops.Recovery, Key: "combine_mode", Kind: ops.KindEnum, Command: recoverCmd, Flag: "--combine-mode", Since: ops.Version{Major: 3, Minor: 16},
		Values: []string{"copy", "link", "clone", "copy-file-range"},
		Usage:  "how pg_combinebackup copies an incremental backup's files: `MODE` copy, link, clone or copy-file-range"},
	// Barman 3.19 and 3.20 (their RELNOTES and 3.20.1's cli.py); neither
	// has a --no- form.
	{Type: ops.Recovery, Key: "partial_wal", Kind: ops.KindBool, Command: recoverCmd, Flag: "--partial-wal", Since: ops.Version{Major: 3, Minor: 19},
		Usage: "copy .partial WAL files, the suffix stripped, into the restore (with get_wal off; Barman skips them otherwise)"},
	{Type: ops.Recovery, Key: "skip_archive_wal", Kind: ops.KindBool, Command: recoverCmd, Flag: "--skip-archive-wal", Since: ops.Version{Major: 3, Minor: 20},
		Usage: "do not archive the WAL files waiting in the server's incoming and streaming directories before the restore"},

	// Barman 3.3.0 to 3.4.0 set the name after their last save of
	// backup.info when --wait is given, which every backup operation
	// gives (Barman's commit 140925a4, "Store backup_name in backup_info
	// at the earliest opportunity", in 3.4.1): the backup ended DONE
	// without its name.
	{Type: ops.BackupOp, Key: "backup_name", Kind: ops.KindBackupName, Command: backupCmd, Flag: "--name", Since: ops.Version{Major: 3, Minor: 3},
		FixedIn: ops.Version{Major: 3, Minor: 4, Patch: 1},
		Broken:  "drop the name of a backup taken with --wait, which a backup operation always gives (the backup would end DONE without its name)",
		Usage:   "a backup `NAME` that recoveries can use in place of its ID (Barman 3.4.1 and later)", Short: "n"},
	{Type: ops.BackupOp, Key: "immediate_checkpoint", Kind: ops.KindBool, Command: backupCmd, Flag: "--immediate-checkpoint",
		Usage: "ask PostgreSQL for an immediate checkpoint rather than a spread one"},
	{Type: ops.BackupOp, Key: "incremental", Kind: ops.KindBackupRef, Command: backupCmd, Flag: "--incremental", Since: ops.Version{Major: 3, Minor: 11},
		Usage: "take an incremental backup on top of the backup `ID` (an ID, a name, latest or latest-full; backup_method postgres, PostgreSQL 17)"},
	{Type: ops.BackupOp, Key: "reuse_backup", Kind: ops.KindEnum, Command: backupCmd, Flag: "--reuse-backup", Values: []string{"off", "copy", "link"},
		Usage: "reuse the previous backup's files: `MODE` off, copy or link (rsync backups)"},
	{Type: ops.BackupOp, Key: "jobs", Kind: ops.KindInt, Command: backupCmd, Flag: "--jobs", Since: ops.Version{Major: 2, Minor: 2}, Min: 1, Max: 64,
		Want: "a whole number of parallel copy jobs from 1 to 64", Usage: "copy with `N` parallel jobs (1-64; rsync backups)", Short: "j"},
	{Type: ops.BackupOp, Key: "bwlimit", Kind: ops.KindInt, Command: backupCmd, Flag: "--bwlimit", Since: ops.Version{Major: 2, Minor: 9}, Min: 0,
		Want: "a whole number of kilobytes per second, 0 or more (0: no limit)", Usage: "limit the copy to `KBPS` kilobytes per second (0: no limit)"},
	{Type: ops.BackupOp, Key: "retry_times", Kind: ops.KindInt, Command: backupCmd, Flag: "--retry-times", Min: 0,
		Want: "a whole number of retries of a failed copy, 0 or more (0: none)", Usage: "retry a failed copy `N` times (0: never)"},
	{Type: ops.BackupOp, Key: "retry_sleep", Kind: ops.KindInt, Command: backupCmd, Flag: "--retry-sleep", Min: 0,
		Want: "a whole number of seconds to wait before retrying a failed copy, 0 or more", Usage: "wait `SECONDS` before retrying a failed copy"},
	{Type: ops.BackupOp, Key: "wait_timeout", Kind: ops.KindInt, Command: backupCmd, Flag: "--wait-timeout", Since: ops.Version{Major: 2, Minor: 10}, Min: 0,
		Want: "a whole number of seconds to wait for the backup's WAL, 0 or more (0: no limit)", Usage: "wait at most `SECONDS` for the backup's WAL to be archived (0: no limit)"},
	{Type: ops.BackupOp, Key: "manifest", Kind: ops.KindBool, Command: backupCmd, Flag: "--manifest", NoFlag: "--no-manifest", Since: ops.Version{Major: 3, Minor: 7},
		Usage: "write a backup manifest (rsync backups; --manifest=false: do not)"},
	// A backup waits for its WAL, so that it ends DONE or FAILED rather
	// than WAITING_FOR_WALS.
	{Type: ops.BackupOp, Kind: ops.KindAlways, Command: backupCmd, Flag: "--wait", Since: ops.Version{Major: 2, Minor: 10}},

	// `barman keep` came with Barman 2.14, with --target and --release;
	// every keep gives one of the two, so the command is gated by them.
	// (`barman delete` is older than Barman 2.0 and takes no option.)
	{Type: ops.KeepOp, Key: "target", Kind: ops.KindEnum, Command: keepCmd, Flag: "--target", Since: ops.Version{Major: 2, Minor: 14},
		Values: []string{ops.KeepFull, ops.KeepStandalone}, Short: "t",
		Usage: "keep the backup with this recovery `TARGET`: full (it and the WAL to recover it to any later point) or standalone (only the WAL it needs to be consistent)"},
	// A drill restores on the Barman host itself, so only the options of
	// the local copy apply; the drill's own keys (sql, timeout, database,
	// user) are not Barman's.
	{Type: ops.KeepOp, Key: "release", Kind: ops.KindBool, Command: keepCmd, Flag: "--release", Since: ops.Version{Major: 2, Minor: 14},
		Usage: "remove the backup's keep instead, so that the retention policy applies to it again"},
})

// drillRows are the recovery options a drill takes, as the Recovery rows
// spell them. A drill restores on the Barman host itself, so only the
// target and the local copy's options apply; the drill's own keys (sql,
// timeout, database, user) are not Barman's.
var drillRows = []string{"target_time", "target_lsn", "target_xid", "target_name", "target_immediate", "target_tli", "target_action", "exclusive", "jobs"}

// drillTargetAction is the only target_action a drill takes: the drill
// waits for PostgreSQL to end recovery, which it does at a target only by
// promoting (PostgreSQL 12 and later pause there by default). ops adds it
// to a drill with a target that does not give it.
var drillTargetAction = ops.OptionSpec{Values: []string{"promote"},
	Want:  `"promote" (a drill waits for PostgreSQL to end recovery and take its queries, which "pause" and "shutdown" never let it do; leave target_action out: a drill with a target promotes)`,
	Usage: "what PostgreSQL does at the target: `ACTION` promote only, which a drill with a target gives anyway (needs a target)"}

// withDrillRows is tbl with a DrillOp row for each of drillRows, copied
// from its Recovery row (kind, flag, version gates), so that a drill's
// options are checked, gated and spelled exactly as a recovery's.
func withDrillRows(tbl ops.OptionTable) ops.OptionTable {
	for _, key := range drillRows {
		i := slices.IndexFunc(tbl, func(s ops.OptionSpec) bool { return s.Type == ops.Recovery && s.Key == key })
		if i < 0 {
			panic("barman: a drill takes recovery option " + key + ", which Options has no row for")
		}
		row := tbl[i]
		row.Type = ops.DrillOp
		if key == "target_action" {
			row.Values, row.Want, row.Usage = drillTargetAction.Values, drillTargetAction.Want, drillTargetAction.Usage
		}
		tbl = append(tbl, row)
	}
	return tbl
}

// Args returns the argv that runs op: the program, -c config so Barman
// reads the configuration the operation was validated against, the command
// and positionals the reference implementation's command table gives
// (recover, config-switch, config-update) or our extensions add (backup,
// keep, delete), then a recovery's --remote-ssh-command and the job's
// options as the Options table spells them, in its order. A recovery
// restores, and a keep or a delete acts on, the backup its backup_id
// resolved to when it was created: a shortcut such as "latest" may name a
// newer backup by now.
//
// A recovery's, a backup's, a keep's or a delete's job is read again as
// validation reads a request (ops.Policy.RecoveryJob, BackupJob, KeepJob,
// ops.DeleteJob, with c's policy and this package's Options): the file may
// have been written by another implementation or an older version of ours.
// Nothing from a payload may be read by Barman's argument parser as an
// option: an option's value is joined to it ("--remote-ssh-command=VALUE"),
// and a positional that starts with "-" is refused here as well as at
// validation.
func (c Command) Args(config string, op *ops.Operation) ([]string, error) {
	argv := c.base(config)
	policy := c.policy
	policy.Options = Options
	str := func(key string) string { s, _ := op.Job.String(key); return s }
	switch op.Type {
	case ops.Recovery:
		backupID, ro, err := policy.RecoveryJob(op)
		if err != nil {
			return nil, err
		}
		if err := positionals(op, "server", op.Server, "backup_id", backupID, "destination_directory", ro.DestinationDirectory); err != nil {
			return nil, err
		}
		argv = append(argv, recoverCmd, op.Server, backupID, ro.DestinationDirectory,
			"--remote-ssh-command="+ro.RemoteSSHCommand)
		return appendOptions(argv, op, ro.Options)
	case ops.BackupOp:
		if err := positionals(op, "server", op.Server); err != nil {
			return nil, err
		}
		bo, err := policy.BackupJob(op)
		if err != nil {
			return nil, err
		}
		return appendOptions(append(argv, backupCmd, op.Server), op, bo.Options)
	case ops.KeepOp:
		backupID, ko, err := policy.KeepJob(op)
		if err != nil {
			return nil, err
		}
		if err := positionals(op, "server", op.Server, "backup_id", backupID); err != nil {
			return nil, err
		}
		return appendOptions(append(argv, keepCmd, op.Server, backupID), op, ko.Options)
	case ops.DeleteOp:
		backupID, err := ops.DeleteJob(op)
		if err != nil {
			return nil, err
		}
		if err := positionals(op, "server", op.Server, "backup_id", backupID); err != nil {
			return nil, err
		}
		return append(argv, deleteCmd, op.Server, backupID), nil
	case ops.DrillOp:
		// Restored where the runner starts PostgreSQL on it, on this host:
		// no --remote-ssh-command, so Barman copies locally as its own user.
		backupID, do, err := policy.DrillJob(op)
		if err != nil {
			return nil, err
		}
		if policy.DrillDirectory == "" {
			return nil, fmt.Errorf("operation %s: drills are not configured: set [drills] directory in pg-backup-api's configuration file", op.ID)
		}
		dir := DrillDataDir(policy.DrillDirectory, op)
		if err := positionals(op, "server", op.Server, "backup_id", backupID, "directory", dir); err != nil {
			return nil, err
		}
		return appendOptions(append(argv, recoverCmd, op.Server, backupID, dir), op, do.Options)
	case ops.ConfigSwitch:
		if reset, _ := op.Job.Get("reset"); reset == true {
			if err := positionals(op, "server", op.Server); err != nil {
				return nil, err
			}
			return append(argv, "config-switch", op.Server, "--reset"), nil
		}
		if err := positionals(op, "server", op.Server, "model_name", str("model_name")); err != nil {
			return nil, err
		}
		return append(argv, "config-switch", op.Server, str("model_name")), nil
	case ops.ConfigUpdate:
		changes, _ := op.Job.Get("changes")
		arg, err := pyjson.EncodePython(changes)
		if err != nil {
			return nil, err
		}
		return append(argv, "config-update", string(arg)), nil
	}
	return nil, fmt.Errorf("operation %s has unknown type %q", op.ID, op.Type)
}

// DrillDataDir is the data directory a drill restores into: "data" in
// the drill's own directory, beside which the runner keeps PostgreSQL's
// socket, log and configuration.
func DrillDataDir(root string, op *ops.Operation) string {
	return filepath.Join(ops.DrillDir(root, op.Server, op.ID), "data")
}

// appendOptions spells op's options, read from this package's Options, as
// Barman's options.
func appendOptions(argv []string, op *ops.Operation, opts []ops.Option) ([]string, error) {
	for _, o := range opts {
		s := o.Spec
		switch v := o.Value.(type) {
		case nil: // KindAlways
			argv = append(argv, s.Flag)
		case bool:
			if v {
				argv = append(argv, s.Flag)
			} else if s.NoFlag != "" {
				argv = append(argv, s.NoFlag)
			}
		case int64:
			argv = append(argv, s.Flag+"="+strconv.FormatInt(v, 10))
		case time.Time:
			argv = append(argv, s.Flag+"="+barmanTime(v))
		case []ops.Tablespace:
			for _, ts := range v {
				argv = append(argv, s.Flag+"="+ts.Name+":"+ts.Location)
			}
		case string:
			argv = append(argv, s.Flag+"="+v)
		default:
			return nil, fmt.Errorf("operation %s: option %q has a value of type %T, which pg-backup-api cannot give Barman; this is a bug", op.ID, s.Key, v)
		}
	}
	return argv, nil
}

// barmanTime is how a target time is given to Barman: Python's str() of a
// datetime, in the local zone. Barman 3.4 turns the target into an epoch
// with time.mktime, which reads the wall clock as local time, so a time in
// another zone would select the wrong WAL; PostgreSQL reads the zone.
func barmanTime(t time.Time) string {
	return t.Local().Format("2006-01-02 15:04:05.999999-07:00")
}

// positionals refuses, for op, any of the (name, value) pairs whose value is
// empty or would read as an option.
func positionals(op *ops.Operation, pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if v := pairs[i+1]; v == "" || strings.HasPrefix(v, "-") {
			return fmt.Errorf("operation %s: %s %q cannot be given to Barman as an argument: it is empty or starts with \"-\", which Barman would read as an option", op.ID, pairs[i], v)
		}
	}
	return nil
}

// Version asks `barman -v` for the installed version.
func (c Command) Version() (ops.Version, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	argv := append(c.base(""), "-v")
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).Output()
	if err != nil {
		return ops.Version{}, fmt.Errorf("%s -v: %w", argv[0], err)
	}
	return ParseVersion(string(out))
}

// Diagnose runs `barman -c config diagnose` and returns the JSON it prints.
// The error says what was run and the last line Barman wrote to stderr.
func (c Command) Diagnose(ctx context.Context, config string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	argv := append(c.base(config), "diagnose")
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("cannot run %s: %v: %s", strings.Join(argv, " "), err, strings.TrimSpace(lastLine(stderr.String())))
	}
	if !json.Valid(out) {
		return nil, fmt.Errorf("barman diagnose did not print JSON")
	}
	return out, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}

// CheckResult is one line of `barman check`: a check's name, whether it
// passed, and Barman's hint in parentheses, if any.
type CheckResult struct {
	Name string
	OK   bool
	Hint string
}

// checkLine is a line of `barman check` as Barman's console writer prints
// it: "\tNAME: OK" or "\tNAME: FAILED (HINT)". The name is matched up to
// the first ": OK"/": FAILED", since hints hold colons of their own.
var checkLine = regexp.MustCompile(`^\t(.+?): (OK|FAILED)(?: \((.*)\))?$`)

// ansiEscape is a terminal colour code, which Barman adds on a tty.
var ansiEscape = regexp.MustCompile("\x1b\\[[0-9;]*m")

// ParseCheck reads the output of `barman check SERVER`.
func ParseCheck(out string) []CheckResult {
	var results []CheckResult
	for _, line := range strings.Split(ansiEscape.ReplaceAllString(out, ""), "\n") {
		m := checkLine.FindStringSubmatch(strings.TrimRight(line, "\r"))
		if m == nil {
			continue
		}
		results = append(results, CheckResult{Name: strings.TrimSpace(m[1]), OK: m[2] == "OK", Hint: m[3]})
	}
	return results
}

// Check runs `barman -c config check server` and returns its checks.
// Barman exits 1 when a check fails, so the exit status alone is no error:
// the run failed only when it printed no check at all (an unknown server,
// a broken configuration) or when ctx ended first, which kills Barman's
// whole process group (check runs ssh and PostgreSQL clients).
func (c Command) Check(ctx context.Context, config, server string) ([]CheckResult, error) {
	argv := append(c.base(config), "check", server)
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	// A grandchild holding stdout open must not keep us waiting.
	cmd.WaitDelay = 2 * time.Second
	start := time.Now()
	err := cmd.Run()
	if ctx.Err() != nil {
		return nil, fmt.Errorf("%s did not finish within %s and was killed", strings.Join(argv, " "), time.Since(start).Round(time.Second))
	}
	results := ParseCheck(stdout.String())
	if len(results) == 0 {
		if err == nil {
			err = errors.New("it printed no check")
		}
		why := lastLine(stderr.String())
		if why == "" {
			why = lastLine(stdout.String())
		}
		return nil, fmt.Errorf("cannot run %s: %v: %s", strings.Join(argv, " "), err, why)
	}
	return results, nil
}
