package ops

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
)

// Type is the kind of an operation, as the API and the job files spell it.
type Type string

// The documented operation types.
const (
	Recovery     Type = "recovery"
	ConfigSwitch Type = "config_switch"
	ConfigUpdate Type = "config_update"
	// BackupOp is our extension: `barman backup` on demand. The reference
	// implementation refuses the type.
	BackupOp Type = "backup"
	// KeepOp and DeleteOp are our extensions too: `barman keep` (or
	// `barman keep --release`) and `barman delete` of one backup.
	KeepOp   Type = "keep"
	DeleteOp Type = "delete"
)

// Types lists every operation type.
var Types = []Type{Recovery, ConfigSwitch, ConfigUpdate, BackupOp, KeepOp, DeleteOp, DrillOp}

// Known reports whether t is one of Types.
func (t Type) Known() bool { return slices.Contains(Types, t) }

// ServerScoped reports whether operations of type t belong to one server
// (/servers/NAME/operations) rather than to the Barman instance (/operations).
func (t Type) ServerScoped() bool {
	return t == Recovery || t == ConfigSwitch || t == BackupOp || t == KeepOp || t == DeleteOp || t == DrillOp
}

// LaneBackup is the lane of a scope's queue that backups run in: a backup
// takes hours, and Barman lets a recovery or a config_switch run meanwhile,
// so they do not wait behind it; backups still run one at a time. Keeps
// and deletes run there too, in order with the backups: they change the
// catalog a backup adds to, so "back up, then keep latest" or "delete the
// oldest, then back up" happen in the order they were asked for.
const LaneBackup = "backup"

// Lane is the lane of its scope's queue an operation of type t runs in:
// "" for the main one.
func (t Type) Lane() string {
	switch t {
	case BackupOp, KeepOp, DeleteOp:
		return LaneBackup
	case DrillOp:
		return LaneDrill
	}
	return ""
}

// Status is the documented state of an operation.
type Status string

// The documented statuses.
const (
	StatusDone       Status = "DONE"
	StatusFailed     Status = "FAILED"
	StatusInProgress Status = "IN_PROGRESS"
)

// Phase refines IN_PROGRESS and FAILED for people; it is our extension.
type Phase string

// Phases of an operation.
const (
	PhaseQueued    Phase = "queued"  // registered, waiting for its runner
	PhaseRunning   Phase = "running" // Barman is running for it
	PhaseDone      Phase = "done"
	PhaseFailed    Phase = "failed"
	PhaseLost      Phase = "lost"      // its runner died before recording a result
	PhaseCancelled Phase = "cancelled" // stopped on request; reads FAILED
	PhaseTimeout   Phase = "timeout"   // stopped when its time ran out; reads FAILED
	PhaseForeign   Phase = "foreign"   // registered by another implementation and not finished; not ours to run
)

// Keys we add to the job and output files. The first five are the reference
// implementation's; the rest are our extensions, which it ignores.
const (
	KeyType          = "type"
	KeyOperationType = "operation_type"
	KeyStartTime     = "start_time"
	KeySuccess       = "success"
	KeyEndTime       = "end_time"
	KeyOutput        = "output"
	KeyExitCode      = "exit_code"
	KeyExtension     = "pg_backup_api"
)

var reservedKeys = []string{KeyOperationType, KeyStartTime, KeySuccess, KeyEndTime, KeyOutput, KeyExitCode, KeyExtension}

// TimeLayout is Python's "%Y-%m-%dT%H:%M:%S.%f", the reference's time format
// (local time, no zone).
const TimeLayout = "2006-01-02T15:04:05.000000"

// Request is a validated request to create an operation.
type Request struct {
	Server  string // "" for the instance scope
	Type    Type
	Payload *pyjson.Object // the body as received
	// BackupID is the backup a recovery's, a keep's or a delete's
	// backup_id resolved to when it was validated. It is recorded, and
	// Barman is given it rather than backup_id: "latest" may name a newer
	// backup by the time Barman runs.
	BackupID string
	// Recovery, Backup and Keep are the payload of a recovery, a backup or
	// a keep as validation read it (nil for the other types).
	Recovery *RecoveryOptions
	Backup   *BackupOptions
	Keep     *KeepOptions
	Drill    *DrillOptions
}

