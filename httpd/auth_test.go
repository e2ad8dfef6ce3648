package httpd_test

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
)

// Secrets of the bearer tokens the tests configure; the server only ever
// sees their hashes.
const (
	ciSecret      = "pgba_ci-secret-0123456789abcdefghijklmnopqrstuvwx"
	opsSecret     = "pgba_ops-secret-0123456789abcdefghijklmnopqrstuv"
	revokedSecret = "pgba_revoked-secret-0123456789abcdefghijklmnopqr"
)

// authServer is the API over a fresh env with auth and an access log
// captured in a buffer. The handler is only called from the test's
// goroutine (httptest.NewRecorder), so the buffer needs no lock.
func authServer(t *testing.T, e *env, auth *httpd.Auth) (http.Handler, *bytes.Buffer, *recordingLauncher) {
	t.Helper()
	s, l := e.apiServer(t)
	s.Auth = auth
	logBuf := &bytes.Buffer{}
	s.Log = slog.New(slog.NewTextHandler(logBuf, nil))
	return s.Handler(), logBuf, l
}

// authRequest is one request with the headers that matter to auth.
type authRequest struct {
	method, path, body string
	authz              string   // Authorization header, "" for none
	remote             string   // RemoteAddr, "" for httptest's 192.0.2.1:1234
	xff                []string // X-Forwarded-For header lines
	xfp                string   // X-Forwarded-Proto
}

func doAuth(t *testing.T, h http.Handler, rq authRequest) *httptest.ResponseRecorder {
	t.Helper()
	var body io.Reader
	if rq.body != "" {
		body = strings.NewReader(rq.body)
	}
	r := httptest.NewRequest(rq.method, rq.path, body)
	if rq.body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if rq.authz != "" {
		r.Header.Set("Authorization", rq.authz)
	}
	if rq.remote != "" {
		r.RemoteAddr = rq.remote
	}
	for _, v := range rq.xff {
		r.Header.Add("X-Forwarded-For", v)
	}
	if rq.xfp != "" {
		r.Header.Set("X-Forwarded-Proto", rq.xfp)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w
}

// jobAudit returns what a job file records about who asked.
func jobAudit(t *testing.T, path string) (requestedBy, client string) {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("job file: %v", err)
	}
	var job struct {
		Ext struct {
			RequestedBy string `json:"requested_by"`
			Client      string `json:"client"`
		} `json:"pg_backup_api"`
	}
	if err := json.Unmarshal(data, &job); err != nil {
		t.Fatalf("job file %s: %v", path, err)
	}
	return job.Ext.RequestedBy, job.Ext.Client
}

// accessLine returns the access-log line of the request with this ID.
func accessLine(t *testing.T, log *bytes.Buffer, requestID string) string {
	t.Helper()
	for _, line := range strings.Split(log.String(), "\n") {
		if strings.Contains(line, "msg=request ") && strings.Contains(line, "request_id="+requestID) {
			return line
		}
	}
	t.Fatalf("no access-log line for request %s in:\n%s", requestID, log.String())
	return ""
}

func bearer(secret string) string { return "Bearer " + secret }

