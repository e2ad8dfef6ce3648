package httpd

import (
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"slices"
	"strings"
)

// Token is a bearer token as the config file keeps it: a name and the
// SHA-256 of the secret, never the secret itself.
type Token struct {
	Name   string
	SHA256 string // hex
	// Permissions are what the token may do; zero means everything, as
	// tokens configured before permissions existed.
	Permissions Permission
}

// ClientSubject is one allowed client certificate with its permissions:
// either Subject, a whole subject DN (RFC 4514, "CN=dba,O=Example"), or
// CommonName, matched against the certificate's only CN.
type ClientSubject struct {
	Subject     string
	CommonName  string
	Permissions Permission // zero: everything
}

// Auth says who may use the API. Its zero value lets everyone in, which
// serve allows only on a loopback address.
type Auth struct {
	Tokens []Token
	// ClientCertificates is true when TLS asks for client certificates
	// (client_ca): a verified certificate is a credential.
	ClientCertificates bool
	// AllowedSubjects, AllowedCommonNames and ClientSubjects, when any is
	// not empty, limit client certificates to these. An AllowedSubjects
	// entry is a whole subject DN ("CN=ops,O=Example"), compared with the
	// certificate's whole subject after RFC 4514 normalisation, never with
	// its common name alone; AllowedCommonNames entries are compared with
	// the certificate's common name. Both allow everything.
	AllowedSubjects    []string
	AllowedCommonNames []string
	ClientSubjects     []ClientSubject
	// OpenStatus leaves GET and HEAD /status open to all, for load balancers.
	OpenStatus bool
	// OpenMetrics leaves GET and HEAD /metrics open to all, for a
	// Prometheus that sends no credentials.
	OpenMetrics bool
	// TrustedProxies are the addresses whose X-Forwarded-For and
	// X-Forwarded-Proto are believed.
	TrustedProxies []netip.Prefix
	// InsecureHTTP accepts bearer tokens over plain HTTP from clients that
	// are not on loopback (serve --insecure).
	InsecureHTTP bool
}

// Enabled reports whether any credential is required.
func (a *Auth) Enabled() bool {
	return a != nil && (len(a.Tokens) > 0 || a.ClientCertificates)
}

// access is who may do what: the credentials and the names answered. A
// Server holds one at a time and replaces it whole (SetAccess), never in
// part, so a request sees the old rules or the new ones, not a mix.
type access struct {
	auth         *Auth // never nil
	certs        certRules
	allowedHosts []string // as hostName gives them
}

// SetAccess makes a and allowedHosts (as Auth and AllowedHosts) the rules
// of every request that starts from now on; requests already being served
// finish under the rules they started with. Safe while serving, as serve's
// reload on SIGHUP does. Handler calls it with Auth and AllowedHosts.
func (s *Server) SetAccess(a *Auth, allowedHosts []string) {
	if a == nil {
		a = &Auth{}
	}
	acc := &access{auth: a}
	for _, h := range allowedHosts {
		acc.allowedHosts = append(acc.allowedHosts, hostName(h))
	}
	var errs []error
	acc.certs, errs = a.compileCertRules()
	log := s.Log
	if log == nil {
		log = slog.Default()
	}
	for _, err := range errs {
		log.Error("client-certificate rule ignored: it matches nothing", "error", err)
	}
	s.acc.Store(acc)
}

// access is the rules in force; before Handler, those of Auth and
// AllowedHosts as they are.
func (s *Server) access() *access {
	if acc := s.acc.Load(); acc != nil {
		return acc
	}
	return &access{auth: &Auth{}}
}

// certRules are the client-certificate rules in canonical form.
type certRules struct {
	restricted bool
	subjects   map[string]Permission // canonical DN -> permissions
	cns        map[string]Permission
}

