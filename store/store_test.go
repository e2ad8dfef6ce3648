package store

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/ops/opstest"

	"github.com/pg-backup-api/pg-backup-api/bench/storegen"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson/pyjsontest"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// TestStoreFixture lists and inspects the store the reference wrote.
func TestStoreFixture(t *testing.T) {
	home := newStoreCopy(t)
	st := newStore(home)
	type want struct {
		id, typ       string
		status        ops.Status
		phase         ops.Phase
		start, end    string
		outputPrefix  string
		outputPartial string
	}
	scopes := []struct {
		server string
		ops    []want
	}{
		{"", []want{
			{"20261125T080447", "config_update", ops.StatusDone, ops.PhaseDone, "2026-11-25T08:04:47.530448", "2026-11-25T08:04:48.217414", "Changing value of option 'archiver' for section 'db_server_two'", ""},
			{"20261125T080919", "config_update", ops.StatusDone, ops.PhaseDone, "2026-11-25T08:09:19.324345", "2026-11-25T08:09:19.882377", "Changing value of option 'archiver' for section 'no-such-server' from 'None' to 'on'", ""},
		}},
		{"db_server_two", []want{
			{"20261125T080500", "config_switch", ops.StatusDone, ops.PhaseDone, "2026-11-25T08:05:00.474759", "2026-11-25T08:05:01.121805", "Applying model 'my-model' to server 'db_server_two'\n", ""},
			{"20261125T080805", "recovery", ops.StatusDone, ops.PhaseDone, "2026-11-25T08:08:05.915895", "2026-11-25T08:08:14.068336", "Starting remote restore for server db_server_two using backup 20261125T080758\n", "Your PostgreSQL server has been successfully prepared for recovery!\n"},
			{"20261125T080915", "config_switch", ops.StatusFailed, ops.PhaseFailed, "2026-11-25T08:09:15.681079", "2026-11-25T08:09:16.278206", "ERROR: Unknown model 'no-such-model'\n", ""},
			{"20261125T080916", "recovery", ops.StatusFailed, ops.PhaseFailed, "2026-11-25T08:09:16.898446", "2026-11-25T08:09:17.463030", "ERROR: Unable to connect to the target host", ""},
			{"20261125T080918", "config_switch", ops.StatusDone, ops.PhaseDone, "2026-11-25T08:09:18.111222", "2026-11-25T08:09:20.679206", "Resetting the active model for the server db_server_two\n", ""},
		}},
	}
	for _, sc := range scopes {
		t.Run("scope "+sc.server, func(t *testing.T) {
			// Without status: what the index knows, never Barman's output.
			list, skipped, err := st.List(sc.server, ops.ListOptions{})
			if err != nil || len(skipped) != 0 {
				t.Fatalf("List = %v skipped, %v", skipped, err)
			}
			var ids, wantIDs []string
			for _, op := range list {
				ids = append(ids, op.ID+"/"+string(op.Type))
				if op.Output != "" || op.Job != nil {
					t.Errorf("%s: a plain listing read the files: %+v", op.ID, op)
				}
			}
			for _, w := range sc.ops {
				wantIDs = append(wantIDs, w.id+"/"+w.typ)
			}
			if !reflect.DeepEqual(ids, wantIDs) {
				t.Errorf("List = %q, want %q", ids, wantIDs)
			}

			full, skipped, err := st.List(sc.server, ops.ListOptions{Status: true})
			if err != nil || len(skipped) != 0 || len(full) != len(sc.ops) {
				t.Fatalf("List(Status) = %d ops, %v skipped, %v", len(full), skipped, err)
			}
			for i, w := range sc.ops {
				got, err := st.Get(sc.server, w.id)
				if err != nil {
					t.Fatalf("Get(%s): %v", w.id, err)
				}
				for _, op := range []*ops.Operation{got, full[i]} {
					if op.ID != w.id || op.Server != sc.server || string(op.Type) != w.typ || op.Status != w.status || op.Phase != w.phase {
						t.Errorf("%s = id %s server %q type %s status %s phase %s; want %+v", w.id, op.ID, op.Server, op.Type, op.Status, op.Phase, w)
					}
					if !op.StartTime.Equal(testenv.LocalTime(t, w.start)) || !op.EndTime.Equal(testenv.LocalTime(t, w.end)) {
						t.Errorf("%s: start %v end %v, want %s and %s", w.id, op.StartTime, op.EndTime, w.start, w.end)
					}
					if op.ExitCode != nil || op.Reason != "" || op.Ours() || op.BarmanConfigPath() != "" {
						t.Errorf("%s: exit code %v reason %q ours %v config %q; the reference records none of these", w.id, op.ExitCode, op.Reason, op.Ours(), op.BarmanConfigPath())
					}
				}
				// Output and the file's content come with Get; a listing
				// (served from the index) carries neither.
				if !strings.HasPrefix(got.Output, w.outputPrefix) || !strings.HasSuffix(got.Output, w.outputPartial) {
					t.Errorf("%s: output %q", w.id, got.Output)
				}
				if _, ok := got.Job.Get("success"); !ok {
					t.Errorf("%s: Job is not the output file", w.id)
				}
			}
		})
	}

	if got := st.Scopes([]string{"db_server_two", "pg", "missing"}); !reflect.DeepEqual(got, []string{"", "db_server_two"}) {
		t.Errorf("Scopes = %q", got)
	}
	if got := newStore(t.TempDir()).Scopes([]string{"db_server_two"}); len(got) != 0 {
		t.Errorf("Scopes of an empty home = %q", got)
	}
}

