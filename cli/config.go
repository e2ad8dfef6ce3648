package cli

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/internal/jsonlog"
	"github.com/pg-backup-api/pg-backup-api/notify"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// DefaultConfigPath is the system-wide configuration file, the last place
// looked in (see findConfig).
const DefaultConfigPath = "/etc/pg-backup-api.toml"

// systemConfigPath is DefaultConfigPath; tests point it into their own
// directory, so that the machine's file never leaks in.
var systemConfigPath = DefaultConfigPath

// FileConfig is our own configuration file. Every key is documented in
// docs/configuration.md and in the commented default config shipped with the packages;
// flags override the environment, which overrides this file.
type FileConfig struct {
	// BarmanConfig is Barman's configuration file (default /etc/barman.conf).
	BarmanConfig string `toml:"barman_config"`
	// BarmanCommand runs Barman (default "barman"); split on spaces, no shell.
	BarmanCommand string       `toml:"barman_command"`
	Serve         ServeConfig  `toml:"serve"`
	Runner        RunnerConfig `toml:"runner"`
	// ConfigUpdate says which Barman options a config_update may set.
	ConfigUpdate ConfigUpdateConfig `toml:"config_update"`
	// Recovery limits what a recovery's remote_ssh_command may reach.
	Recovery RecoveryConfig `toml:"recovery"`
	// Remotes are serve instances on other Barman hosts, for --remote NAME.
	Remotes map[string]RemoteConfig `toml:"remotes"`
	// Notify says whom to tell when an operation ends ([[notify.webhooks]],
	// [[notify.commands]]).
	Notify notify.Config `toml:"notify"`
	// Metrics tunes what serve's /metrics reports.
	Metrics MetricsConfig `toml:"metrics"`
	// Drills says where restore drills restore ([drills]).
	Drills DrillsConfig `toml:"drills"`
}

// DrillsConfig is the [drills] table.
type DrillsConfig struct {
	// Directory is where drills restore backups, each into a directory
	// of its own that is removed when the drill ends; "" refuses drills.
	Directory string `toml:"directory"`
	// Schedule makes serve create drills on its own ([[drills.schedule]]).
	Schedule []DrillScheduleConfig `toml:"schedule"`
}

// MetricsConfig is the [metrics] table.
type MetricsConfig struct {
	// CheckInterval is how often serve runs `barman check` for each server
	// in the background (default 5m); a run still going after it is killed.
	CheckInterval Duration `toml:"check_interval"`
	// BarmanCheck false stops serve from running `barman check` at all
	// (default true), for a host whose checks are already watched another
	// way; the check series are then absent.
	BarmanCheck *bool `toml:"barman_check"`
}

// RunnerConfig is the [runner] table: how operations are run.
type RunnerConfig struct {
	// Parallel is how many operations of one server (or of the instance)
	// may run at once (default 1: one at a time, oldest first).
	Parallel int `toml:"parallel"`
	// Per-type limits on how long Barman may run (default 0: no limit).
	RecoveryTimeout     Duration `toml:"recovery_timeout"`
	ConfigSwitchTimeout Duration `toml:"config_switch_timeout"`
	ConfigUpdateTimeout Duration `toml:"config_update_timeout"`
	BackupTimeout       Duration `toml:"backup_timeout"`
	// DrillTimeout is the timeout of a drill that gives none (default
	// ops.DefaultDrillTimeout); a drill's own "timeout" overrides it.
	DrillTimeout Duration `toml:"drill_timeout"`
}

// ConfigUpdateConfig is the [config_update] table. By default a
// config_update may not set the options of ops.DefaultDeniedConfigKeys,
// which run commands or name paths Barman writes to.
type ConfigUpdateConfig struct {
	// AllowKeys are option names or patterns ("*" for any run of
	// characters) lifted from the default deny list.
	AllowKeys []string `toml:"allow_keys"`
	// DenyKeys are refused besides the default list, whatever AllowKeys
	// says.
	DenyKeys []string `toml:"deny_keys"`
	// AllowNewServers lets a configure credential add server sections;
	// otherwise that needs admin (see ops.Policy.AdminChanges).
	AllowNewServers bool `toml:"allow_new_servers"`
}

