package ops

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/bytesize"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
)

// DrillOp is a restore drill (our extension): the backup is restored on
// the Barman host into a scratch directory, PostgreSQL is started on it,
// queries are run, and everything is removed again.
const DrillOp Type = "drill"

// LaneDrill is the lane drills run in: a drill restores a whole backup and
// may take as long as a recovery, but it proves something rather than
// repairs it, so it never holds up a recovery in the main lane.
const LaneDrill = "drill"

// DefaultDrillTimeout limits a drill that gives no "timeout": a drill
// waits for PostgreSQL to end recovery, which a broken backup may never do.
const DefaultDrillTimeout = 2 * time.Hour

// The database and role a drill's queries use when the payload names none.
const (
	DefaultDrillDatabase = "postgres"
	DefaultDrillUser     = "postgres"
)

// DrillQuery is one query of a drill: it must succeed, and when Expect is
// set its first value (first column of the first row, as psql -At prints
// it; "" for no row) must equal it.
type DrillQuery struct {
	Query  string
	Expect *string
}

// DrillOptions are a drill as validation read it.
type DrillOptions struct {
	// Options are the table's rows for drills (barman recover options),
	// the target among them, then target_action promote when there is a
	// target (drillTargetAction).
	Options []Option
	// Target is the key of the recovery target given ("" for none);
	// TargetTime is its time when Target is "target_time".
	Target     string
	TargetTime time.Time
	Queries    []DrillQuery
	Timeout    time.Duration
	Database   string
	User       string
}

// DrillDir is where the drill of operation id on server restores: a
// directory of its own under the configured drills directory.
func DrillDir(root, server, id string) string {
	return filepath.Join(root, server, id)
}

// DrillPort is the port number in the name of a drill's PostgreSQL
// socket; nothing listens on TCP.
const DrillPort = "5432"

// MaxSocketPath is the longest Unix socket path Linux accepts: sun_path is
// 108 bytes, with the terminating NUL. PostgreSQL cannot listen on a
// longer path and does not start: a drill would learn it only after the
// whole restore, from PostgreSQL's log.
const MaxSocketPath = 107

// maxOperationIDLen is the longest operation ID the store gives
// (store.IDLayout, then a suffix "-9999" within one second): what a
// drill's directory name may be when its ID is not known yet.
const maxOperationIDLen = len("20060102T150405-9999")

// DrillSocketPath is the socket a drill's PostgreSQL listens on, in the
// drill's directory dir.
func DrillSocketPath(dir string) string {
	return filepath.Join(dir, ".s.PGSQL."+DrillPort)
}

// CheckDrillSocket refuses a drill whose PostgreSQL socket, in its
// directory under root, would be longer than the kernel allows. id is the
// operation's ID, or "" before it has one (then the longest the store
// gives is assumed).
func CheckDrillSocket(root, server, id string) error {
	name := id
	if name == "" {
		name = strings.Repeat("X", maxOperationIDLen)
	}
	path := DrillSocketPath(DrillDir(root, server, name))
	if len(path) <= MaxSocketPath {
		return nil
	}
	shown := path
	if id == "" {
		shown = DrillSocketPath(DrillDir(root, server, "<operation ID>"))
	}
	// What the rest of the path takes from the limit: the root may have
	// the remainder.
	allowed := MaxSocketPath - (len(path) - len(filepath.Clean(root)))
	fix := fmt.Sprintf("set a shorter [drills] directory (at most %d bytes for this server)", allowed)
	if allowed < len("/d") {
		fix = "the server's name alone is too long for a drill's socket; drill it under a shorter server name"
	}
	return Errorf(EUNAVAILABLE, "a drill of server %q cannot run under [drills] directory %s: its PostgreSQL socket, %s, would be %d bytes long, and a Unix socket path may be at most %d bytes (the kernel's sun_path); %s",
		server, root, shown, len(path), MaxSocketPath, fix)
}

// maxDrillQueries bounds a drill's "sql": each query is a psql run.
const maxDrillQueries = 100

// readDrillOptions reads a drill's payload (or job file): its Barman
// options, the target checked as a recovery's (readTarget), and its own
// keys.
func (p Policy) readDrillOptions(payload *pyjson.Object) (*DrillOptions, error) {
	opts, err := p.Options.readOptions(DrillOp, payload)
	if err != nil {
		return nil, err
	}
	ro, err := p.readTarget(DrillOp, opts)
	if err != nil {
		return nil, err
	}
	do, err := readDrillKeys(payload)
	if err != nil {
		return nil, err
	}
	do.Options, do.Target, do.TargetTime = p.drillTargetAction(ro), ro.Target, ro.TargetTime
	return do, nil
}

