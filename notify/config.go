// Package notify tells people and tools that an operation ended: a signed
// JSON POST to webhooks, or a local command fed the same JSON on standard
// input.
//
// Delivery is at least once. The runner that ends an operation writes the
// event into a durable outbox (a directory of one file per event); serve's
// Dispatcher delivers what the outbox holds, records each target's 2xx or
// exit 0 durably before it forgets the event, and retries the rest with
// backoff. A runner outlives serve, so an operation that ends while serve is
// stopped is notified when serve starts again; an event whose delivery was
// acknowledged is never sent again, and one whose acknowledgement was lost
// to a crash is sent again with the same idempotency key, so receivers can
// drop the duplicate.
package notify

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/pgmask"
)

// Event names a target can subscribe to.
const (
	EventDone   = "done"
	EventFailed = "failed"
)

// Default timeouts of one delivery attempt.
const (
	DefaultWebhookTimeout = 10 * time.Second
	DefaultCommandTimeout = 60 * time.Second
)

// Config mirrors the [notify] section of the configuration file:
//
//	[[notify.webhooks]]
//	url = "https://chat.example/hooks/barman"
//	secret = "a shared secret"
//	events = ["failed"]   # default: ["done", "failed"]
//	timeout = "10s"
//
//	[[notify.commands]]
//	argv = ["/usr/local/bin/mail-dba", "--subject", "barman"]
//	events = ["done", "failed"]
//	timeout = "1m"
type Config struct {
	Webhooks []Webhook `toml:"webhooks"`
	Commands []Command `toml:"commands"`
}

// Webhook is one [[notify.webhooks]] entry.
type Webhook struct {
	URL string `toml:"url"`
	// Secret keys the HMAC-SHA256 signature of each body.
	Secret  string   `toml:"secret"`
	Events  []string `toml:"events"`
	Timeout Duration `toml:"timeout"`
}

// Command is one [[notify.commands]] entry. It is run directly, never
// through a shell, so no argument is ever interpreted.
type Command struct {
	Argv    []string `toml:"argv"`
	Events  []string `toml:"events"`
	Timeout Duration `toml:"timeout"`
}

// Duration reads a TOML string such as "10s" or "2m".
type Duration struct{ time.Duration }

// UnmarshalText implements encoding.TextUnmarshaler.
func (d *Duration) UnmarshalText(text []byte) error {
	v, err := time.ParseDuration(string(text))
	if err != nil {
		return fmt.Errorf("%q is not a duration such as \"10s\" or \"2m\"", text)
	}
	d.Duration = v
	return nil
}

// MarshalText implements encoding.TextMarshaler.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// Empty reports whether no target is configured: then nothing needs to be
// enqueued or dispatched.
func (c *Config) Empty() bool { return len(c.Webhooks) == 0 && len(c.Commands) == 0 }

// Warnings names the webhooks whose events travel in clear: an http://
// URL to a host other than loopback shows the operation's event, and a
// signature an eavesdropper can replay within a receiver's tolerance, to
// anyone on the path.
func (c *Config) Warnings() []string {
	var out []string
	for i, w := range c.Webhooks {
		u, err := url.Parse(w.URL)
		if err != nil || !strings.EqualFold(u.Scheme, "http") {
			continue
		}
		host := u.Hostname()
		if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
			continue
		}
		out = append(out, fmt.Sprintf("notify.webhooks[%d] (%s) is plain http://: each event and its signature cross the network in clear; use https://", i, redactURL(w.URL)))
	}
	return out
}

