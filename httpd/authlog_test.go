package httpd_test

import (
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
)

// TestFailedAuthenticationLogIsRateLimited: a client that keeps failing
// authentication gets its first failure logged, then one line per interval
// counting the rest, not a line per request; another client's first
// failure, the client's first failure of another kind (403) and every
// successful request are still logged; after the interval the next failure
// is logged again.
func TestFailedAuthenticationLogIsRateLimited(t *testing.T) {
	const window = time.Second // long enough for 59 requests under the race detector on a busy 2-core machine
	httpd.SetAuthFailureInterval(t, window)
	const secret = "pgba_ok-0123456789abcdefghijklmnopqrstuvwxyzABCDEFG"
	e := newEnv(t)
	s, _ := e.apiServer(t)
	s.Auth = &httpd.Auth{Tokens: []httpd.Token{{Name: "ok", SHA256: httpd.HashToken(secret), Permissions: httpd.PermRead}}}
	var log testenv.SyncBuffer
	s.Log = slog.New(slog.NewTextHandler(&log, nil))
	h := s.Handler()
	count := func(substr ...string) int {
		n := 0
		for _, line := range strings.Split(log.String(), "\n") {
			all := line != ""
			for _, sub := range substr {
				all = all && strings.Contains(line, sub)
			}
			if all {
				n++
			}
		}
		return n
	}
	do := func(remote, authz string, want int) {
		t.Helper()
		w := doAuth(t, h, authRequest{method: "GET", path: "/operations", authz: authz, remote: remote})
		if w.Code != want {
			t.Fatalf("GET from %s with %q: %d, want %d", remote, authz, w.Code, want)
		}
	}
	start := time.Now()
	for range 50 {
		do("127.0.0.7:1", bearer("pgba_wrong-0123456789abcdefghijklmnopqrstuvwxyzAB"), 401)
	}
	do("127.0.0.7:1", "", 401) // no credentials at all counts too
	for range 2 {
		// A token over plain HTTP from a client not on loopback: 403.
		do("192.0.2.9:1", bearer(secret), 403)
	}
	do("192.0.2.9:1", "", 401)
	do("127.0.0.8:1", bearer("pgba_wrong"), 401)
	for range 3 {
		do("127.0.0.7:1", bearer(secret), 200)
	}
	if time.Since(start) >= window {
		t.Fatalf("the requests took %s, longer than the %s window this test needs", time.Since(start), window)
	}
	if n := count("msg=request", "status=401", "client=127.0.0.7"); n != 1 {
		t.Errorf("%d access-log lines for 127.0.0.7's failures within the interval, want 1:\n%s", n, log.String())
	}
	if n := count("msg=request", "status=401", "client=127.0.0.8"); n != 1 {
		t.Errorf("%d access-log lines for 127.0.0.8's one failure, want 1:\n%s", n, log.String())
	}
	if n := count("msg=request", "status=200", "client=127.0.0.7"); n != 3 {
		t.Errorf("%d access-log lines for successful requests, want 3:\n%s", n, log.String())
	}
	summary := "50 more failed authentications from 127.0.0.7 in the last " + window.String() + " (status 401)"
	summary403 := "1 more failed authentications from 192.0.2.9 in the last " + window.String() + " (status 403)"
	deadline := time.Now().Add(5 * time.Second)
	for count(summary) == 0 || count(summary403) == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("no %q and %q lines after the interval:\n%s", summary, summary403, log.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := count("msg=request", "client=192.0.2.9"); n != 2 {
		t.Errorf("%d access-log lines for 192.0.2.9's 403s and 401, want one of each:\n%s", n, log.String())
	}
	if n := count("more failed authentications from 127.0.0.8"); n != 0 {
		t.Errorf("a summary for 127.0.0.8, which failed once:\n%s", log.String())
	}
	// A new interval: the next failure is logged again.
	do("127.0.0.7:1", bearer("pgba_wrong"), 401)
	if n := count("msg=request", "status=401", "client=127.0.0.7"); n != 2 {
		t.Errorf("%d access-log lines for 127.0.0.7's failures after the interval, want 2:\n%s", n, log.String())
	}
}
