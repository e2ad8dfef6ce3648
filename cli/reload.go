package cli

import (
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"

	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/urfave/cli/v2"
)

// reloadHelp is serve's --help about SIGHUP, also the wording of docs/configuration.md.
const reloadHelp = "SIGHUP reloads the configuration file without dropping connections or stopping operations: " +
	"tokens, client-certificate rules (client_ca, allowed_subjects, allowed_common_names, client_subjects), " +
	"permissions, allowed_hosts, trusted_proxies, open_status, open_metrics, the TLS certificate and key " +
	"(new handshakes get the new certificate), [notify] and [[drills.schedule]]. A configuration that does not load (a syntax error, " +
	"an unreadable certificate, a key that does not match) is refused and logged, and serve goes on with the one it had. " +
	"Other settings (listen, TLS on or off, timeouts, max_body_bytes, log_format, retention, barman_config, barman_command, " +
	"[runner], [config_update], drills.directory) are logged as needing a restart and keep their running values. " +
	"The packaged systemd unit sends SIGHUP on `systemctl reload pg-backup-api`."

// servingTLS is serve's certificate and client CAs. The listener keeps its
// tls.Config for life; the config looks up the material on each handshake,
// so a reload changes what new handshakes get and leaves established
// connections as they are.
type servingTLS struct {
	cur atomic.Pointer[tlsMaterial]
}

// tlsMaterial is what one configuration's TLS files hold.
type tlsMaterial struct {
	cert *tls.Certificate
	// clientAuth is the handshake's config when serve.client_ca asks for
	// client certificates; nil otherwise. One per material, so its
	// session ticket keys last until the next reload.
	clientAuth *tls.Config
	// certSum and caSum tell whether a reload changed the files' content,
	// as a renewal does at the same paths.
	certSum, caSum [sha256.Size]byte
}

// loadTLSMaterial reads serve.tls_cert, serve.tls_key and serve.client_ca;
// nil when sc serves plain HTTP.
func loadTLSMaterial(sc ServeConfig, getCertificate func(*tls.ClientHelloInfo) (*tls.Certificate, error)) (*tlsMaterial, error) {
	if sc.TLSCert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(sc.TLSCert, sc.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("serve.tls_cert %s, serve.tls_key %s: %v", sc.TLSCert, sc.TLSKey, err)
	}
	m := &tlsMaterial{cert: &cert}
	for _, der := range cert.Certificate {
		m.certSum = sha256.Sum256(append(m.certSum[:], der...))
	}
	if sc.ClientCA != "" {
		pem, err := os.ReadFile(sc.ClientCA)
		if err != nil {
			return nil, fmt.Errorf("serve.client_ca: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("serve.client_ca: %s holds no PEM certificate", sc.ClientCA)
		}
		m.caSum = sha256.Sum256(pem)
		// Tokens still work without a certificate; one that is presented
		// must verify.
		m.clientAuth = &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: getCertificate,
			ClientCAs: pool, ClientAuth: tls.VerifyClientCertIfGiven}
	}
	return m, nil
}

// newServingTLS loads sc's TLS files; nil when sc serves plain HTTP.
func newServingTLS(sc ServeConfig) (*servingTLS, error) {
	s := &servingTLS{}
	m, err := loadTLSMaterial(sc, s.getCertificate)
	if m == nil || err != nil {
		return nil, err
	}
	s.cur.Store(m)
	return s, nil
}

func (s *servingTLS) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return s.cur.Load().cert, nil
}

// config is the listener's TLS configuration.
func (s *servingTLS) config() *tls.Config {
	return &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: s.getCertificate,
		GetConfigForClient: func(*tls.ClientHelloInfo) (*tls.Config, error) {
			// A nil config (no client_ca) is this one.
			return s.cur.Load().clientAuth, nil
		},
	}
}

// serveAccess is serve's access rules from sc, as serve starts and as a
// reload applies them, with the warnings about them.
func serveAccess(sc ServeConfig, insecure bool) (*httpd.Auth, []string, error) {
	auth, warnings, err := serveAuth(sc)
	if err != nil {
		return nil, nil, err
	}
	auth.InsecureHTTP = insecure
	auth.OpenMetrics = sc.OpenMetrics
	return auth, warnings, nil
}

// reloader applies the configuration file again on SIGHUP.
type reloader struct {
	st  *appState
	c   *cli.Context // serve's: the flags that override the file
	log *slog.Logger
	api *httpd.Server
	tls *servingTLS // nil: plain HTTP
	// wiring takes the reloaded notification settings.
	wiring        *serveWiring
	addr          string
	configExisted bool // a file that goes away is refused, not read as empty
	// started is the settings serve started with: those that need a
	// restart are compared with these. applied is the latest applied, and
	// appliedTLS its TLS files.
	started, applied settings
	appliedTLS       *tlsMaterial
}

// configPath is the configuration file serve started with, found by the
// same search as every command (--config, PG_BACKUP_API_CONFIG, the user's,
// the system's), for messages and the "file is gone" check.
func (r *reloader) configPath() string { return r.started.configPath }

