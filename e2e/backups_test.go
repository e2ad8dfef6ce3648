//go:build e2e

package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
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

// barmanView is what a Barman itself reports of the sandbox server's
// catalog: list-backups, the first and last backups `status` names,
// show-backup of those two, and the archived file of the last WAL
// show-backup names (whose mtime is the time Barman records for it in
// xlog.db: it stats the file when it archives it and moves it unchanged).
type barmanView struct {
	List         []barmanBackup
	First, Last  string
	ShowFirst    barmanShowBackup
	ShowLast     barmanShowBackup
	LastWALMtime time.Time
}

func barmanStatus(t *testing.T, b *barmanUT) (first, last string) {
	t.Helper()
	server := sandbox["SANDBOX_SERVER"]
	out, err := barmanOutput(b, "-f", "json", "status", server)
	if i := bytes.IndexByte(out, '{'); i > 0 {
		out = out[i:]
	}
	var status map[string]map[string]struct {
		Message string `json:"message"`
	}
	if err == nil {
		err = json.Unmarshal(out, &status)
	}
	if err != nil {
		t.Fatalf("%s -f json status: %v\n%s", b, err, out)
	}
	return status[server]["first_backup"].Message, status[server]["last_backup"].Message
}

func readBarmanView(t *testing.T, b *barmanUT, walsDir string) barmanView {
	t.Helper()
	v := barmanView{List: barmanListBackups(t, b)}
	v.First, v.Last = barmanStatus(t, b)
	var err error
	if v.ShowFirst, err = barmanShowBackupJSON(b, v.First); err != nil {
		t.Fatal(err)
	}
	if v.ShowLast, err = barmanShowBackupJSON(b, v.Last); err != nil {
		t.Fatal(err)
	}
	if wal := v.ShowLast.WAL.LastAvailable; len(wal) == 24 {
		fi, err := os.Stat(filepath.Join(walsDir, wal[:16], wal))
		if err != nil {
			t.Fatalf("%s: the last available WAL %s is not in wals_directory %s: %v", b, wal, walsDir, err)
		}
		v.LastWALMtime = fi.ModTime().UTC()
	}
	return v
}

// barmanTime parses a time as show-backup prints it.
func barmanTime(t *testing.T, s string) time.Time {
	t.Helper()
	ts, err := time.Parse("2006-01-02 15:04:05.999999-07:00", s)
	if err != nil {
		t.Fatalf("show-backup time %q: %v", s, err)
	}
	return ts
}

// TestBackupsAgreeWithBarman: GET /servers/pg/backups lists the backups
// `barman list-backups` lists, in its order, with its statuses, end times
// and WAL sizes; its recovery window runs from the end of the first backup
// `status` names (show-backup's end time) to the last WAL show-backup of the
// last backup names (latest_wal) and the time Barman archived it; the CLI
// prints the same; latest and oldest resolve to the newest and oldest DONE
// backups Barman lists. WAL was archived between this run's two backups
// (takeBackups), so the older one's WAL size is not 0 in either.
func TestBackupsAgreeWithBarman(t *testing.T) {
	server := sandbox["SANDBOX_SERVER"]
	each(t, all, func(t *testing.T, b *barmanUT) {
		walsDir := showServer(t, b)["wals_directory"]
		var view barmanView
		var cat apiCatalog
		// A backup or WAL archived between the reads would make them
		// differ: Barman's answer before and after ours must agree.
		for attempt := 0; ; attempt++ {
			view = readBarmanView(t, b, walsDir)
			cat = b.catalog(t)
			if reflect.DeepEqual(view, readBarmanView(t, b, walsDir)) {
				break
			}
			if attempt == 4 {
				t.Fatal("Barman's catalog kept changing while it was read")
			}
			time.Sleep(time.Second)
		}
		want := view.List
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
			if w.ID == b.older.id && w.WALSizeBytes == 0 {
				t.Errorf("backup %s: barman's wal_size_bytes is 0, yet WAL was archived between it and %s", w.ID, b.newer.id)
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
		if view.First != oldestDone || view.Last != newestDone {
			t.Errorf("barman status names first %s and last %s; list-backups' oldest and newest DONE are %s and %s", view.First, view.Last, oldestDone, newestDone)
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
		checkWindow(t, "API", cat, view)

		stdout, stderr, rc := b.cli(t, "backups", "--server", server, "-o", "json")
		var viaCLI apiCatalog
		if rc != 0 || json.Unmarshal([]byte(stdout), &viaCLI) != nil {
			t.Fatalf("backups -o json: exit %d\n%s\n%s", rc, stdout, stderr)
		}
		idsAndSizes := func(list []apiBackup) []string {
			var out []string
			for _, b := range list {
				out = append(out, fmt.Sprintf("%s %s %v", b.ID, b.Status, ptr(b.WALSize)))
			}
			return out
		}
		if got, api := idsAndSizes(viaCLI.Backups), idsAndSizes(cat.Backups); !reflect.DeepEqual(got, api) {
			t.Errorf("CLI lists %q, API %q", got, api)
		}
		if viaCLI.Window == nil || viaCLI.Window.LatestWAL == nil {
			t.Fatalf("CLI recovery window %+v: want one with a latest WAL", viaCLI.Window)
		}
		checkWindow(t, "CLI", viaCLI, view)
	})
}

// checkWindow compares a recovery window with what Barman reports: it
// begins where the first backup ends (show-backup's end time, which has
// microseconds), its latest WAL is the last show-backup of the last backup
// names, and it ends at the later of that backup's end and the time Barman
// archived that WAL.
func checkWindow(t *testing.T, who string, cat apiCatalog, view barmanView) {
	t.Helper()
	earliest, err := time.Parse(time.RFC3339Nano, cat.Window.Earliest)
	if want := barmanTime(t, view.ShowFirst.Base.EndTime); err != nil || !earliest.Equal(want) {
		t.Errorf("%s: window earliest %s, want the end of the first backup %s as show-backup prints it: %s", who, cat.Window.Earliest, view.First, view.ShowFirst.Base.EndTime)
	}
	if got, want := *cat.Window.LatestWAL, view.ShowLast.WAL.LastAvailable; got != want {
		t.Errorf("%s: window latest_wal %s, show-backup %s says the last available WAL is %s", who, got, view.Last, want)
	}
	wantLatest := barmanTime(t, view.ShowLast.Base.EndTime)
	if view.LastWALMtime.After(wantLatest) {
		wantLatest = view.LastWALMtime
	}
	latest, err := time.Parse(time.RFC3339Nano, cat.Window.Latest)
	// xlog.db keeps the time as a Python float, good to about 0.25µs here.
	if d := latest.Sub(wantLatest); err != nil || d < -time.Microsecond || d > time.Microsecond {
		t.Errorf("%s: window latest %s, want %s (the later of backup %s's end, %s, and when WAL %s was archived, %s)", who, cat.Window.Latest, wantLatest.Format(time.RFC3339Nano), view.Last, view.ShowLast.Base.EndTime, view.ShowLast.WAL.LastAvailable, view.LastWALMtime.Format(time.RFC3339Nano))
	}
}

func ptr(p *int64) any {
	if p == nil {
		return nil
	}
	return *p
}
