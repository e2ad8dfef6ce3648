package httpd

// The handlers of the operation, server and metrics routes (Routes); those
// of the backups, diagnose, openapi and stream routes, and the dry run of a
// create, have files of their own.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// fail answers with err. Faults of ours are logged with the request ID that
// the body carries, and their details stay in the log.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	code := statusFor(err)
	msg := ops.ErrorMessage(err)
	if code == http.StatusInternalServerError {
		s.Log.Error("internal error", "request_id", requestID(r), "error", err)
		msg = "internal error; the server log has the details under this request ID"
	} else if code >= 500 {
		s.Log.Warn("unavailable", "request_id", requestID(r), "error", err)
	}
	writeError(w, r, code, msg)
}

// statusBody is the reference's answer to GET /status byte for byte: a JSON
// string and no newline. Clients compare the body with it.
const statusBody = `"OK"`

// statusContentLength and statusBodyBytes are shared by every status
// answer, never modified.
var (
	statusContentLength = []string{strconv.Itoa(len(statusBody))}
	statusBodyBytes     = []byte(statusBody)
)

func (s *Server) status(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = statusContentLength
	w.WriteHeader(http.StatusOK)
	w.Write(statusBodyBytes)
}

// wantDetail reports whether the caller asked for our extension fields.
func wantDetail(r *http.Request) bool {
	if r.URL.RawQuery == "" {
		return false // most requests: no query to parse into a map
	}
	switch r.URL.Query().Get("detail") {
	case "1", "true", "yes":
		return true
	}
	return false
}

// listPage reads the list extension's paging parameters, ?limit=N (the N
// newest) and ?before=ID (only older operations), or says what is wrong.
func listPage(r *http.Request) (ops.ListOptions, string) {
	var page ops.ListOptions
	q := r.URL.Query()
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 {
			return page, fmt.Sprintf("limit %q: give a positive whole number of operations", v)
		}
		page.Limit = n
	}
	if v := q.Get("before"); v != "" {
		if !ops.ValidName(v) {
			return page, fmt.Sprintf("before %q: give an operation ID, such as the first one of the page before", v)
		}
		page.Before = v
	}
	return page, ""
}

func (s *Server) listOperations(w http.ResponseWriter, r *http.Request) {
	server := r.PathValue("name")
	withDetail := wantDetail(r)
	page, bad := listPage(r)
	if bad != "" {
		writeError(w, r, http.StatusBadRequest, bad)
		return
	}
	paged := page.Limit > 0 || page.Before != ""
	if !withDetail && paged {
		list, _, err := s.Service.List(r.Context(), server, page)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write(encodeList(list))
		return
	}
	if !withDetail {
		body, err := s.answers.list(r.Context(), s.Service, server, encodeListSeq)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		w.Write(body)
		return
	}
	page.Status = true
	// One operation at a time from the store into a small buffer: neither
	// the list nor its encoding is ever whole in memory, and a client that
	// stops reading holds the buffer only.
	var bw *bufio.Writer
	start := func() {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		bw = bufio.NewWriterSize(w, 32<<10)
		bw.WriteString(`{"operations":[`)
	}
	n, broken := 0, false
	skipped, err := s.Service.Each(r.Context(), server, page, func(op *ops.Operation) bool {
		data, err := json.Marshal(listItem{ID: op.ID, Type: op.Type, Detail: detailOf(op, false)})
		if err != nil {
			s.Log.Error("cannot encode an operation", "request_id", requestID(r), "operation_id", op.ID, "error", err)
			broken = true
			return false
		}
		if bw == nil {
			start()
		}
		if n > 0 {
			bw.WriteByte(',')
		}
		n++
		if _, err := bw.Write(data); err != nil {
			// The client went away or stopped reading past the deadline.
			broken = true
			return false
		}
		return true
	})
	if err != nil && bw == nil {
		s.fail(w, r, err)
		return
	}
	for _, sk := range skipped {
		s.Log.Warn("skipped a file in the store", "request_id", requestID(r), "path", sk.Path, "error", sk.Err)
	}
	if broken {
		return
	}
	if bw == nil {
		start()
	}
	bw.WriteString("]}\n")
	bw.Flush()
}

func (s *Server) getOperation(w http.ResponseWriter, r *http.Request) {
	detail := wantDetail(r)
	// Encoded again only when the operation changed since the answer kept
	// (answerCache): a finished one, never.
	body, err := s.answers.operation(r.Context(), s.Service, r.PathValue("name"), r.PathValue("id"), detail, func(op *ops.Operation) []byte {
		body := operationStatus{OperationID: op.ID, Status: op.Status}
		if detail {
			body.Type = op.Type
			body.Detail = s.operationDetail(r.Context(), op)
			body.Detail.Status = ""
		}
		data, err := json.Marshal(body)
		if err != nil {
			return nil
		}
		return append(data, '\n')
	})
	if err == nil && body == nil {
		err = ops.Errorf(ops.EINTERNAL, "cannot encode operation %s", r.PathValue("id"))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h["Content-Type"] = jsonContentType
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(http.StatusOK)
	w.Write(body)
}

// jsonContentType is shared by the hot paths' headers, never modified.
var jsonContentType = []string{"application/json"}

// metrics serves the Prometheus exposition (an extension).
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	if s.Metrics == nil {
		writeError(w, r, http.StatusNotFound, "metrics are not served by this server")
		return
	}
	s.Metrics.ServeHTTP(w, r)
}

