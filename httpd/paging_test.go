package httpd_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"slices"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/bench/storegen"
	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// TestListPaging: ?limit=N&before=ID answers the N newest operations
// before ID, oldest first, plain or detailed, so a client walks the whole
// list in pages; bad values are refused with a 400 that says why.
func TestListPaging(t *testing.T) {
	gen, err := storegen.Generate(t.TempDir(), 23)
	if err != nil {
		t.Fatal(err)
	}
	api := &httpd.Server{
		AllowedHosts: testHosts,
		Service:      &ops.Service{Barman: barman.NewReader(gen.BarmanConf), OpenStore: store.Opener(), Version: "test"},
		Log:          slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	h := api.Handler()
	for _, detail := range []string{"", "&detail=true"} {
		var walked []string
		before := ""
		for range 10 {
			target := "/servers/db1/operations?limit=5" + detail
			if before != "" {
				target += "&before=" + before
			}
			w := get(t, h, target)
			wantStatus(t, w, 200)
			var page struct {
				Operations []struct {
					ID     string `json:"id"`
					Status string `json:"status"`
				} `json:"operations"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil {
				t.Fatalf("GET %s: %v: %s", target, err, w.Body)
			}
			if len(page.Operations) == 0 {
				break
			}
			if len(page.Operations) > 5 {
				t.Fatalf("GET %s: %d operations, want at most 5", target, len(page.Operations))
			}
			var ids []string
			for _, op := range page.Operations {
				ids = append(ids, op.ID)
				if detail != "" && op.Status == "" {
					t.Errorf("GET %s: %s has no status", target, op.ID)
				}
			}
			walked = append(ids, walked...)
			before = ids[0]
		}
		if !slices.Equal(walked, gen.IDs) {
			t.Errorf("detail %q: pages walked %v, want %v", detail, walked, gen.IDs)
		}
	}
	for _, q := range []string{"limit=0", "limit=-1", "limit=x", "before=../etc", "before=a%2Fb"} {
		w := get(t, h, "/servers/db1/operations?"+q)
		if msg := wantError(t, w, 400); msg == "" {
			t.Errorf("?%s: no message", q)
		}
	}
}
