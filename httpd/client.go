package httpd

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/internal/termsafe"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// ClientConfig says how to reach a serve instance.
type ClientConfig struct {
	URL        string // http://HOST:PORT or https://HOST:PORT
	Token      string // bearer token, if the server wants one
	CACert     string // PEM file of the CA that signed the server's certificate
	ClientCert string // PEM files for mutual TLS; both or neither
	ClientKey  string
	// Timeout bounds each request, answer included (default 60 seconds).
	Timeout time.Duration
	// Warnings is where the client says, once, that it sends the token in
	// clear to a host that is not loopback (default: standard error).
	Warnings io.Writer
}

// Client is the API seen from the other side, for the CLI's remote mode. It
// offers what ops.Service offers the local commands and returns ops errors,
// their codes read back from the HTTP statuses through the same table the
// server answers with, so a command exits the same way both ways.
type Client struct {
	base   string
	token  string
	client *http.Client
	// clearText: the token would cross the network unencrypted (http://
	// to a host that is not loopback); warned once, at the first request.
	clearText bool
	warnings  io.Writer
	warnOnce  sync.Once
}

// NewClient checks cfg and loads its certificates. Its errors are EINVALID:
// the configuration is wrong, nothing was sent.
func NewClient(cfg ClientConfig) (*Client, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, ops.Errorf(ops.EINVALID, "remote URL %q: want http://HOST:PORT or https://HOST:PORT", termsafe.Strip(cfg.URL))
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if cfg.CACert != "" {
		pem, err := os.ReadFile(cfg.CACert)
		if err != nil {
			return nil, ops.Errorf(ops.EINVALID, "--ca-cert: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, ops.Errorf(ops.EINVALID, "--ca-cert %s holds no PEM certificate", cfg.CACert)
		}
		tlsConfig.RootCAs = pool
	}
	if (cfg.ClientCert == "") != (cfg.ClientKey == "") {
		return nil, ops.Errorf(ops.EINVALID, "--client-cert and --client-key go together")
	}
	if cfg.ClientCert != "" {
		cert, err := tls.LoadX509KeyPair(cfg.ClientCert, cfg.ClientKey)
		if err != nil {
			return nil, ops.Errorf(ops.EINVALID, "client certificate: %v", err)
		}
		tlsConfig.Certificates = []tls.Certificate{cert}
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = tlsConfig
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 60 * time.Second
	}
	warnings := cfg.Warnings
	if warnings == nil {
		warnings = os.Stderr
	}
	return &Client{
		base:  strings.TrimRight(cfg.URL, "/"),
		token: cfg.Token,
		client: &http.Client{
			Transport:     transport,
			Timeout:       timeout,
			CheckRedirect: sameOrigin,
		},
		clearText: cfg.Token != "" && u.Scheme == "http" && !loopbackHost(u.Hostname()),
		warnings:  warnings,
	}, nil
}

// redirectError is a redirect the client would not follow.
type redirectError struct{ msg string }

func (e *redirectError) Error() string { return e.msg }

// sameOrigin follows a redirect only to the scheme, host and port the
// request was sent to. Anywhere else would get the bearer token (Go keeps
// Authorization across a change of scheme, and a token cut from a request
// to another host is a guess at which host is "the same") and, after a
// 307 or 308, the request's body: a recovery's payload holds conninfo
// passwords. The API itself never redirects, so a redirect off the origin
// is a proxy or a server that is not this one; the operator who trusts its
// target can name it with --url.
func sameOrigin(req *http.Request, via []*http.Request) error {
	if len(via) >= 10 {
		return &redirectError{fmt.Sprintf("stopped after %d redirects", len(via))}
	}
	from, to := via[0].URL, req.URL
	switch {
	case from.Scheme == "https" && to.Scheme != "https":
		return &redirectError{fmt.Sprintf("refusing a redirect from %s to %s: it leaves HTTPS, and the request and its token would cross the network in clear",
			origin(from), origin(to))}
	case !strings.EqualFold(origin(from), origin(to)):
		return &redirectError{fmt.Sprintf("refusing a redirect from %s to %s: the request and its credentials go only to the server named; if you trust %s, pass it as --url",
			origin(from), origin(to), origin(to))}
	}
	return nil
}

// origin is scheme://host:port, the port made explicit, so that
// https://h and https://h:443 are one origin.
func origin(u *url.URL) string {
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	return u.Scheme + "://" + net.JoinHostPort(u.Hostname(), port)
}

// loopbackHost reports whether host, a URL's host name, is this machine.
func loopbackHost(host string) bool {
	if strings.EqualFold(strings.TrimSuffix(host, "."), "localhost") {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.Unmap().IsLoopback()
}

func scopePath(server string) string {
	if server == "" {
		return "/operations"
	}
	return "/servers/" + url.PathEscape(server) + "/operations"
}

// do sends a request and decodes a JSON answer into out, turning error
// answers into ops errors with the code their status means.
func (c *Client) do(method, path string, body []byte, want int, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return ops.Errorf(ops.EINVALID, "%v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, data, err := c.send(req, "cannot reach")
	if err != nil {
		return err
	}
	if resp.StatusCode != want {
		return c.answerError(resp, data)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return ops.Errorf(ops.EUNAVAILABLE, "%s answered %s with something that is not the API's JSON: %s", c.base, path, termsafe.Strip(err.Error()))
		}
	}
	return nil
}

// send adds the token to req, sends it and reads the answer; unreachable
// says what failed when the server cannot be reached ("cannot reach").
func (c *Client) send(req *http.Request, unreachable string) (*http.Response, []byte, error) {
	resp, err := c.open(c.client, req, unreachable)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, nil, ops.Errorf(ops.EUNAVAILABLE, "reading the answer of %s: %s", c.base, termsafe.Strip(err.Error()))
	}
	return resp, data, nil
}

// open adds the token to req and sends it through hc, leaving the answer's
// body to the caller.
func (c *Client) open(hc *http.Client, req *http.Request, unreachable string) (*http.Response, error) {
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
		if c.clearText {
			c.warnOnce.Do(func() {
				fmt.Fprintf(c.warnings, "pg-backup-api: warning: sending the token to %s over plain HTTP: anyone on the network between can read it; use https://\n", termsafe.Strip(c.base))
			})
		}
	}
	resp, err := hc.Do(req)
	if err != nil {
		var re *redirectError
		if errors.As(err, &re) {
			// A redirect off the origin is the server's doing, not the
			// network's: say so rather than "cannot reach".
			return nil, ops.Errorf(ops.EUNAVAILABLE, "%s: %s", c.base, termsafe.Strip(re.msg))
		}
		return nil, ops.Errorf(ops.EUNAVAILABLE, "%s %s: %s", unreachable, c.base, termsafe.Strip(err.Error()))
	}
	return resp, nil
}

