package cli

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/user"
	"strconv"
	"strings"

	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/ops"
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
			warnings = append(warnings, fmt.Sprintf("token %q has no permissions list, so it may do everything (read, recover, configure, delete); "+
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
		return ops.Errorf(ops.EINVALID, "refusing: %s", msg)
	}
	st.warn(c, msg)
	return nil
}
