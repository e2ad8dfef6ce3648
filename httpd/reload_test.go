package httpd_test

import (
	"net/http"
	"sync"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/httpd"
)

// TestSetAccessWhileServing: serve's reload (SIGHUP) swaps tokens,
// permissions and allowed hosts of a running Server. The next request is
// judged by the new rules: a removed token is refused, a new one accepted
// with its permissions; requests racing the swap see one set of rules or
// the other (run with -race).
func TestSetAccessWhileServing(t *testing.T) {
	e := newEnv(t)
	s, _ := e.apiServer(t)
	s.Auth = &httpd.Auth{Tokens: []httpd.Token{{Name: "old", SHA256: httpd.HashToken(revokedSecret)}}}
	h := s.Handler()
	get := func(secret string) int {
		return doAuth(t, h, authRequest{method: "GET", path: "/operations", authz: bearer(secret), remote: "127.0.0.1:5555"}).Code
	}
	if c := get(revokedSecret); c != http.StatusOK {
		t.Fatalf("before the swap, the configured token: %d, want 200", c)
	}
	if c := get(ciSecret); c != http.StatusUnauthorized {
		t.Fatalf("before the swap, a token not configured: %d, want 401", c)
	}

	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 50 {
				if c := get(ciSecret); c != http.StatusOK && c != http.StatusUnauthorized {
					t.Errorf("during the swap: %d, want 200 or 401", c)
				}
			}
		})
	}
	s.SetAccess(&httpd.Auth{Tokens: []httpd.Token{{Name: "ci", SHA256: httpd.HashToken(ciSecret), Permissions: httpd.PermRead}}}, nil)
	wg.Wait()

	if c := get(ciSecret); c != http.StatusOK {
		t.Errorf("after the swap, the new token: %d, want 200", c)
	}
	if c := get(revokedSecret); c != http.StatusUnauthorized {
		t.Errorf("after the swap, the removed token: %d, want 401", c)
	}
	w := doAuth(t, h, authRequest{method: "POST", path: "/operations", body: validUpdate, authz: bearer(ciSecret), remote: "127.0.0.1:5555"})
	if w.Code != http.StatusForbidden {
		t.Errorf("after the swap, a POST with the new read-only token: %d %s, want 403", w.Code, w.Body)
	}

	// Without credentials, the allowed hosts are swapped as well.
	s.SetAccess(nil, []string{"barman.internal"})
	if w := hostRequest(t, h, "GET", "/operations", "barman.internal", ""); w.Code != http.StatusOK {
		t.Errorf("after allowing barman.internal: %d %s, want 200", w.Code, w.Body)
	}
	s.SetAccess(nil, nil)
	if w := hostRequest(t, h, "GET", "/operations", "barman.internal", ""); w.Code != http.StatusForbidden {
		t.Errorf("after removing barman.internal: %d %s, want 403", w.Code, w.Body)
	}
}
