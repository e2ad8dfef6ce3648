package cli_test

import (
	"crypto/x509"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/cli"
)

// tlsStatusServer is an HTTPS server answering GET /status with "OK" to a
// request with Authorization want ("" for none), and the PEM files of its
// certificate and key in dir.
func tlsStatusServer(t *testing.T, dir, want string) (srv *httptest.Server, certFile, keyFile string) {
	t.Helper()
	srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/status" {
			http.Error(w, "not here", http.StatusNotFound)
			return
		}
		if r.Header.Get("Authorization") != want {
			http.Error(w, `{"error": "bad token"}`, http.StatusUnauthorized)
			return
		}
		w.Write([]byte(`"OK"`))
	}))
	t.Cleanup(srv.Close)
	certFile = writeFile(t, dir, "serve.crt", string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})), 0o644)
	key, err := x509.MarshalPKCS8PrivateKey(srv.TLS.Certificates[0].PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	keyFile = writeFile(t, dir, "serve.key", string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: key})), 0o600)
	return srv, certFile, keyFile
}

// TestStatusTLS: status goes through the wire client every remote command
// uses, so it trusts --ca-cert, sends --token, reads --remote, and speaks
// HTTPS to a serve whose config file has serve.tls_cert. It built its own
// HTTP client before: "certificate signed by unknown authority" with
// --ca-cert, and plain HTTP to the TLS port of the configured serve.
func TestStatusTLS(t *testing.T) {
	dir := t.TempDir()
	srv, certFile, keyFile := tlsStatusServer(t, dir, "Bearer s3cret")
	hostport := strings.TrimPrefix(srv.URL, "https://")
	port := hostport[strings.LastIndex(hostport, ":")+1:]
	conf := writeFile(t, dir, "serve.toml", "[serve]\nlisten = \""+hostport+"\"\ntls_cert = \""+certFile+"\"\ntls_key = \""+keyFile+"\"\n", 0o644)
	remotes := writeFile(t, dir, "remotes.toml", "[remotes.b2]\nurl = \""+srv.URL+"\"\ntoken = \"s3cret\"\nca_cert = \""+certFile+"\"\n", 0o644)
	noConf := writeFile(t, dir, "empty.toml", "", 0o644)
	gone := writeFile(t, dir, "gone.toml", "[serve]\nlisten = \""+hostport+"\"\ntls_cert = \"/nonexistent/serve.crt\"\ntls_key = \""+keyFile+"\"\n", 0o644)
	ok := func(r result) bool { return r.Code == cli.ExitOK && r.Stdout == "OK\n" }
	for _, tt := range []struct {
		name string
		args []string
		want func(result) bool
	}{
		{"--url https --ca-cert", []string{"status", "--config", noConf, "--url", srv.URL, "--ca-cert", certFile, "--token", "s3cret"}, ok},
		{"--ca-cert before status", []string{"--ca-cert", certFile, "--token", "s3cret", "status", "--config", noConf, "--url", srv.URL}, ok},
		{"--remote", []string{"status", "--config", remotes, "--remote", "b2"}, ok},
		{"serve.tls_cert of the config file", []string{"status", "--config", conf, "--token", "s3cret"}, ok},
		{"--port with serve.tls_cert", []string{"status", "--config", conf, "--port", port, "--token", "s3cret"}, ok},
		{"without the CA", []string{"status", "--config", noConf, "--url", srv.URL, "--token", "s3cret"}, func(r result) bool {
			return r.Code == cli.ExitUnavailable && strings.Contains(r.Msg, "certificate")
		}},
		{"without the token", []string{"status", "--config", noConf, "--url", srv.URL, "--ca-cert", certFile}, func(r result) bool {
			return r.Code == cli.ExitUnavailable && strings.Contains(r.Msg, "check --token")
		}},
		{"serve.tls_cert unreadable", []string{"status", "--config", gone, "--token", "s3cret"}, func(r result) bool {
			return r.Code == cli.ExitUsage && strings.Contains(r.Msg, "/nonexistent/serve.crt") && strings.Contains(r.Msg, "give --ca-cert")
		}},
		{"serve.tls_cert unreadable, --ca-cert given", []string{"status", "--config", gone, "--token", "s3cret", "--ca-cert", certFile}, ok},
		{"--port and --remote", []string{"status", "--config", remotes, "--remote", "b2", "--port", port}, func(r result) bool {
			return r.Code == cli.ExitUsage && strings.Contains(r.Msg, "not both")
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv(cli.EnvToken, "") // restored after the test...
			os.Unsetenv(cli.EnvToken)  // ...and unset, since set but empty is a token given
			if r := runApp(t, "", tt.args...); !tt.want(r) {
				t.Errorf("%q: %v", tt.args, r)
			}
		})
	}
}