// RecoveryConfig is the [recovery] table: a recovery's remote_ssh_command
// is always an ssh invocation; these narrow it further.
type RecoveryConfig struct {
	// SSHDestinations are globs the ssh destination must match
	// ("postgres@db*"); empty allows any.
	SSHDestinations []string `toml:"ssh_destinations"`
	// SSHPrograms are absolute paths allowed as the program besides "ssh".
	SSHPrograms []string `toml:"ssh_programs"`
}

// policy is what the [config_update] and [recovery] tables add to
// validation.
func (f *FileConfig) policy() ops.Policy {
	return ops.Policy{
		AllowConfigKeys: f.ConfigUpdate.AllowKeys, DenyConfigKeys: f.ConfigUpdate.DenyKeys, AllowNewServers: f.ConfigUpdate.AllowNewServers,
		SSHDestinations: f.Recovery.SSHDestinations, SSHPrograms: f.Recovery.SSHPrograms,
		DrillDirectory: f.Drills.Directory, DrillTimeout: f.Runner.DrillTimeout.Duration,
	}
}

// Duration reads a TOML string such as "90m" or "6h".
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(string(text))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as \"90m\" or \"6h\"", text)
	}
	if v < 0 {
		return fmt.Errorf("%q is negative", text)
	}
	d.Duration = v
	return nil
}

// timeouts returns the per-type timeouts that are set.
func (r RunnerConfig) timeouts() map[ops.Type]time.Duration {
	return map[ops.Type]time.Duration{
		ops.Recovery:     r.RecoveryTimeout.Duration,
		ops.ConfigSwitch: r.ConfigSwitchTimeout.Duration,
		ops.ConfigUpdate: r.ConfigUpdateTimeout.Duration,
		ops.BackupOp:     r.BackupTimeout.Duration,
	}
}

// ServeConfig is the [serve] table.
type ServeConfig struct {
	// Listen is the address serve listens on (default 127.0.0.1:7480).
	Listen string `toml:"listen"`
	// MaxBodyBytes limits a request body (default 1 MiB).
	MaxBodyBytes int64 `toml:"max_body_bytes"`
	// CreatesPerMinute limits the operations one credential creates per
	// minute (default httpd.DefaultCreatesPerMinute; negative: none).
	CreatesPerMinute int `toml:"creates_per_minute"`
	// MinFreeBytes is the free space of barman_home's file system below
	// which (and below 1 %) creates get 507 (default
	// httpd.DefaultMinFreeBytes; negative: never).
	MinFreeBytes int64 `toml:"min_free_bytes"`
	// TLSCert and TLSKey make serve speak HTTPS.
	TLSCert string `toml:"tls_cert"`
	TLSKey  string `toml:"tls_key"`
	// ClientCA asks clients for certificates signed by this CA (mutual
	// TLS); a verified certificate is a credential.
	ClientCA string `toml:"client_ca"`
	// AllowedSubjects limits client certificates to these whole subject
	// DNs ("CN=ops,O=Example", RFC 4514); never compared with a common
	// name alone. Entries may do everything.
	AllowedSubjects []string `toml:"allowed_subjects"`
	// AllowedCommonNames lets in certificates by their common name alone
	// (a certificate with exactly one CN). Entries may do everything.
	AllowedCommonNames []string `toml:"allowed_common_names"`
	// ClientSubjects are allowed certificates with their permissions.
	ClientSubjects []ClientSubjectConfig `toml:"client_subjects"`
	// AllowedHosts are Host names answered, besides loopback ones, when no
	// credentials are configured (against DNS rebinding).
	AllowedHosts []string `toml:"allowed_hosts"`
	// Timeouts of the HTTP server; see docs/security.md.
	ReadHeaderTimeout Duration `toml:"read_header_timeout"`
	ReadTimeout       Duration `toml:"read_timeout"`
	WriteTimeout      Duration `toml:"write_timeout"`
	IdleTimeout       Duration `toml:"idle_timeout"`
	// OpenStatus leaves GET /status open without credentials (default true).
	OpenStatus *bool `toml:"open_status"`
	// OpenMetrics leaves GET /metrics open without credentials (default
	// false).
	OpenMetrics bool `toml:"open_metrics"`
	// LogFormat is "text" (default) or "json": one object per line.
	LogFormat string `toml:"log_format"`
	// TrustedProxies are addresses or CIDR ranges whose X-Forwarded-For and
	// X-Forwarded-Proto headers are believed.
	TrustedProxies []string `toml:"trusted_proxies"`
	// Retention makes serve remove operations that ended longer ago than
	// this age ("90d", "720h"); empty keeps them all.
	Retention string `toml:"retention"`
	// Tokens are the bearer tokens accepted, stored as SHA-256 hashes
	// (pg-backup-api token create NAME prints one).
	Tokens []TokenConfig `toml:"tokens"`
}