// Operation is what the store knows of one operation.
type Operation struct {
	ID        string
	Server    string // "" for the instance scope
	Type      Type
	Status    Status
	Phase     Phase
	StartTime time.Time
	EndTime   time.Time
	ExitCode  *int
	Output    string
	Reason    string         // why an operation failed without Barman saying so
	Job       *pyjson.Object // the job file, or the output file once finished
	// Recorded is what we recorded of the operation beside the
	// reference's keys, as the store read it; nil when it is not ours.
	Recorded *Extension
	// BarmanArgv is the argv that runs the operation, secrets masked, when
	// a door has worked it out for people (Service.BarmanArgv, an HTTP
	// answer's detail); nil otherwise. The runner builds its own.
	BarmanArgv []string
}

// Duration is how long the operation ran, or has been running.
func (op *Operation) Duration(now time.Time) time.Duration {
	if op.StartTime.IsZero() {
		return 0
	}
	end := op.EndTime
	if end.IsZero() {
		end = now
	}
	return end.Sub(op.StartTime)
}

// ValidName reports whether s is safe as a server, model or operation name,
// before it becomes part of a file path or an INI section header: a letter
// or digit, then up to 127 letters, digits, '.', '_' or '-', and never "..".
// It is the one definition of a valid name; every door checks names here.
func ValidName(s string) bool {
	if len(s) == 0 || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case i > 0 && (c == '.' || c == '_' || c == '-'):
		default:
			return false
		}
	}
	return !strings.Contains(s, "..")
}

// configKeyPattern keeps config_update from writing anything but a plain
// "key = value" line into Barman's configuration.
var configKeyPattern = regexp.MustCompile(`^[a-z][a-z0-9_]{0,63}$`)

// Validate checks payload as a request for the scope of server ("" for the
// instance) against Barman's configuration and backup catalog, and against
// p. It is the one validation path for every door: CLI and HTTP alike.
func (p Policy) Validate(cfg *BarmanConfig, catalog Catalog, server string, payload *pyjson.Object) (*Request, error) {
	if server != "" {
		if !ValidName(server) {
			return nil, Errorf(ENOTFOUND, "server %q is not in %s: not a valid server name (known: %s)", server, cfg.Path, cfg.serverList())
		}
		if _, err := cfg.Server(server); err != nil {
			return nil, err
		}
	}
	for _, k := range reservedKeys {
		if _, ok := payload.Get(k); ok {
			return nil, Errorf(EINVALID, "key %q is reserved for the operation's record and cannot be sent", k)
		}
	}
	if payload.Lossy() {
		return nil, Errorf(EINVALID, `the payload has a lone UTF-16 surrogate escape (such as "\ud800"), which is not a character; send the text as UTF-8 or as a surrogate pair`)
	}

	var t Type
	switch raw, ok := payload.Get(KeyType); {
	case !ok && server != "":
		t = Recovery // as the reference does
	case !ok:
		return nil, Errorf(EINVALID, `"type" is required: instance operations support %q`, ConfigUpdate)
	default:
		s, isString := raw.(string)
		if !isString {
			return nil, Errorf(EINVALID, `"type" must be a string, got %s`, pyjson.TypeName(raw))
		}
		t = Type(s)
	}

	switch {
	case !t.Known():
		return nil, Errorf(EINVALID, "unknown operation type %q: expected one of %s", t, typeList())
	case t.ServerScoped() && server == "":
		return nil, Errorf(EINVALID, "%s is a server operation: send it to a server's operations (/servers/NAME/operations, or --server NAME)", t)
	case !t.ServerScoped() && server != "":
		return nil, Errorf(EINVALID, "%s is an instance operation: send it to /operations, not to server %q", t, server)
	}

	req := &Request{Server: server, Type: t, Payload: payload}
	var err error
	switch t {
	case Recovery:
		err = p.validateRecovery(cfg, catalog, req)
	case ConfigSwitch:
		err = validateConfigSwitch(cfg, req)
	case ConfigUpdate:
		err = p.validateConfigUpdate(req)
	case BackupOp:
		err = p.validateBackup(req)
	case KeepOp:
		err = p.validateKeep(cfg, catalog, req)
	case DeleteOp:
		err = validateDelete(cfg, catalog, req)
	case DrillOp:
		err = p.validateDrill(cfg, catalog, req)
	}
	if err != nil {
		return nil, err
	}
	// After the type's own checks, whose messages are more precise about
	// the values they know: this one catches the rest, extra keys included.
	if err := checkControls(payload, ""); err != nil {
		return nil, err
	}
	if err := p.checkExtraKeys(payload); err != nil {
		return nil, err
	}
	return req, nil
}