// Validate checks every entry and fills in the defaults (both events, the
// default timeouts). Its error names each faulty entry as it appears in the
// file, e.g. notify.webhooks[1].url, and says what to write instead.
func (c *Config) Validate() error {
	var errs []error
	seen := map[string]string{}
	for i := range c.Webhooks {
		w := &c.Webhooks[i]
		where := fmt.Sprintf("notify.webhooks[%d]", i)
		if err := checkWebhookURL(w.URL); err != nil {
			errs = append(errs, fmt.Errorf("%s.url: %w", where, err))
		}
		if w.Secret == "" {
			errs = append(errs, fmt.Errorf("%s.secret is empty: set a shared secret so receivers can check the X-Pg-Backup-Api-Signature header", where))
		}
		ev, err := checkEvents(w.Events)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.events: %w", where, err))
		}
		w.Events = ev
		if err := checkTimeout(&w.Timeout, DefaultWebhookTimeout); err != nil {
			errs = append(errs, fmt.Errorf("%s.timeout: %w", where, err))
		}
		id := webhookID(w.URL)
		if prev, dup := seen[id]; dup {
			errs = append(errs, fmt.Errorf("%s.url repeats %s.url: list each receiver once, with every event it wants", where, prev))
		}
		seen[id] = where
	}
	for i := range c.Commands {
		cmd := &c.Commands[i]
		where := fmt.Sprintf("notify.commands[%d]", i)
		switch {
		case len(cmd.Argv) == 0 || cmd.Argv[0] == "":
			errs = append(errs, fmt.Errorf("%s.argv is empty: give the program and its arguments, e.g. argv = [\"/usr/local/bin/notify-dba\", \"--quiet\"]", where))
		case !filepath.IsAbs(cmd.Argv[0]):
			errs = append(errs, fmt.Errorf("%s.argv[0] %q is not an absolute path: write the program's full path (serve's PATH is not yours), e.g. \"/usr/bin/%s\"", where, cmd.Argv[0], filepath.Base(cmd.Argv[0])))
		}
		ev, err := checkEvents(cmd.Events)
		if err != nil {
			errs = append(errs, fmt.Errorf("%s.events: %w", where, err))
		}
		cmd.Events = ev
		if err := checkTimeout(&cmd.Timeout, DefaultCommandTimeout); err != nil {
			errs = append(errs, fmt.Errorf("%s.timeout: %w", where, err))
		}
		if len(cmd.Argv) > 0 {
			id := commandID(cmd.Argv)
			if prev, dup := seen[id]; dup {
				errs = append(errs, fmt.Errorf("%s.argv repeats %s.argv: list each command once, with every event it wants", where, prev))
			}
			seen[id] = where
		}
	}
	return errors.Join(errs...)
}

func checkWebhookURL(raw string) error {
	if raw == "" {
		return errors.New("is empty: give the receiver's address, e.g. \"https://hooks.example/barman\"")
	}
	u, err := url.Parse(raw)
	if err != nil {
		// Neither the text nor url.Error (which quotes it) is shown: it may
		// hold a token.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return fmt.Errorf("is not a URL (%v); it is not shown here, as it may hold a token", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return fmt.Errorf("%q must start with https:// or http://", redactURL(raw))
	}
	if u.Host == "" {
		return fmt.Errorf("%q has no host", redactURL(raw))
	}
	if u.Fragment != "" {
		return fmt.Errorf("%q has a #fragment, which is never sent; remove it", redactURL(raw))
	}
	return nil
}

func checkEvents(events []string) ([]string, error) {
	if len(events) == 0 {
		return []string{EventDone, EventFailed}, nil
	}
	var out []string
	for _, e := range events {
		e = strings.ToLower(strings.TrimSpace(e))
		if e != EventDone && e != EventFailed {
			return events, fmt.Errorf("%q is not an event: use \"done\", \"failed\" or both (leave events out for both)", e)
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	return out, nil
}

func checkTimeout(d *Duration, def time.Duration) error {
	switch {
	case d.Duration == 0:
		d.Duration = def
	case d.Duration < 0:
		return fmt.Errorf("%s is negative: give a duration such as \"%s\"", d.Duration, def)
	case d.Duration < 100*time.Millisecond:
		return fmt.Errorf("%s is too short to reach anything: give at least \"1s\"", d.Duration)
	case d.Duration > time.Hour:
		return fmt.Errorf("%s is longer than an hour, which would hold back every other notification: give at most \"1h\"", d.Duration)
	}
	return nil
}

// redactURL is a webhook URL as logs, errors and the outbox show it: its
// user info and the value of every query parameter, which may carry
// tokens, masked; the parameter names stay, to tell receivers apart.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparsable URL)"
	}
	hadUser := u.User != nil
	u.User = nil
	if u.RawQuery != "" || u.ForceQuery {
		params := strings.Split(u.RawQuery, "&")
		for i, p := range params {
			if name, _, ok := strings.Cut(p, "="); ok {
				params[i] = name + "=" + pgmask.Masked
			} else if p != "" {
				params[i] = pgmask.Masked // a bare ?abc123 is likely the token itself
			}
		}
		u.RawQuery, u.ForceQuery = strings.Join(params, "&"), false
	}
	u.Fragment, u.RawFragment = "", ""
	if hadUser && u.Host != "" {
		// Not url.User("****"): it would come out percent-encoded.
		return strings.Replace(u.String(), "//", "//"+pgmask.Masked+"@", 1)
	}
	return u.String()
}

// httpURL finds the http:// and https:// URLs in a message.
var httpURL = regexp.MustCompile(`(?i)https?://[^\s"'<>]+`)

// redactURLs masks every http(s) URL in s as redactURL does: error
// messages from Go's HTTP client, proxies and receivers quote URLs in their
// own ways (Go's client masks a URL's password, not its query).
func redactURLs(s string) string {
	if !strings.Contains(strings.ToLower(s), "http") {
		return s
	}
	return httpURL.ReplaceAllStringFunc(s, redactURL)
}
