package ops

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
)

// The options of an operation are the payload keys, beyond the reference's,
// that each become one option of Barman's command (our extension: the
// reference implementation ignores keys it does not know, so a payload that
// uses them stays valid there).
//
// Where the table lives, and why. Each option is one row of ONE table,
// OptionTable: payload key, kind of value, Barman's flag, the first Barman
// release that has it, and the operation type. The table is barman's
// (barman.Options, in barman/command.go): Barman's flag spellings and
// releases are Barman's business, and the argv is built from the same rows
// that validation and the version gates read, so the three cannot disagree.
// This package cannot import barman (it imports no adapter), so it declares
// the row type and validates by kind, and the table reaches it as data,
// through the port it already has for Barman: Barman.Options(), which the
// Service puts in the Policy it validates with (Policy.Options); the runner
// builds the argv in barman, which hands its own table to RecoveryJob and
// BackupJob. Without a table, a recovery or a backup is refused rather
// than validated with its options ignored: an ignored target_time would
// restore to the end of the WAL.
//
// What this package knows of an option is what the API promises about its
// payload key: the kind of value it takes and how options combine (at most
// one target; exclusive and target_action need one). It holds no flag
// spelling: OptionSpec.Flag is read only to name the option in messages.

// OptionKind is what values an option takes, and so how it is checked and
// how its value reaches Barman.
type OptionKind string

// The kinds of option values.
const (
	// KindBool: true or false. True gives Flag; false gives NoFlag when
	// the row has one, and nothing otherwise (Barman's default).
	KindBool OptionKind = "bool"
	// KindInt: a JSON integer from Min to Max (Max 0: no upper bound).
	KindInt OptionKind = "int"
	// KindEnum: one of Values.
	KindEnum OptionKind = "enum"
	// KindTime: a time with a zone; the value is a time.Time.
	KindTime OptionKind = "time"
	// KindLSN: a WAL location, X/X in hexadecimal.
	KindLSN OptionKind = "lsn"
	// KindXID: a positive transaction ID, a number or a string of digits.
	KindXID OptionKind = "xid"
	// KindRestorePoint: the name of a restore point, which Barman writes
	// unescaped into PostgreSQL's configuration.
	KindRestorePoint OptionKind = "restore_point"
	// KindTimeline: a timeline number, or one of Values ("current",
	// "latest").
	KindTimeline OptionKind = "timeline"
	// KindBackupName: a name for a new backup.
	KindBackupName OptionKind = "backup_name"
	// KindRemotePath: an absolute path on the recovery's target host, held
	// to destination_directory's policy (checkRemotePath).
	KindRemotePath OptionKind = "remote_path"
	// KindTablespaces: an object of tablespace name to a KindRemotePath
	// location; each pair gives Flag once (NAME:LOCATION), in the
	// object's order. The value is a []Tablespace.
	KindTablespaces OptionKind = "tablespaces"
	// KindFileName: the name of a file, without a directory.
	KindFileName OptionKind = "file_name"
	// KindBackupRef: an existing backup, by ID, name or shortcut (as a
	// recovery's backup_id), for Barman to resolve when it runs.
	KindBackupRef OptionKind = "backup_ref"
	// KindAlways: no payload key; the operation type itself always gives
	// Flag (a backup's --wait). It has a row so that its version is gated.
	KindAlways OptionKind = "always"
)

// OptionSpec is one row of the option table.
type OptionSpec struct {
	Type Type   // the operation type whose payload takes Key
	Key  string // the payload key ("" for KindAlways)
	Kind OptionKind
	// Command and Flag are Barman's subcommand and option ("recover",
	// "--target-time"); NoFlag is the option a KindBool false gives, if
	// any ("--no-get-wal").
	Command, Flag, NoFlag string
	// Since is the first Barman release that has Flag; zero for options
	// older than any Barman we support.
	Since Version
	// ValueSince are values that need a newer Barman than Since.
	ValueSince map[string]Version
	// FixedIn is the first release where Flag works as pg-backup-api gives
	// it, when releases from Since on have it but do not (zero: all do);
	// Broken says what those releases do wrong. An option Barman would
	// accept and then silently ignore is refused rather than run.
	FixedIn Version
	Broken  string
	// Target marks a recovery target: at most one is given.
	Target bool
	// Values are a KindEnum's values, or a KindTimeline's words.
	Values []string
	// Min and Max bound a KindInt (Max 0: no upper bound).
	Min, Max int64
	// Want says what a valid value is, for error messages ("a whole
	// number of parallel copy jobs from 1 to 64"); "" uses the kind's.
	Want string
	// Usage and Short are the CLI flag's help and one-letter alias; the
	// CLI's flag is named as Flag.
	Usage, Short string
}