// compileCertRules normalises the subjects once. An entry that is not a DN
// matches nothing; serve refuses such a configuration before it starts.
func (a *Auth) compileCertRules() (certRules, []error) {
	r := certRules{subjects: map[string]Permission{}, cns: map[string]Permission{}}
	if a == nil {
		return r, nil
	}
	var errs []error
	add := func(m map[string]Permission, key string, p Permission) {
		if old, ok := m[key]; ok {
			p = old.effective() | p.effective()
		}
		m[key] = p
	}
	for _, s := range a.AllowedSubjects {
		dn, err := CanonicalDN(s)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		add(r.subjects, dn, 0)
	}
	for _, cn := range a.AllowedCommonNames {
		add(r.cns, cn, 0)
	}
	for _, cs := range a.ClientSubjects {
		if cs.Subject != "" {
			dn, err := CanonicalDN(cs.Subject)
			if err != nil {
				errs = append(errs, err)
				continue
			}
			add(r.subjects, dn, cs.Permissions)
		} else if cs.CommonName != "" {
			add(r.cns, cs.CommonName, cs.Permissions)
		}
	}
	r.restricted = len(a.AllowedSubjects)+len(a.AllowedCommonNames)+len(a.ClientSubjects) > 0
	return r, errs
}

// HashToken returns the hex SHA-256 of a token secret, as the config keeps it.
func HashToken(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// identity is who made a request, as the audit trail and the log name them.
type identity struct {
	Name   string // "token:NAME", "cert:SUBJECT" or "anonymous"
	Client string // the client address, through trusted proxies
	Perms  Permission
}

func identityOf(r *http.Request) identity {
	var id identity
	if st := stateOf(r); st != nil {
		id = st.identity
	}
	if id.Name == "" {
		id.Name = "anonymous"
	}
	return id
}

// authenticate finds out who is asking and whether they may. It answers 401
// or 403 itself and returns false when they may not.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	// One snapshot for the whole decision, whatever SetAccess does meanwhile.
	acc := s.access()
	id := identity{Client: acc.clientAddress(r)}
	a := acc.auth
	if !a.Enabled() {
		// Without credentials the loopback address is the only guard, and
		// a browser page can reach it through DNS rebinding under a name
		// of its own: answer only to the names we are known by.
		r = withIdentity(r, identity{Client: id.Client, Perms: PermAdmin})
		if !acc.hostAllowed(r.Host) {
			writeError(w, r, http.StatusForbidden, fmt.Sprintf("Host %q is not a loopback name or address: with no credentials configured this server answers only to those "+
				"and to serve.allowed_hosts; add the name clients use to serve.allowed_hosts, or configure [[serve.tokens]] or serve.client_ca", r.Host))
			return r, false
		}
		return r, true
	}
	if cert := verifiedCertificate(r); cert != nil {
		subject := SubjectDN(cert)
		perms, ok := acc.certPermissions(cert, subject)
		if !ok {
			r = withIdentity(r, identity{Name: "cert:" + subject, Client: id.Client})
			authFailed(r)
			writeError(w, r, http.StatusForbidden, fmt.Sprintf("client certificate %q is not among the allowed subjects", subject))
			return r, false
		}
		id.Name, id.Perms = "cert:"+subject, perms
	}
	// With no tokens configured the header is not ours to judge: a proxy
	// that does its own (Basic) authentication in front passes it on.
	if header := r.Header.Get("Authorization"); header != "" && len(a.Tokens) > 0 {
		if !a.InsecureHTTP && acc.scheme(r) != "https" && !isLoopbackAddr(id.Client) {
			r = withIdentity(r, id)
			authFailed(r)
			writeError(w, r, http.StatusForbidden, "a bearer token was sent over plain HTTP from a client that is not on loopback, so it crossed the network unencrypted: "+
				"it is refused (consider it exposed and replace it). Configure serve.tls_cert and serve.tls_key, or a TLS proxy listed in serve.trusted_proxies "+
				"that sends X-Forwarded-Proto: https, or start serve with --insecure")
			return r, false
		}
		scheme, secret, _ := strings.Cut(header, " ")
		tok, ok := a.token(strings.TrimSpace(secret))
		if !strings.EqualFold(scheme, "Bearer") || !ok {
			r = withIdentity(r, id)
			authFailed(r)
			w.Header().Set("WWW-Authenticate", `Bearer realm="pg-backup-api", error="invalid_token"`)
			writeError(w, r, http.StatusUnauthorized, "the bearer token is not valid")
			return r, false
		}
		id.Name, id.Perms = "token:"+tok.Name, tok.Permissions
	}
	if id.Name == "" && (r.Method == http.MethodGet || r.Method == http.MethodHead) &&
		((a.OpenStatus && r.URL.Path == "/status") || (a.OpenMetrics && r.URL.Path == "/metrics")) {
		r = withIdentity(r, identity{Client: id.Client, Perms: PermRead})
		return r, true
	}
	r = withIdentity(r, id)
	if id.Name == "" {
		authFailed(r)
		w.Header().Set("WWW-Authenticate", `Bearer realm="pg-backup-api"`)
		writeError(w, r, http.StatusUnauthorized, "credentials required: send Authorization: Bearer <token> or a client certificate")
		return r, false
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return r, s.authorize(w, r, PermRead)
	}
	return r, true
}

