package cli

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/internal/jsonlog"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
	"github.com/urfave/cli/v2"
)

// DefaultListen is where serve listens unless told otherwise: loopback, as
// the reference does, until authentication is configured.
const DefaultListen = "127.0.0.1:7480"

// sweepInterval is how often serve looks for queued operations without a
// runner.
const sweepInterval = 30 * time.Second

func (st *appState) serveCommand() *cli.Command {
	return &cli.Command{
		Name:      "serve",
		Usage:     "serve the documented HTTP API over the same store and runners",
		UsageText: "pg-backup-api serve [--listen ADDR | --port N]",
		Description: "Endpoints: GET /status, GET /diagnose, GET|POST /operations, GET /operations/{id}, " +
			"GET|POST /servers/{name}/operations, GET /servers/{name}/operations/{id}, GET /openapi.json. " +
			"Add ?detail=true to a GET for type, phase, times, exit code and Barman's output.\n\n" +
			"SIGTERM or SIGINT stops accepting requests and finishes those in flight; running operations go on, " +
			"since their runners are separate processes. One access-log line per request goes to standard error.\n\n" +
			"Each bearer token ([[serve.tokens]]) and client certificate (serve.allowed_subjects, serve.allowed_common_names, " +
			"[[serve.client_subjects]]) holds permissions: read (GET, HEAD), recover (recovery, cancel), configure " +
			"(config_switch, config_update), admin (all); entries without a permissions list may do everything. " +
			"With no credentials configured, only requests whose Host is a loopback name or in serve.allowed_hosts are answered. " +
			"Bearer tokens over plain HTTP from clients not on loopback are refused unless a trusted proxy says https, or --insecure.\n\n" +
			reloadHelp,
		Flags: []cli.Flag{
			&cli.StringFlag{Name: "listen", Aliases: []string{"l"}, Usage: "`ADDR` to listen on (default: serve.listen from the config file, else " + DefaultListen + ")"},
			&cli.IntFlag{Name: "port", Usage: "listen on 127.0.0.1:`N`, as the reference implementation's --port"},
			&cli.Int64Flag{Name: "max-body-bytes", Usage: "largest accepted request body in `BYTES` (default: serve.max_body_bytes, else 1 MiB)"},
			&cli.StringFlag{Name: "log-format", Usage: "`FORMAT` of the log on standard error, and of the runners' runner.err: text or json, one object per line (default: serve.log_format, else text)"},
			&cli.BoolFlag{Name: "insecure", Usage: "allow listening on a non-loopback address with no authentication (tokens or client_ca) configured, " +
				"and accept bearer tokens over plain HTTP from clients not on loopback"},
		},
		Action: func(c *cli.Context) error {
			// From the start: SIGHUP's default action would end serve.
			hup := make(chan os.Signal, 1)
			signal.Notify(hup, syscall.SIGHUP)
			defer signal.Stop(hup)
			if c.IsSet("listen") && c.IsSet("port") {
				return usageError("give --listen or --port, not both")
			}
			addr := DefaultListen
			if l := st.settings.file.Serve.Listen; l != "" {
				addr = l
			}
			if c.IsSet("listen") {
				addr = c.String("listen")
			}
			if c.IsSet("port") {
				p := c.Int("port")
				if p < 1 || p > 65535 {
					return usageError("--port %d is not a TCP port", p)
				}
				addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(p))
			}
			maxBody := st.settings.file.Serve.MaxBodyBytes
			if c.IsSet("max-body-bytes") {
				maxBody = c.Int64("max-body-bytes")
			}
			if maxBody < 0 {
				return usageError("max body size %d is negative", maxBody)
			}
			format := st.settings.file.Serve.LogFormat
			if c.IsSet("log-format") {
				format = c.String("log-format")
			}
			// A line per request: written from a goroutine of its own, so
			// that lines logged meanwhile share a write (see Coalescer).
			logOut := jsonlog.NewCoalescer(ioOf(c).ErrOut)
			defer logOut.Close()
			log, err := jsonlog.New(logOut, format, slog.LevelInfo)
			if err != nil {
				return usageError("--log-format: %v", err)
			}
			// The access log: the same lines as log would write, formatted
			// by hand, a large part of a light request's cost otherwise.
			accessLog, err := jsonlog.NewLines(logOut, format, slog.LevelInfo)
			if err != nil {
				return usageError("--log-format: %v", err)
			}
			st.logFormat = format
			svc := st.service()
			wiring := st.wireServe(svc, log)
			bcfg, err := svc.Config(c.Context)
			if err != nil {
				return err
			}
			if err := checkDrillServers(st.settings.configPath, st.settings.file.Drills.Schedule, bcfg); err != nil {
				return ops.Errorf(ops.EINVALID, "%v", err)
			}
			if err := st.checkBarmanUser(c, bcfg.BarmanUser); err != nil {
				return err
			}
			// Before any create of ours can have a temporary file: what a
			// power cut left behind goes (see store.StaleTempAge).
			store.Open(bcfg).RemoveAllStaleTemps(func(path string, modified time.Time) {
				log.Info("removed a temporary file left by an interrupted write", "path", path, "modified", modified.Format(time.RFC3339))
			})
			sc := st.settings.file.Serve
			auth, warnings, err := serveAuth(sc)
			if err != nil {
				return usageError("%v", err)
			}
			auth.InsecureHTTP = c.Bool("insecure")
			auth.OpenMetrics = sc.OpenMetrics
			if !auth.Enabled() && !isLoopback(addr) && !c.Bool("insecure") {
				return usageError("refusing to listen on %s with no authentication: anyone who reaches it could restore over your databases. "+
					"Configure [[serve.tokens]] (pg-backup-api token create NAME) or serve.client_ca, listen on 127.0.0.1 behind a proxy, "+
					"or pass --insecure if something else guards this address", addr)
			}
			certs, err := newServingTLS(sc)
			if err != nil {
				return usageError("%v", err)
			}
			var tlsConfig *tls.Config
			if certs != nil {
				tlsConfig = certs.config()
			}
			if len(auth.Tokens) > 0 && tlsConfig == nil && !isLoopback(addr) {
				if c.Bool("insecure") {
					warnings = append(warnings, fmt.Sprintf("bearer tokens sent to %s travel over plain HTTP and --insecure accepts them from any client", addr))
				} else {
					warnings = append(warnings, fmt.Sprintf("serving plain HTTP on %s: bearer tokens from clients not on loopback are refused unless a proxy in serve.trusted_proxies "+
						"says X-Forwarded-Proto: https; configure serve.tls_cert and serve.tls_key to accept them directly", addr))
				}
			}
			warnings = append(warnings, st.settings.file.Notify.Warnings()...)
			for _, w := range warnings {
				log.Warn(w)
			}
			api := &httpd.Server{Service: svc, Log: log, AccessLog: accessLog, MaxBodyBytes: maxBody, Diagnose: barman.NewCommand(st.settings.barmanCommand).Diagnose, Auth: auth,
				AllowedHosts: sc.AllowedHosts, WriteTimeout: durationOr(sc.WriteTimeout, httpd.DefaultWriteTimeout),
				Limits: httpd.Limits{CreatesPerMinute: sc.CreatesPerMinute, MinFreeBytes: sc.MinFreeBytes}}
			ln, err := net.Listen("tcp", addr)
			if err != nil {
				return ops.Errorf(ops.EUNAVAILABLE, "cannot listen on %s: %v", addr, err)
			}
			if tlsConfig != nil {
				ln = tls.NewListener(ln, tlsConfig)
			}
			srv := newHTTPServer(api.Handler(), sc, log)
			srv.RegisterOnShutdown(api.EndStreams) // a stream lasts as long as its operation: Shutdown would wait for it
			ctx, stop := signal.NotifyContext(c.Context, syscall.SIGTERM, syscall.SIGINT)
			defer stop()
			if err := wiring.start(ctx); err != nil {
				return err
			}
			api.Metrics = wiring.metrics.Handler()
			api.ObserveRequest = wiring.metrics.ObserveRequest
			go st.sweepLoop(ctx, svc, log)
			log.Info("listening", "addr", ln.Addr().String(), "tls", tlsConfig != nil, "auth", auth.Enabled(),
				"barman_config", st.settings.barmanConfig, "version", st.build.Version)
			rl := &reloader{st: st, c: c, log: log, api: api, tls: certs, wiring: wiring, addr: addr,
				started: st.settings, applied: st.settings}
			if certs != nil {
				rl.appliedTLS = certs.cur.Load()
			}
			rl.configExisted = st.settings.configPath != ""
			errc := make(chan error, 1)
			go func() { errc <- srv.Serve(ln) }()
		serving:
			for {
				select {
				case err := <-errc:
					return err
				case <-hup:
					rl.reload()
				case <-ctx.Done():
					break serving
				}
			}
			log.Info("shutting down: finishing requests in flight; running operations go on")
			shutdownCtx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if err := srv.Shutdown(shutdownCtx); err != nil {
				return fmt.Errorf("shutdown: %v", err)
			}
			if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
				return err
			}
			return nil
		},
	}
}

