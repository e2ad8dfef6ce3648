//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"testing"
	"time"
)

// barmanBackup is one backup as `barman -f json list-backups` prints it.
type barmanBackup struct {
	ID           string `json:"backup_id"`
	Status       string `json:"status"`
	EndTimestamp string `json:"end_time_timestamp"`
	WALSizeBytes int64  `json:"wal_size_bytes"`
}

// barmanListBackups is Barman's own catalog of the sandbox server, newest
// first.
func barmanListBackups(t *testing.T, b *barmanUT) []barmanBackup {
	t.Helper()
	server := sandbox["SANDBOX_SERVER"]
	out, err := barmanOutput(b, "-f", "json", "list-backups", server)
	if err != nil {
		t.Fatalf("barman list-backups: %v\n%s", err, out)
	}
	// Warnings may come first on the combined output; the JSON is last.
	if i := bytes.IndexByte(out, '{'); i > 0 {
		out = out[i:]
	}
	var list map[string][]barmanBackup
	if err := json.Unmarshal(out, &list); err != nil {
		t.Fatalf("barman list-backups JSON: %v\n%s", err, out)
	}
	return list[server]
}

// apiBackup is one backup of GET /servers/{name}/backups.
type apiBackup struct {
	ID      string  `json:"backup_id"`
	Status  string  `json:"status"`
	EndTime *string `json:"end_time"`
	WALSize *int64  `json:"wal_size"`
}

type apiCatalog struct {
	Server  string      `json:"server"`
	Backups []apiBackup `json:"backups"`
	Window  *struct {
		Earliest  string  `json:"earliest"`
		Latest    string  `json:"latest"`
		LatestWAL *string `json:"latest_wal"`
	} `json:"recovery_window"`
}

func (b *barmanUT) catalog(t *testing.T) apiCatalog {
	t.Helper()
	code, body := b.get(t, "/servers/"+sandbox["SANDBOX_SERVER"]+"/backups")
	if code != 200 {
		t.Fatalf("GET /servers/%s/backups: %d %v", sandbox["SANDBOX_SERVER"], code, body)
	}
	data, _ := json.Marshal(body)
	var cat apiCatalog
	if err := json.Unmarshal(data, &cat); err != nil {
		t.Fatalf("catalog: %v\n%s", err, data)
	}
	return cat
}

// TestBackupsAgreeWithBarman: GET /servers/pg/backups lists the backups
// `barman list-backups` lists, in its order, with its statuses, end times
// and WAL sizes; the CLI prints the same; latest and oldest resolve to the
// newest and oldest DONE backups Barman lists.
func TestBackupsAgreeWithBarman(t *testing.T) {
	server := sandbox["SANDBOX_SERVER"]
	each(t, all, func(t *testing.T, b *barmanUT) {
		var want []barmanBackup
		var cat apiCatalog
		// A backup finishing between the two reads would make them differ:
		// Barman's answer before and after ours must agree.
		for attempt := 0; ; attempt++ {
			want = barmanListBackups(t, b)
			cat = b.catalog(t)
			if reflect.DeepEqual(want, barmanListBackups(t, b)) {
				break
			}
			if attempt == 2 {
				t.Fatal("Barman's catalog kept changing while it was read")
			}
		}
		if len(want) < 2 {
			t.Fatalf("barman lists %d backups; the sandbox run took two", len(want))
		}
		if cat.Server != server || len(cat.Backups) != len(want) {
			t.Fatalf("API lists %d backups of %q, barman %d of %q:\nAPI: %+v\nbarman: %+v", len(cat.Backups), cat.Server, len(want), server, cat.Backups, want)
		}
		for i, w := range want {
			got := cat.Backups[i]
			if got.ID != w.ID || got.Status != w.Status {
				t.Errorf("backup %d: API %s %s, barman %s %s", i, got.ID, got.Status, w.ID, w.Status)
				continue
			}
			if got.WALSize == nil || *got.WALSize != w.WALSizeBytes {
				t.Errorf("backup %s: API wal_size %v, barman wal_size_bytes %d", w.ID, ptr(got.WALSize), w.WALSizeBytes)
			}
			if got.EndTime != nil && w.EndTimestamp != "" {
				end, err := time.Parse(time.RFC3339Nano, *got.EndTime)
				ts, err2 := strconv.ParseInt(w.EndTimestamp, 10, 64)
				if err != nil || err2 != nil || end.Unix() != ts {
					t.Errorf("backup %s: API end_time %s, barman end_time_timestamp %s", w.ID, *got.EndTime, w.EndTimestamp)
				}
			}
		}
		for _, b := range []struct{ this, wantID string }{{"b.older", b.older.id}, {"b.newer", b.newer.id}} {
			found := false
			for _, c := range cat.Backups {
				found = found || c.ID == b.wantID
			}
			if !found {
				t.Errorf("this run's backup %s (%s) is not listed", b.wantID, b.this)
			}
		}

		var newestDone, oldestDone string
		for _, w := range want {
			if w.Status == "DONE" {
				if newestDone == "" {
					newestDone = w.ID
				}
				oldestDone = w.ID
			}
		}
		for ref, wantID := range map[string]string{"latest": newestDone, "oldest": oldestDone, b.newer.id: b.newer.id, b.older.request: b.older.id} {
			code, body := b.get(t, "/servers/"+server+"/backups/"+ref)
			if code != 200 || body["backup_id"] != wantID {
				t.Errorf("GET .../backups/%s: %d %v, want backup %s", ref, code, body, wantID)
			}
		}
		code, body := b.get(t, "/servers/"+server+"/backups/20000101T000000")
		if msg, _ := body["error"].(string); code != 404 || !bytes.Contains([]byte(msg), []byte(newestDone)) {
			t.Errorf("unknown backup: %d %v, want 404 naming %s", code, body, newestDone)
		}

		if cat.Window == nil || cat.Window.LatestWAL == nil {
			t.Fatalf("recovery window %+v: want one with a latest WAL", cat.Window)
		}
		var oldestEnd int64
		for _, w := range want {
			if w.Status == "DONE" {
				oldestEnd, _ = strconv.ParseInt(w.EndTimestamp, 10, 64)
			}
		}
		earliest, err := time.Parse(time.RFC3339Nano, cat.Window.Earliest)
		if err != nil || earliest.Unix() != oldestEnd {
			t.Errorf("window earliest %s, want the end of the oldest DONE backup (%d)", cat.Window.Earliest, oldestEnd)
		}

		stdout, stderr, rc := b.cli(t, "backups", "--server", server, "-o", "json")
		var viaCLI apiCatalog
		if rc != 0 || json.Unmarshal([]byte(stdout), &viaCLI) != nil {
			t.Fatalf("backups -o json: exit %d\n%s\n%s", rc, stdout, stderr)
		}
		idsAndStatuses := func(list []apiBackup) []string {
			var out []string
			for _, b := range list {
				out = append(out, b.ID+" "+b.Status)
			}
			return out
		}
		if got, api := idsAndStatuses(viaCLI.Backups), idsAndStatuses(cat.Backups); !reflect.DeepEqual(got, api) {
			t.Errorf("CLI lists %q, API %q", got, api)
		}
	})
}

func ptr(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}