// TestAuthTokens: bearer tokens, by hash. Every refusal is a JSON 401 with
// WWW-Authenticate that writes nothing; every accepted create records the
// token's name and the peer address in the job file and the access log.
func TestAuthTokens(t *testing.T) {
	tokens := []httpd.Token{
		{Name: "ci", SHA256: httpd.HashToken(ciSecret)},
		{Name: "ops", SHA256: httpd.HashToken(opsSecret)},
	}
	withRevoked := append([]httpd.Token{{Name: "old", SHA256: httpd.HashToken(revokedSecret)}}, tokens...)
	const (
		challenge        = `Bearer realm="pg-backup-api"`
		invalidChallenge = `Bearer realm="pg-backup-api", error="invalid_token"`
	)
	cases := []struct {
		name          string
		auth          *httpd.Auth
		rq            authRequest
		want          int
		wantChallenge string // WWW-Authenticate on 401
		wantBy        string // for 202: pg_backup_api.requested_by
		wantIdentity  string // in the access log
	}{
		{"no_authorization", &httpd.Auth{Tokens: tokens}, authRequest{method: "GET", path: "/operations"}, 401, challenge, "", "anonymous"},
		{"no_authorization/post", &httpd.Auth{Tokens: tokens}, authRequest{method: "POST", path: "/operations", body: validUpdate}, 401, challenge, "", "anonymous"},
		{"no_authorization/server_scope", &httpd.Auth{Tokens: tokens}, authRequest{method: "POST", path: srvOps, body: validRecovery}, 401, challenge, "", "anonymous"},
		{"wrong_token", &httpd.Auth{Tokens: tokens}, authRequest{method: "GET", path: "/operations", authz: bearer("pgba_not-a-token")}, 401, invalidChallenge, "", "anonymous"},
		{"wrong_token/post", &httpd.Auth{Tokens: tokens}, authRequest{method: "POST", path: "/operations", body: validUpdate, authz: bearer("pgba_not-a-token")}, 401, invalidChallenge, "", "anonymous"},
		{"hash_as_token", &httpd.Auth{Tokens: tokens}, authRequest{method: "GET", path: "/operations", authz: bearer(httpd.HashToken(ciSecret))}, 401, invalidChallenge, "", "anonymous"},
		{"token_prefix", &httpd.Auth{Tokens: tokens}, authRequest{method: "GET", path: "/operations", authz: bearer(ciSecret[:len(ciSecret)-1])}, 401, invalidChallenge, "", "anonymous"},
		{"empty_bearer", &httpd.Auth{Tokens: tokens}, authRequest{method: "GET", path: "/operations", authz: "Bearer "}, 401, invalidChallenge, "", "anonymous"},
		{"basic_scheme", &httpd.Auth{Tokens: tokens}, authRequest{method: "GET", path: "/operations", authz: "Basic " + ciSecret}, 401, invalidChallenge, "", "anonymous"},
		{"token_without_scheme", &httpd.Auth{Tokens: tokens}, authRequest{method: "GET", path: "/operations", authz: ciSecret}, 401, invalidChallenge, "", "anonymous"},
		{"revoked_token/before", &httpd.Auth{Tokens: withRevoked}, authRequest{method: "GET", path: "/operations", authz: bearer(revokedSecret)}, 200, "", "", "token:old"},
		{"revoked_token/after", &httpd.Auth{Tokens: tokens}, authRequest{method: "GET", path: "/operations", authz: bearer(revokedSecret)}, 401, invalidChallenge, "", "anonymous"},
		{"revoked_token/post", &httpd.Auth{Tokens: tokens}, authRequest{method: "POST", path: "/operations", body: validUpdate, authz: bearer(revokedSecret)}, 401, invalidChallenge, "", "anonymous"},
		{"right_token/get", &httpd.Auth{Tokens: tokens}, authRequest{method: "GET", path: "/operations", authz: bearer(ciSecret)}, 200, "", "", "token:ci"},
		{"right_token/get_one", &httpd.Auth{Tokens: tokens}, authRequest{method: "GET", path: "/operations/20261125T080447", authz: bearer(ciSecret)}, 200, "", "", "token:ci"},
		{"right_token/post", &httpd.Auth{Tokens: tokens}, authRequest{method: "POST", path: "/operations", body: validUpdate, authz: bearer(ciSecret)}, 202, "", "http:token:ci", "token:ci"},
		{"right_token/post_server", &httpd.Auth{Tokens: tokens}, authRequest{method: "POST", path: srvOps, body: validRecovery, authz: bearer(opsSecret)}, 202, "", "http:token:ops", "token:ops"},
		{"right_token/lower_case_scheme", &httpd.Auth{Tokens: tokens}, authRequest{method: "GET", path: "/operations", authz: "bearer " + opsSecret}, 200, "", "", "token:ops"},
		{"right_token/upper_case_hash_in_config", &httpd.Auth{Tokens: []httpd.Token{{Name: "ci", SHA256: strings.ToUpper(httpd.HashToken(ciSecret))}}}, authRequest{method: "GET", path: "/operations", authz: bearer(ciSecret)}, 200, "", "", "token:ci"},
		{"status/open", &httpd.Auth{Tokens: tokens, OpenStatus: true}, authRequest{method: "GET", path: "/status"}, 200, "", "", "anonymous"},
		{"status/closed", &httpd.Auth{Tokens: tokens, OpenStatus: false}, authRequest{method: "GET", path: "/status"}, 401, challenge, "", "anonymous"},
		{"status/closed_with_token", &httpd.Auth{Tokens: tokens, OpenStatus: false}, authRequest{method: "GET", path: "/status", authz: bearer(ciSecret)}, 200, "", "", "token:ci"},
		{"status/open_opens_only_status", &httpd.Auth{Tokens: tokens, OpenStatus: true}, authRequest{method: "GET", path: "/operations"}, 401, challenge, "", "anonymous"},
		{"status/open_head", &httpd.Auth{Tokens: tokens, OpenStatus: true}, authRequest{method: "HEAD", path: "/status"}, 200, "", "", "anonymous"},
		{"status/closed_head", &httpd.Auth{Tokens: tokens, OpenStatus: false}, authRequest{method: "HEAD", path: "/status"}, 401, challenge, "", "anonymous"},
		{"status/open_opens_only_get", &httpd.Auth{Tokens: tokens, OpenStatus: true}, authRequest{method: "POST", path: "/status", body: validUpdate}, 401, challenge, "", "anonymous"},
		{"status/open_opens_only_that_path", &httpd.Auth{Tokens: tokens, OpenStatus: true}, authRequest{method: "GET", path: "/status/"}, 401, challenge, "", "anonymous"},
		{"status/open_not_diagnose", &httpd.Auth{Tokens: tokens, OpenStatus: true}, authRequest{method: "GET", path: "/diagnose"}, 401, challenge, "", "anonymous"},
		{"unknown_path_needs_credentials", &httpd.Auth{Tokens: tokens}, authRequest{method: "GET", path: "/nope"}, 401, challenge, "", "anonymous"},
		{"no_auth/get", nil, authRequest{method: "GET", path: "/operations"}, 200, "", "", "anonymous"},
		{"no_auth/status", nil, authRequest{method: "GET", path: "/status"}, 200, "", "", "anonymous"},
		{"no_auth/post", nil, authRequest{method: "POST", path: "/operations", body: validUpdate}, 202, "", "http:anonymous", "anonymous"},
		{"no_auth/post_server", nil, authRequest{method: "POST", path: srvOps, body: validRecovery}, 202, "", "http:anonymous", "anonymous"},
		{"zero_auth/post", &httpd.Auth{}, authRequest{method: "POST", path: "/operations", body: validUpdate}, 202, "", "http:anonymous", "anonymous"},
		// A proxy that does Basic auth in front of an open API passes its
		// Authorization header on; with no tokens configured it is none of
		// our business.
		{"no_auth/foreign_authorization", nil, authRequest{method: "GET", path: "/operations", authz: "Basic dXNlcjpwYXNz"}, 200, "", "", "anonymous"},
		{"zero_auth/foreign_authorization_post", &httpd.Auth{}, authRequest{method: "POST", path: "/operations", body: validUpdate, authz: "Bearer whatever"}, 202, "", "http:anonymous", "anonymous"},
	}
	e := newEnv(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			// These requests come over plain HTTP from 192.0.2.1, as through
			// serve --insecure; TestPlainHTTPTokens covers the refusal.
			if tc.auth != nil {
				insecure := *tc.auth
				insecure.InsecureHTTP = true
				tc.auth = &insecure
			}
			h, logBuf, launcher := authServer(t, e, tc.auth)
			before := testenv.Snapshot(t, e.Home)
			w := doAuth(t, h, tc.rq)
			line := accessLine(t, logBuf, w.Header().Get("X-Request-Id"))
			for _, want := range []string{"status=" + strconv.Itoa(tc.want) + " ", "identity=" + tc.wantIdentity + " ", "client=192.0.2.1 "} {
				if !strings.Contains(line, want) {
					t.Errorf("access log %q lacks %q", line, want)
				}
			}
			if strings.Contains(logBuf.String(), ciSecret) || strings.Contains(logBuf.String(), opsSecret) {
				t.Errorf("the log holds a token secret:\n%s", logBuf.String())
			}
			switch tc.want {
			case 401:
				msg := wantError(t, w, 401)
				if got := w.Header().Get("WWW-Authenticate"); got != tc.wantChallenge {
					t.Errorf("WWW-Authenticate %q, want %q", got, tc.wantChallenge)
				}
				if strings.Contains(msg, ciSecret) || strings.Contains(msg, opsSecret) {
					t.Errorf("the error echoes a secret: %s", msg)
				}
				if diff := testenv.DiffSnapshots(before, testenv.Snapshot(t, e.Home)); diff != "" {
					t.Errorf("a refused request changed the store: %v", diff)
				}
				if k := launcher.Ensured(); len(k) > 0 {
					t.Errorf("a refused request asked for a runner: %v", k)
				}
			case 202:
				scope := ""
				if strings.HasPrefix(tc.rq.path, "/servers/") {
					scope = "db_server_two"
				}
				id := created(t, w, tc.rq.path)
				by, client := jobAudit(t, e.jobPath(scope, id))
				if by != tc.wantBy || client != "192.0.2.1" {
					t.Errorf("job file records requested_by %q, client %q; want %q, %q", by, client, tc.wantBy, "192.0.2.1")
				}
			default:
				wantStatus(t, w, tc.want)
				if w.Header().Get("WWW-Authenticate") != "" {
					t.Errorf("WWW-Authenticate %q on a %d", w.Header().Get("WWW-Authenticate"), w.Code)
				}
			}
		})
	}
}

