package httpd

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509/pkix"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Token is a bearer token as the config file keeps it: a name and the
// SHA-256 of the secret, never the secret itself.
type Token struct {
	Name   string
	SHA256 string // hex
}

// Auth says who may use the API. Its zero value lets everyone in, which
// serve allows only on a loopback address.
type Auth struct {
	Tokens []Token
	// ClientCertificates is true when TLS asks for client certificates
	// (client_ca): a verified certificate is a credential.
	ClientCertificates bool
	// AllowedSubjects, when not empty, limits client certificates to these
	// subjects (the certificate's full subject, as in "CN=ops,O=Example",
	// or just its common name).
	AllowedSubjects []string
	// OpenStatus leaves GET and HEAD /status open to all, for load balancers.
	OpenStatus bool
	// TrustedProxies are the addresses whose X-Forwarded-For and
	// X-Forwarded-Proto are believed.
	TrustedProxies []netip.Prefix
}

// Enabled reports whether any credential is required.
func (a *Auth) Enabled() bool {
	return a != nil && (len(a.Tokens) > 0 || a.ClientCertificates)
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
}

const identityKey ctxKey = 1

func identityOf(r *http.Request) identity {
	id, _ := r.Context().Value(identityKey).(identity)
	if id.Name == "" {
		id.Name = "anonymous"
	}
	return id
}

// authenticate finds out who is asking and whether they may. It answers 401
// or 403 itself and returns false when they may not.
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*http.Request, bool) {
	id := identity{Client: s.clientAddress(r)}
	a := s.Auth
	if a == nil {
		a = &Auth{}
	}
	if cert := verifiedCertificate(r); cert != nil {
		subject := cert.String()
		if len(a.AllowedSubjects) > 0 && !subjectAllowed(a.AllowedSubjects, cert) {
			r = withIdentity(r, identity{Name: "cert:" + subject, Client: id.Client})
			writeError(w, r, http.StatusForbidden, fmt.Sprintf("client certificate %q is not among the allowed subjects", subject))
			return r, false
		}
		id.Name = "cert:" + subject
	}
	// With no tokens configured the header is not ours to judge: a proxy
	// that does its own (Basic) authentication in front passes it on.
	if header := r.Header.Get("Authorization"); header != "" && len(a.Tokens) > 0 {
		scheme, secret, _ := strings.Cut(header, " ")
		name, ok := a.tokenName(strings.TrimSpace(secret))
		if !strings.EqualFold(scheme, "Bearer") || !ok {
			r = withIdentity(r, id)
			w.Header().Set("WWW-Authenticate", `Bearer realm="pg-backup-api", error="invalid_token"`)
			writeError(w, r, http.StatusUnauthorized, "the bearer token is not valid")
			return r, false
		}
		id.Name = "token:" + name
	}
	r = withIdentity(r, id)
	if !a.Enabled() || id.Name != "" || (a.OpenStatus && (r.Method == http.MethodGet || r.Method == http.MethodHead) && r.URL.Path == "/status") {
		return r, true
	}
	w.Header().Set("WWW-Authenticate", `Bearer realm="pg-backup-api"`)
	writeError(w, r, http.StatusUnauthorized, "credentials required: send Authorization: Bearer <token> or a client certificate")
	return r, false
}

func withIdentity(r *http.Request, id identity) *http.Request {
	return r.WithContext(context.WithValue(r.Context(), identityKey, id))
}

// tokenName compares the secret's hash with every configured one in
// constant time, so timing tells nothing about which, if any, matched.
func (a *Auth) tokenName(secret string) (string, bool) {
	if a == nil || secret == "" {
		return "", false
	}
	sum := sha256.Sum256([]byte(secret))
	found := ""
	for _, t := range a.Tokens {
		want, err := hex.DecodeString(t.SHA256)
		if err != nil || len(want) != len(sum) {
			continue
		}
		if subtle.ConstantTimeCompare(sum[:], want) == 1 {
			found = t.Name
		}
	}
	return found, found != ""
}

func verifiedCertificate(r *http.Request) *pkix.Name {
	if r.TLS == nil || len(r.TLS.VerifiedChains) == 0 || len(r.TLS.VerifiedChains[0]) == 0 {
		return nil
	}
	subject := r.TLS.VerifiedChains[0][0].Subject
	return &subject
}

func subjectAllowed(allowed []string, subject *pkix.Name) bool {
	full := subject.String()
	for _, a := range allowed {
		if a == full || a == subject.CommonName || a == "CN="+subject.CommonName {
			return true
		}
	}
	return false
}

// clientAddress is the peer's address, or, when the peer is a trusted
// proxy, the nearest address in X-Forwarded-For that is not one.
func (s *Server) clientAddress(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	if s.Auth == nil || !s.trusted(host) {
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
		if !s.trusted(hop) {
			return hop
		}
		host = hop
	}
	return host
}

func (s *Server) trusted(addr string) bool {
	ip, err := netip.ParseAddr(addr)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range s.Auth.TrustedProxies {
		if p.Contains(ip) {
			return true
		}
	}
	return false
}

// scheme is the scheme the client used: X-Forwarded-Proto from a trusted
// proxy, else what we serve.
func (s *Server) scheme(r *http.Request) string {
	host, _, _ := net.SplitHostPort(r.RemoteAddr)
	if s.Auth != nil && s.trusted(host) {
		if p := r.Header.Get("X-Forwarded-Proto"); p == "https" || p == "http" {
			return p
		}
	}
	if r.TLS != nil {
		return "https"
	}
	return "http"
}
