package ops

import (
	"fmt"
	"path"
	"slices"
	"strings"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/ini"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
)

// DefaultDeniedConfigKeys are the Barman options a config_update may not set
// unless the configuration allows them ([config_update] allow_keys). Each one
// makes Barman run a command of the sender's choosing, or read programs from
// or write into a directory of the sender's choosing, so whoever may send a
// config_update could otherwise run commands as Barman's user. The list is
// taken from ServerConfig.KEYS in Barman's barman/config.py (3.17): the hook
// scripts (every pre_/post_ *_script and *_retry_script), the commands
// (ssh_command, primary_ssh_command, encryption_passphrase_command, and the
// deprecated custom_compression_filter and custom_decompression_filter, run
// through a shell), path_prefix (where Barman finds the programs it runs),
// and the directories and staging paths Barman writes to. The patterns
// "*_script", "*_command" and "*_directory" also cover options of that kind
// that a later Barman adds.
var DefaultDeniedConfigKeys = []string{
	"*_script",
	"*_command",
	"*_directory",
	"custom_compression_filter",
	"custom_decompression_filter",
	"path_prefix",
	"staging_path",
	"local_staging_path",
	"recovery_staging_path",
}

// DefaultAdminConfigKeys are the Barman options a config_update may set only
// with the admin permission (or an entry of [config_update] allow_keys that
// names them): they move where Barman connects, and so which host it sends
// its credentials to and which passfile it reads (conninfo,
// streaming_conninfo, primary_conninfo, wal_conninfo and whatever conninfo
// a later Barman adds), or what it keeps (the retention policies, and
// minimum_redundancy, the floor below which neither retention nor a delete
// removes a backup) and how it takes backups (backup_method). A configure
// credential may still tune the rest (archiver, compression, bandwidth, ...).
var DefaultAdminConfigKeys = []string{
	"*conninfo",
	"*retention_policy",
	"retention_policy_mode",
	"minimum_redundancy",
	"backup_method",
}

// Policy is what validation checks a request against besides Barman's
// configuration and catalog: pg-backup-api's own configuration, and
// Barman's option table.
type Policy struct {
	// Options is Barman's option table (barman.Options), which the command
	// line wires in; without it recoveries and backups are refused (see
	// OptionTable).
	Options OptionTable
	// AllowConfigKeys lifts entries of DefaultDeniedConfigKeys: an option
	// matching one of these patterns may be set by a config_update unless
	// DenyConfigKeys names it too ([config_update] allow_keys).
	AllowConfigKeys []string
	// DenyConfigKeys are refused besides the default list, whatever
	// AllowConfigKeys says ([config_update] deny_keys).
	DenyConfigKeys []string
	// AllowNewServers lets a configure credential add server sections
	// ([config_update] allow_new_servers); otherwise a config_update that
	// names a server not in Barman's configuration needs admin.
	AllowNewServers bool
	// SSHDestinations limits the destination of a recovery's
	// remote_ssh_command to these globs ("postgres@db*"), matched against
	// the destination as written; empty allows any ([recovery]
	// ssh_destinations).
	SSHDestinations []string
	// SSHPrograms are absolute paths a remote_ssh_command may run besides
	// "ssh" ([recovery] ssh_programs).
	SSHPrograms []string
	// DrillDirectory is where drills restore, each into a directory of its
	// own ([drills] directory); "" refuses drills.
	DrillDirectory string
	// DrillTimeout is the timeout of a drill that gives none ([runner]
	// drill_timeout); 0 means DefaultDrillTimeout.
	DrillTimeout time.Duration
}

// CheckKeyPatterns reports the first entry of patterns that is not an option
// name, or a pattern of one with "*" standing for any run of characters.
func CheckKeyPatterns(patterns []string) error {
	for _, p := range patterns {
		if !configKeyPattern.MatchString(strings.ReplaceAll(p, "*", "x")) {
			return fmt.Errorf("%q is not a Barman option name nor a pattern of one (lower-case letters, digits, '_' and '*', e.g. \"post_backup_script\" or \"*_script\")", p)
		}
	}
	return nil
}