// TestTrustedProxies: X-Forwarded-For names the client only when the peer is
// a trusted proxy, and then it is the nearest hop that is not one; the job
// file and the access log agree.
func TestTrustedProxies(t *testing.T) {
	loopback := []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}
	cases := []struct {
		name       string
		trusted    []netip.Prefix
		remote     string
		xff        []string
		xfp        string
		wantClient string
		wantScheme string
	}{
		{"through_trusted_proxy", loopback, "127.0.0.1:40000", []string{"203.0.113.7, 127.0.0.1"}, "", "203.0.113.7", "http"},
		{"single_hop", loopback, "127.0.0.1:40000", []string{"203.0.113.7"}, "https", "203.0.113.7", "https"},
		{"client_prepends_a_lie", loopback, "127.0.0.1:40000", []string{"198.51.100.66, 203.0.113.7"}, "", "203.0.113.7", "http"},
		// A proxy that adds its own X-Forwarded-For line (HAProxy's
		// option forwardfor) after the one the client sent: the header
		// is one list, and its end is what the proxy saw.
		{"client_line_then_proxy_line", loopback, "127.0.0.1:40000", []string{"198.51.100.66", "203.0.113.7"}, "", "203.0.113.7", "http"},
		{"chain_of_trusted_proxies", []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("10.0.0.0/8")}, "127.0.0.1:40000", []string{"198.51.100.66, 203.0.113.7, 10.1.2.3"}, "", "203.0.113.7", "http"},
		{"ipv6_proxy", []netip.Prefix{netip.MustParsePrefix("::1/128")}, "[::1]:40000", []string{"2001:db8::7"}, "https", "2001:db8::7", "https"},
		{"trusted_proxy_without_header", loopback, "127.0.0.1:40000", nil, "", "127.0.0.1", "http"},
		{"no_trusted_proxies", nil, "127.0.0.1:40000", []string{"203.0.113.7, 127.0.0.1"}, "https", "127.0.0.1", "http"},
		{"untrusted_peer_spoofs", loopback, "192.0.2.50:40000", []string{"203.0.113.7, 127.0.0.1"}, "https", "192.0.2.50", "http"},
		{"untrusted_peer_spoofs_a_proxy", loopback, "192.0.2.50:40000", []string{"127.0.0.1"}, "", "192.0.2.50", "http"},
	}
	e := newEnv(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			auth := &httpd.Auth{Tokens: []httpd.Token{{Name: "ci", SHA256: httpd.HashToken(ciSecret)}}, TrustedProxies: tc.trusted, InsecureHTTP: true}
			h, logBuf, _ := authServer(t, e, auth)
			w := doAuth(t, h, authRequest{method: "POST", path: "/operations", body: validUpdate, authz: bearer(ciSecret),
				remote: tc.remote, xff: tc.xff, xfp: tc.xfp})
			id := created(t, w, "/operations")
			by, client := jobAudit(t, e.jobPath("", id))
			if by != "http:token:ci" || client != tc.wantClient {
				t.Errorf("job file records requested_by %q, client %q; want http:token:ci, %s", by, client, tc.wantClient)
			}
			line := accessLine(t, logBuf, w.Header().Get("X-Request-Id"))
			for _, want := range []string{"client=" + tc.wantClient + " ", "identity=token:ci ", "scheme=" + tc.wantScheme + " ", "status=202 "} {
				if !strings.Contains(line, want) {
					t.Errorf("access log %q lacks %q", line, want)
				}
			}
		})
	}
}

