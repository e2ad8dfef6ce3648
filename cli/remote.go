package cli

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/urfave/cli/v2"
)

// RemoteConfig is one [remotes.NAME] table: a serve instance on another
// Barman host.
type RemoteConfig struct {
	URL        string `toml:"url"`
	Token      string `toml:"token"`
	CACert     string `toml:"ca_cert"`
	ClientCert string `toml:"client_cert"`
	ClientKey  string `toml:"client_key"`
}

// EnvToken carries the bearer token for --url.
const EnvToken = "PG_BACKUP_API_TOKEN"

func remoteFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "url", Usage: "work through the pg-backup-api server at `URL` (e.g. https://barman1:7480) instead of the local store"},
		&cli.StringFlag{Name: "remote", Aliases: []string{"r"}, Usage: "work through the server named `NAME` in the config file's [remotes.NAME]"},
		&cli.StringFlag{Name: "token", EnvVars: []string{EnvToken}, Usage: "bearer `TOKEN` for --url"},
		&cli.StringFlag{Name: "ca-cert", Usage: "CA certificate `FILE` that signed the server's certificate"},
		&cli.StringFlag{Name: "client-cert", Usage: "client certificate `FILE` for mutual TLS"},
		&cli.StringFlag{Name: "client-key", Usage: "client key `FILE` for mutual TLS"},
	}
}

// remote returns the remote engine when --url or --remote is given.
func (st *appState) remote(c *cli.Context) (*remoteEngine, error) {
	var rc RemoteConfig
	switch {
	case c.IsSet("url") && c.IsSet("remote"):
		return nil, usageError("give --url or --remote, not both")
	case c.IsSet("remote"):
		name := c.String("remote")
		var ok bool
		if rc, ok = st.settings.file.Remotes[name]; !ok {
			known := make([]string, 0, len(st.settings.file.Remotes))
			for k := range st.settings.file.Remotes {
				known = append(known, k)
			}
			sort.Strings(known)
			return nil, cli.Exit(fmt.Sprintf("pg-backup-api: remote %q is not in the config file (known: %s); add a [remotes.%s] table with its url", name, listOrNone(known), name), ExitNotFound)
		}
	case c.IsSet("url"):
		rc.URL = c.String("url")
	default:
		return nil, nil
	}
	for flag, field := range map[string]*string{"token": &rc.Token, "ca-cert": &rc.CACert, "client-cert": &rc.ClientCert, "client-key": &rc.ClientKey} {
		if c.IsSet(flag) {
			*field = c.String(flag)
		}
	}
	return newRemoteEngine(rc)
}

func listOrNone(items []string) string {
	if len(items) == 0 {
		return "none"
	}
	return strings.Join(items, ", ")
}

type remoteEngine struct {
	base   string
	token  string
	client *http.Client
}

