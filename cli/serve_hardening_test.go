package cli_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestTokenCreatePermissions: token create --permissions prints the
// permissions line; pasted into the config, the token may do only that,
// a refusal is a JSON 403 naming the permission and is in the access log,
// and a token without permissions still works, with a start-up warning.
func TestTokenCreatePermissions(t *testing.T) {
	e := newEnv(t, false)
	r := execBinary(t, nil, "", "token", "create", "ro", "--permissions", "read,recover")
	if r.Code != 0 {
		t.Fatalf("token create --permissions: %v", r)
	}
	secret := strings.TrimSuffix(r.Stdout, "\n")
	m := tokenSnippet.FindStringSubmatch(r.Stderr)
	if m == nil || m[3] != `"read", "recover"` {
		t.Fatalf("no snippet with permissions = [\"read\", \"recover\"]:\n%s", r.Stderr)
	}
	for _, bad := range []string{"write", "", "read,,recover"} {
		if r := execBinary(t, nil, "", "token", "create", "x", "--permissions", bad); r.Code != 2 || strings.Contains(r.Stdout, "pgba_") {
			t.Errorf("--permissions %q: %v; want exit 2 and no token", bad, r)
		}
	}
	if r := execBinary(t, nil, "", "token", "create", "all"); r.Code != 0 || !strings.Contains(r.Stderr, `permissions = ["admin"]`) {
		t.Errorf("token create without --permissions: %v; want permissions = [\"admin\"]", r)
	}

	conf := writeConfig(t, e, "perms.toml", m[0]+tokenTOML("legacy", ciTokenSecret))
	srv := mustServe(t, e, conf, nil)
	log := srv.log()
	if !strings.Contains(log, `token \"legacy\" has no permissions list, so it may do everything`) {
		t.Errorf("no start-up warning about the token without permissions:\n%s", log)
	}
	if strings.Contains(log, `token \"ro\" has no permissions`) {
		t.Errorf("a warning about a token that has permissions:\n%s", log)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	if code, _, body, err := secDo(client, "GET", srv.url("http", "/operations"), "", secret); err != nil || code != 200 {
		t.Errorf("GET with a read token: %d %s %v", code, body, err)
	}
	code, hdr, body, err := secDo(client, "POST", srv.url("http", "/operations"), secUpdate, secret)
	if err != nil || code != 403 || hdr.Get("Content-Type") != "application/json" || !strings.Contains(body, "lacks the configure permission") {
		t.Errorf("config_update with a read,recover token: %d %s %s %v; want a JSON 403 naming configure", code, hdr.Get("Content-Type"), body, err)
	}
	if got := jobFiles(t, e); got != "" {
		t.Errorf("a refused request wrote job files: %s", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for !(strings.Contains(srv.log(), "identity=token:ro") && strings.Contains(srv.log(), "denied=configure")) {
		if time.Now().After(deadline) {
			t.Fatalf("the access log does not record the refused permission:\n%s", srv.log())
		}
		time.Sleep(20 * time.Millisecond)
	}
	code, _, body, err = secDo(client, "POST", srv.url("http", "/operations"), secUpdate, ciTokenSecret)
	if err != nil || code != 202 {
		t.Fatalf("config_update with a token without permissions: %d %s %v, want 202", code, body, err)
	}
	if a := readAudit(t, e.jobFile("", operationID(t, body))); a.RequestedBy != "http:token:legacy" {
		t.Errorf("job file records %+v, want http:token:legacy", a)
	}
}

// rawRequest sends bytes to serve and returns the status line, the
// Content-Type and the body.
func rawRequest(t *testing.T, addr, req string) (status, contentType, body string) {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	go io.WriteString(c, req)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("reading the answer: %v", err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.Status, resp.Header.Get("Content-Type"), string(data)
}

// TestServeHostCheckAndJSONErrors: serve without credentials answers only
// loopback Host names and serve.allowed_hosts (defect 7), and headers too
// large get a JSON 431, not net/http's text (defect 12).
func TestServeHostCheckAndJSONErrors(t *testing.T) {
	e := newEnv(t, false)
	conf := writeConfig(t, e, "hosts.toml", "[serve]\nallowed_hosts = [\"barman.internal\"]\n")
	srv := mustServe(t, e, conf, nil)
	addr := fmt.Sprintf("127.0.0.1:%d", srv.port)
	for host, want := range map[string]string{"localhost:7480": "200", "127.0.0.1": "200", "barman.internal": "200", "evil.example": "403", "evil.example:" + fmt.Sprint(srv.port): "403"} {
		status, ct, body := rawRequest(t, addr, "GET /operations HTTP/1.1\r\nHost: "+host+"\r\nConnection: close\r\n\r\n")
		if !strings.HasPrefix(status, want) || ct != "application/json" {
			t.Errorf("Host %s: %s %s %s, want %s in JSON", host, status, ct, body, want)
		}
		if want == "403" && !strings.Contains(body, "serve.allowed_hosts") {
			t.Errorf("Host %s: the refusal does not say what to configure: %s", host, body)
		}
	}
	big := "GET /operations HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: " + strings.Repeat("a", 100<<10) + "\r\nConnection: close\r\n\r\n"
	status, ct, body := rawRequest(t, addr, big)
	var msg struct{ Error string }
	if !strings.HasPrefix(status, "431") || ct != "application/json" || json.Unmarshal([]byte(body), &msg) != nil || msg.Error == "" {
		t.Errorf("100 KiB of headers: %s %s %q, want a JSON 431", status, ct, body)
	}
}

// TestServeHeadStatusOpen (defect 8): with tokens and open_status (the
// default), HEAD /status answers like GET.
func TestServeHeadStatusOpen(t *testing.T) {
	e := newEnv(t, false)
	srv := mustServe(t, e, writeConfig(t, e, "tok.toml", tokenTOML("ci", ciTokenSecret)), nil)
	client := &http.Client{Timeout: 10 * time.Second}
	for _, method := range []string{"GET", "HEAD"} {
		if code, _, _, err := secDo(client, method, srv.url("http", "/status"), "", ""); err != nil || code != 200 {
			t.Errorf("%s /status without a token: %d %v, want 200", method, code, err)
		}
	}
}