// OptionTable is every option of every operation type, in the order the
// options are given to Barman.
type OptionTable []OptionSpec

// For returns the rows of operation type t, in order.
func (tbl OptionTable) For(t Type) []OptionSpec {
	var rows []OptionSpec
	for _, s := range tbl {
		if s.Type == t {
			rows = append(rows, s)
		}
	}
	return rows
}

// Option is one option a payload gives, read and checked.
type Option struct {
	Spec OptionSpec
	// Value is a bool (KindBool), an int64 (KindInt, KindXID, a numeric
	// KindTimeline), a time.Time (KindTime), a []Tablespace
	// (KindTablespaces) or a string (the rest); nil for KindAlways.
	Value any
}

// Tablespace is one relocation rule of a KindTablespaces option.
type Tablespace struct{ Name, Location string }

// Renders reports whether the option gives Barman anything: a false
// KindBool without NoFlag leaves Barman's default, and needs no release.
func (o Option) Renders() bool {
	if b, ok := o.Value.(bool); ok && o.Spec.Kind == KindBool {
		return b || o.Spec.NoFlag != ""
	}
	return true
}

// RecoveryOptions are a recovery as validation read it: what `barman
// recover` is given besides the server and the backup.
type RecoveryOptions struct {
	RemoteSSHCommand     string
	DestinationDirectory string
	// Target is the key of the recovery target given ("" for none);
	// TargetTime is its time when Target is "target_time".
	Target     string
	TargetTime time.Time
	// Options are every option the payload gives, in the table's order,
	// the target among them. A slice of table rows rather than a field per
	// option: a new Barman option is one row of the table, not a field, a
	// case of validation and a case of the argv.
	Options []Option
}

// Get returns the option key was given, if it was.
func (o *RecoveryOptions) Get(key string) (Option, bool) { return findOption(o.Options, key) }

// BackupOptions are a backup as validation read it: its options, in the
// table's order, ending with the rows the type always gives (--wait).
type BackupOptions struct {
	Options []Option
}

// Get returns the option key was given, if it was.
func (o *BackupOptions) Get(key string) (Option, bool) { return findOption(o.Options, key) }

func findOption(opts []Option, key string) (Option, bool) {
	for _, o := range opts {
		if o.Spec.Key == key && key != "" {
			return o, true
		}
	}
	return Option{}, false
}

// noTable refuses a request whose options cannot be read: a wiring fault.
func noTable(t Type) error {
	return Errorf(EINTERNAL, "%s: pg-backup-api was started without Barman's option table, so the request's options cannot be checked; this is a bug", t)
}

// readOptions reads the payload keys of t's rows, in the table's order.
func (tbl OptionTable) readOptions(t Type, payload *pyjson.Object) ([]Option, error) {
	rows := tbl.For(t)
	if len(rows) == 0 {
		return nil, noTable(t)
	}
	var opts []Option
	for _, spec := range rows {
		if spec.Kind == KindAlways {
			opts = append(opts, Option{Spec: spec})
			continue
		}
		v, ok := payload.Get(spec.Key)
		if !ok {
			continue
		}
		val, err := readOption(spec, v)
		if err != nil {
			return nil, err
		}
		opts = append(opts, Option{Spec: spec, Value: val})
	}
	return opts, nil
}

var lsnPattern = regexp.MustCompile(`^[0-9A-Fa-f]{1,8}/[0-9A-Fa-f]{1,8}$`)

