package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

var testTmp string // removed after all tests

func TestMain(m *testing.M) {
	if at := os.Getenv(panicHelperEnv); at != "" {
		os.Exit(panicHelper(at))
	}
	var err error
	testTmp, err = os.MkdirTemp("", "runner-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	testenv.RemoveBinary()
	os.RemoveAll(testTmp)
	os.Exit(code)
}

// fakeBarman is the repository's fake barman script.
func fakeBarman(t *testing.T) string { return testenv.FakeBarman(t) }

// env is a writable copy of the barman-3.17 fixture: one server,
// db_server_two, with a DONE backup, and a model my-model.
type env struct {
	Conf    string
	Home    string
	Cfg     *ops.BarmanConfig
	Store   *store.Store
	ArgvLog string // FAKE_BARMAN_ARGV_LOG
	LogFile string // Barman's log_file, which the fake writes with FAKE_BARMAN_LOG
}

func newEnv(t *testing.T) *env {
	t.Helper()
	b := testenv.NewBarman(t, "barman-3.17")
	e := &env{Conf: b.Conf, Home: b.Home, ArgvLog: filepath.Join(b.Dir, "argv.log"), LogFile: b.LogFile}
	var err error
	if e.Cfg, err = barman.LoadConfig(e.Conf); err != nil {
		t.Fatal(err)
	}
	if e.Cfg.BarmanHome != e.Home {
		t.Fatalf("barman_home = %q, want %q", e.Cfg.BarmanHome, e.Home)
	}
	e.Store = store.Open(&ops.BarmanConfig{BarmanHome: e.Home})
	t.Setenv("FAKE_BARMAN_ARGV_LOG", e.ArgvLog)
	return e
}

// create validates payload and records it as a new operation of ours,
// created at the given clock time ("15:04:05" on a fixed day).
func (e *env) create(t *testing.T, server, payload, clock string) string {
	t.Helper()
	obj, err := pyjson.DecodeObject([]byte(payload), pyjson.DecodeOptions{RejectDuplicateKeys: true})
	if err != nil {
		t.Fatal(err)
	}
	req, err := ops.Policy{Options: barman.Options}.Validate(e.Cfg, barman.Catalog{}, server, obj)
	if err != nil {
		t.Fatalf("Validate(%s): %v", payload, err)
	}
	now, err := time.ParseInLocation("2006-01-02 15:04:05", "2026-11-25 "+clock, time.Local)
	if err != nil {
		t.Fatal(err)
	}
	e.Store.Now = func() time.Time { return now }
	id, err := e.Store.Create(req, ops.Extension{Version: "test", BarmanConfig: e.Conf})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// get returns an operation or fails the test.
func (e *env) get(t *testing.T, server, id string) *ops.Operation {
	t.Helper()
	op, err := e.Store.Get(server, id)
	if err != nil {
		t.Fatalf("Get(%s): %v", id, err)
	}
	return op
}

// gone reports whether pid has exited (a zombie nobody reaped counts).
func gone(pid int) bool {
	state, _, _, ok := testenv.ProcStat(pid)
	return !ok || state == 'Z' || state == 'X'
}