// Defaults of the HTTP server's timeouts (serve.*_timeout).
const (
	defaultReadHeaderTimeout = 10 * time.Second
	defaultReadTimeout       = 60 * time.Second
	defaultIdleTimeout       = 120 * time.Second
)

// newHTTPServer is the HTTP server of serve. Its write deadline is set per
// request by the handler (serve.write_timeout), so that GET /diagnose may
// wait for Barman longer. Its header limit is above the handler's, which
// answers too-large headers in JSON; only beyond this one does net/http
// answer 431 in text itself.
func newHTTPServer(h http.Handler, sc ServeConfig, log *slog.Logger) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: durationOr(sc.ReadHeaderTimeout, defaultReadHeaderTimeout),
		ReadTimeout:       durationOr(sc.ReadTimeout, defaultReadTimeout),
		IdleTimeout:       durationOr(sc.IdleTimeout, defaultIdleTimeout),
		MaxHeaderBytes:    httpd.HardMaxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
}

func durationOr(d Duration, def time.Duration) time.Duration {
	if d.Duration > 0 {
		return d.Duration
	}
	return def
}

// sweepLoop starts runners for queued operations that have none and applies
// serve.retention, every sweepInterval until ctx ends. It uses serve's own
// Service, so it shares its caches and its end-of-operation log.
func (st *appState) sweepLoop(ctx context.Context, svc *ops.Service, log *slog.Logger) {
	t := time.NewTicker(sweepInterval)
	defer t.Stop()
	// Read once: a reload (SIGHUP) leaves retention as serve started.
	retentionAge := st.settings.file.Serve.Retention
	var retention time.Duration
	if retentionAge != "" {
		retention, _ = parseAge(retentionAge) // checked when the config was read
	}
	for {
		if err := svc.EnsureRunners(ctx); err != nil {
			log.Warn("ensuring runners for queued operations failed", "error", err)
		}
		if retention > 0 {
			pruned, err := svc.Prune(ctx, nil, time.Now().Add(-retention), false)
			for scope, ids := range pruned {
				log.Info("retention: removed finished operations", "scope", scopeLabel(scope), "count", len(ids), "older_than", retentionAge)
			}
			if err != nil {
				log.Warn("retention failed", "error", err)
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
