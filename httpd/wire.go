package httpd

import (
	"context"
	"encoding/json"
	"iter"
	"net/http"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// The wire: the JSON shapes the server writes and the Client reads, and the
// error-code table both directions use. One definition, so the two cannot
// drift apart.

// writeJSON writes v with the given status.
func writeJSON(w http.ResponseWriter, code int, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		code, data = http.StatusInternalServerError, []byte(`{"error": "cannot encode response"}`)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	w.Write(append(data, '\n'))
}

type errorBody struct {
	Error     string `json:"error"`
	RequestID string `json:"request_id,omitempty"`
}

func writeError(w http.ResponseWriter, r *http.Request, code int, msg string) {
	body := errorBody{Error: msg}
	if code >= 500 {
		body.RequestID = requestID(r)
	}
	writeJSON(w, code, body)
}

// errorStatuses is the one table between the engine's error codes and HTTP
// statuses: the server answers an error with its code's status, and the
// client reads the status back into the code, so a remote command exits as
// a local one does.
var errorStatuses = []struct {
	code   string
	status int
}{
	{ops.EINVALID, http.StatusBadRequest},
	{ops.ENOTFOUND, http.StatusNotFound},
	{ops.ECONFLICT, http.StatusConflict},
	{ops.EUNAVAILABLE, http.StatusServiceUnavailable},
	{ops.EINTERNAL, http.StatusInternalServerError},
}

// statusFor maps an engine error to an HTTP status.
func statusFor(err error) int {
	code := ops.ErrorCode(err)
	for _, e := range errorStatuses {
		if e.code == code {
			return e.status
		}
	}
	return http.StatusInternalServerError
}

// codeFor reads an HTTP status back into an engine error code: the table
// first, then what the statuses we (or a proxy in front of us) answer
// outside it mean to a client.
func codeFor(status int) string {
	for _, e := range errorStatuses {
		if e.status == status {
			return e.code
		}
	}
	switch {
	case status == http.StatusRequestEntityTooLarge:
		return ops.EINVALID
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return ops.EUNAVAILABLE // a credential to fix, not a request
	case status >= 500:
		return ops.EUNAVAILABLE // a gateway's 502 or 504: the server cannot be used
	}
	return ops.EINTERNAL
}

type listItem struct {
	ID   string   `json:"id"`
	Type ops.Type `json:"type"`
	*Detail
}

// Detail is our extension (?detail=true): what the documented shapes leave
// out. Exported only because encoding/json cannot fill an embedded pointer
// to an unexported type on the client side.
type Detail struct {
	Status    ops.Status `json:"status,omitempty"`
	Phase     ops.Phase  `json:"phase"`
	StartTime *string    `json:"start_time"`
	EndTime   *string    `json:"end_time"`
	ExitCode  *int       `json:"exit_code"`
	Reason    string     `json:"reason,omitempty"`
	// Payload is the request as sent (passwords masked), for one operation.
	Payload json.RawMessage `json:"payload,omitempty"`
	Output  *string         `json:"output,omitempty"`
	// ResolvedBackupID, RequestedBy and BarmanArgv are, for one
	// operation, what was recorded beside the payload (the backup a
	// backup_id resolved to, who asked) and the argv that runs it,
	// secrets masked; absent when unknown (another implementation's
	// operation, a job the runner would refuse).
	ResolvedBackupID string   `json:"resolved_backup_id,omitempty"`
	RequestedBy      string   `json:"requested_by,omitempty"`
	BarmanArgv       []string `json:"barman_argv,omitempty"`
}

func detailOf(op *ops.Operation, withOutput bool) *Detail {
	d := &Detail{Status: op.Status, Phase: op.Phase, ExitCode: op.ExitCode, Reason: op.Reason}
	if !op.StartTime.IsZero() {
		t := op.StartTime.Format(time.RFC3339Nano)
		d.StartTime = &t
	}
	if !op.EndTime.IsZero() {
		t := op.EndTime.Format(time.RFC3339Nano)
		d.EndTime = &t
	}
	if withOutput {
		out := ops.MaskSecrets(op.Output)
		d.Output = &out
		d.ResolvedBackupID, d.RequestedBy, d.BarmanArgv = op.ResolvedBackupID(), op.RequestedBy(), op.BarmanArgv
		if p := op.Payload(); p != nil {
			if data, err := pyjson.EncodePython(p); err == nil {
				d.Payload = json.RawMessage(ops.MaskJSON(data))
			}
		}
	}
	return d
}

// operationDetail is the detail of one operation (?detail=true), with the
// argv that runs it.
func (s *Server) operationDetail(ctx context.Context, op *ops.Operation) *Detail {
	if op.BarmanArgv == nil {
		// A job Barman would not be run with has no argv to show; its
		// operation fails, or failed, saying why.
		if argv, err := s.Service.BarmanArgv(ctx, op); err == nil {
			withArgv := *op
			withArgv.BarmanArgv = argv
			op = &withArgv
		}
	}
	return detailOf(op, true)
}

type operationStatus struct {
	OperationID string     `json:"operation_id"`
	Status      ops.Status `json:"status"`
	Type        ops.Type   `json:"type,omitempty"`
	*Detail
}

// listResponse is GET .../operations.
type listResponse struct {
	Operations []listItem `json:"operations"`
}

// createResponse is POST .../operations.
type createResponse struct {
	OperationID string `json:"operation_id"`
}

// serversResponse is GET /servers, our extension.
type serversResponse struct {
	Servers []string `json:"servers"`
}

// encodeList is the documented list's body, for a page (small); the whole
// list, kept once per state of the store's index, is encodeListSeq's.
func encodeList(list []*ops.Operation) []byte {
	items := make([]listItem, len(list))
	for i, op := range list {
		items[i] = listItem{ID: op.ID, Type: op.Type}
	}
	data, _ := json.Marshal(listResponse{Operations: items})
	return append(data, '\n')
}

// encodeListSeq is encodeList of a whole listing (Service.ListIfChanged): the
// same bytes, written straight into one buffer of the right size. Memory,
// not speed, is why it is not encoding/json: with 100,000 operations the
// encoder's own growing buffer (8 MB, kept in its pool) and the list of
// items were what set the server's heap size.
func encodeListSeq(list iter.Seq[*ops.Operation]) []byte {
	n, textLen := 0, 0
	for op := range list {
		n++
		textLen += len(op.ID) + len(op.Type)
	}
	if n == 0 {
		return []byte(`{"operations":[]}` + "\n")
	}
	// A little over for escaped characters.
	b := make([]byte, 0, textLen+n*len(`{"id":"","type":""},`)+textLen/32+32)
	b = append(b, `{"operations":[`...)
	for op := range list {
		b = append(b, `{"id":`...)
		b = appendJSONString(b, op.ID)
		b = append(b, `,"type":`...)
		b = appendJSONString(b, string(op.Type))
		b = append(b, "},"...)
	}
	b = append(b[:len(b)-1], "]}\n"...)
	return b
}

// appendJSONString appends s as encoding/json writes it (HTML characters
// escaped); only strings that need escaping go through encoding/json.
func appendJSONString(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 || c >= 0x80 || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			quoted, _ := json.Marshal(s)
			return append(b, quoted...)
		}
	}
	b = append(b, '"')
	b = append(b, s...)
	return append(b, '"')
}