// Status is GET /status: nil when the server answers 200 with the JSON
// string "OK", as pg-backup-api does, and an EUNAVAILABLE error otherwise.
func (c *Client) Status() error {
	req, err := http.NewRequest(http.MethodGet, c.base+"/status", nil)
	if err != nil {
		return ops.Errorf(ops.EINVALID, "%v", err)
	}
	resp, data, err := c.send(req, "no answer from")
	if err != nil {
		return err
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		return c.answerError(resp, data)
	}
	var body string
	if resp.StatusCode != http.StatusOK || json.Unmarshal(data, &body) != nil || body != "OK" {
		return ops.Errorf(ops.EUNAVAILABLE, "%s answered %s, not \"OK\"; is it a pg-backup-api server?", c.base, termsafe.Strip(resp.Status))
	}
	return nil
}

// CredentialsHint ends the error of a request the server refused (401,
// 403): what a person at the command line should check. Callers that know
// where the credentials came from (doctor: a [remotes.NAME] table) trim it
// and say so in their own words.
const CredentialsHint = "; check --token or the client certificate"

// answerError is the ops error an error answer stands for. What the server
// says is stripped of terminal controls: the message is printed on
// standard error, for a person, and a server is not trusted to write on
// their terminal.
func (c *Client) answerError(resp *http.Response, data []byte) error {
	var e errorBody
	msg := strings.TrimSpace(string(data))
	if json.Unmarshal(data, &e) == nil && e.Error != "" {
		msg = e.Error
		if e.RequestID != "" {
			msg += " (request ID " + e.RequestID + ")"
		}
	}
	switch {
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		msg = fmt.Sprintf("%s refused us (%s): %s%s", c.base, resp.Status, msg, CredentialsHint)
	case resp.StatusCode >= 500:
		msg = fmt.Sprintf("%s: %s", c.base, msg)
	}
	return ops.Errorf(codeFor(resp.StatusCode), "%s", termsafe.Line(msg))
}