func matchesAny(patterns []string, key string) (string, bool) {
	for _, p := range patterns {
		if ok, _ := path.Match(p, key); ok {
			return p, true
		}
	}
	return "", false
}

// checkConfigKey refuses an option a config_update may not set.
func (p Policy) checkConfigKey(where, key string) error {
	if pat, ok := matchesAny(p.DenyConfigKeys, key); ok {
		return Errorf(EINVALID, "%s: option %q may not be set by config_update: [config_update] deny_keys refuses it (%q) in pg-backup-api's configuration file", where, key, pat)
	}
	pat, ok := matchesAny(DefaultDeniedConfigKeys, key)
	if !ok {
		return nil
	}
	if _, allowed := matchesAny(p.AllowConfigKeys, key); allowed {
		return nil
	}
	return Errorf(EINVALID, "%s: option %q may not be set by config_update: it makes Barman run a command or use a path of the sender's choosing (default deny list entry %q); to allow it, add %q to [config_update] allow_keys in pg-backup-api's configuration file", where, key, pat, key)
}

// reservedSection reports whether name is one of configparser's and Barman's
// own sections: [DEFAULT] reaches every server of its file and [barman] is
// Barman's global configuration. configparser compares section names exactly,
// but they are refused in any case so that nothing depends on that.
func reservedSection(name string) bool {
	return slices.ContainsFunc([]string{"DEFAULT", "barman"}, func(r string) bool { return strings.EqualFold(r, name) })
}

// checkInterpolation refuses a config_update value that would break
// Barman's configuration once written. Barman writes the value as it is into
// .barman.auto.conf, then every read interpolates it twice: configparser
// reads that file on its own (BasicInterpolation: "%%" is "%", "%(name)s"
// the named option of the section, anything else after "%" an error), and
// the result is set into the merged parser, which refuses a lone "%"
// (before_set) and interpolates it again. A value that fails either makes
// every read fail, so every request would answer 503 until someone edits
// the file by hand. References are checked against the options of the same
// change only: that is what is sure to be in the section when Barman reads it.
func checkInterpolation(where, key string, change map[string]string) error {
	v := change[key]
	if !strings.Contains(v, "%") {
		return nil
	}
	first := func(k string) (string, bool) { s, ok := change[k]; return s, ok }
	err := func() error {
		once, err := ini.Interpolate(key, v, first)
		if err != nil {
			return err
		}
		if err := ini.CheckSettable(key, once); err != nil {
			return fmt.Errorf("%q reads as %q, which holds a lone '%%'", v, once)
		}
		_, err = ini.Interpolate(key, once, func(k string) (string, bool) {
			raw, ok := change[k]
			if !ok {
				return "", false
			}
			s, err := ini.Interpolate(k, raw, first)
			return s, err == nil
		})
		return err
	}()
	if err == nil {
		return nil
	}
	msg := err.Error()
	if i := strings.LastIndex(msg, " (write "); i >= 0 && strings.HasSuffix(msg, ")") {
		msg = msg[:i]
	}
	return Errorf(EINVALID, "%s: the value of %q (%q) would break Barman's configuration: %s. Barman reads what config_update writes through its %%-interpolation twice (reading .barman.auto.conf, then merging it), and a value that fails makes every later read fail; write a literal %% as %%%%%%%%, and use %%(name)s only for an option set in the same change", where, key, v, msg)
}

