package cli

import (
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/base64"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/user"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/urfave/cli/v2"
)

// serveAuth turns the [serve] settings into the API's access rules, and
// says what the credentials without a permissions list may do.
func serveAuth(sc ServeConfig) (*httpd.Auth, []string, error) {
	a := &httpd.Auth{ClientCertificates: sc.ClientCA != "", AllowedSubjects: sc.AllowedSubjects,
		AllowedCommonNames: sc.AllowedCommonNames, OpenStatus: true}
	if sc.OpenStatus != nil {
		a.OpenStatus = *sc.OpenStatus
	}
	var warnings []string
	for _, t := range sc.Tokens {
		tok := httpd.Token{Name: t.Name, SHA256: strings.ToLower(t.SHA256)}
		if t.Permissions == nil {
			warnings = append(warnings, fmt.Sprintf("token %q has no permissions list, so it may do everything (read, recover, configure); "+
				"add permissions = [...] to its [[serve.tokens]] entry to narrow it", t.Name))
		} else {
			p, err := httpd.ParsePermissions(t.Permissions)
			if err != nil {
				return nil, nil, fmt.Errorf("serve.tokens %q: %v", t.Name, err)
			}
			tok.Permissions = p
		}
		a.Tokens = append(a.Tokens, tok)
	}
	for _, cs := range sc.ClientSubjects {
		p, err := httpd.ParsePermissions(cs.Permissions)
		if err != nil {
			return nil, nil, fmt.Errorf("serve.client_subjects: %v", err)
		}
		a.ClientSubjects = append(a.ClientSubjects, httpd.ClientSubject{Subject: cs.Subject, CommonName: cs.CommonName, Permissions: p})
	}
	if sc.ClientCA != "" {
		for _, s := range sc.AllowedSubjects {
			warnings = append(warnings, fmt.Sprintf("certificate subject %q (serve.allowed_subjects) may do everything; list it in [[serve.client_subjects]] with permissions to narrow it", s))
		}
		for _, cn := range sc.AllowedCommonNames {
			warnings = append(warnings, fmt.Sprintf("certificates with common name %q (serve.allowed_common_names) may do everything; list it in [[serve.client_subjects]] with permissions to narrow it", cn))
		}
		if len(sc.AllowedSubjects)+len(sc.AllowedCommonNames)+len(sc.ClientSubjects) == 0 {
			warnings = append(warnings, fmt.Sprintf("every certificate signed by %s may do everything; list subjects in [[serve.client_subjects]] with permissions to narrow it", sc.ClientCA))
		}
	}
	for _, p := range sc.TrustedProxies {
		prefix, err := netip.ParsePrefix(p)
		if err != nil {
			addr, aerr := netip.ParseAddr(p)
			if aerr != nil {
				return nil, nil, fmt.Errorf("serve.trusted_proxies: %q is neither an address nor a CIDR range", p)
			}
			prefix = netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen())
		}
		a.TrustedProxies = append(a.TrustedProxies, prefix)
	}
	return a, warnings, nil
}

// serveTLS returns the TLS configuration, or nil to serve plain HTTP.
func serveTLS(sc ServeConfig) (*tls.Config, error) {
	if sc.TLSCert == "" {
		return nil, nil
	}
	cert, err := tls.LoadX509KeyPair(sc.TLSCert, sc.TLSKey)
	if err != nil {
		return nil, fmt.Errorf("serve.tls_cert/tls_key: %v", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if sc.ClientCA != "" {
		pem, err := os.ReadFile(sc.ClientCA)
		if err != nil {
			return nil, fmt.Errorf("serve.client_ca: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("serve.client_ca: %s holds no PEM certificate", sc.ClientCA)
		}
		cfg.ClientCAs = pool
		// Tokens still work without a certificate; one that is presented
		// must verify.
		cfg.ClientAuth = tls.VerifyClientCertIfGiven
	}
	return cfg, nil
}

// isLoopback reports whether addr (host:port) only listens on loopback.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// checkBarmanUser warns, or with --require-barman-user refuses, when we do
// not run as Barman's user: files we create as another user (root) are ones
// Barman cannot read or replace.
func (st *appState) checkBarmanUser(c *cli.Context, barmanUser string) error {
	if barmanUser == "" {
		return nil
	}
	want, err := user.Lookup(barmanUser)
	if err != nil {
		return nil
	}
	if strconv.Itoa(os.Geteuid()) == want.Uid {
		return nil
	}
	me := strconv.Itoa(os.Geteuid())
	if u, err := user.Current(); err == nil {
		me = u.Username
	}
	msg := fmt.Sprintf("running as %s, not as Barman's user %s: files created now belong to %s (run as %s, e.g. sudo -u %s pg-backup-api ...)", me, barmanUser, me, barmanUser, barmanUser)
	if c.Bool("require-barman-user") {
		return cli.Exit("pg-backup-api: refusing: "+msg, ExitUsage)
	}
	fmt.Fprintf(c.App.ErrWriter, "pg-backup-api: warning: %s\n", msg)
	return nil
}

func (st *appState) tokenCommand() *cli.Command {
	return &cli.Command{
		Name:  "token",
		Usage: "manage bearer tokens for serve",
		Subcommands: []*cli.Command{{
			Name:      "create",
			Usage:     "print a new token once, and the lines that make serve accept it",
			UsageText: "pg-backup-api token create NAME [--permissions read,recover]",
			Description: "The token is printed once and stored nowhere; the config file keeps only its SHA-256. " +
				"Revoke it by removing its [[serve.tokens]] entry and restarting serve.\n\n" +
				"Permissions: read (every GET and HEAD), recover (recovery operations, cancel), " +
				"configure (config_switch, config_update), admin (everything). A request outside them gets 403.",
			Flags: []cli.Flag{
				&cli.StringFlag{Name: "permissions", Value: "admin", Usage: "what the token may do: a comma-separated `LIST` of " + httpd.PermissionNames},
			},
			Action: func(c *cli.Context) error {
				if c.NArg() != 1 || strings.TrimSpace(c.Args().First()) == "" {
					return usageError("token create takes one NAME, e.g. pg-backup-api token create ci")
				}
				name := c.Args().First()
				// %q below must give a TOML string: no control characters
				// (Go's \x01, \a, \v are not TOML escapes), valid UTF-8.
				if !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0 {
					return usageError("token name %q has control characters or is not UTF-8", name)
				}
				perms, err := httpd.ParsePermissions(strings.Split(c.String("permissions"), ","))
				if err != nil {
					return usageError("--permissions %q: %v", c.String("permissions"), err)
				}
				var raw [32]byte
				if _, err := rand.Read(raw[:]); err != nil {
					return fail(err)
				}
				secret := "pgba_" + base64.RawURLEncoding.EncodeToString(raw[:])
				fmt.Fprintf(c.App.Writer, "%s\n", secret)
				quoted := make([]string, 0, 4)
				for _, n := range perms.Names() {
					quoted = append(quoted, strconv.Quote(n))
				}
				fmt.Fprintf(c.App.ErrWriter, "Add to %s and restart serve; the token above is shown only now:\n\n[[serve.tokens]]\nname = %q\nsha256 = %q\npermissions = [%s]\n\nClients send: Authorization: Bearer <token>\n",
					DefaultConfigPath, name, httpd.HashToken(secret), strings.Join(quoted, ", "))
				return nil
			},
		}},
	}
}