// operation turns the ?detail=true fields back into an operation.
func (d *Detail) operation(id, server string, typ ops.Type, status ops.Status) *ops.Operation {
	op := &ops.Operation{ID: id, Server: server, Type: typ, Status: status}
	if d == nil {
		return op
	}
	op.Phase, op.ExitCode, op.Reason = d.Phase, d.ExitCode, d.Reason
	if op.Status == "" {
		op.Status = d.Status
	}
	parse := func(s *string) time.Time {
		if s == nil {
			return time.Time{}
		}
		t, err := time.Parse(time.RFC3339Nano, *s)
		if err != nil {
			return time.Time{}
		}
		return t.Local()
	}
	op.StartTime, op.EndTime = parse(d.StartTime), parse(d.EndTime)
	if d.Output != nil {
		op.Output = *d.Output
	}
	if d.RequestedBy != "" || d.ResolvedBackupID != "" {
		op.Recorded = &ops.Extension{RequestedBy: d.RequestedBy, BackupID: d.ResolvedBackupID}
	}
	op.BarmanArgv = d.BarmanArgv
	if len(d.Payload) > 0 {
		if p, err := pyjson.DecodeObject(d.Payload, pyjson.DecodeOptions{}); err == nil {
			op.Job = p
		}
	}
	return op
}

// Create asks for an operation and returns its ID.
func (c *Client) Create(server string, payload *pyjson.Object) (string, error) {
	body, err := pyjson.EncodePython(payload)
	if err != nil {
		return "", err
	}
	var out createResponse
	if err := c.do("POST", scopePath(server), body, http.StatusAccepted, &out); err != nil {
		return "", err
	}
	return out.OperationID, nil
}

// Get returns one operation of a scope ("" for the instance), with its
// output and payload.
func (c *Client) Get(server, id string) (*ops.Operation, error) {
	var out operationStatus
	if err := c.do("GET", scopePath(server)+"/"+url.PathEscape(id)+"?detail=true", nil, http.StatusOK, &out); err != nil {
		return nil, err
	}
	return out.Detail.operation(out.OperationID, server, out.Type, out.Status), nil
}

// List returns the operations of one scope. The server logs what it
// skipped; the client sees none.
func (c *Client) List(server string) ([]*ops.Operation, []ops.Skipped, error) {
	return c.ListPage(server, ops.ListOptions{})
}

// ListPage is List cut to page's Limit and Before (?limit=N&before=ID).
func (c *Client) ListPage(server string, page ops.ListOptions) ([]*ops.Operation, []ops.Skipped, error) {
	q := url.Values{"detail": {"true"}}
	if page.Limit > 0 {
		q.Set("limit", strconv.Itoa(page.Limit))
	}
	if page.Before != "" {
		q.Set("before", page.Before)
	}
	var out listResponse
	if err := c.do("GET", scopePath(server)+"?"+q.Encode(), nil, http.StatusOK, &out); err != nil {
		return nil, nil, err
	}
	list := make([]*ops.Operation, len(out.Operations))
	for i, item := range out.Operations {
		list[i] = item.Detail.operation(item.ID, server, item.Type, "")
	}
	return list, nil, nil
}