// TestAuthRefusalsLogClient: a refused request is logged with the client
// address too, through a trusted proxy.
func TestAuthRefusalsLogClient(t *testing.T) {
	e := newEnv(t)
	auth := &httpd.Auth{Tokens: []httpd.Token{{Name: "ci", SHA256: httpd.HashToken(ciSecret)}},
		TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, InsecureHTTP: true}
	h, logBuf, _ := authServer(t, e, auth)
	w := doAuth(t, h, authRequest{method: "POST", path: "/operations", body: validUpdate, authz: bearer("pgba_guess"),
		remote: "127.0.0.1:1", xff: []string{"203.0.113.9"}})
	wantError(t, w, 401)
	line := accessLine(t, logBuf, w.Header().Get("X-Request-Id"))
	for _, want := range []string{"status=401 ", "client=203.0.113.9 ", "identity=anonymous "} {
		if !strings.Contains(line, want) {
			t.Errorf("access log %q lacks %q", line, want)
		}
	}
	if strings.Contains(logBuf.String(), "pgba_guess") {
		t.Errorf("the log holds the presented token:\n%s", logBuf.String())
	}
}

// TestAuthClientCertificates runs the API over TLS as serve configures it
// (client certificates verified if given) and checks which certificates are
// credentials, which are refused, and what the audit trail names.
func TestAuthClientCertificates(t *testing.T) {
	ca := testenv.NewCA(t, "pg-backup-api test CA")
	otherCA := testenv.NewCA(t, "some other CA")
	serverCert := testenv.NewServerCert(t, ca, "barman1")
	opsExample := testenv.NewClientCert(t, ca, pkix.Name{CommonName: "ops", Organization: []string{"Example"}})
	opsPlain := testenv.NewClientCert(t, ca, pkix.Name{CommonName: "ops"})
	dba := testenv.NewClientCert(t, ca, pkix.Name{CommonName: "dba", Organization: []string{"Elsewhere"}})
	intruder := testenv.NewClientCert(t, ca, pkix.Name{CommonName: "intruder"})
	foreign := testenv.NewClientCert(t, otherCA, pkix.Name{CommonName: "ops", Organization: []string{"Example"}})

	// A certificate whose common name is literally another subject's DN.
	lookalike := testenv.NewClientCert(t, ca, pkix.Name{CommonName: "CN=dba,O=Example", Organization: []string{"Other"}})
	dbaExample := testenv.NewClientCert(t, ca, pkix.Name{CommonName: "dba", Organization: []string{"Example"}})
	comma := testenv.NewClientCert(t, ca, pkix.Name{CommonName: "a,b", Organization: []string{"Example"}})

	allowed := []string{"CN=ops,O=Example"}
	type rules struct {
		subjects []string
		cns      []string
		client   []httpd.ClientSubject
	}
	std := rules{subjects: allowed, cns: []string{"dba"}}
	cases := []struct {
		name   string
		rules  rules
		cert   *testenv.TLSPair
		token  string
		want   int    // 0: the TLS handshake must fail
		wantBy string // requested_by of the created operation
	}{
		{"full_subject_allowed", std, opsExample, "", 202, "http:cert:CN=ops,O=Example"},
		{"common_name_allowed", std, dba, "", 202, "http:cert:CN=dba,O=Elsewhere"},
		{"same_cn_other_subject", std, opsPlain, "", 403, ""},
		{"subject_not_allowed", std, intruder, "", 403, ""},
		{"prefix_is_not_a_match", rules{subjects: []string{"CN=op", "CN=ops,O=Ex"}, cns: []string{"op"}}, opsExample, "", 403, ""},
		{"subject_not_allowed_even_with_token", std, intruder, ciSecret, 403, ""},
		{"any_subject_when_no_list", rules{}, intruder, "", 202, "http:cert:CN=intruder"},
		{"other_ca", std, foreign, "", 0, ""},
		{"other_ca_with_token", std, foreign, ciSecret, 0, ""},
		{"token_without_certificate", std, nil, ciSecret, 202, "http:token:ci"},
		{"nothing", std, nil, "", 401, ""},
		// Defect 2: a subject entry is compared with the whole subject
		// only, never with the common name.
		{"cn_that_spells_an_allowed_dn", rules{subjects: []string{"CN=dba,O=Example"}}, lookalike, "", 403, ""},
		{"cn_that_spells_an_allowed_dn/the_real_one", rules{subjects: []string{"CN=dba,O=Example"}}, dbaExample, "", 202, "http:cert:CN=dba,O=Example"},
		{"bare_name_in_subjects_is_not_a_cn", rules{subjects: []string{"dba"}}, dba, "", 403, ""},
		{"cn_prefix_in_subjects_is_not_a_cn", rules{subjects: []string{"CN=dba"}}, dba, "", 403, ""},
		{"normalised_type_case_and_spaces", rules{subjects: []string{" cn = ops ,  o=Example "}}, opsExample, "", 202, "http:cert:CN=ops,O=Example"},
		{"oid_types", rules{subjects: []string{"2.5.4.3=ops,2.5.4.10=Example"}}, opsExample, "", 202, "http:cert:CN=ops,O=Example"},
		{"order_is_the_certificate's", rules{subjects: []string{"O=Example,CN=ops"}}, opsExample, "", 403, ""},
		{"escaped_comma", rules{subjects: []string{`CN=a\,b,O=Example`}}, comma, "", 202, `http:cert:CN=a\,b,O=Example`},
		{"hex_escaped_comma", rules{subjects: []string{`CN=a\2cb,O=Example`}}, comma, "", 202, `http:cert:CN=a\,b,O=Example`},
		{"unescaped_comma_is_two_rdns", rules{subjects: []string{`CN=a,b,O=Example`}}, comma, "", 403, ""},
		// Permissions: config_update needs configure.
		{"subject_with_configure", rules{client: []httpd.ClientSubject{{Subject: "CN=ops,O=Example", Permissions: httpd.PermConfigure}}}, opsExample, "", 202, "http:cert:CN=ops,O=Example"},
		{"subject_read_only", rules{client: []httpd.ClientSubject{{Subject: "CN=ops,O=Example", Permissions: httpd.PermRead}}}, opsExample, "", 403, ""},
		{"subject_recover_only", rules{client: []httpd.ClientSubject{{Subject: "CN=ops,O=Example", Permissions: httpd.PermRecover | httpd.PermRead}}}, opsExample, "", 403, ""},
		{"common_name_with_admin", rules{client: []httpd.ClientSubject{{CommonName: "dba", Permissions: httpd.PermAdmin}}}, dba, "", 202, "http:cert:CN=dba,O=Elsewhere"},
	}
	e := newEnv(t)
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s, _ := e.apiServer(t)
			s.Auth = &httpd.Auth{Tokens: []httpd.Token{{Name: "ci", SHA256: httpd.HashToken(ciSecret)}},
				ClientCertificates: true, AllowedSubjects: tc.rules.subjects, AllowedCommonNames: tc.rules.cns, ClientSubjects: tc.rules.client}
			srv := httptest.NewUnstartedServer(s.Handler())
			srv.TLS = &tls.Config{Certificates: []tls.Certificate{serverCert.TLS()}, ClientCAs: pool,
				ClientAuth: tls.VerifyClientCertIfGiven, MinVersion: tls.VersionTLS12}
			srv.Config.ErrorLog = slog.NewLogLogger(slog.NewTextHandler(io.Discard, nil), slog.LevelWarn)
			srv.StartTLS()
			defer srv.Close()

			clientTLS := &tls.Config{RootCAs: pool}
			if tc.cert != nil {
				// Sent whatever CAs the server names, as curl does; Go's
				// default would keep a foreign certificate to itself.
				cert := tc.cert.TLS()
				clientTLS.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
			}
			client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: clientTLS}}
			defer client.CloseIdleConnections()
			req, _ := http.NewRequest("POST", srv.URL+"/operations", strings.NewReader(validUpdate))
			req.Header.Set("Content-Type", "application/json")
			if tc.token != "" {
				req.Header.Set("Authorization", bearer(tc.token))
			}
			before := testenv.Snapshot(t, e.Home)
			resp, err := client.Do(req)
			if tc.want == 0 {
				if err == nil {
					resp.Body.Close()
					t.Fatalf("a certificate from another CA got %s, want a failed handshake", resp.Status)
				}
				return
			}
			if err != nil {
				t.Fatalf("POST: %v", err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("POST: %s %s, want %d", resp.Status, body, tc.want)
			}
			if tc.want != 202 {
				if diff := testenv.DiffSnapshots(before, testenv.Snapshot(t, e.Home)); diff != "" {
					t.Errorf("a refused request changed the store: %v", diff)
				}
				return
			}
			var got struct {
				OperationID string `json:"operation_id"`
			}
			json.Unmarshal(body, &got)
			by, client2 := jobAudit(t, e.jobPath("", got.OperationID))
			if by != tc.wantBy || client2 != "127.0.0.1" {
				t.Errorf("job file records requested_by %q, client %q; want %q, 127.0.0.1", by, client2, tc.wantBy)
			}
		})
	}
}

// TestJobFileMode: the HTTP door writes job files only their owner reads.
func TestJobFileMode(t *testing.T) {
	e := newEnv(t)
	h, _, _ := authServer(t, e, nil)
	for _, path := range []string{"/operations", srvOps} {
		body := validUpdate
		scope := ""
		if path == srvOps {
			body, scope = validRecovery, "db_server_two"
		}
		id := created(t, doAuth(t, h, authRequest{method: "POST", path: path, body: body}), path)
		fi, err := os.Stat(e.jobPath(scope, id))
		if err != nil {
			t.Fatal(err)
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("job file of %s has mode %v, want 0600", path, fi.Mode().Perm())
		}
	}
}