// readOption checks v as the value of spec's key and returns it typed.
func readOption(spec OptionSpec, v any) (any, error) {
	key := spec.Key
	bad := func(format string, args ...any) (any, error) {
		return nil, Errorf(EINVALID, "%s: %q "+format, append([]any{spec.Type, key}, args...)...)
	}
	want := func(def string) string {
		if spec.Want != "" {
			return spec.Want
		}
		return def
	}
	str := func() (string, bool) {
		s, ok := v.(string)
		return s, ok && strings.IndexFunc(s, isControl) < 0
	}
	switch spec.Kind {
	case KindBool:
		b, ok := v.(bool)
		if !ok {
			return bad("must be true or false, got %s", describeValue(v))
		}
		return b, nil
	case KindInt:
		n, ok := intValue(v, false)
		if !ok || n < spec.Min || spec.Max > 0 && n > spec.Max {
			bounds := fmt.Sprintf("%d or more", spec.Min)
			if spec.Max > 0 {
				bounds = fmt.Sprintf("from %d to %d", spec.Min, spec.Max)
			}
			return bad("must be %s, got %s", want("a whole number "+bounds), describeValue(v))
		}
		return n, nil
	case KindEnum:
		s, _ := v.(string)
		if !slices.Contains(spec.Values, s) {
			return bad("must be %s, got %s", want(quotedList(spec.Values, "or")), describeValue(v))
		}
		return s, nil
	case KindTime:
		s, ok := v.(string)
		if !ok {
			return bad("must be a string holding a time with a zone, got %s", pyjson.TypeName(v))
		}
		t, err := ParseTargetTime(s)
		if err != nil {
			return nil, Errorf(EINVALID, "%s: %q: %v", spec.Type, key, err)
		}
		return t, nil
	case KindLSN:
		s, ok := str()
		if !ok || !lsnPattern.MatchString(s) {
			return bad("must be %s, got %s", want(`a WAL location as PostgreSQL writes it (X/X in hexadecimal, e.g. "0/3000060")`), describeValue(v))
		}
		return s, nil
	case KindXID:
		n, ok := intValue(v, true)
		if !ok || n < 1 {
			return bad("must be %s, got %s", want("a positive integer transaction ID (a number or a string of digits)"), describeValue(v))
		}
		return n, nil
	case KindRestorePoint:
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
		return s, nil
	case KindTimeline:
		if s, ok := v.(string); ok && slices.Contains(spec.Values, s) {
			return s, nil
		}
		n, ok := intValue(v, true)
		if !ok || n < 1 {
			return bad("must be %s, got %s", want("a timeline number (1 or more) or "+quotedList(spec.Values, "or")), describeValue(v))
		}
		return n, nil
	case KindBackupName:
		return readBackupName(spec, v)
	case KindRemotePath:
		p, ok := str()
		if !ok {
			return bad("must be an absolute path on the target host (a string without control characters), got %s", describeValue(v))
		}
		if err := checkRemotePath(key, p); err != nil {
			return nil, err
		}
		return p, nil
	case KindTablespaces:
		return readTablespaces(spec, v)
	case KindFileName:
		s, ok := str()
		if !ok || s == "" || s == "." || s == ".." || len(s) > 255 || strings.IndexFunc(s, func(r rune) bool { return !fileNameRune(r) }) >= 0 {
			return bad("must be %s, got %s", want("a file name of letters, digits and - _ . (no directory), e.g. \"postgresql.auto.conf\""), describeValue(v))
		}
		return s, nil
	case KindBackupRef:
		s, ok := str()
		switch {
		case !ok || strings.TrimSpace(s) == "":
			return bad("must be %s, got %s", want("a backup ID, a backup name or a shortcut (latest, latest-full, ...)"), describeValue(v))
		case strings.HasPrefix(s, "-"):
			return bad("is %q, which starts with \"-\": no backup ID, name or shortcut does", s)
		case len(s) > 255:
			return bad("is %d bytes long; no backup ID or name is longer than 255", len(s))
		}
		return s, nil
	}
	return nil, Errorf(EINTERNAL, "%s: %q has kind %q, which this version cannot check; this is a bug", spec.Type, key, spec.Kind)
}

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

func fileNameRune(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.'
}

// readTablespaces reads tablespace relocation rules: an object of name to
// location. Barman splits each rule at its first ':', so a name may not
// hold one; the location is a path on the target host, held to
// destination_directory's policy.
func readTablespaces(spec OptionSpec, v any) (any, error) {
	obj, ok := v.(*pyjson.Object)
	if !ok || len(obj.Keys()) == 0 {
		return nil, Errorf(EINVALID, `%s: %q must be an object of tablespace name to its new location on the target host, e.g. {"tbs1": "/srv/tbs1"}, got %s`, spec.Type, spec.Key, describeValue(v))
	}
	var rules []Tablespace
	for _, name := range obj.Keys() {
		switch {
		case strings.TrimSpace(name) == "":
			return nil, Errorf(EINVALID, "%s: %q has an empty tablespace name", spec.Type, spec.Key)
		case strings.ContainsRune(name, ':'):
			return nil, Errorf(EINVALID, "%s: %q: the tablespace name %q holds ':', which Barman reads as the end of the name", spec.Type, spec.Key, name)
		case len(name) > 63:
			return nil, Errorf(EINVALID, "%s: %q: the tablespace name %q is %d bytes long; PostgreSQL's names are at most 63", spec.Type, spec.Key, name, len(name))
		case strings.IndexFunc(name, isControl) >= 0:
			return nil, Errorf(EINVALID, "%s: %q: the tablespace name %q holds a control character", spec.Type, spec.Key, name)
		}
		raw, _ := obj.Get(name)
		loc, ok := raw.(string)
		if !ok {
			return nil, Errorf(EINVALID, "%s: %q: the location of tablespace %q must be an absolute path on the target host, got %s", spec.Type, spec.Key, name, describeValue(raw))
		}
		if err := checkRemotePath(spec.Key+"."+name, loc); err != nil {
			return nil, err
		}
		rules = append(rules, Tablespace{Name: name, Location: loc})
	}
	return rules, nil
}