func (c *Client) servers() ([]string, error) {
	var out serversResponse
	err := c.do("GET", "/servers", nil, http.StatusOK, &out)
	return out.Servers, err
}

// ListAll returns the operations of the instance and of every server.
func (c *Client) ListAll() ([]*ops.Operation, []ops.Skipped, error) {
	return c.ListAllPage(ops.ListOptions{})
}

// ListAllPage is ListAll with each scope cut to page.
func (c *Client) ListAllPage(page ops.ListOptions) ([]*ops.Operation, []ops.Skipped, error) {
	servers, err := c.servers()
	if err != nil {
		return nil, nil, err
	}
	var all []*ops.Operation
	for _, scope := range append([]string{""}, servers...) {
		list, _, err := c.ListPage(scope, page)
		if err != nil {
			return nil, nil, err
		}
		all = append(all, list...)
	}
	return all, nil, nil
}

// Find looks an operation up in every scope; an ID in several is EINVALID.
func (c *Client) Find(id string) (*ops.Operation, error) {
	servers, err := c.servers()
	if err != nil {
		return nil, err
	}
	var found []*ops.Operation
	for _, scope := range append([]string{""}, servers...) {
		op, err := c.Get(scope, id)
		if err == nil {
			found = append(found, op)
		} else if ops.ErrorCode(err) != ops.ENOTFOUND {
			return nil, err
		}
	}
	switch len(found) {
	case 0:
		return nil, ops.Errorf(ops.ENOTFOUND, "operation %s does not exist in any scope of %s", id, c.base)
	case 1:
		return found[0], nil
	}
	scopes := make([]string, len(found))
	for i, op := range found {
		scopes[i] = op.Server
		if scopes[i] == "" {
			scopes[i] = "(instance)"
		}
	}
	return nil, ops.Errorf(ops.EINVALID, "operation %s exists in several scopes of %s (%s); name one as SERVER/%s, or pass --server NAME or --instance", id, c.base, strings.Join(scopes, ", "), id)
}

// Cancel asks the server to stop a queued or running operation.
func (c *Client) Cancel(server, id string) (*ops.Operation, error) {
	var out operationStatus
	if err := c.do("POST", scopePath(server)+"/"+url.PathEscape(id)+"/cancel", nil, http.StatusAccepted, &out); err != nil {
		return nil, err
	}
	return out.Detail.operation(out.OperationID, server, out.Type, out.Status), nil
}

// EnsureRunner does nothing: the server starts its own runners.
func (c *Client) EnsureRunner(string) {}

func backupsPath(server string) string { return "/servers/" + url.PathEscape(server) + "/backups" }

// Backups is GET /servers/{name}/backups.
func (c *Client) Backups(server string) (*ops.ServerCatalog, error) {
	var out CatalogJSON
	if err := c.do("GET", backupsPath(server), nil, http.StatusOK, &out); err != nil {
		return nil, err
	}
	return out.FromJSON(), nil
}

// Backup is GET /servers/{name}/backups/{id}.
func (c *Client) Backup(server, id string) (*ops.ServerCatalog, ops.CatalogBackup, error) {
	var out BackupJSON
	if err := c.do("GET", backupsPath(server)+"/"+url.PathEscape(id), nil, http.StatusOK, &out); err != nil {
		return nil, ops.CatalogBackup{}, err
	}
	b, walKnown := out.FromJSON()
	return &ops.ServerCatalog{Server: server, Backups: []ops.CatalogBackup{b}, WALKnown: walKnown}, b, nil
}

// ErrNoStream is Stream's answer when the server has no stream endpoint
// (an older pg-backup-api, the reference, a proxy that does not pass it)
// or will not open one now: the caller polls instead.
var ErrNoStream = errors.New("the server does not stream operations")

