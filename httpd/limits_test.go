package httpd_test

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
)

// TestCreateRateLimit: one credential may create CreatesPerMinute
// operations at once, then gets 429 with Retry-After and nothing written;
// another credential is not held back by it.
func TestCreateRateLimit(t *testing.T) {
	const (
		aSecret = "pgba_a-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH"
		bSecret = "pgba_b-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGH"
	)
	e := newEnv(t)
	s, _ := e.apiServer(t)
	s.Auth = &httpd.Auth{Tokens: []httpd.Token{
		{Name: "a", SHA256: httpd.HashToken(aSecret), Permissions: httpd.PermAdmin},
		{Name: "b", SHA256: httpd.HashToken(bSecret), Permissions: httpd.PermAdmin},
	}}
	s.Limits.CreatesPerMinute = 3
	h := s.Handler()
	post := func(secret string) *httptest.ResponseRecorder {
		return doAuth(t, h, authRequest{method: "POST", path: "/operations", body: validUpdate, authz: bearer(secret), remote: "127.0.0.1:1"})
	}
	for i := range 3 {
		if w := post(aSecret); w.Code != http.StatusAccepted {
			t.Fatalf("create %d: %d %s", i+1, w.Code, w.Body)
		}
	}
	before := testenv.Snapshot(t, e.Home)
	w := post(aSecret)
	msg := wantError(t, w, http.StatusTooManyRequests)
	if !strings.Contains(msg, "token:a created more than 3 operations in the last minute") || !strings.Contains(msg, "serve.creates_per_minute") {
		t.Errorf("429 %q does not say who, the limit and the setting", msg)
	}
	if secs, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || secs < 1 || secs > 20 {
		t.Errorf("Retry-After %q, want the seconds until one create is available (1-20)", w.Header().Get("Retry-After"))
	}
	if diff := testenv.DiffSnapshots(before, testenv.Snapshot(t, e.Home)); diff != "" {
		t.Errorf("a refused create changed the store: %v", diff)
	}
	if w := post(bSecret); w.Code != http.StatusAccepted {
		t.Errorf("another credential: %d %s", w.Code, w.Body)
	}
}

// TestCreateRefusedWhenDiskNearlyFull: while the file system of
// barman_home has less than MinFreeBytes and less than 1 % free, a create
// gets 507 naming the path and the free space, and writes nothing; with
// enough free space by either measure it is accepted.
func TestCreateRefusedWhenDiskNearlyFull(t *testing.T) {
	e := newEnv(t)
	var free, size uint64 // in 4 KiB blocks
	httpd.SetStatfs(t, func(path string, st *syscall.Statfs_t) error {
		st.Bsize, st.Bavail, st.Blocks = 4096, free, size
		return nil
	})
	h, _ := e.handler(t)
	const mib = 256 // 4 KiB blocks
	for _, tc := range []struct {
		name       string
		free, size uint64
		want       int
	}{
		{"10 MiB free of 100 GiB", 10 * mib, 100 * 1024 * mib, http.StatusInsufficientStorage},
		{"1 GiB free of 100 GiB", 1024 * mib, 100 * 1024 * mib, http.StatusAccepted},
		{"10 MiB free of 500 MiB (2 %)", 10 * mib, 500 * mib, http.StatusAccepted},
	} {
		free, size = tc.free, tc.size
		before := testenv.Snapshot(t, e.Home)
		w := postJSON(t, h, "/operations", validUpdate)
		if w.Code != tc.want {
			t.Fatalf("%s: %d %s, want %d", tc.name, w.Code, w.Body, tc.want)
		}
		if tc.want != http.StatusInsufficientStorage {
			continue
		}
		msg := wantError(t, w, http.StatusInsufficientStorage)
		for _, m := range []string{e.Home, "10.0 MiB free of 100.0 GiB", "64.0 MiB", "serve.min_free_bytes"} {
			if !strings.Contains(msg, m) {
				t.Errorf("%s: 507 %q lacks %q", tc.name, msg, m)
			}
		}
		if diff := testenv.DiffSnapshots(before, testenv.Snapshot(t, e.Home)); diff != "" {
			t.Errorf("%s: a refused create changed the store: %v", tc.name, diff)
		}
	}
}