// quotedList is `"a", "b" or "c"`.
func quotedList(values []string, last string) string {
	q := make([]string, len(values))
	for i, v := range values {
		q[i] = strconv.Quote(v)
	}
	if len(q) < 2 {
		return strings.Join(q, "")
	}
	return strings.Join(q[:len(q)-1], ", ") + " " + last + " " + q[len(q)-1]
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

// backupIDPattern is Barman's backup ID format, which a backup name may
// not take.
var backupIDPattern = regexp.MustCompile(`^\d{8}T\d{6}$`)

// reservedBackupNames are Barman's shortcuts (RESERVED_BACKUP_IDS, 3.13).
var reservedBackupNames = []string{"latest", "last", "oldest", "first", "last-failed", "latest-full", "last-full", "auto"}

func readBackupName(spec OptionSpec, raw any) (any, error) {
	where := fmt.Sprintf("%s: %q", spec.Type, spec.Key)
	name, ok := raw.(string)
	switch {
	case !ok:
		return nil, Errorf(EINVALID, `%s must be a string, got %s`, where, pyjson.TypeName(raw))
	case strings.TrimSpace(name) == "":
		return nil, Errorf(EINVALID, `%s must not be empty (leave it out for a backup without a name)`, where)
	case strings.IndexFunc(name, isControl) >= 0:
		return nil, Errorf(EINVALID, `%s contains a control character`, where)
	case len(name) > 255:
		return nil, Errorf(EINVALID, `%s is %d bytes long; at most 255 are accepted`, where, len(name))
	case strings.HasPrefix(name, "-"):
		return nil, Errorf(EINVALID, `%s %q starts with "-": a recovery could not name it, since Barman would read it as an option`, where, name)
	case backupIDPattern.MatchString(name):
		return nil, Errorf(EINVALID, `%s %q has the form of a backup ID, which Barman refuses as a name`, where, name)
	case slices.Contains(reservedBackupNames, name):
		return nil, Errorf(EINVALID, `%s %q is one of Barman's shortcuts (%s), which Barman refuses as a name`, where, name, strings.Join(reservedBackupNames, ", "))
	}
	return name, nil
}

// checkOptionVersions refuses an option the installed Barman lacks, naming
// the release that brings it.
func checkOptionVersions(t Type, opts []Option, installed Version) error {
	for _, o := range opts {
		if !o.Renders() {
			continue
		}
		s := o.Spec
		since, option := s.Since, s.Command+" "+s.Flag
		if s.NoFlag != "" {
			option += "/" + s.NoFlag
		}
		if str, ok := o.Value.(string); ok {
			if v, ok := s.ValueSince[str]; ok && since.Less(v) {
				since, option = v, option+" "+str
			}
		}
		what := fmt.Sprintf("%q", s.Key)
		if s.Kind == KindAlways {
			what = "a " + string(t) + " operation"
		}
		if installed.Less(since) {
			return Errorf(EINVALID, "%s: %s needs `barman %s`, which Barman added in %s; the installed Barman is %s (upgrade Barman to use it)", t, what, option, since, installed)
		}
		if s.FixedIn != (Version{}) && installed.Less(s.FixedIn) {
			return Errorf(EINVALID, "%s: %s needs Barman %s or later: the releases from %s until then %s; the installed Barman is %s (upgrade Barman to use it)", t, what, s.FixedIn, since, s.Broken, installed)
		}
	}
	return nil
}

func describeValue(v any) string {
	switch v := v.(type) {
	case string:
		return fmt.Sprintf("%q", v)
	case bool:
		return fmt.Sprintf("%t", v)
	case json.Number:
		return v.String()
	}
	return pyjson.TypeName(v)
}