func typeList() string {
	s := make([]string, len(Types))
	for i, t := range Types {
		s[i] = string(t)
	}
	return strings.Join(s, ", ")
}

// requiredString returns payload[key] if it is a non-empty string with no
// control characters.
func requiredString(payload *pyjson.Object, op Type, key string) (string, error) {
	raw, ok := payload.Get(key)
	if !ok {
		return "", Errorf(EINVALID, "%s needs %q", op, key)
	}
	s, ok := raw.(string)
	if !ok {
		return "", Errorf(EINVALID, "%s: %q must be a string, got %s", op, key, pyjson.TypeName(raw))
	}
	if strings.TrimSpace(s) == "" {
		return "", Errorf(EINVALID, "%s: %q must not be empty", op, key)
	}
	if len(s) > maxArgBytes {
		return "", Errorf(EINVALID, "%s: %q is %d bytes long; one argument of Barman's command line can be at most %d", op, key, len(s), maxArgBytes)
	}
	if i := strings.IndexFunc(s, isControl); i >= 0 {
		return "", Errorf(EINVALID, "%s: %q contains a control character (%q at byte %d)", op, key, s[i], i)
	}
	return s, nil
}

func isControl(r rune) bool { return r < 0x20 || r == 0x7f }

// checkControls refuses control characters anywhere in a payload, extra keys
// included, since every key and value is stored and shown: in a key none at
// all (C0, DEL, C1); in a string value none but tab, line feed and carriage
// return, which free text may hold. Values that reach Barman are held to
// more (requiredString, validateChange). Terminal escape sequences start
// with ESC or a C1 control, so none can be stored; nor can the
// bidirectional embeddings, overrides and isolates (isBidiFormatting).
func checkControls(v any, where string) error {
	switch v := v.(type) {
	case *pyjson.Object:
		for _, k := range v.Keys() {
			at := k
			if where != "" {
				at = where + "." + k
			}
			if i := strings.IndexFunc(k, isKeyControl); i >= 0 {
				r, _ := utf8.DecodeRuneInString(k[i:])
				if !unicode.IsControl(r) {
					return Errorf(EINVALID, "key %q contains a bidirectional formatting character (%U at byte %d); keys never hold them", at, r, i)
				}
				return Errorf(EINVALID, "key %q contains a control character (%U at byte %d); keys never hold control characters", at, r, i)
			}
			child, _ := v.Get(k)
			if err := checkControls(child, at); err != nil {
				return err
			}
		}
	case []any:
		for i, e := range v {
			if err := checkControls(e, fmt.Sprintf("%s[%d]", where, i)); err != nil {
				return err
			}
		}
	case string:
		if i := strings.IndexFunc(v, isValueControl); i >= 0 {
			r, _ := utf8.DecodeRuneInString(v[i:])
			if isBidiFormatting(r) {
				return Errorf(EINVALID, "the value of %q contains a bidirectional embedding, override or isolate (%U at byte %d), which can make text read in another order than it is stored; remove it", where, r, i)
			}
			return Errorf(EINVALID, "the value of %q contains a control character (%U at byte %d); only tab, line feed and carriage return are accepted in text", where, r, i)
		}
	}
	return nil
}

func isValueControl(r rune) bool {
	return unicode.IsControl(r) && r != '\t' && r != '\n' && r != '\r' || isBidiFormatting(r)
}