// reload reads the configuration file again and applies what can change
// while serving. Nothing is applied unless all of it loads.
func (r *reloader) reload() {
	path := r.configPath()
	r.log.Info("SIGHUP: reloading the configuration", "file", path)
	next, err := r.prepare(path)
	if err != nil {
		r.log.Error("reload refused: serve goes on with the configuration it had; fix the file and send SIGHUP again",
			"file", path, "error", err.Error())
		return
	}
	r.apply(path, next)
}

// pending is a loaded configuration, ready to be applied.
type pending struct {
	s        settings
	auth     *httpd.Auth
	warnings []string
	tls      *tlsMaterial
	restart  []string // keys that need a restart
}

func (r *reloader) prepare(path string) (*pending, error) {
	if r.configExisted {
		// LoadFileConfig reads a missing default file as empty: here that
		// would drop every token.
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%s is gone; serve started with it, and without it would have no credentials", path)
		}
	}
	// load, on a copy: the same lookup, flags and checks as at start,
	// without touching the settings serve runs with.
	fresh := &appState{build: r.st.build}
	if err := fresh.load(r.c); err != nil {
		return nil, errors.New(strings.TrimPrefix(err.Error(), "pg-backup-api: "))
	}
	p := &pending{s: fresh.settings, restart: r.needRestart(fresh.settings)}
	sc := &p.s.file.Serve
	cur := r.applied.file.Serve
	if (sc.TLSCert != "") != (r.tls != nil) {
		// A file serve could not start with is refused now, not at the
		// restart that TLS on or off needs.
		if _, err := loadTLSMaterial(*sc, nil); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
		// The listener is TLS or not for life: keep the running TLS files.
		sc.TLSCert, sc.TLSKey, sc.ClientCA = cur.TLSCert, cur.TLSKey, cur.ClientCA
	}
	var err error
	if p.auth, p.warnings, err = serveAccess(*sc, r.c.Bool("insecure")); err != nil {
		return nil, fmt.Errorf("%s: %v", path, err)
	}
	p.warnings = append(p.warnings, p.s.file.Notify.Warnings()...)
	if bcfg, err := r.wiring.svc.Config(r.c.Context); err != nil {
		return nil, err
	} else if err := checkDrillServers(path, p.s.file.Drills.Schedule, bcfg); err != nil {
		return nil, err
	}
	if !p.auth.Enabled() && !isLoopback(r.addr) && !r.c.Bool("insecure") {
		return nil, fmt.Errorf("%s configures no tokens and no client_ca, and serve listens on %s, not loopback: "+
			"anyone who reaches it could restore over your databases (keep [[serve.tokens]] or serve.client_ca, or start serve with --insecure)", path, r.addr)
	}
	if r.tls != nil {
		if p.tls, err = loadTLSMaterial(*sc, r.tls.getCertificate); err != nil {
			return nil, fmt.Errorf("%s: %v", path, err)
		}
	}
	return p, nil
}

func (r *reloader) apply(path string, p *pending) {
	sc := p.s.file.Serve
	for _, w := range p.warnings {
		r.log.Warn(w)
	}
	changes := r.changes(p)
	r.api.SetAccess(p.auth, sc.AllowedHosts)
	if r.tls != nil {
		r.tls.cur.Store(p.tls)
	}
	if err := r.wiring.setNotify(p.s.file.Notify); err != nil {
		// The rest is applied: the events stay in the outbox for the
		// next attempt.
		r.log.Error("notification delivery not started; the events wait in the outbox for a reload or restart", "file", path, "error", err.Error())
	}
	r.wiring.setDrills(p.s.file.Drills.Schedule)
	for _, key := range p.restart {
		r.log.Warn("needs a restart: the running value is kept until serve restarts", "file", path, "key", key)
	}
	r.applied = p.s
	if r.tls != nil {
		r.appliedTLS = p.tls
	}
	if len(changes) == 0 {
		r.log.Info("configuration reloaded: nothing that a reload applies changed", "file", path)
		return
	}
	r.log.Info("configuration reloaded", "file", path, "changed", strings.Join(changes, "; "))
}