// certPermissions says whether a verified certificate is a credential and
// what it may do: its whole subject against the subject rules, its one
// common name against the common-name rules.
func (acc *access) certPermissions(cert *x509.Certificate, subject string) (Permission, bool) {
	if !acc.certs.restricted {
		return 0, true
	}
	if p, ok := acc.certs.subjects[subject]; ok {
		return p, true
	}
	// Only a certificate with exactly one CN has "a" common name.
	if cns := commonNames(cert); len(cns) == 1 {
		if p, ok := acc.certs.cns[cns[0]]; ok {
			return p, true
		}
	}
	return 0, false
}

// hostAllowed reports whether a Host header names us: a loopback name or
// address with any port, or one of AllowedHosts.
func (acc *access) hostAllowed(hostport string) bool {
	host := hostName(hostport)
	if host == "" {
		return false
	}
	return host == "localhost" || slices.Contains(acc.allowedHosts, host) || isLoopbackAddr(host)
}

// hostName is the name in a Host header, or an allowed host: without port
// or brackets, in lower case, without a final dot.
func hostName(hostport string) string {
	host := hostport
	// SplitHostPort would fail, with an error to allocate, on a name
	// without a port, and leave it as it is.
	if strings.IndexByte(hostport, ':') >= 0 {
		if h, _, err := net.SplitHostPort(hostport); err == nil {
			host = h
		}
	}
	return strings.TrimSuffix(strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")), ".")
}

func isLoopbackAddr(addr string) bool {
	ip, err := netip.ParseAddr(addr)
	return err == nil && ip.Unmap().IsLoopback()
}

// authFailed marks the request as refused for its credentials (see
// failureLog).
func authFailed(r *http.Request) {
	if st := stateOf(r); st != nil {
		st.authFailed = true
	}
}

// withIdentity records who is asking in the request's state, made here for
// a request that did not come through the middleware.
func withIdentity(r *http.Request, id identity) *http.Request {
	st := stateOf(r)
	if st == nil {
		st = &reqState{Context: r.Context()}
		r = r.WithContext(st)
	}
	st.identity = id
	return r
}

// tokenName compares the secret's hash with every configured one in
// constant time, so timing tells nothing about which, if any, matched.
func (a *Auth) token(secret string) (Token, bool) {
	if a == nil || secret == "" {
		return Token{}, false
	}
	sum := sha256.Sum256([]byte(secret))
	var found Token
	for _, t := range a.Tokens {
		want, err := hex.DecodeString(t.SHA256)
		if err != nil || len(want) != len(sum) {
			continue
		}
		if subtle.ConstantTimeCompare(sum[:], want) == 1 {
			found = t
		}
	}
	return found, found.Name != ""
}

func verifiedCertificate(r *http.Request) *x509.Certificate {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return nil
	}
	return r.TLS.VerifiedChains[0][0]
}

// clientAddress is the peer's address, or, when the peer is a trusted
// proxy, the nearest address in X-Forwarded-For that is not one.
func (acc *access) clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if !acc.trusted(host) {
		return host
	}
	// Repeated header lines are one list (RFC 9110 5.3): a proxy may add
	// its own line after the one the client sent.
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		if hop == "" {
			continue
		}
		if !acc.trusted(hop) {
			return hop
		}
		host = hop
	}
	return host
}

func (acc *access) trusted(addr string) bool {
	if len(acc.auth.TrustedProxies) == 0 {
		return false
	}
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range acc.auth.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// scheme is the scheme the client used: X-Forwarded-Proto from a trusted
// proxy, else what we serve.
func (acc *access) scheme(r *http.Request) string {
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	if acc.trusted(host) {
		if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
			return p
		}
	}
	if r.TLS != nil {
		return "https"
	}
	return "http"
}