func newRemoteEngine(rc RemoteConfig) (*remoteEngine, error) {
	u, err := url.Parse(rc.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, usageError("remote URL %q: want http://HOST:PORT or https://HOST:PORT", rc.URL)
	}
	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12}
	if rc.CACert != "" {
		pem, err := os.ReadFile(rc.CACert)
		if err != nil {
			return nil, usageError("--ca-cert: %v", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, usageError("--ca-cert %s holds no PEM certificate", rc.CACert)
		}
		tlsConfig.RootCAs = pool
	}
	if (rc.ClientCert == "") != (rc.ClientKey == "") {
		return nil, usageError("--client-cert and --client-key go together")
	}
	if rc.ClientCert != "" {
		cert, err := tls.LoadX509KeyPair(rc.ClientCert, rc.ClientKey)
		if err != nil {
			return nil, usageError("client certificate: %v", err)
		}
		tlsConfig.Certificates = []tls.Certificate{cert}
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = tlsConfig
	return &remoteEngine{
		base:   strings.TrimRight(rc.URL, "/"),
		token:  rc.Token,
		client: &http.Client{Transport: transport, Timeout: 60 * time.Second},
	}, nil
}

func scopePath(server string) string {
	if server == "" {
		return "/operations"
	}
	return "/servers/" + url.PathEscape(server) + "/operations"
}

// do sends a request and decodes a JSON answer into out, turning error
// answers into engine errors with the code their status means.
func (r *remoteEngine) do(method, path string, body []byte, want int, out any) error {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequest(method, r.base+path, rd)
	if err != nil {
		return ops.Errorf(ops.EINVALID, "%v", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.token != "" {
		req.Header.Set("Authorization", "Bearer "+r.token)
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return ops.Errorf(ops.EUNAVAILABLE, "cannot reach %s: %v", r.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return ops.Errorf(ops.EUNAVAILABLE, "reading the answer of %s: %v", r.base, err)
	}
	if resp.StatusCode != want {
		var e struct {
			Error     string `json:"error"`
			RequestID string `json:"request_id"`
		}
		msg := strings.TrimSpace(string(data))
		if json.Unmarshal(data, &e) == nil && e.Error != "" {
			msg = e.Error
			if e.RequestID != "" {
				msg += " (request ID " + e.RequestID + ")"
			}
		}
		code := ops.EINTERNAL
		switch {
		case resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusRequestEntityTooLarge:
			code = ops.EINVALID
		case resp.StatusCode == http.StatusNotFound:
			code = ops.ENOTFOUND
		case resp.StatusCode == http.StatusConflict:
			code = ops.ECONFLICT
		case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
			code = ops.EUNAVAILABLE
			msg = fmt.Sprintf("%s refused us (%s): %s; check --token or the client certificate", r.base, resp.Status, msg)
		case resp.StatusCode >= 500:
			code = ops.EUNAVAILABLE
			msg = fmt.Sprintf("%s: %s", r.base, msg)
		}
		return ops.Errorf(code, "%s", msg)
	}
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			return ops.Errorf(ops.EUNAVAILABLE, "%s answered %s with something that is not the API's JSON: %v", r.base, path, err)
		}
	}
	return nil
}

// remoteOperation is the ?detail=true shape of one operation.
type remoteOperation struct {
	ID          string          `json:"id"`
	OperationID string          `json:"operation_id"`
	Type        ops.Type        `json:"type"`
	Status      ops.Status      `json:"status"`
	Phase       ops.Phase       `json:"phase"`
	StartTime   *string         `json:"start_time"`
	EndTime     *string         `json:"end_time"`
	ExitCode    *int            `json:"exit_code"`
	Reason      string          `json:"reason"`
	Output      *string         `json:"output"`
	Payload     json.RawMessage `json:"payload"`
}

func (ro *remoteOperation) operation(server string) *ops.Operation {
	op := &ops.Operation{ID: ro.ID, Server: server, Type: ro.Type, Status: ro.Status, Phase: ro.Phase, ExitCode: ro.ExitCode, Reason: ro.Reason}
	if op.ID == "" {
		op.ID = ro.OperationID
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
	op.StartTime, op.EndTime = parse(ro.StartTime), parse(ro.EndTime)
	if ro.Output != nil {
		op.Output = *ro.Output
	}
	if len(ro.Payload) > 0 {
		if p, err := pyjson.DecodeObject(ro.Payload, pyjson.DecodeOptions{}); err == nil {
			op.Job = p
		}
	}
	return op
}

func (r *remoteEngine) Create(server string, payload *pyjson.Object) (string, error) {
	body, err := pyjson.EncodePython(payload)
	if err != nil {
		return "", err
	}
	var out struct {
		OperationID string `json:"operation_id"`
	}
	if err := r.do("POST", scopePath(server), body, http.StatusAccepted, &out); err != nil {
		return "", err
	}
	return out.OperationID, nil
}

func (r *remoteEngine) Get(server, id string) (*ops.Operation, error) {
	var ro remoteOperation
	if err := r.do("GET", scopePath(server)+"/"+url.PathEscape(id)+"?detail=true", nil, http.StatusOK, &ro); err != nil {
		return nil, err
	}
	return ro.operation(server), nil
}

func (r *remoteEngine) List(server string) ([]*ops.Operation, []ops.Skipped, error) {
	var out struct {
		Operations []remoteOperation `json:"operations"`
	}
	if err := r.do("GET", scopePath(server)+"?detail=true", nil, http.StatusOK, &out); err != nil {
		return nil, nil, err
	}
	list := make([]*ops.Operation, len(out.Operations))
	for i := range out.Operations {
		list[i] = out.Operations[i].operation(server)
	}
	return list, nil, nil
}

func (r *remoteEngine) servers() ([]string, error) {
	var out struct {
		Servers []string `json:"servers"`
	}
	err := r.do("GET", "/servers", nil, http.StatusOK, &out)
	return out.Servers, err
}

func (r *remoteEngine) ListAll() ([]*ops.Operation, []ops.Skipped, error) {
	servers, err := r.servers()
	if err != nil {
		return nil, nil, err
	}
	var all []*ops.Operation
	for _, scope := range append([]string{""}, servers...) {
		list, _, err := r.List(scope)
		if err != nil {
			return nil, nil, err
		}
		all = append(all, list...)
	}
	return all, nil, nil
}

func (r *remoteEngine) Find(id string) (*ops.Operation, error) {
	servers, err := r.servers()
	if err != nil {
		return nil, err
	}
	var found []*ops.Operation
	for _, scope := range append([]string{""}, servers...) {
		op, err := r.Get(scope, id)
		if err == nil {
			found = append(found, op)
		} else if ops.ErrorCode(err) != ops.ENOTFOUND {
			return nil, err
		}
	}
	switch len(found) {
	case 0:
		return nil, ops.Errorf(ops.ENOTFOUND, "operation %s does not exist in any scope of %s", id, r.base)
	case 1:
		return found[0], nil
	}
	return nil, ops.Errorf(ops.EINVALID, "operation %s exists in several scopes of %s; pass --server to choose", id, r.base)
}

func (r *remoteEngine) Cancel(server, id string) (*ops.Operation, error) {
	var ro remoteOperation
	if err := r.do("POST", scopePath(server)+"/"+url.PathEscape(id)+"/cancel", nil, http.StatusAccepted, &ro); err != nil {
		return nil, err
	}
	return ro.operation(server), nil
}

func (r *remoteEngine) Nudge(string) {}