func TestStoreGetNotFound(t *testing.T) {
	home := newStoreCopy(t)
	st := newStore(home)
	// Files an unchecked ID would reach: if Get used them, it would find
	// an operation.
	job := testenv.ReadFile(t, filepath.Join(home, "jobs", "20261125T080447.json"))
	testenv.WriteFile(t, filepath.Join(home, "x.json"), job)
	testenv.WriteFile(t, filepath.Join(home, "db_server_two", "x.json"), job)
	testenv.WriteFile(t, filepath.Join(home, "jobs", ".hidden.json"), job)

	tests := []struct {
		server, id string
		want       string
	}{
		{"", "20990101T000000", "operation 20990101T000000 does not exist at instance level"},
		{"db_server_two", "20990101T000000", `operation 20990101T000000 does not exist for server "db_server_two"`},
		{"db_server_two", "20261125T080447", `does not exist for server "db_server_two"`}, // an instance operation
		{"", "20261125T080500", "does not exist at instance level"},                       // a server operation
		{"", "../x", `operation "../x" does not exist: not a valid operation ID`},
		{"db_server_two", "../x", "not a valid operation ID"},
		{"", "../jobs/20261125T080447", "not a valid operation ID"},
		{"db_server_two", "../db_server_two/jobs/20261125T080500", "not a valid operation ID"},
		{"", "jobs/../x", "not a valid operation ID"},
		{"", ".hidden", "not a valid operation ID"},
		{"", "", "not a valid operation ID"},
		{"", "..", "not a valid operation ID"},
		{"", "/etc/passwd", "not a valid operation ID"},
		{"", "20261125T080447\x00", "not a valid operation ID"},
	}
	for _, tc := range tests {
		t.Run(tc.server+"/"+tc.id, func(t *testing.T) {
			op, err := st.Get(tc.server, tc.id)
			if op != nil {
				t.Errorf("Get returned %+v", op)
			}
			opstest.WantError(t, err, ops.ENOTFOUND, tc.want)
		})
	}
}

// TestStoreListSkipsBadFiles checks that files that are not operations are
// reported, never fatal, and that the operations around them still list.
func TestStoreListSkipsBadFiles(t *testing.T) {
	home := newStoreCopy(t)
	st := newStore(home)
	jobs := filepath.Join(home, "jobs")
	testenv.WriteFile(t, filepath.Join(jobs, "20261125T090000.json"), `{"type": "config_update", "chan`)
	testenv.WriteFile(t, filepath.Join(jobs, "20261125T090001.json"), `{"hello": "world"}`)
	testenv.WriteFile(t, filepath.Join(jobs, "20261125T090002.json"), `[1, 2]`)
	testenv.WriteFile(t, filepath.Join(jobs, "20261125T090003.json"), "")
	testenv.WriteFile(t, filepath.Join(jobs, "bad name.json"), `{"operation_type": "config_update"}`)
	testenv.WriteFile(t, filepath.Join(jobs, ".20261125T090004.json.tmp-1"), `{"partial`)
	testenv.WriteFile(t, filepath.Join(jobs, ".hidden.json"), `{"partial`)
	testenv.WriteFile(t, filepath.Join(jobs, "README.txt"), "not json")
	if err := os.Mkdir(filepath.Join(jobs, "20261125T090005.json"), 0o755); err != nil { // a directory
		t.Fatal(err)
	}
	// A valid job with a damaged output file.
	testenv.WriteFile(t, filepath.Join(jobs, "20261125T090006.json"), `{"type": "config_update", "operation_type": "config_update", "start_time": "2026-11-25T09:00:06.000000"}`)
	testenv.WriteFile(t, filepath.Join(home, "output", "20261125T090006.json"), `{"success": tr`)
	// A job file with only "type", as some tools write: still an operation.
	testenv.WriteFile(t, filepath.Join(jobs, "20261125T090007.json"), `{"type": "config_update"}`)

	wantSkipped := map[string]string{
		"20261125T090000.json": "not valid JSON",
		"20261125T090001.json": "no operation_type",
		"20261125T090002.json": "must be a JSON object",
		"20261125T090003.json": "body is empty",
		"bad name.json":        "not an operation ID",
		"20261125T090005.json": "is a directory",
	}
	for _, status := range []bool{false, true} {
		t.Run(fmt.Sprintf("status=%v", status), func(t *testing.T) {
			list, skipped, err := st.List("", ops.ListOptions{Status: status})
			if err != nil {
				t.Fatalf("List failed as a whole: %v", err)
			}
			var ids []string
			for _, op := range list {
				ids = append(ids, op.ID)
			}
			wantIDs := []string{"20261125T080447", "20261125T080919", "20261125T090006", "20261125T090007"}
			want := map[string]string{}
			for k, v := range wantSkipped {
				want[k] = v
			}
			if !reflect.DeepEqual(ids, wantIDs) {
				t.Errorf("listed %q, want %q", ids, wantIDs)
			}
			got := map[string]string{}
			for _, sk := range skipped {
				if filepath.Dir(sk.Path) != jobs {
					t.Errorf("skipped path %q is not in %s", sk.Path, jobs)
				}
				got[filepath.Base(sk.Path)] = sk.Error()
			}
			if len(got) != len(want) {
				t.Errorf("skipped %d files, want %d: %q", len(got), len(want), got)
			}
			for name, part := range want {
				if !strings.Contains(got[name], part) || !strings.Contains(got[name], "skipped "+filepath.Join(jobs, name)) {
					t.Errorf("skipped[%s] = %q, want it to contain %q", name, got[name], part)
				}
			}
		})
	}

	// A damaged job file by ID: FAILED with the reason, never an error.
	if op, err := st.Get("", "20261125T090000"); err != nil || op.Status != ops.StatusFailed || op.Phase != ops.PhaseFailed || !strings.Contains(op.Reason, "is damaged") {
		t.Errorf("Get(damaged job) = %+v, %v; want FAILED with a reason naming the damage", op, err)
	}
	// A damaged output file: it ended, but how is unknown, so never DONE.
	if op, err := st.Get("", "20261125T090006"); err != nil || op.Status != ops.StatusFailed || !strings.Contains(op.Reason, "is damaged") {
		t.Errorf("Get(damaged output) = %+v, %v; want FAILED with a reason naming the damage", op, err)
	}
	if op, err := st.Get("", "20261125T090007"); err != nil || op.Status != ops.StatusInProgress || op.Phase != ops.PhaseForeign {
		t.Errorf("Get(type-only job) = %+v, %v; want IN_PROGRESS foreign", op, err)
	}

	// A scope without jobs/ is empty; a jobs/ that is not a directory is
	// an error.
	if list, skipped, err := st.List("pg", ops.ListOptions{}); len(list) != 0 || len(skipped) != 0 || err != nil {
		t.Errorf("List(pg) = %v, %v, %v; want empty", list, skipped, err)
	}
	testenv.WriteFile(t, filepath.Join(home, "broken", "jobs"), "file")
	_, _, err := st.List("broken", ops.ListOptions{})
	opstest.WantError(t, err, ops.EUNAVAILABLE, "cannot list operations in "+filepath.Join(home, "broken", "jobs"))
}