// TokenConfig is one [[serve.tokens]] entry.
type TokenConfig struct {
	Name   string `toml:"name"`
	SHA256 string `toml:"sha256"`
	// Permissions are what the token may do (read, recover, configure,
	// delete, admin); absent means everything, as before permissions existed.
	Permissions []string `toml:"permissions"`
}

// ClientSubjectConfig is one [[serve.client_subjects]] entry: a whole
// subject DN or a common name, and what a certificate with it may do.
type ClientSubjectConfig struct {
	Subject     string   `toml:"subject"`
	CommonName  string   `toml:"common_name"`
	Permissions []string `toml:"permissions"`
}

// knownKeys lists every key of the config file, for error messages.
var knownKeys = []string{
	"barman_config", "barman_command", "serve.listen", "serve.max_body_bytes", "serve.creates_per_minute", "serve.min_free_bytes",
	"serve.tls_cert", "serve.tls_key", "serve.client_ca", "serve.allowed_subjects", "serve.allowed_common_names",
	"serve.client_subjects.subject", "serve.client_subjects.common_name", "serve.client_subjects.permissions",
	"serve.allowed_hosts", "serve.open_status", "serve.read_header_timeout", "serve.read_timeout", "serve.write_timeout", "serve.idle_timeout",
	"serve.open_metrics", "serve.log_format", "serve.trusted_proxies", "serve.retention", "serve.tokens.name", "serve.tokens.sha256", "serve.tokens.permissions",
	"runner.parallel", "runner.recovery_timeout", "runner.config_switch_timeout", "runner.config_update_timeout", "runner.backup_timeout", "runner.drill_timeout",
	"config_update.allow_keys", "config_update.deny_keys", "config_update.allow_new_servers", "recovery.ssh_destinations", "recovery.ssh_programs",
	"remotes.NAME.url", "remotes.NAME.token", "remotes.NAME.ca_cert", "remotes.NAME.client_cert", "remotes.NAME.client_key",
	"notify.webhooks.url", "notify.webhooks.secret", "notify.webhooks.events", "notify.webhooks.timeout",
	"notify.commands.argv", "notify.commands.events", "notify.commands.timeout",
	"metrics.check_interval", "metrics.barman_check", "drills.directory",
	"drills.schedule.server", "drills.schedule.every", "drills.schedule.sql", "drills.schedule.backup_id", "drills.schedule.timeout",
}