// drillTargetAction is ro's options with target_action promote when ro
// has a target and does not say it (the table refuses any other action
// for a drill). PostgreSQL 12 and later pause at a recovery target by
// default, and a paused PostgreSQL stays in recovery, which the drill
// waits to end; computed on every read, not written into the job, so the
// runner's argv follows the same rule.
func (p Policy) drillTargetAction(ro *RecoveryOptions) []Option {
	if _, ok := ro.Get("target_action"); ok || ro.Target == "" {
		return ro.Options
	}
	var opts []Option
	for _, spec := range p.Options.For(DrillOp) {
		if o, ok := findOption(ro.Options, spec.Key); ok {
			opts = append(opts, o)
		} else if spec.Key == "target_action" {
			opts = append(opts, Option{Spec: spec, Value: "promote"})
		}
	}
	return opts
}

// targets is do's target as a recovery's, for the checks both share.
func (do *DrillOptions) targets() *RecoveryOptions {
	return &RecoveryOptions{Target: do.Target, TargetTime: do.TargetTime, Options: do.Options}
}

// CheckDrillKeys checks a drill's own keys ("sql", "timeout", "database",
// "user") as a create does, without Barman's configuration: for a drill
// written down ahead of time, as a configured schedule's is.
func CheckDrillKeys(payload *pyjson.Object) error {
	_, err := readDrillKeys(payload)
	return err
}

func readDrillKeys(payload *pyjson.Object) (*DrillOptions, error) {
	var err error
	do := &DrillOptions{Timeout: DefaultDrillTimeout, Database: DefaultDrillDatabase, User: DefaultDrillUser}
	if raw, ok := payload.Get("sql"); ok {
		list, ok := raw.([]any)
		if !ok {
			return nil, Errorf(EINVALID, `drill: "sql" must be an array of objects such as {"query": "select count(*) from t", "expect": "3"}, got %s`, pyjson.TypeName(raw))
		}
		if len(list) > maxDrillQueries {
			return nil, Errorf(EINVALID, `drill: "sql" has %d queries; at most %d are accepted`, len(list), maxDrillQueries)
		}
		for i, e := range list {
			q, err := readDrillQuery(i, e)
			if err != nil {
				return nil, err
			}
			do.Queries = append(do.Queries, q)
		}
	}
	if raw, ok := payload.Get("timeout"); ok {
		if do.Timeout, err = readDrillTimeout(raw); err != nil {
			return nil, err
		}
	}
	for _, k := range []struct {
		key string
		dst *string
	}{{"database", &do.Database}, {"user", &do.User}} {
		if _, ok := payload.Get(k.key); !ok {
			continue
		}
		s, err := requiredString(payload, DrillOp, k.key)
		if err != nil {
			return nil, err
		}
		if strings.HasPrefix(s, "-") || len(s) > 63 {
			return nil, Errorf(EINVALID, `drill: %q is %q: a PostgreSQL %s name of at most 63 bytes that does not start with "-"`, k.key, s, k.key)
		}
		*k.dst = s
	}
	return do, nil
}