func TestStoreCreate(t *testing.T) {
	ext := ops.Extension{Version: "1.2.3", BarmanConfig: "/etc/barman.conf", RequestedBy: "cli:root", Client: "127.0.0.1"}
	tests := []struct {
		name    string
		server  string
		typ     ops.Type
		payload string
		backup  string
		ext     ops.Extension
		now     string
		wantID  string
		want    string
	}{
		{
			name: "config_switch", server: "db_server_two", typ: ops.ConfigSwitch,
			payload: `{"type": "config_switch", "model_name": "my-model"}`,
			ext:     ext, now: "2026-11-25T08:05:00.474759", wantID: "20261125T080500",
			want: `{"type": "config_switch", "model_name": "my-model", "operation_type": "config_switch", "start_time": "2026-11-25T08:05:00.474759", ` +
				`"pg_backup_api": {"version": "1.2.3", "barman_config": "/etc/barman.conf", "requested_by": "cli:root", "client": "127.0.0.1"}}`,
		},
		{
			name: "recovery without type, resolved backup recorded", server: "db_server_two", typ: ops.Recovery,
			payload: `{"backup_id": "latest", "remote_ssh_command": "ssh -p 2222 postgres@h", "destination_directory": "/var/lib/postgresql/restore"}`,
			backup:  "20261125T080758",
			ext:     ops.Extension{Version: "dev", BarmanConfig: "/b.conf"}, now: "2026-11-25T08:08:05.000000", wantID: "20261125T080805",
			want: `{"backup_id": "latest", "remote_ssh_command": "ssh -p 2222 postgres@h", "destination_directory": "/var/lib/postgresql/restore", "operation_type": "recovery", ` +
				`"start_time": "2026-11-25T08:08:05.000000", "pg_backup_api": {"version": "dev", "barman_config": "/b.conf", "resolved_backup_id": "20261125T080758"}}`,
		},
		{
			name: "config_update at instance level, non-ASCII kept escaped", server: "", typ: ops.ConfigUpdate,
			payload: `{"changes": [{"scope": "server", "server_name": "s", "description": "caf\u00e9"}], "type": "config_update"}`,
			ext:     ext, now: "2026-01-02T03:04:05.000001", wantID: "20260102T030405",
			want: `{"changes": [{"scope": "server", "server_name": "s", "description": "caf\u00e9"}], "type": "config_update", "operation_type": "config_update", ` +
				`"start_time": "2026-01-02T03:04:05.000001", "pg_backup_api": {"version": "1.2.3", "barman_config": "/etc/barman.conf", "requested_by": "cli:root", "client": "127.0.0.1"}}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			home := filepath.Join(t.TempDir(), "home")
			if err := os.Mkdir(home, 0o755); err != nil {
				t.Fatal(err)
			}
			st := newStore(home)
			now := testenv.LocalTime(t, tc.now).Add(123 * time.Nanosecond) // %f truncates to microseconds
			st.Now = func() time.Time { return now }
			payload := pyjsontest.MustDecode(t, tc.payload)
			before, _ := pyjson.EncodePython(payload)
			id, err := st.Create(&ops.Request{Server: tc.server, Type: tc.typ, Payload: payload, BackupID: tc.backup}, tc.ext)
			if err != nil {
				t.Fatal(err)
			}
			if id != tc.wantID {
				t.Errorf("id = %q, want %q", id, tc.wantID)
			}
			if after, _ := pyjson.EncodePython(payload); string(after) != string(before) {
				t.Errorf("Create changed the request's payload: %s", after)
			}
			path := st.JobPath(tc.server, id)
			if want := filepath.Join(home, tc.server, "jobs", id+".json"); path != want {
				t.Errorf("JobPath = %q, want %q", path, want)
			}
			if got := testenv.ReadFile(t, path); got != tc.want {
				t.Errorf("job file:\n got %s\nwant %s", got, tc.want)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if fi.Mode().Perm() != 0o600 {
				t.Errorf("job file mode = %v, want 0600", fi.Mode().Perm())
			}
			dirs := []string{"jobs", "output", StateDirName}
			if tc.server != "" {
				dirs = append(dirs, ".")
			}
			for _, d := range dirs {
				fi, err := os.Stat(filepath.Join(st.ScopeDir(tc.server), d))
				if err != nil {
					t.Fatal(err)
				}
				if !fi.IsDir() || fi.Mode().Perm() != 0o700 {
					t.Errorf("%s: mode %v, want a 0700 directory", d, fi.Mode())
				}
			}
			entries, _ := os.ReadDir(filepath.Join(st.ScopeDir(tc.server), "jobs"))
			if len(entries) != 1 {
				t.Errorf("jobs/ holds %d entries, want only the job (no temporary files)", len(entries))
			}
			op, err := st.Get(tc.server, id)
			if err != nil {
				t.Fatal(err)
			}
			if op.Status != ops.StatusInProgress || op.Phase != ops.PhaseQueued || op.Type != tc.typ || !op.Ours() ||
				op.BarmanConfigPath() != tc.ext.BarmanConfig || !op.StartTime.Equal(testenv.LocalTime(t, tc.now)) {
				t.Errorf("Get = %+v (ours %v, config %q)", op, op.Ours(), op.BarmanConfigPath())
			}
		})
	}
}

func TestStoreCreateNeedsHome(t *testing.T) {
	home := filepath.Join(t.TempDir(), "missing")
	st := newStore(home)
	_, err := st.Create(&ops.Request{Type: ops.ConfigUpdate, Payload: pyjsontest.MustDecode(t, `{"type": "config_update"}`)}, ops.Extension{})
	opstest.WantError(t, err, ops.EUNAVAILABLE, "barman_home "+home+" is not usable")
	if _, err := os.Stat(home); !os.IsNotExist(err) {
		t.Errorf("Create made barman_home: %v", err)
	}

	home = t.TempDir()
	testenv.WriteFile(t, filepath.Join(home, "db_server_two", "output"), "a file in the way")
	_, err = newStore(home).Create(&ops.Request{Server: "db_server_two", Type: ops.ConfigSwitch, Payload: pyjsontest.MustDecode(t, `{"reset": true}`)}, ops.Extension{})
	opstest.WantError(t, err, ops.EUNAVAILABLE, filepath.Join(home, "db_server_two", "output"))
}

var idPattern = regexp.MustCompile(`^\d{8}T\d{6}(-\d{4})?$`)

func TestStoreCreateSameSecond(t *testing.T) {
	home := t.TempDir()
	st := newStore(home)
	st.Now = fixedClock("2026-11-25T08:05:00.100000")
	req := func() *ops.Request {
		return &ops.Request{Type: ops.ConfigUpdate, Payload: pyjsontest.MustDecode(t, `{"type": "config_update"}`)}
	}
	var ids []string
	for i := 0; i < 3; i++ {
		id, err := st.Create(req(), ops.Extension{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	// Another process (its own Store) in the same second.
	other := newStore(home)
	other.Now = st.Now
	id, err := other.Create(req(), ops.Extension{})
	if err != nil {
		t.Fatal(err)
	}
	ids = append(ids, id)
	// The first process again, then the next second.
	if id, err = st.Create(req(), ops.Extension{}); err != nil {
		t.Fatal(err)
	}
	ids = append(ids, id)
	st.Now = fixedClock("2026-11-25T08:05:01.000000")
	if id, err = st.Create(req(), ops.Extension{}); err != nil {
		t.Fatal(err)
	}
	ids = append(ids, id)

	want := []string{"20261125T080500", "20261125T080500-0001", "20261125T080500-0002", "20261125T080500-0003", "20261125T080500-0004", "20261125T080501"}
	if !reflect.DeepEqual(ids, want) {
		t.Errorf("ids = %q, want %q", ids, want)
	}
	for _, id := range ids {
		if !idPattern.MatchString(id) || !ops.ValidName(id) {
			t.Errorf("id %q has the wrong form", id)
		}
	}
	// IDs sort in creation order.
	sorted := append([]string(nil), ids...)
	sort.Strings(sorted)
	if !reflect.DeepEqual(sorted, ids) {
		t.Errorf("ids do not sort by time: %q", sorted)
	}
	list, _, err := st.List("", ops.ListOptions{})
	if err != nil || len(list) != len(ids) {
		t.Errorf("List = %d ops, %v; want %d", len(list), err, len(ids))
	}

	// A second already taken by the reference implementation.
	home2 := t.TempDir()
	testenv.WriteFile(t, filepath.Join(home2, "jobs", "20261125T080500.json"), `{"type": "config_update", "operation_type": "config_update"}`)
	st2 := newStore(home2)
	st2.Now = fixedClock("2026-11-25T08:05:00.999999")
	if id, err := st2.Create(req(), ops.Extension{}); err != nil || id != "20261125T080500-0001" {
		t.Errorf("Create over a reference ID = %q, %v; want the -0001 suffix", id, err)
	}
}

func TestStoreCreateSecondExhausted(t *testing.T) {
	home := t.TempDir()
	jobs := filepath.Join(home, "jobs")
	if err := os.MkdirAll(jobs, 0o700); err != nil {
		t.Fatal(err)
	}
	base := "20261125T080500"
	for seq := 0; seq <= maxIDSuffix; seq++ {
		if err := os.WriteFile(filepath.Join(jobs, idWithSeq(base, seq)+".json"), nil, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	st := newStore(home)
	st.Now = fixedClock("2026-11-25T08:05:00.000000")
	_, err := st.Create(&ops.Request{Type: ops.ConfigUpdate, Payload: pyjson.NewObject()}, ops.Extension{})
	opstest.WantError(t, err, ops.ECONFLICT, "more than 10000 operations were created in second 20261125T080500; retry")
	entries, err := os.ReadDir(jobs)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != maxIDSuffix+1 {
		t.Errorf("jobs/ holds %d entries after the failure, want %d (no temporary file left)", len(entries), maxIDSuffix+1)
	}
}

// TestStoreCreateConcurrent creates many operations in one second from
// goroutines of several Store instances (processes, as far as the store can
// tell): every one must get its own ID and its own complete file.
func TestStoreCreateConcurrent(t *testing.T) {
	home := t.TempDir()
	const stores, goroutines, each = 4, 6, 5
	clock := fixedClock("2026-11-25T08:05:00.000000")
	var wg sync.WaitGroup
	type result struct {
		id, tag string
		err     error
	}
	results := make(chan result, stores*goroutines*each)
	for s := 0; s < stores; s++ {
		st := newStore(home)
		st.Now = clock
		for g := 0; g < goroutines; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; i < each; i++ {
					tag := fmt.Sprintf("%d-%d-%d", s, g, i)
					payload := pyjson.NewObject()
					payload.Set("type", "config_update")
					payload.Set("tag", tag)
					id, err := st.Create(&ops.Request{Type: ops.ConfigUpdate, Payload: payload}, ops.Extension{Version: "t"})
					results <- result{id, tag, err}
				}
			}()
		}
	}
	wg.Wait()
	close(results)
	byID := map[string]string{}
	for r := range results {
		if r.err != nil {
			t.Errorf("Create %s: %v", r.tag, r.err)
			continue
		}
		if prev, dup := byID[r.id]; dup {
			t.Errorf("ID %s given twice (%s and %s)", r.id, prev, r.tag)
		}
		if !strings.HasPrefix(r.id, "20261125T080500") || !idPattern.MatchString(r.id) {
			t.Errorf("ID %q has the wrong form", r.id)
		}
		byID[r.id] = r.tag
	}
	if len(byID) != stores*goroutines*each {
		t.Fatalf("%d distinct IDs, want %d", len(byID), stores*goroutines*each)
	}
	st := newStore(home)
	for id, tag := range byID {
		op, err := st.Get("", id)
		if err != nil {
			t.Errorf("Get(%s): %v", id, err)
			continue
		}
		if got, _ := op.Job.String("tag"); got != tag {
			t.Errorf("%s holds tag %q, want %q", id, got, tag)
		}
	}
	entries, err := os.ReadDir(filepath.Join(home, "jobs"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != len(byID) {
		t.Errorf("jobs/ holds %d entries, want %d (stray temporary files?)", len(entries), len(byID))
	}
}

// TestStoreWritesAreAtomic reads jobs/ and output/ over and over while
// operations are created and their output files rewritten, with large
// payloads: no reader may ever see a partial file.
func TestStoreWritesAreAtomic(t *testing.T) {
	home := t.TempDir()
	st := newStore(home)
	big := strings.Repeat("0123456789abcdef", 4<<10) // 64 KiB per file, many pages
	create := func() string {
		payload := pyjson.NewObject()
		payload.Set("type", "config_update")
		payload.Set("blob", big)
		id, err := st.Create(&ops.Request{Type: ops.ConfigUpdate, Payload: payload}, ops.Extension{})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	create() // so that readers find files from the start
	const readers, nOps, rewrites = 2, 5, 6
	done := make(chan struct{})
	var mu sync.Mutex
	var files int
	var readerErr []string
	var wg sync.WaitGroup
	for r := 0; r < readers; r++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for pass := 0; ; pass++ {
				select {
				case <-done:
					return
				default:
				}
				var n int
				var errs []string
				for _, dir := range []string{"jobs", "output"} {
					entries, err := os.ReadDir(filepath.Join(home, dir))
					if err != nil && !os.IsNotExist(err) {
						errs = append(errs, err.Error())
					}
					for _, e := range entries {
						if strings.HasPrefix(e.Name(), ".") {
							continue
						}
						data, err := os.ReadFile(filepath.Join(home, dir, e.Name()))
						if err != nil {
							errs = append(errs, err.Error())
							continue
						}
						n++
						if !jsonValid(data) {
							errs = append(errs, fmt.Sprintf("%s/%s: partial file of %d bytes", dir, e.Name(), len(data)))
						}
					}
				}
				if pass%32 == 0 {
					if _, skipped, err := st.List("", ops.ListOptions{Status: true}); err != nil || len(skipped) != 0 {
						errs = append(errs, fmt.Sprintf("List: %v %v", skipped, err))
					}
				}
				mu.Lock()
				files += n
				readerErr = append(readerErr, errs...)
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < nOps; i++ {
		id := create()
		// Each Finish after the first replaces an existing output file.
		for j := 0; j < rewrites; j++ {
			if err := st.End("", id, nil, ops.Result{Success: j%2 == 1, Output: big}); err != nil {
				t.Fatal(err)
			}
		}
	}
	close(done)
	wg.Wait()
	for _, e := range readerErr {
		t.Error(e)
	}
	if files < 100 {
		t.Errorf("the readers read only %d files; the test proved little", files)
	}
	list, _, err := st.List("", ops.ListOptions{Status: true})
	if err != nil || len(list) != nOps+1 {
		t.Fatalf("List = %d, %v", len(list), err)
	}
	for _, op := range list[1:] {
		full, err := st.Get("", op.ID)
		if err != nil || op.Status != ops.StatusDone || full.Status != ops.StatusDone || len(full.Output) != len(big) {
			t.Errorf("%s: listed %s, read %v (%v)", op.ID, op.Status, full, err)
		}
	}
}

func TestStoreFinish(t *testing.T) {
	end := testenv.LocalTime(t, "2026-11-25T08:05:01.121805")
	tests := []struct {
		name     string
		foreign  bool
		res      ops.Result
		clock    string // Store.Now, used when res.EndTime is zero
		status   ops.Status
		phase    ops.Phase
		tail     string // what Finish appends to the job file
		extAfter string // the pg_backup_api object afterwards
	}{
		{
			name:   "success",
			res:    ops.Result{Success: true, ExitCode: 0, Output: "Applying model 'my-model'\nd\u00e9j\u00e0 vu\n", EndTime: end},
			status: ops.StatusDone, phase: ops.PhaseDone,
			tail:     `, "success": true, "end_time": "2026-11-25T08:05:01.121805", "output": "Applying model 'my-model'\nd\u00e9j\u00e0 vu\n", "exit_code": 0}`,
			extAfter: `{"version": "v", "barman_config": "/b.conf"}`,
		},
		{
			name:   "failure with the end time from the clock",
			res:    ops.Result{Success: false, ExitCode: 2, Output: "ERROR: x\n"},
			clock:  "2026-11-25T09:00:00.000007",
			status: ops.StatusFailed, phase: ops.PhaseFailed,
			tail:     `, "success": false, "end_time": "2026-11-25T09:00:00.000007", "output": "ERROR: x\n", "exit_code": 2}`,
			extAfter: `{"version": "v", "barman_config": "/b.conf"}`,
		},
		{
			name:   "stopped by us",
			res:    ops.Result{ExitCode: -1, Output: "", Reason: "stopped: context canceled", EndTime: end},
			status: ops.StatusFailed, phase: ops.PhaseFailed,
			tail:     `, "success": false, "end_time": "2026-11-25T08:05:01.121805", "output": "", "exit_code": -1}`,
			extAfter: `{"version": "v", "barman_config": "/b.conf", "reason": "stopped: context canceled"}`,
		},
		{
			name:   "lost",
			res:    ops.Result{ExitCode: -1, Output: "half\n", Reason: ops.LostReason, EndTime: end},
			status: ops.StatusFailed, phase: ops.PhaseLost,
			tail:     `, "success": false, "end_time": "2026-11-25T08:05:01.121805", "output": "half\n", "exit_code": -1}`,
			extAfter: `{"version": "v", "barman_config": "/b.conf", "reason": "` + ops.LostReason + `"}`,
		},
		{
			name:    "foreign job finished with a reason",
			foreign: true,
			res:     ops.Result{ExitCode: -1, Reason: "gave up", EndTime: end},
			status:  ops.StatusFailed, phase: ops.PhaseFailed,
			tail:     `, "success": false, "end_time": "2026-11-25T08:05:01.121805", "output": "", "exit_code": -1, "pg_backup_api": {"reason": "gave up"}}`,
			extAfter: `{"reason": "gave up"}`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			home := t.TempDir()
			st := newStore(home)
			st.Now = fixedClock("2026-11-25T08:05:00.474759")
			var id string
			if tc.foreign {
				id = "20261125T080500"
				testenv.WriteFile(t, st.JobPath("db_server_two", id), `{"type": "config_switch", "reset": true, "operation_type": "config_switch", "start_time": "2026-11-25T08:05:00.474759"}`)
			} else {
				var err error
				id, err = st.Create(&ops.Request{Server: "db_server_two", Type: ops.ConfigSwitch, Payload: pyjsontest.MustDecode(t, `{"type": "config_switch", "reset": true}`)},
					ops.Extension{Version: "v", BarmanConfig: "/b.conf"})
				if err != nil {
					t.Fatal(err)
				}
			}
			job := testenv.ReadFile(t, st.JobPath("db_server_two", id))
			if tc.clock != "" {
				st.Now = fixedClock(tc.clock)
			}
			if err := st.End("db_server_two", id, nil, tc.res); err != nil {
				t.Fatal(err)
			}
			out := testenv.ReadFile(t, st.OutputPath("db_server_two", id))
			// The job's keys in order, the extension updated in place, then
			// the result.
			want := strings.Replace(job, `"pg_backup_api": {"version": "v", "barman_config": "/b.conf"}`, `"pg_backup_api": `+tc.extAfter, 1)
			if want = strings.TrimSuffix(want, "}") + tc.tail; out != want {
				t.Errorf("output file:\n got %s\nwant %s", out, want)
			}
			if fi, err := os.Stat(st.OutputPath("db_server_two", id)); err != nil || fi.Mode().Perm() != 0o600 {
				t.Errorf("output file mode: %v, %v; want 0600", fi.Mode(), err)
			}
			if testenv.ReadFile(t, st.JobPath("db_server_two", id)) != job {
				t.Error("Finish changed the job file")
			}
			op, err := st.Get("db_server_two", id)
			if err != nil {
				t.Fatal(err)
			}
			if op.Status != tc.status || op.Phase != tc.phase || op.Output != tc.res.Output || op.Reason != tc.res.Reason {
				t.Errorf("Get = status %s phase %s output %q reason %q", op.Status, op.Phase, op.Output, op.Reason)
			}
			if op.ExitCode == nil || *op.ExitCode != tc.res.ExitCode {
				t.Errorf("ExitCode = %v, want %d", op.ExitCode, tc.res.ExitCode)
			}
			wantEnd := tc.res.EndTime
			if wantEnd.IsZero() {
				wantEnd = testenv.LocalTime(t, tc.clock)
			}
			if !op.EndTime.Equal(wantEnd) {
				t.Errorf("EndTime = %v, want %v", op.EndTime, wantEnd)
			}
			ext, _ := op.Job.Get("pg_backup_api")
			if got, _ := pyjson.EncodePython(ext); string(got) != tc.extAfter {
				t.Errorf("pg_backup_api = %s, want %s", got, tc.extAfter)
			}
		})
	}

	st := newStore(t.TempDir())
	if err := st.End("", "20261125T080500", nil, ops.Result{}); err == nil {
		t.Error("Finish of an operation without a job file succeeded")
	}
	if _, err := os.Stat(st.OutputPath("", "20261125T080500")); !os.IsNotExist(err) {
		t.Errorf("Finish without a job left an output file: %v", err)
	}
}

// TestStoreStatusPhases walks an operation through every state a reader
// can see, by Get and by List alike.
func TestStoreStatusPhases(t *testing.T) {
	home := t.TempDir()
	st := newStore(home)
	st.Now = fixedClock("2026-11-25T08:05:00.000000")
	const server = "db_server_two"
	newOp := func(t *testing.T) string {
		t.Helper()
		id, err := st.Create(&ops.Request{Server: server, Type: ops.ConfigSwitch, Payload: pyjsontest.MustDecode(t, `{"type": "config_switch", "reset": true}`)}, ops.Extension{Version: "v"})
		if err != nil {
			t.Fatal(err)
		}
		return id
	}
	check := func(t *testing.T, id string, status ops.Status, phase ops.Phase, output, reason string) {
		t.Helper()
		op, err := st.Get(server, id)
		if err != nil {
			t.Fatal(err)
		}
		if op.Status != status || op.Phase != phase || op.Output != output || op.Reason != reason {
			t.Errorf("Get = %s/%s output %q reason %q; want %s/%s output %q reason %q", op.Status, op.Phase, op.Output, op.Reason, status, phase, output, reason)
		}
		list, skipped, err := st.List(server, ops.ListOptions{Status: true})
		if err != nil || len(skipped) != 0 {
			t.Fatalf("List: %v %v", skipped, err)
		}
		for _, l := range list {
			if l.ID == id && (l.Status != status || l.Phase != phase) {
				t.Errorf("List says %s/%s, Get says %s/%s", l.Status, l.Phase, status, phase)
			}
		}
	}
	lockLog := func(t *testing.T, id, content string) *os.File {
		t.Helper()
		f, err := os.OpenFile(st.LogPath(server, id), os.O_RDWR|os.O_CREATE, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		if _, err := f.WriteString(content); err != nil {
			t.Fatal(err)
		}
		ok, err := TryLock(f)
		if err != nil || !ok {
			t.Fatalf("TryLock = %v, %v", ok, err)
		}
		return f
	}

	t.Run("queued, running, lost", func(t *testing.T) {
		id := newOp(t)
		check(t, id, ops.StatusInProgress, ops.PhaseQueued, "", "")
		f := lockLog(t, id, "Barman says hi\n")
		check(t, id, ops.StatusInProgress, ops.PhaseRunning, "Barman says hi\n", "")
		// A lock on another file does not count.
		other, err := os.Create(filepath.Join(st.StateDir(server), "runner.lock"))
		if err != nil {
			t.Fatal(err)
		}
		defer other.Close()
		if err := Unlock(f); err != nil {
			t.Fatal(err)
		}
		if ok, err := TryLock(other); !ok || err != nil {
			t.Fatal(ok, err)
		}
		check(t, id, ops.StatusFailed, ops.PhaseLost, "Barman says hi\n", ops.LostReason)
		// Locked again, it runs again; closed, the lock is gone.
		if ok, err := TryLock(f); !ok || err != nil {
			t.Fatal(ok, err)
		}
		check(t, id, ops.StatusInProgress, ops.PhaseRunning, "Barman says hi\n", "")
		f.Close()
		check(t, id, ops.StatusFailed, ops.PhaseLost, "Barman says hi\n", ops.LostReason)
	})
	t.Run("an empty lost log", func(t *testing.T) {
		id := newOp(t)
		testenv.WriteFile(t, st.LogPath(server, id), "")
		check(t, id, ops.StatusFailed, ops.PhaseLost, "", ops.LostReason)
	})
	t.Run("output wins over a log", func(t *testing.T) {
		for _, success := range []bool{true, false} {
			id := newOp(t)
			lockLog(t, id, "still locked")
			if err := st.End(server, id, nil, ops.Result{Success: success, Output: "final\n"}); err != nil {
				t.Fatal(err)
			}
			if success {
				check(t, id, ops.StatusDone, ops.PhaseDone, "final\n", "")
			} else {
				check(t, id, ops.StatusFailed, ops.PhaseFailed, "final\n", "")
			}
		}
	})
	t.Run("output without a boolean success", func(t *testing.T) {
		id := newOp(t)
		testenv.WriteFile(t, st.OutputPath(server, id), `{"success": "true", "output": "x"}`)
		check(t, id, ops.StatusFailed, ops.PhaseFailed, "x", "")
	})
	t.Run("foreign", func(t *testing.T) {
		id := "20261125T070000"
		testenv.WriteFile(t, st.JobPath(server, id), `{"type": "config_switch", "reset": true, "operation_type": "config_switch", "start_time": "2026-11-25T07:00:00.000000"}`)
		check(t, id, ops.StatusInProgress, ops.PhaseForeign, "", "")
		// Not even an unlocked log makes it lost: it is not ours.
		testenv.WriteFile(t, st.LogPath(server, id), "x")
		check(t, id, ops.StatusInProgress, ops.PhaseForeign, "", "")
		testenv.WriteFile(t, st.OutputPath(server, id), `{"type": "config_switch", "success": true, "end_time": "2026-11-25T07:00:01.000000", "output": "ok\n"}`)
		check(t, id, ops.StatusDone, ops.PhaseDone, "ok\n", "")
	})
}

func TestStorePaths(t *testing.T) {
	st := newStore("/h")
	tests := []struct{ got, want string }{
		{st.ScopeDir(""), "/h"},
		{st.ScopeDir("pg"), "/h/pg"},
		{st.JobPath("", "1"), "/h/jobs/1.json"},
		{st.JobPath("pg", "1"), "/h/pg/jobs/1.json"},
		{st.OutputPath("", "1"), "/h/output/1.json"},
		{st.OutputPath("pg", "1"), "/h/pg/output/1.json"},
		{st.StateDir("pg"), "/h/pg/.pg-backup-api"},
		{st.LogPath("pg", "1"), "/h/pg/.pg-backup-api/1.log"},
		{st.RunnerLockPath(""), "/h/.pg-backup-api/runner.lock"},
	}
	for _, tc := range tests {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
	if newStore("/h").Now == nil {
		t.Error("NewStore leaves Now nil")
	}
}

// TestListPages: Limit and Before cut the listing to the newest N before
// an ID, so walking pages visits every operation once, in order.
func TestListPages(t *testing.T) {
	home := filepath.Join(t.TempDir(), "home")
	ids, err := storegen.WriteOperations(home, 25, "/etc/barman.conf")
	if err != nil {
		t.Fatal(err)
	}
	st := newStore(home)
	var walked []string
	before := ""
	for range 10 {
		page, _, err := st.List(storegen.Server, ops.ListOptions{Status: true, Limit: 10, Before: before})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		var pageIDs []string
		for _, op := range page {
			pageIDs = append(pageIDs, op.ID)
		}
		walked = append(pageIDs, walked...)
		before = page[0].ID
	}
	if !slices.Equal(walked, ids) {
		t.Fatalf("pages walked %v, want %v", walked, ids)
	}
	page, _, err := st.List(storegen.Server, ops.ListOptions{Limit: 3, Before: ids[5]})
	if err != nil || len(page) != 3 || page[0].ID != ids[2] || page[2].ID != ids[4] {
		t.Fatalf("Limit 3 before %s = %v, %v; want %v", ids[5], page, err, ids[2:5])
	}
}