// LoadFileConfig reads path. A missing file is an error only when required.
// Every error names the file.
func LoadFileConfig(path string, required bool) (*FileConfig, error) {
	var cfg FileConfig
	data, err := os.ReadFile(path)
	if err != nil {
		if !required && errors.Is(err, fs.ErrNotExist) {
			return &cfg, nil
		}
		var pe *fs.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, fmt.Errorf("cannot read configuration file %s: %v", path, err)
	}
	md, err := toml.Decode(string(data), &cfg)
	if err != nil {
		var pe toml.ParseError
		if errors.As(err, &pe) && pe.Position.Line > 0 {
			if pe.LastKey != "" {
				return nil, fmt.Errorf("%s:%d: %s: %s", path, pe.Position.Line, pe.LastKey, pe.Message)
			}
			return nil, fmt.Errorf("%s:%d: %s", path, pe.Position.Line, pe.Message)
		}
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if err := unknownKeys(path, string(data), md.Undecoded()); err != nil {
		return nil, err
	}
	for i, t := range cfg.Serve.Tokens {
		if t.Name == "" || len(t.SHA256) != 64 || strings.Trim(strings.ToLower(t.SHA256), "0123456789abcdef") != "" {
			return nil, fmt.Errorf("%s: serve.tokens[%d] needs a name and the 64 hex digits of sha256 (pg-backup-api token create NAME prints both)", path, i)
		}
	}
	if err := checkServeAccess(cfg.Serve); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if (cfg.Serve.TLSCert == "") != (cfg.Serve.TLSKey == "") {
		return nil, fmt.Errorf("%s: serve.tls_cert and serve.tls_key go together", path)
	}
	if cfg.Serve.ClientCA != "" && cfg.Serve.TLSCert == "" {
		return nil, fmt.Errorf("%s: serve.client_ca needs serve.tls_cert and serve.tls_key (client certificates come with TLS)", path)
	}
	if cfg.Serve.Retention != "" {
		if _, err := parseAge(cfg.Serve.Retention); err != nil {
			return nil, fmt.Errorf("%s: serve.retention %q: %v", path, cfg.Serve.Retention, err)
		}
	}
	if _, err := jsonlog.ParseFormat(cfg.Serve.LogFormat); err != nil {
		return nil, fmt.Errorf("%s: serve.log_format: %v", path, err)
	}
	if err := cfg.Notify.Validate(); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if err := ops.CheckKeyPatterns(cfg.ConfigUpdate.AllowKeys); err != nil {
		return nil, fmt.Errorf("%s: config_update.allow_keys: %v", path, err)
	}
	if err := ops.CheckKeyPatterns(cfg.ConfigUpdate.DenyKeys); err != nil {
		return nil, fmt.Errorf("%s: config_update.deny_keys: %v", path, err)
	}
	if err := ops.CheckSSHDestinationPatterns(cfg.Recovery.SSHDestinations); err != nil {
		return nil, fmt.Errorf("%s: recovery.ssh_destinations: %v", path, err)
	}
	if err := ops.CheckSSHPrograms(cfg.Recovery.SSHPrograms); err != nil {
		return nil, fmt.Errorf("%s: recovery.ssh_programs: %v", path, err)
	}
	if d := cfg.Metrics.CheckInterval.Duration; d != 0 && d < time.Second {
		return nil, fmt.Errorf("%s: metrics.check_interval is %s; it must be 1s or more (\"5m\" by default), or Barman would run without pause", path, d)
	}
	if d := cfg.Drills.Directory; d != "" && (!filepath.IsAbs(d) || filepath.Clean(d) == "/") {
		return nil, fmt.Errorf("%s: drills.directory %q must be an absolute path other than /, a directory of its own on the Barman host", path, d)
	}
	if d := cfg.Runner.DrillTimeout.Duration; d != 0 && d < time.Second {
		return nil, fmt.Errorf("%s: runner.drill_timeout is %s; it must be 1s or more (\"2h\" by default)", path, d)
	}
	if err := checkDrillSchedule(&cfg); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	if cfg.Runner.Parallel < 0 {
		return nil, fmt.Errorf("%s: runner.parallel is %d; it must be 1 or more (0 means the default, 1)", path, cfg.Runner.Parallel)
	}
	return &cfg, nil
}

// checkServeAccess refuses permissions, subjects and host names that
// would not mean what they seem to.
func checkServeAccess(sc ServeConfig) error {
	for i, t := range sc.Tokens {
		if t.Permissions != nil {
			if _, err := httpd.ParsePermissions(t.Permissions); err != nil {
				return fmt.Errorf("serve.tokens[%d] (%q) permissions: %v", i, t.Name, err)
			}
		}
	}
	for _, s := range sc.AllowedSubjects {
		if _, err := httpd.CanonicalDN(s); err != nil {
			return fmt.Errorf("serve.allowed_subjects: %v; entries are whole subjects such as \"CN=dba,O=Example\" "+
				"(to let in a certificate by its common name alone, list the name in serve.allowed_common_names)", err)
		}
	}
	for _, cn := range sc.AllowedCommonNames {
		if strings.TrimSpace(cn) == "" {
			return fmt.Errorf("serve.allowed_common_names has an empty name")
		}
	}
	for i, cs := range sc.ClientSubjects {
		if (cs.Subject == "") == (cs.CommonName == "") {
			return fmt.Errorf("serve.client_subjects[%d] needs exactly one of subject (a whole DN) and common_name", i)
		}
		if cs.Subject != "" {
			if _, err := httpd.CanonicalDN(cs.Subject); err != nil {
				return fmt.Errorf("serve.client_subjects[%d].subject: %v", i, err)
			}
		}
		if _, err := httpd.ParsePermissions(cs.Permissions); err != nil {
			return fmt.Errorf("serve.client_subjects[%d] permissions: %v", i, err)
		}
	}
	for _, h := range sc.AllowedHosts {
		if h == "" || strings.ContainsAny(h, "/@ \t") {
			return fmt.Errorf("serve.allowed_hosts: %q is not a host name (give the name alone, e.g. \"barman.example.org\")", h)
		}
	}
	return nil
}