func readDrillQuery(i int, e any) (DrillQuery, error) {
	where := fmt.Sprintf("drill: sql[%d]", i)
	var q DrillQuery
	switch e := e.(type) {
	case string: // a bare query: it must succeed
		q.Query = e
	case *pyjson.Object:
		for _, k := range e.Keys() {
			if k != "query" && k != "expect" {
				return q, Errorf(EINVALID, `%s has the key %q; a query takes "query" and, optionally, "expect"`, where, k)
			}
		}
		raw, ok := e.Get("query")
		if !ok {
			return q, Errorf(EINVALID, `%s needs "query": the SQL to run`, where)
		}
		if q.Query, ok = raw.(string); !ok {
			return q, Errorf(EINVALID, `%s: "query" must be a string, got %s`, where, pyjson.TypeName(raw))
		}
		if raw, ok := e.Get("expect"); ok {
			var s string
			switch v := raw.(type) {
			case string:
				s = v
			case json.Number:
				s = v.String()
			case bool:
				s = map[bool]string{true: "t", false: "f"}[v] // as psql prints a boolean
			default:
				return q, Errorf(EINVALID, `%s: "expect" must be a string (the first value as psql -At prints it), got %s`, where, pyjson.TypeName(raw))
			}
			q.Expect = &s
		}
	default:
		return q, Errorf(EINVALID, `%s must be an object such as {"query": "select count(*) from t", "expect": "3"}, got %s`, where, pyjson.TypeName(e))
	}
	if strings.TrimSpace(q.Query) == "" {
		return q, Errorf(EINVALID, `%s: "query" must not be empty`, where)
	}
	if len(q.Query) > maxArgBytes {
		return q, Errorf(EINVALID, `%s: "query" is %d bytes long; at most %d are accepted`, where, len(q.Query), maxArgBytes)
	}
	if strings.ContainsRune(q.Query, 0) {
		return q, Errorf(EINVALID, `%s: "query" contains a NUL character`, where)
	}
	if strings.HasPrefix(q.Query, `\`) {
		// psql -c runs it as one of psql's own commands: \! runs a shell.
		return q, Errorf(EINVALID, `%s: "query" starts with a backslash, which psql runs as its own meta-command (\! runs a program on the Barman host), not as SQL; send SQL only`, where)
	}
	return q, nil
}

// readDrillTimeout reads "timeout": a duration such as "30m", or a whole
// number of seconds.
func readDrillTimeout(raw any) (time.Duration, error) {
	var d time.Duration
	switch v := raw.(type) {
	case string:
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, Errorf(EINVALID, `drill: "timeout" %q is not a duration such as "30m" or "2h"`, v)
		}
	case json.Number:
		n, err := v.Int64()
		if err != nil || n > int64(24*365*time.Hour/time.Second) {
			return 0, Errorf(EINVALID, `drill: "timeout" %s is not a whole number of seconds`, v)
		}
		d = time.Duration(n) * time.Second
	default:
		return 0, Errorf(EINVALID, `drill: "timeout" must be a duration such as "30m" or a number of seconds, got %s`, pyjson.TypeName(raw))
	}
	if d < time.Second {
		return 0, Errorf(EINVALID, `drill: "timeout" is %s; it must be 1s or more`, d)
	}
	return d, nil
}

// FreeBytes is how much room the file system holding dir has for an
// unprivileged writer. A variable so that tests can make a disk full.
var FreeBytes = func(dir string) (uint64, error) {
	var st syscall.Statfs_t
	if err := syscall.Statfs(dir, &st); err != nil {
		return 0, err
	}
	return st.Bavail * uint64(st.Bsize), nil
}

func (p Policy) validateDrill(cfg *BarmanConfig, catalog Catalog, req *Request) error {
	if p.DrillDirectory == "" {
		return Errorf(EUNAVAILABLE, "drills are not configured: set [drills] directory in pg-backup-api's configuration file to a directory on the Barman host, owned by Barman's user, with room for a restored backup")
	}
	do, err := p.readDrillOptions(req.Payload)
	if err != nil {
		return err
	}
	server, err := cfg.Server(req.Server)
	if err != nil {
		return err
	}
	if err := CheckDrillSocket(p.DrillDirectory, req.Server, ""); err != nil {
		return err
	}
	// As a recovery's: "auto", or left out with a target_time or a
	// target_lsn, chooses the backup from the target; left out otherwise,
	// the newest DONE backup, as "latest" names it (a drill's default
	// since before it took targets). A named backup, "latest" included,
	// that ended after the target is refused, as a recovery's is: the
	// operator named it.
	ro := do.targets()
	raw, hasID := req.Payload.Get("backup_id")
	auto := hasID && raw == AutoBackupID || !hasID && (ro.Target == "target_time" || ro.Target == "target_lsn")
	backupID := "latest"
	if hasID && !auto && raw != "latest" && raw != "last" {
		if backupID, err = requiredPositional(req.Payload, DrillOp, "backup_id"); err != nil {
			return err
		}
	}
	backup, cat, err := targetBackup(DrillOp, catalog, server, ro, auto, func() (CatalogBackup, error) {
		backup, err := catalog.ResolveBackup(server, backupID)
		if err == nil && backup.Status != BackupDone {
			err = Errorf(EINVALID, "backup %s of server %q has status %s; only a DONE backup can be drilled", backup.ID, req.Server, backup.Status)
		}
		return backup, err
	})
	if err != nil {
		return err
	}
	if cat == nil {
		cat = readWindow(catalog, server)
	}
	need := drillRoom(backup, ro, cat)
	if err := CheckDrillRoom(p.DrillDirectory, backup.ID, need); err != nil {
		return err
	}
	if _, ok := req.Payload.Get("timeout"); !ok && p.DrillTimeout > 0 {
		// Recorded in the job, so that the runner, which reads the job
		// and not this configuration, applies it, and a later change of
		// the default leaves a queued drill as it was created.
		req.Payload = req.Payload.Clone()
		req.Payload.Set("timeout", p.DrillTimeout.String())
		do.Timeout = p.DrillTimeout
	}
	req.BackupID = backup.ID
	req.Drill = do
	return nil
}

// drillRoom is the room a drill of backup to ro's target needs: the
// backup, and the WAL Barman copies. Without a target that is every WAL
// segment from the backup to the end of the archive: the WAL after it up
// to the next backup (its wal_size), and that of every newer backup. With
// a target_time Barman copies the WAL only up to the target, so a newer
// backup that began after it adds none.
func drillRoom(backup CatalogBackup, ro *RecoveryOptions, cat *ServerCatalog) int64 {
	need := backup.Size
	if cat == nil || !cat.WALKnown {
		return need
	}
	from := slices.IndexFunc(cat.Backups, func(b CatalogBackup) bool { return b.ID == backup.ID })
	if from < 0 {
		return need
	}
	for i, b := range cat.Backups[from:] {
		if i > 0 && !ro.TargetTime.IsZero() && !b.BeginTime.IsZero() && b.BeginTime.After(ro.TargetTime) {
			break
		}
		need += b.WALSize
	}
	return need
}

// CheckDrillRoom refuses a drill whose directory's file system has less
// room than need bytes (the backup and its WAL).
func CheckDrillRoom(dir, backupID string, need int64) error {
	free, err := FreeBytes(dir)
	if err != nil {
		return Errorf(EUNAVAILABLE, "drills directory %s cannot be used: %v; create it, owned by Barman's user, or change [drills] directory", dir, err)
	}
	if need > 0 && uint64(need) > free {
		return Errorf(ECONFLICT, "not enough room for a drill of backup %s in %s: it needs %s (the backup and its WAL), the file system has %s free; free some room or point [drills] directory elsewhere",
			backupID, dir, bytesize.String(uint64(need)), bytesize.String(free))
	}
	return nil
}

// DrillJob reads a drill's job file as validation reads a request, for the
// runner: the backup to restore and the drill's options.
func (p Policy) DrillJob(op *Operation) (backupID string, do *DrillOptions, err error) {
	defer func() {
		if err != nil {
			err = fmt.Errorf("operation %s: %w", op.ID, err)
		}
	}()
	if op.Job == nil {
		return "", nil, Errorf(EINVALID, "drill: the job file is empty")
	}
	if do, err = p.readDrillOptions(op.Job); err != nil {
		return "", nil, err
	}
	backupID = op.ResolvedBackupID()
	if backupID == "" || strings.HasPrefix(backupID, "-") {
		return "", nil, Errorf(EINVALID, "drill: the job records no usable resolved backup ID (%q); create the drill again", backupID)
	}
	return backupID, do, nil
}

// DrillLinePrefix starts each line a drill adds to its output.
const DrillLinePrefix = "pg-backup-api: drill: "

// DrillStepLine is the line (after DrillLinePrefix) that records a step
// that succeeded and how long it took; DrillSteps reads it back.
func DrillStepLine(step string, d time.Duration, note string) string {
	line := "step " + step + ": ok in " + d.String()
	if note != "" {
		line += " (" + note + ")"
	}
	return line
}

var drillStepPattern = regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(DrillLinePrefix) + `step ([a-z]+): ok in ([0-9.a-zµ]+)`)

// DrillSteps reads the steps a drill's output records as done, with their
// durations: restore, consistency, queries.
func DrillSteps(output string) map[string]time.Duration {
	steps := map[string]time.Duration{}
	for _, m := range drillStepPattern.FindAllStringSubmatch(output, -1) {
		if d, err := time.ParseDuration(m[2]); err == nil {
			steps[m[1]] = d
		}
	}
	return steps
}