// isBidiFormatting: the explicit directional embeddings, overrides and
// isolates, with which stored text can be shown in an order other than its
// bytes' (Trojan Source, CVE-2021-42574). The directional marks (U+200E,
// U+200F, U+061C) only nudge neighbouring punctuation and may appear in
// right-to-left free text; keys refuse them too.
func isBidiFormatting(r rune) bool {
	return r >= 0x202A && r <= 0x202E || r >= 0x2066 && r <= 0x2069
}

func isKeyControl(r rune) bool {
	return unicode.IsControl(r) || isBidiFormatting(r) || r == 0x200E || r == 0x200F || r == 0x061C
}

// requiredPositional is requiredString for a value that reaches Barman as a
// positional argument (a backup ID, a model name): one that starts with "-"
// would be read by Barman's parser as an option, so it is refused.
func requiredPositional(payload *pyjson.Object, op Type, key string) (string, error) {
	s, err := requiredString(payload, op, key)
	if err != nil {
		return "", err
	}
	if strings.HasPrefix(s, "-") {
		return "", Errorf(EINVALID, "%s: %q is %q, which starts with \"-\": Barman would read it as an option; no %s starts with \"-\"", op, key, s, strings.ReplaceAll(key, "_", " "))
	}
	return s, nil
}

// maxArgBytes is the longest single argument Linux passes to a program
// (MAX_ARG_STRLEN: 32 pages of 4 KiB, less the terminating NUL). A longer
// value would be recorded, then fail to start Barman every time.
const maxArgBytes = 32*4096 - 1

func (p Policy) validateRecovery(cfg *BarmanConfig, catalog Catalog, req *Request) error {
	// The options first: a target_time may choose the backup.
	ro, err := p.readRecoveryOptions(req.Payload)
	if err != nil {
		return err
	}
	targetTime := ro.TargetTime
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
	// With a target_time, the recovery window is checked before a backup
	// is chosen or resolved: its bounds are what the caller can act on.
	var cat *ServerCatalog
	if !targetTime.IsZero() || auto {
		cat = readWindow(catalog, server)
	}
	if !targetTime.IsZero() {
		if err := checkTargetWindow(req.Server, targetTime, cat); err != nil {
			return err
		}
	}
	var backup CatalogBackup
	if auto {
		tli, err := autoTimeline(req.Server, ro, cat)
		if err != nil {
			return err
		}
		var backups []CatalogBackup
		if cat != nil {
			backups = cat.Backups
		} else {
			lister, ok := catalog.(BackupLister)
			if !ok {
				return Errorf(EUNAVAILABLE, `recovery: the backup catalog cannot be listed here, so "backup_id" "auto" cannot choose a backup; name the backup`)
			}
			if backups, err = lister.ListBackups(server); err != nil {
				return err
			}
		}
		if backup, err = chooseAutoBackup(req.Server, backups, ro, tli); err != nil {
			return err
		}
	} else {
		if backup, err = catalog.ResolveBackup(server, backupID); err != nil {
			return err
		}
		if backup.Status != BackupDone {
			return Errorf(EINVALID, "backup %s of server %q has status %s; only a DONE backup can be recovered", backup.ID, req.Server, backup.Status)
		}
	}
	if !targetTime.IsZero() {
		if err := checkTargetTime(req.Server, targetTime, backup); err != nil {
			return err
		}
	}
	req.BackupID = backup.ID
	req.Recovery = ro
	return nil
}

func validateConfigSwitch(cfg *BarmanConfig, req *Request) error {
	_, hasModel := req.Payload.Get("model_name")
	rawReset, hasReset := req.Payload.Get("reset")
	switch {
	case hasModel && hasReset:
		return Errorf(EINVALID, `config_switch takes either "model_name" or "reset": true, not both`)
	case !hasModel && !hasReset:
		return Errorf(EINVALID, `config_switch needs "model_name" (a model to apply) or "reset": true (to remove the active model)`)
	case hasReset:
		if b, ok := rawReset.(bool); !ok || !b {
			return Errorf(EINVALID, `config_switch: "reset" must be true when given (got %s); to apply a model send "model_name"`, describeValue(rawReset))
		}
		return nil
	}
	name, err := requiredPositional(req.Payload, ConfigSwitch, "model_name")
	if err != nil {
		return err
	}
	model, err := cfg.Model(name)
	if err != nil {
		return err
	}
	server, err := cfg.Server(req.Server)
	if err != nil {
		return err
	}
	if model.Cluster != server.Cluster {
		return Errorf(EINVALID, "model %q belongs to cluster %q, but server %q is in cluster %q", name, model.Cluster, req.Server, server.Cluster)
	}
	return nil
}

