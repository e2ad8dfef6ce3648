package httpd

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/internal/termsafe"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// A dry run (our extension): POST .../operations?dry_run=true validates the
// request as a create does, permissions included, and answers 200 with the
// operation it would record and Barman's argv, writing nothing.

// DryRunParam is the query parameter that asks for a dry run. The client
// sends it only to a server whose OpenAPI document lists it (see
// Client.DryRun): one that does not know it would create the operation.
const DryRunParam = "dry_run"

// wantDryRun reads ?dry_run=; a value that is neither yes nor no is an
// error, since taking it for no would create the operation.
func wantDryRun(r *http.Request) (bool, string) {
	if r.URL.RawQuery == "" {
		return false, ""
	}
	switch v := r.URL.Query().Get(DryRunParam); v {
	case "1", "true", "yes":
		return true, ""
	case "", "0", "false", "no":
		return false, ""
	default:
		return false, fmt.Sprintf("%s %q: give true (validate and show, record nothing) or false", DryRunParam, v)
	}
}

// dryRunResponse is POST .../operations?dry_run=true. DryRun is always
// true: a client refuses an answer without it.
type dryRunResponse struct {
	DryRun    bool            `json:"dry_run"`
	Operation DryRunOperation `json:"operation"`
}

// DryRunOperation is the operation a dry run would record. Exported for
// the same reason as Detail.
type DryRunOperation struct {
	Server           *string         `json:"server"`
	Type             ops.Type        `json:"type"`
	Payload          json.RawMessage `json:"payload"`
	ResolvedBackupID string          `json:"resolved_backup_id,omitempty"`
	RequestedBy      string          `json:"requested_by,omitempty"`
	BarmanArgv       []string        `json:"barman_argv"`
}

func (s *Server) dryRun(w http.ResponseWriter, r *http.Request, server string, payload *pyjson.Object) {
	op, err := s.Service.DryRun(r.Context(), server, payload, requester(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := DryRunOperation{Type: op.Type, ResolvedBackupID: op.ResolvedBackupID(), RequestedBy: op.RequestedBy(), BarmanArgv: op.BarmanArgv}
	if server != "" {
		d.Server = &server
	}
	data, err := pyjson.EncodePython(op.Payload())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Payload = json.RawMessage(ops.MaskJSON(data))
	writeJSON(w, http.StatusOK, dryRunResponse{DryRun: true, Operation: d})
}

// supportsDryRun reports whether the server's OpenAPI document lists the
// dry_run parameter. An older pg-backup-api ignores the parameter and the
// reference implementation has no such document: asked for a dry run,
// either would create the operation, so neither is asked.
func (c *Client) supportsDryRun() (bool, error) {
	var doc struct {
		Components struct {
			Parameters map[string]struct {
				Name string `json:"name"`
				In   string `json:"in"`
			} `json:"parameters"`
		} `json:"components"`
	}
	if err := c.do("GET", "/openapi.json", nil, http.StatusOK, &doc); err != nil {
		if ops.ErrorCode(err) == ops.ENOTFOUND {
			return false, nil
		}
		return false, err
	}
	for _, p := range doc.Components.Parameters {
		if p.Name == DryRunParam && p.In == "query" {
			return true, nil
		}
	}
	return false, nil
}

// DryRun asks the server to validate payload as a create would and to show
// the operation and Barman's argv, recording nothing. It refuses, sending
// nothing, when the server does not document dry runs.
func (c *Client) DryRun(server string, payload *pyjson.Object) (*ops.Operation, error) {
	ok, err := c.supportsDryRun()
	if err != nil {
		return nil, err
	}
	if !ok {
		return nil, ops.Errorf(ops.EUNAVAILABLE, "%s does not offer dry runs (its /openapi.json lists no %s parameter): it would create the operation, so nothing was sent; upgrade it, or run create --dry-run on the Barman host", termsafe.Strip(c.base), DryRunParam)
	}
	body, err := pyjson.EncodePython(payload)
	if err != nil {
		return nil, err
	}
	var out dryRunResponse
	if err := c.do("POST", scopePath(server)+"?"+DryRunParam+"=true", body, http.StatusOK, &out); err != nil {
		return nil, err
	}
	if !out.DryRun {
		return nil, ops.Errorf(ops.EUNAVAILABLE, "%s answered a dry run without \"dry_run\": true; check with pg-backup-api list that it created nothing", termsafe.Strip(c.base))
	}
	d := out.Operation
	op := &ops.Operation{Server: server, Type: d.Type, Status: ops.StatusInProgress, Phase: ops.PhaseQueued, BarmanArgv: d.BarmanArgv}
	if d.RequestedBy != "" || d.ResolvedBackupID != "" {
		op.Recorded = &ops.Extension{RequestedBy: d.RequestedBy, BackupID: d.ResolvedBackupID}
	}
	if len(d.Payload) > 0 {
		if p, err := pyjson.DecodeObject(d.Payload, pyjson.DecodeOptions{}); err == nil {
			op.Job = p
		}
	}
	return op, nil
}