// changes says what applying p changes, without a secret: tokens by name.
func (r *reloader) changes(p *pending) []string {
	was, now := r.applied.file.Serve, p.s.file.Serve
	var out []string
	oldTok := map[string]TokenConfig{}
	for _, t := range was.Tokens {
		oldTok[t.Name] = t
	}
	newTok := map[string]TokenConfig{}
	for _, t := range now.Tokens {
		newTok[t.Name] = t
	}
	var added, removed, changed []string
	for name, t := range newTok {
		o, ok := oldTok[name]
		switch {
		case !ok:
			added = append(added, name)
		case !strings.EqualFold(o.SHA256, t.SHA256) || !reflect.DeepEqual(o.Permissions, t.Permissions):
			changed = append(changed, name)
		}
	}
	for name := range oldTok {
		if _, ok := newTok[name]; !ok {
			removed = append(removed, name)
		}
	}
	for _, l := range []struct {
		what  string
		names []string
	}{{"tokens added", added}, {"tokens removed", removed}, {"tokens changed", changed}} {
		if len(l.names) > 0 {
			slices.Sort(l.names)
			out = append(out, l.what+": "+strings.Join(l.names, ", "))
		}
	}
	for _, k := range []struct {
		key       string
		was, want any
	}{
		{"serve.client_ca", was.ClientCA, now.ClientCA},
		{"serve.allowed_subjects", was.AllowedSubjects, now.AllowedSubjects},
		{"serve.allowed_common_names", was.AllowedCommonNames, now.AllowedCommonNames},
		{"serve.client_subjects", was.ClientSubjects, now.ClientSubjects},
		{"serve.allowed_hosts", was.AllowedHosts, now.AllowedHosts},
		{"serve.trusted_proxies", was.TrustedProxies, now.TrustedProxies},
		{"serve.open_status", openStatus(was), openStatus(now)},
		{"serve.open_metrics", was.OpenMetrics, now.OpenMetrics},
		{"serve.tls_cert", was.TLSCert, now.TLSCert},
		{"serve.tls_key", was.TLSKey, now.TLSKey},
	} {
		if !sameValue(k.was, k.want) {
			out = append(out, k.key)
		}
	}
	if r.tls != nil && p.tls != nil {
		if old := r.appliedTLS; old == nil || old.certSum != p.tls.certSum {
			leaf := p.tls.cert.Leaf
			desc := "TLS certificate replaced for new connections"
			if leaf != nil {
				desc += fmt.Sprintf(" (subject %s, expires %s)", leaf.Subject, leaf.NotAfter.UTC().Format("2006-01-02T15:04:05Z"))
			}
			out = append(out, desc)
		} else if old.caSum != p.tls.caSum && was.ClientCA == now.ClientCA && now.ClientCA != "" {
			out = append(out, "serve.client_ca content")
		}
	}
	if !sameValue(r.applied.file.Drills.Schedule, p.s.file.Drills.Schedule) {
		out = append(out, fmt.Sprintf("drills.schedule (now %d entries)", len(p.s.file.Drills.Schedule)))
	}
	if !reflect.DeepEqual(r.applied.file.Notify, p.s.file.Notify) {
		n := p.s.file.Notify
		out = append(out, fmt.Sprintf("notify targets (now %d webhooks, %d commands)", len(n.Webhooks), len(n.Commands)))
	}
	return out
}

func openStatus(sc ServeConfig) bool { return sc.OpenStatus == nil || *sc.OpenStatus }

// sameValue is reflect.DeepEqual with nil and empty lists the same.
func sameValue(a, b any) bool {
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.Kind() == reflect.Slice && vb.Kind() == reflect.Slice && va.Len() == 0 && vb.Len() == 0 {
		return true
	}
	return reflect.DeepEqual(a, b)
}

// needRestart lists the keys of s that differ from what serve started
// with and that only a restart applies. A key a flag overrides is not the
// file's to change.
func (r *reloader) needRestart(s settings) []string {
	was, now := r.started.file, s.file
	flag := r.c.IsSet
	var keys []string
	for _, k := range []struct {
		key        string
		overridden bool
		was, now   any
	}{
		{"serve.listen", flag("listen") || flag("port"), was.Serve.Listen, now.Serve.Listen},
		{"serve.tls_cert (TLS on or off)", false, was.Serve.TLSCert != "", now.Serve.TLSCert != ""},
		{"serve.max_body_bytes", flag("max-body-bytes"), was.Serve.MaxBodyBytes, now.Serve.MaxBodyBytes},
		{"serve.log_format", flag("log-format"), was.Serve.LogFormat, now.Serve.LogFormat},
		{"serve.creates_per_minute", false, was.Serve.CreatesPerMinute, now.Serve.CreatesPerMinute},
		{"serve.min_free_bytes", false, was.Serve.MinFreeBytes, now.Serve.MinFreeBytes},
		{"serve.read_header_timeout", false, was.Serve.ReadHeaderTimeout, now.Serve.ReadHeaderTimeout},
		{"serve.read_timeout", false, was.Serve.ReadTimeout, now.Serve.ReadTimeout},
		{"serve.write_timeout", false, was.Serve.WriteTimeout, now.Serve.WriteTimeout},
		{"serve.idle_timeout", false, was.Serve.IdleTimeout, now.Serve.IdleTimeout},
		{"serve.retention", false, was.Serve.Retention, now.Serve.Retention},
		{"barman_config", false, r.started.barmanConfig, s.barmanConfig},
		{"barman_command", false, r.started.barmanCommand, s.barmanCommand},
		{"runner", false, was.Runner, now.Runner},
		{"metrics.check_interval", false, was.Metrics, now.Metrics},
		{"config_update", false, was.ConfigUpdate, now.ConfigUpdate},
		{"drills.directory", false, was.Drills.Directory, now.Drills.Directory},
	} {
		if !k.overridden && !sameValue(k.was, k.now) {
			keys = append(keys, k.key)
		}
	}
	return keys
}
