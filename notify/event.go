package notify

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pg-backup-api/pg-backup-api/internal/pgmask"
)

// SchemaVersion is the version of the event document; it changes only when
// a field changes meaning or goes away.
const SchemaVersion = 1

// Excerpt limits: enough of Barman's output to see why an operation failed,
// small enough for a chat message.
const (
	DefaultExcerptLines = 20
	DefaultExcerptBytes = 4096
)

// Operation is what the runner knows of an operation that ended.
type Operation struct {
	ID     string
	Server string // "" for the instance scope
	Type   string // recovery, config_switch, config_update
	Status string // DONE or FAILED
	Phase  string // done, failed, cancelled, timeout, lost
	Start  time.Time
	End    time.Time
	// ExitCode is Barman's exit code; nil when Barman never ran or its
	// end was not seen.
	ExitCode    *int
	RequestedBy string
	// Output is Barman's output; only a masked tail of it is sent.
	Output string
}

// Event is the JSON document every target receives.
type Event struct {
	SchemaVersion  int        `json:"schema_version"`
	Event          string     `json:"event"` // done or failed
	IdempotencyKey string     `json:"idempotency_key"`
	OperationID    string     `json:"operation_id"`
	Scope          string     `json:"scope"`            // "server" or "instance"
	Server         string     `json:"server,omitempty"` // set when scope is "server"
	Type           string     `json:"type"`
	Status         string     `json:"status"`
	Phase          string     `json:"phase,omitempty"`
	StartTime      *time.Time `json:"start_time"`
	EndTime        *time.Time `json:"end_time"`
	ExitCode       *int       `json:"exit_code"`
	RequestedBy    string     `json:"requested_by,omitempty"`
	// OutputExcerpt is the last lines of Barman's output, passwords masked.
	OutputExcerpt   string `json:"output_excerpt"`
	OutputTruncated bool   `json:"output_truncated"`
}

// NewEvent builds the event of an operation that ended. Only DONE and FAILED
// operations are notified: an operation still in progress has not ended.
func NewEvent(op Operation) (Event, error) {
	var name string
	switch op.Status {
	case "DONE":
		name = EventDone
	case "FAILED":
		name = EventFailed
	default:
		return Event{}, fmt.Errorf("operation %s has status %q: only DONE and FAILED operations are notified", op.ID, op.Status)
	}
	if op.ID == "" || op.Type == "" {
		return Event{}, fmt.Errorf("operation without an id or a type (id %q, type %q): nothing to notify", op.ID, op.Type)
	}
	ev := Event{
		SchemaVersion:  SchemaVersion,
		Event:          name,
		IdempotencyKey: Key(op.Server, op.ID, op.Status),
		OperationID:    op.ID,
		Scope:          "instance",
		Server:         op.Server,
		Type:           op.Type,
		Status:         op.Status,
		Phase:          op.Phase,
		ExitCode:       op.ExitCode,
		RequestedBy:    pgmask.Text(op.RequestedBy),
	}
	if op.Server != "" {
		ev.Scope = "server"
	}
	if !op.Start.IsZero() {
		t := op.Start
		ev.StartTime = &t
	}
	if !op.End.IsZero() {
		t := op.End
		ev.EndTime = &t
	}
	ev.OutputExcerpt, ev.OutputTruncated = Excerpt(op.Output, DefaultExcerptLines, DefaultExcerptBytes)
	return ev, nil
}

// Key is the idempotency key of an operation's end: the same operation
// ending with the same status always gets the same key, so enqueueing it
// twice is harmless and a receiver can drop a repeated delivery. It is a
// hash, safe as a file name and a header value whatever the server's name.
func Key(server, id, status string) string {
	sum := sha256.Sum256([]byte("pg-backup-api\x00" + server + "\x00" + id + "\x00" + status))
	return hex.EncodeToString(sum[:16])
}

// Excerpt returns the last maxLines lines of output, at most maxBytes long,
// with passwords masked, and whether anything was cut. Masking comes first:
// cutting first could leave a password whose keyword was cut away.
func Excerpt(output string, maxLines, maxBytes int) (string, bool) {
	s := strings.TrimRight(pgmask.Text(output), "\n")
	truncated := false
	if maxLines > 0 {
		cut := len(s)
		for n := 0; n < maxLines; n++ {
			i := strings.LastIndexByte(s[:cut], '\n')
			if i < 0 {
				cut = -1
				break
			}
			cut = i
		}
		if cut >= 0 {
			s, truncated = s[cut+1:], true
		}
	}
	if maxBytes > 0 && len(s) > maxBytes {
		s = s[len(s)-maxBytes:]
		for len(s) > 0 && !utf8.RuneStart(s[0]) {
			s = s[1:]
		}
		truncated = true
	}
	return s, truncated
}

// Body is the event as sent: compact JSON.
func (e Event) Body() ([]byte, error) { return json.Marshal(e) }