func (p Policy) validateConfigUpdate(req *Request) error {
	raw, ok := req.Payload.Get("changes")
	if !ok {
		return Errorf(EINVALID, `config_update needs "changes": an array of objects, each with "scope" and "server_name" or "model_name"`)
	}
	changes, ok := raw.([]any)
	if !ok {
		return Errorf(EINVALID, `config_update: "changes" must be an array, got %s`, pyjson.TypeName(raw))
	}
	// An empty array is accepted, as the reference accepts it: Barman is
	// run, changes nothing and exits 0.
	const maxChanges = 1000
	if len(changes) > maxChanges {
		return Errorf(EINVALID, `config_update: "changes" has %d entries; at most %d are accepted`, len(changes), maxChanges)
	}
	for i, c := range changes {
		change, ok := c.(*pyjson.Object)
		if !ok {
			return Errorf(EINVALID, "config_update: changes[%d] must be an object, got %s", i, pyjson.TypeName(c))
		}
		if err := p.validateChange(i, change); err != nil {
			return err
		}
	}
	// The changes reach Barman as one argument.
	if arg, err := pyjson.EncodePython(changes); err == nil && len(arg) > maxArgBytes {
		return Errorf(EINVALID, `config_update: "changes" is %d bytes long as Barman's argument; one argument of Barman's command line can be at most %d`, len(arg), maxArgBytes)
	}
	return nil
}

func (p Policy) validateChange(i int, change *pyjson.Object) error {
	where := fmt.Sprintf("config_update: changes[%d]", i)
	rawScope, ok := change.Get("scope")
	if !ok {
		return Errorf(EINVALID, `%s needs "scope": "server" or "model"`, where)
	}
	scope, _ := rawScope.(string)
	var nameKey string
	switch scope {
	case "server":
		nameKey = "server_name"
	case "model":
		nameKey = "model_name"
	default:
		return Errorf(EINVALID, `%s: "scope" must be "server" or "model", got %s`, where, describeValue(rawScope))
	}
	rawName, ok := change.Get(nameKey)
	if !ok {
		return Errorf(EINVALID, `%s has scope %q and so needs %q`, where, scope, nameKey)
	}
	name, ok := rawName.(string)
	if !ok {
		return Errorf(EINVALID, "%s: %q must be a string, got %s", where, nameKey, pyjson.TypeName(rawName))
	}
	if !ValidName(name) {
		return Errorf(EINVALID, "%s: %q is not a valid %s name: use letters, digits, '.', '_' and '-'", where, name, scope)
	}
	if reservedSection(name) {
		return Errorf(EINVALID, "%s: %q is not a valid %s name: [DEFAULT] would change every server and [barman] Barman's global settings (refused in any case); name one server or model", where, name, scope)
	}
	settings := 0
	values := map[string]string{}
	for _, k := range change.Keys() {
		if k == "scope" || k == nameKey {
			continue
		}
		if !configKeyPattern.MatchString(k) {
			return Errorf(EINVALID, "%s: %q is not a Barman option name (lower-case letters, digits and '_')", where, k)
		}
		if err := p.checkConfigKey(where, k); err != nil {
			return err
		}
		v, _ := change.Get(k)
		switch v := v.(type) {
		case string:
			if strings.IndexFunc(v, isControl) >= 0 {
				return Errorf(EINVALID, "%s: the value of %q contains a control character (a line break would change other settings)", where, k)
			}
			values[k] = v
		case bool, json.Number:
		default:
			return Errorf(EINVALID, "%s: the value of %q must be a string, number or boolean, got %s", where, k, pyjson.TypeName(v))
		}
		settings++
	}
	if settings == 0 {
		return Errorf(EINVALID, "%s changes no option: add at least one \"option\": \"value\"", where)
	}
	for _, k := range change.Keys() {
		if err := checkInterpolation(where, k, values); err != nil {
			return err
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