// Stream pace, as the client sees it.
var (
	// streamIdle is how long a stream may stay silent before the client
	// takes it for dead and reconnects: the server sends a heartbeat
	// every 15 seconds.
	streamIdle = 45 * time.Second
	// streamRetry is the first wait before reconnecting; it doubles with
	// each failure in a row, up to streamRetries of them.
	streamRetry   = 500 * time.Millisecond
	streamRetries = 5
)

// Stream follows an operation through GET .../operations/{id}/stream from
// the byte offset from of its (masked) output, calling fn with each event,
// until the end event, which fn gets too. A dropped connection is resumed
// where it stopped (?from=). It returns ErrNoStream when the server has no
// such endpoint or will not stream now (fn may have had events from an
// earlier connection): the caller polls from where the events left it.
// fn's error stops it and is returned; ctx's end stops it with ctx's
// error.
func (c *Client) Stream(ctx context.Context, server, id string, from int64, fn func(StreamEvent) error) error {
	// The client's timeout bounds a whole answer; a stream is one answer
	// for as long as the operation runs, watched for silence instead.
	hc := *c.client
	hc.Timeout = 0
	failures := 0
	for {
		got, ended, err := c.streamOnce(ctx, &hc, server, id, &from, fn)
		var broken *streamFailure
		switch {
		case ended:
			return nil
		case ctx.Err() != nil:
			return ctx.Err()
		case !errors.As(err, &broken):
			return err // ErrNoStream among them
		}
		if got {
			failures = 0
		}
		if failures++; failures > streamRetries {
			return err
		}
		wait := streamRetry << (failures - 1)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
}

// streamFailure is a stream that broke off: worth reconnecting.
type streamFailure struct{ err error }

func (e *streamFailure) Error() string { return e.err.Error() }
func (e *streamFailure) Unwrap() error { return e.err }

// streamOnce is one connection of Stream: got says it received events,
// ended that it received the end.
func (c *Client) streamOnce(ctx context.Context, hc *http.Client, server, id string, from *int64, fn func(StreamEvent) error) (got, ended bool, err error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	path := scopePath(server) + "/" + url.PathEscape(id) + "/stream?from=" + strconv.FormatInt(*from, 10)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		return false, false, ops.Errorf(ops.EINVALID, "%v", err)
	}
	req.Header.Set("Accept", StreamContentType)
	// Silence past streamIdle ends this connection; Stream makes another.
	var silent atomic.Bool
	idle := time.AfterFunc(streamIdle, func() { silent.Store(true); cancel() })
	defer idle.Stop()
	resp, err := c.open(hc, req, "cannot reach")
	if err != nil {
		return false, false, &streamFailure{err}
	}
	defer resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusOK:
	case http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusNotImplemented, http.StatusServiceUnavailable:
		// Polling answers these as the API means them: an operation
		// that does not exist is GET's 404 with GET's message.
		return false, false, ErrNoStream
	default:
		data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
		return false, false, c.answerError(resp, data)
	}
	if ct, _, _ := strings.Cut(resp.Header.Get("Content-Type"), ";"); strings.TrimSpace(ct) != StreamContentType {
		// A proxy's or a catch-all's page, not our stream.
		return false, false, ErrNoStream
	}
	rd := bufio.NewReaderSize(resp.Body, 64<<10)
	for {
		line, err := rd.ReadBytes('\n')
		if err != nil {
			if silent.Load() {
				err = fmt.Errorf("nothing from the server for %s", streamIdle)
			}
			return got, false, &streamFailure{ops.Errorf(ops.EUNAVAILABLE, "the stream from %s broke off: %s", c.base, termsafe.Strip(err.Error()))}
		}
		idle.Reset(streamIdle)
		var ev StreamEvent
		if err := json.Unmarshal(line, &ev); err != nil {
			return got, false, ops.Errorf(ops.EUNAVAILABLE, "%s streamed something that is not the API's JSON: %s", c.base, termsafe.Strip(err.Error()))
		}
		got = true
		if err := fn(ev); err != nil {
			return got, false, err
		}
		*from = ev.Next
		if ev.Status != "" {
			return got, true, nil
		}
	}
}