// AdminChanges lists what in a config_update payload needs the admin
// permission rather than configure (see DefaultAdminConfigKeys and
// AllowNewServers), one phrase each ("option \"conninfo\" of server
// \"db1\""), in payload order; none for any other payload. cfg is Barman's
// configuration, to tell a new server from a known one; a section that
// cannot be read, or is a model, is not new. The door that knows the
// credential decides: the command line is Barman's user already, the HTTP
// API refuses a configure credential with these phrases. Malformed parts are
// passed over: validation refuses them.
func (p Policy) AdminChanges(cfg *BarmanConfig, payload *pyjson.Object) []string {
	if typ, _ := payload.String("type"); Type(typ) != ConfigUpdate {
		return nil
	}
	raw, _ := payload.Get("changes")
	changes, _ := raw.([]any)
	var need []string
	for _, c := range changes {
		change, ok := c.(*pyjson.Object)
		if !ok {
			continue
		}
		scope, _ := change.String("scope")
		nameKey := "model_name"
		if scope == "server" {
			nameKey = "server_name"
		} else if scope != "model" {
			continue
		}
		name, _ := change.String(nameKey)
		if scope == "server" && !p.AllowNewServers && cfg != nil && name != "" && !cfg.hasSection(name) {
			need = append(need, fmt.Sprintf("new server section %q (not in %s)", name, cfg.Path))
		}
		for _, k := range change.Keys() {
			if k == "scope" || k == nameKey {
				continue
			}
			if _, ok := matchesAny(DefaultAdminConfigKeys, k); !ok {
				continue
			}
			if _, allowed := matchesAny(p.AllowConfigKeys, k); allowed {
				continue
			}
			need = append(need, fmt.Sprintf("option %q of %s %q", k, scope, name))
		}
	}
	return need
}

// hasSection reports whether name is a section of the configuration: a
// server, a model, or one that cannot be read.
func (cfg *BarmanConfig) hasSection(name string) bool {
	_, server := cfg.Servers[name]
	_, model := cfg.Models[name]
	_, broken := cfg.Broken[name]
	return server || model || broken
}

// MaxExtraKeyBytes bounds the keys of a payload that no operation type reads
// (extras), taken together as JSON: they are kept in the job file as sent
// (the reference ignores keys it does not know, and clients tag operations
// with them), so without a bound each create could store up to the request
// body limit of data nobody uses, and fill the disk of barman_home.
const MaxExtraKeyBytes = 64 << 10

// readKeys are the payload keys each operation type's validation reads,
// besides its option table's rows. Only the keys of the payload's own type
// are left out of the extras: a key another type reads ("changes" in a
// recovery, "backup_name" in a keep) is checked by nobody, and would
// otherwise be stored unbounded. A drill's sql, timeout, database and user
// count as extras: they are small when valid.
var readKeys = map[Type][]string{
	Recovery:     {"backup_id", "remote_ssh_command", "destination_directory"},
	ConfigSwitch: {"model_name", "reset"},
	ConfigUpdate: {"changes"},
	KeepOp:       {"backup_id", "release"},
	DeleteOp:     {"backup_id"},
	DrillOp:      {"backup_id"},
}

// checkExtraKeys refuses a payload of type typ (as Validate read it) whose
// extra keys exceed MaxExtraKeyBytes.
func (p Policy) checkExtraKeys(typ Type, payload *pyjson.Object) error {
	read := func(k string) bool {
		return k == KeyType || slices.Contains(readKeys[typ], k) ||
			slices.ContainsFunc(p.Options, func(o OptionSpec) bool { return o.Type == typ && o.Key == k })
	}
	total := 0
	var biggest string
	biggestSize := -1
	for _, k := range payload.Keys() {
		if read(k) {
			continue
		}
		v, _ := payload.Get(k)
		enc, err := pyjson.EncodePython(v)
		if err != nil {
			return Errorf(EINVALID, "key %q: its value cannot be stored: %v", k, err)
		}
		n := len(k) + len(enc) + 6 // quotes, ": " and ", "
		total += n
		if n > biggestSize {
			biggest, biggestSize = k, n
		}
	}
	if total > MaxExtraKeyBytes {
		return Errorf(EINVALID, "the payload's keys that a %s does not read (kept in the job file as sent) take %d bytes, more than the %d allowed; the largest is %q (%d bytes): send less with the operation, or keep it elsewhere", typ, total, MaxExtraKeyBytes, biggest, biggestSize)
	}
	return nil
}