// listServers is our extension: the configured Barman servers, so a remote
// client can list every scope.
func (s *Server) listServers(w http.ResponseWriter, r *http.Request) {
	cfg, err := s.Service.Config(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, serversResponse{Servers: cfg.ServerNames()})
}

// cancelOperation is our extension: stop a queued or running operation.
func (s *Server) cancelOperation(w http.ResponseWriter, r *http.Request) {
	if !s.authorize(w, r, PermRecover) {
		return
	}
	op, err := s.Service.Cancel(r.Context(), r.PathValue("name"), r.PathValue("id"), requester(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	body := operationStatus{OperationID: op.ID, Status: op.Status, Type: op.Type, Detail: detailOf(op, false)}
	body.Detail.Status = ""
	writeJSON(w, http.StatusAccepted, body)
}

func (s *Server) createOperation(w http.ResponseWriter, r *http.Request) {
	server := r.PathValue("name")
	code, payload, msg := s.decodeCreate(w, r)
	// The permission depends on the type, so it is checked once the body
	// is decoded and before anything is validated or written. A body
	// without a type we know needs one of the permissions that create
	// something: a read-only credential learns nothing from validation.
	var need Permission
	if payload != nil {
		typ, ok := payload.String("type")
		if _, present := payload.Get("type"); !present && server != "" {
			typ, ok = string(ops.Recovery), true // as validation reads it
		}
		if ok {
			need = permissionFor(ops.Type(typ), payload)
		}
	}
	if !s.authorize(w, r, need) || !s.admitCreate(w, r, payload) {
		return
	}
	if code != 0 {
		writeError(w, r, code, msg)
		return
	}
	switch dry, bad := wantDryRun(r); {
	case bad != "":
		writeError(w, r, http.StatusBadRequest, bad)
		return
	case dry:
		s.dryRun(w, r, server, payload)
		return
	}
	id, err := s.Service.Create(r.Context(), server, payload, requester(r))
	if err != nil && id == "" {
		s.fail(w, r, err)
		return
	}
	if err != nil {
		// Recorded; serve's next pass (Service.EnsureRunners) or the next
		// create of the scope starts its runner.
		s.Log.Warn("runner not started", "request_id", requestID(r), "operation_id", id, "error", err)
	}
	w.Header().Set("Location", strings.TrimSuffix(r.URL.Path, "/")+"/"+id)
	writeJSON(w, http.StatusAccepted, createResponse{OperationID: id})
}

// isJSON reports whether a Content-Type announces JSON the way the
// reference (Flask's is_json) reads it: application/json, or any
// application/<type>+json such as application/vnd.api+json, whatever the
// parameters.
func isJSON(contentType string) bool {
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil && !errors.Is(err, mime.ErrInvalidMediaParameter) {
		return false
	}
	if mediaType == "application/json" {
		return true
	}
	sub, ok := strings.CutPrefix(mediaType, "application/")
	return ok && len(sub) > len("+json") && strings.HasSuffix(sub, "+json")
}

// decodeCreate reads a create request's JSON body, or says what is wrong
// with it (a status and a message).
func (s *Server) decodeCreate(w http.ResponseWriter, r *http.Request) (int, *pyjson.Object, string) {
	if !isJSON(r.Header.Get("Content-Type")) {
		return http.StatusBadRequest, nil, fmt.Sprintf("content-type must be application/json (or application/<type>+json), got %q", r.Header.Get("Content-Type"))
	}
	body, err := readBody(w, r, s.MaxBodyBytes)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return http.StatusRequestEntityTooLarge, nil, fmt.Sprintf("request body is larger than %d bytes", tooBig.Limit)
		}
		return http.StatusBadRequest, nil, "cannot read request body: " + err.Error()
	}
	// In UTF-16 or UTF-32, or with a byte-order mark, as the reference's
	// json.loads reads a body too (Windows PowerShell 5.1 writes files so).
	payload, err := pyjson.DecodeObject(body, pyjson.DecodeOptions{RejectDuplicateKeys: true, DetectEncoding: true})
	if err != nil {
		return http.StatusBadRequest, nil, err.Error()
	}
	return 0, payload, ""
}

// requester names who asked, for the operation's audit trail.
func requester(r *http.Request) ops.Requester {
	who := identityOf(r)
	return ops.Requester{Name: "http:" + who.Name, Client: who.Client}
}

func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	body := http.MaxBytesReader(w, r.Body, limit)
	defer body.Close()
	return io.ReadAll(body)
}
