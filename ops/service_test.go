package ops_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson/pyjsontest"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops/opstest"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// recordingLauncher remembers each EnsureRunner.
type recordingLauncher struct {
	ensured []string
	err     error
}

func (l *recordingLauncher) EnsureRunner(cfg *ops.BarmanConfig, server string) error {
	l.ensured = append(l.ensured, cfg.BarmanHome+"|"+server+"|"+cfg.Path)
	return l.err
}

// TestServiceBadInputWritesNothing sends invalid requests through the
// service and checks that neither the store nor anything else under the
// test's directory changed.
func TestServiceBadInputWritesNothing(t *testing.T) {
	env := testenv.NewBarman(t, "barman-3.17").WithStore(t)
	root := filepath.Dir(env.Home)
	svc := &ops.Service{Barman: barman.NewReader(env.Conf), OpenStore: store.Opener(), Version: "test"}
	tests := []struct {
		name, server, payload, code string
	}{
		{"unknown server", "db2", `{"type": "config_switch", "reset": true}`, ops.ENOTFOUND},
		{"invalid server name", "../x", `{"type": "config_switch", "reset": true}`, ops.ENOTFOUND},
		{"new server scope", "pg", `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`, ops.ENOTFOUND},
		{"unknown type", "", `{"type": "restore"}`, ops.EINVALID},
		{"recovery at instance level", "", `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`, ops.EINVALID},
		{"recovery missing a key", "db_server_two", `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x"}`, ops.EINVALID},
		{"recovery of an unknown backup", "db_server_two", `{"type": "recovery", "backup_id": "20990101T000000", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`, ops.ENOTFOUND},
		{"recovery to a relative path", "db_server_two", `{"backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "d"}`, ops.EINVALID},
		{"config_switch with both", "db_server_two", `{"type": "config_switch", "model_name": "my-model", "reset": true}`, ops.EINVALID},
		{"config_switch unknown model", "db_server_two", `{"type": "config_switch", "model_name": "nope"}`, ops.ENOTFOUND},
		{"config_update without changes", "", `{"type": "config_update"}`, ops.EINVALID},
		{"config_update with a newline", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "conninfo": "a\n[b]"}]}`, ops.EINVALID},
		{"config_update to a server", "db_server_two", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "archiver": "on"}]}`, ops.EINVALID},
		{"reserved key", "db_server_two", `{"type": "config_switch", "reset": true, "start_time": "x"}`, ops.EINVALID},
	}
	before := testenv.Snapshot(t, root)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := svc.Create(context.Background(), tc.server, pyjsontest.MustDecode(t, tc.payload), ops.Requester{Name: "test"})
			if id != "" {
				t.Errorf("got an ID %q", id)
			}
			opstest.WantError(t, err, tc.code)
			if diff := testenv.DiffSnapshots(before, testenv.Snapshot(t, root)); diff != "" {
				t.Errorf("the request changed the file tree:\n%s", diff)
			}
		})
	}

	// The same service does write for a valid request: the snapshot sees it.
	id, err := svc.Create(context.Background(), "db_server_two", pyjsontest.MustDecode(t, `{"type": "config_switch", "reset": true}`), ops.Requester{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if testenv.DiffSnapshots(before, testenv.Snapshot(t, root)) == "" {
		t.Errorf("operation %s was created but the snapshot did not change", id)
	}
}

func TestServiceCreate(t *testing.T) {
	env := testenv.NewBarman(t, "barman-3.17")
	launcher := &recordingLauncher{}
	svc := &ops.Service{Barman: barman.NewReader(env.Conf), OpenStore: store.Opener(), Version: "9.9.9", Launcher: launcher}
	who := ops.Requester{Name: "token:ci", Client: "10.0.0.1:5555"}

	id, err := svc.Create(context.Background(), "db_server_two", pyjsontest.MustDecode(t, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`), who)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{env.Home + "|db_server_two|" + env.Conf}; !reflect.DeepEqual(launcher.ensured, want) {
		t.Errorf("ensured = %q, want %q", launcher.ensured, want)
	}
	op, err := svc.Get(context.Background(), "db_server_two", id)
	if err != nil {
		t.Fatal(err)
	}
	ext, _ := op.Job.Get("pg_backup_api")
	got, _ := pyjson.EncodePython(ext)
	want := `{"version": "9.9.9", "barman_config": "` + env.Conf + `", "requested_by": "token:ci", "client": "10.0.0.1:5555", "resolved_backup_id": "20261125T080758"}`
	if string(got) != want {
		t.Errorf("pg_backup_api = %s, want %s", got, want)
	}
	if op.Status != ops.StatusInProgress || op.Phase != ops.PhaseQueued || op.Type != ops.Recovery {
		t.Errorf("op = %+v", op)
	}

	// A launcher that fails: the operation is recorded all the same.
	launcher.err = errors.New("fork failed")
	id2, err := svc.Create(context.Background(), "", pyjsontest.MustDecode(t, `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "archiver": "on"}]}`), who)
	opstest.WantError(t, err, ops.EUNAVAILABLE, "operation "+id2+" is recorded but its runner could not be started: fork failed")
	if id2 == "" {
		t.Fatal("no ID returned with the launcher error")
	}
	if _, err := svc.Get(context.Background(), "", id2); err != nil {
		t.Errorf("the operation was not recorded: %v", err)
	}
	if len(launcher.ensured) != 2 || launcher.ensured[1] != env.Home+"||"+env.Conf {
		t.Errorf("ensured = %q", launcher.ensured)
	}
	opened := 0
	counting := &ops.Service{Barman: barman.NewReader(env.Conf), OpenStore: func(cfg *ops.BarmanConfig) ops.Store {
		opened++
		return store.Open(cfg)
	}}
	for range 3 {
		if _, _, err := counting.List(context.Background(), "", ops.ListOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if opened != 1 {
		t.Errorf("the store was opened %d times for one barman_home, want once: it is kept per barman_home", opened)
	}

	// A configuration that cannot be read stops everything.
	bad := &ops.Service{Barman: barman.NewReader(filepath.Join(t.TempDir(), "missing.conf")), OpenStore: store.Opener()}
	_, err = bad.Create(context.Background(), "", pyjsontest.MustDecode(t, `{"type": "config_update"}`), who)
	opstest.WantError(t, err, ops.EUNAVAILABLE, "cannot read Barman configuration")
	_, err = bad.Get(context.Background(), "", "20261125T080447")
	opstest.WantError(t, err, ops.EUNAVAILABLE)
	_, _, err = bad.List(context.Background(), "", ops.ListOptions{})
	opstest.WantError(t, err, ops.EUNAVAILABLE)
	_, _, err = bad.ListAll(context.Background(), ops.ListOptions{})
	opstest.WantError(t, err, ops.EUNAVAILABLE)
	_, err = bad.Find(context.Background(), "20261125T080447")
	opstest.WantError(t, err, ops.EUNAVAILABLE)
}

func TestServiceReads(t *testing.T) {
	env := testenv.NewBarman(t, "barman-3.17").WithStore(t)
	svc := &ops.Service{Barman: barman.NewReader(env.Conf), OpenStore: store.Opener()}

	all, skipped, err := svc.ListAll(context.Background(), ops.ListOptions{Status: true})
	if err != nil || len(skipped) != 0 {
		t.Fatalf("ListAll: %v %v", skipped, err)
	}
	var got []string
	for _, op := range all {
		got = append(got, op.Server+"/"+op.ID+"/"+string(op.Status))
	}
	want := []string{
		"/20261125T080447/DONE", "/20261125T080919/DONE",
		"db_server_two/20261125T080500/DONE", "db_server_two/20261125T080805/DONE", "db_server_two/20261125T080915/FAILED",
		"db_server_two/20261125T080916/FAILED", "db_server_two/20261125T080918/DONE",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ListAll = %q, want %q", got, want)
	}

	list, _, err := svc.List(context.Background(), "db_server_two", ops.ListOptions{})
	if err != nil || len(list) != 5 {
		t.Errorf("List(db_server_two) = %d ops, %v", len(list), err)
	}
	for _, tc := range []struct{ server, want string }{
		{"db2", `server "db2" is not in ` + env.Conf + ` (known: db_server_two)`},
		{"../x", `server "../x" is not in`},
		{"my-model", `"my-model" is a model, not a server`},
	} {
		_, _, err := svc.List(context.Background(), tc.server, ops.ListOptions{})
		opstest.WantError(t, err, ops.ENOTFOUND, tc.want)
		_, err = svc.Get(context.Background(), tc.server, "20261125T080500")
		opstest.WantError(t, err, ops.ENOTFOUND, tc.want)
	}

	op, err := svc.Find(context.Background(), "20261125T080805")
	if err != nil || op.Server != "db_server_two" || op.Type != ops.Recovery {
		t.Errorf("Find = %+v, %v", op, err)
	}
	op, err = svc.Find(context.Background(), "20261125T080447")
	if err != nil || op.Server != "" || op.Type != ops.ConfigUpdate {
		t.Errorf("Find = %+v, %v", op, err)
	}
	_, err = svc.Find(context.Background(), "20990101T000000")
	opstest.WantError(t, err, ops.ENOTFOUND, "operation 20990101T000000 does not exist in any scope of "+env.Conf)
	_, err = svc.Find(context.Background(), "../jobs/20261125T080447")
	opstest.WantError(t, err, ops.ENOTFOUND)

	// The same ID in two scopes is ambiguous.
	testenv.WriteFile(t, filepath.Join(env.Home, "jobs", "20261125T080805.json"), `{"type": "config_update", "operation_type": "config_update"}`)
	_, err = svc.Find(context.Background(), "20261125T080805")
	opstest.WantError(t, err, ops.EINVALID, "operation 20261125T080805 exists in several scopes ((instance), db_server_two); name one as SERVER/20261125T080805, or pass --server NAME or --instance")

	// A damaged file in one scope is found, and reads FAILED with why.
	testenv.WriteFile(t, filepath.Join(env.Home, "jobs", "20261125T000000.json"), `{`)
	op, err = svc.Find(context.Background(), "20261125T000000")
	if err != nil || op.Status != ops.StatusFailed || !strings.Contains(op.Reason, "job file "+filepath.Join(env.Home, "jobs", "20261125T000000.json")+" is damaged") {
		t.Errorf("Find(damaged) = %+v, %v; want FAILED with a reason naming the file", op, err)
	}

	// ListAll passes the skipped files of every scope on.
	testenv.WriteFile(t, filepath.Join(env.Home, "db_server_two", "jobs", "junk.json"), `[]`)
	_, skipped, err = svc.ListAll(context.Background(), ops.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, s := range skipped {
		paths = append(paths, filepath.Base(s.Path))
	}
	sort.Strings(paths)
	if want := []string{"20261125T000000.json", "junk.json"}; !reflect.DeepEqual(paths, want) {
		t.Errorf("skipped = %q, want %q", paths, want)
	}
}

// TestServiceMissingHome: a barman_home that does not exist is an error of
// every read, never an empty answer; one without jobs/ yet (a fresh
// install) reads empty.
func TestServiceMissingHome(t *testing.T) {
	env := testenv.NewBarman(t, "barman-3.17").WithStore(t)
	svc := &ops.Service{Barman: barman.NewReader(env.Conf), OpenStore: store.Opener()}
	// Warm every cache first: the loss must be seen all the same.
	if _, _, err := svc.ListAll(context.Background(), ops.ListOptions{Status: true}); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Get(context.Background(), "db_server_two", "20261125T080805"); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(env.Home, env.Home+".moved"); err != nil {
		t.Fatal(err)
	}
	want := []string{"barman_home " + env.Home + " (from " + env.Conf + ") does not exist", "check barman_home"}
	reads := map[string]func() error{
		"List": func() error { _, _, err := svc.List(context.Background(), "", ops.ListOptions{}); return err },
		"List srv": func() error {
			_, _, err := svc.List(context.Background(), "db_server_two", ops.ListOptions{Status: true})
			return err
		},
		"ListAll": func() error { _, _, err := svc.ListAll(context.Background(), ops.ListOptions{}); return err },
		"ListIfChanged": func() error {
			_, _, err := svc.ListIfChanged(context.Background(), "", 0)
			return err
		},
		"Get":  func() error { _, err := svc.Get(context.Background(), "db_server_two", "20261125T080805"); return err },
		"Find": func() error { _, err := svc.Find(context.Background(), "20261125T080805"); return err },
		"Cancel": func() error {
			_, err := svc.Cancel(context.Background(), "db_server_two", "20261125T080805", ops.Requester{})
			return err
		},
		"Prune": func() error { _, err := svc.Prune(context.Background(), nil, time.Now(), true); return err },
		"Create": func() error {
			p, _ := pyjson.DecodeObject([]byte(`{"type": "config_update", "changes": []}`), pyjson.DecodeOptions{})
			_, err := svc.Create(context.Background(), "", p, ops.Requester{})
			return err
		},
	}
	for name, read := range reads {
		t.Run(name, func(t *testing.T) { opstest.WantError(t, read(), ops.EUNAVAILABLE, want...) })
	}
	if _, err := os.Stat(env.Home); err == nil {
		t.Errorf("a read created the missing barman_home")
	}

	// A fresh install: barman_home, no jobs/ anywhere.
	if err := os.Mkdir(env.Home, store.DirMode); err != nil {
		t.Fatal(err)
	}
	svc = &ops.Service{Barman: barman.NewReader(env.Conf), OpenStore: store.Opener()}
	if list, _, err := svc.ListAll(context.Background(), ops.ListOptions{Status: true}); err != nil || len(list) != 0 {
		t.Errorf("ListAll on a fresh install = %v, %v; want empty", list, err)
	}
	if list, _, err := svc.List(context.Background(), "db_server_two", ops.ListOptions{Status: true}); err != nil || len(list) != 0 {
		t.Errorf("List on a fresh install = %v, %v; want empty", list, err)
	}
	_, err := svc.Get(context.Background(), "", "20261125T080447")
	opstest.WantError(t, err, ops.ENOTFOUND)
	_, err = svc.Find(context.Background(), "20261125T080447")
	opstest.WantError(t, err, ops.ENOTFOUND)
}

// TestServiceCreateSeesNewModelAtOnce: a config_update that just ended may
// have written the model the next request names into .barman.auto.conf;
// Create must not answer from a configuration checked under a second ago.
func TestServiceCreateSeesNewModelAtOnce(t *testing.T) {
	env := testenv.NewBarman(t, "barman-3.17").WithStore(t)
	// Old enough that the cache trusts the files between checks.
	old := time.Now().Add(-time.Hour)
	filepath.Walk(filepath.Dir(env.Conf), func(p string, _ os.FileInfo, _ error) error { return os.Chtimes(p, old, old) })
	svc := &ops.Service{Barman: barman.NewReader(env.Conf), OpenStore: store.Opener(), Version: "test"}
	for i := 0; i < 2; i++ { // the second read marks the configuration checked
		if _, err := svc.Config(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	cfg, _ := svc.Config(context.Background())
	server, err := cfg.Server("db_server_two")
	if err != nil {
		t.Fatal(err)
	}
	auto := filepath.Join(cfg.BarmanHome, ".barman.auto.conf")
	testenv.WriteFile(t, auto, readFileOrEmpty(auto)+"\n[e2e-new-model]\nmodel = on\ncluster = "+server.Cluster+"\n")
	id, err := svc.Create(context.Background(), "db_server_two", pyjsontest.MustDecode(t, `{"type": "config_switch", "model_name": "e2e-new-model"}`), ops.Requester{Name: "test"})
	if err != nil || id == "" {
		t.Fatalf("config_switch to a model added just now: id %q, err %v", id, err)
	}
}

func readFileOrEmpty(path string) string {
	data, _ := os.ReadFile(path)
	return string(data)
}

// TestServiceQuotedPaths: Barman strips one pair of quotes from
// barman_home and configuration_files_directory, so a configuration that
// quotes them must find the same store, servers and backups as one that
// does not — for create, list and what serve uses (Service).
func TestServiceQuotedPaths(t *testing.T) {
	for _, q := range []string{`"`, `'`} {
		env := testenv.NewBarman(t, "barman-3.17").WithStore(t)
		data, err := os.ReadFile(env.Conf)
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Replace(string(data), "barman_home = "+env.Home, "barman_home = "+q+env.Home+q, 1)
		text = strings.Replace(text, "configuration_files_directory = "+env.ConfDir, "configuration_files_directory = "+q+env.ConfDir+q, 1)
		if text == string(data) || !strings.Contains(text, q+env.Home+q) || !strings.Contains(text, q+env.ConfDir+q) {
			t.Fatalf("the fixture's barman.conf does not have the expected lines:\n%s", data)
		}
		unquoted := &ops.Service{Barman: barman.NewReader(env.Conf), OpenStore: store.Opener(), Version: "test"}
		wantOps, _, err := unquoted.ListAll(context.Background(), ops.ListOptions{})
		if err != nil || len(wantOps) == 0 {
			t.Fatalf("unquoted ListAll = %d operations, %v; the fixture should hold some", len(wantOps), err)
		}
		testenv.WriteFile(t, env.Conf, text)

		launcher := &recordingLauncher{}
		svc := &ops.Service{Barman: barman.NewReader(env.Conf), OpenStore: store.Opener(), Version: "test", Launcher: launcher}
		cfg, err := svc.Config(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if cfg.BarmanHome != env.Home || cfg.IncludeDir != env.ConfDir {
			t.Errorf("quoted with %s: home %q, include dir %q; want %q, %q", q, cfg.BarmanHome, cfg.IncludeDir, env.Home, env.ConfDir)
		}
		gotOps, _, err := svc.ListAll(context.Background(), ops.ListOptions{})
		if err != nil || len(gotOps) != len(wantOps) {
			t.Errorf("quoted with %s: ListAll = %d operations, %v; want %d", q, len(gotOps), err, len(wantOps))
		}
		id, err := svc.Create(context.Background(), "db_server_two", pyjsontest.MustDecode(t, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`), ops.Requester{Name: "test"})
		if err != nil {
			t.Fatalf("quoted with %s: Create: %v", q, err)
		}
		if want := []string{env.Home + "|db_server_two|" + env.Conf}; !reflect.DeepEqual(launcher.ensured, want) {
			t.Errorf("quoted with %s: ensured = %q, want %q", q, launcher.ensured, want)
		}
		if _, err := unquoted.Get(context.Background(), "db_server_two", id); err != nil {
			t.Errorf("quoted with %s: the operation is not in the store under %s: %v", q, env.Home, err)
		}
	}
}
