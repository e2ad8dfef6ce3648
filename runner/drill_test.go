package runner

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// pgBin is the real PostgreSQL the drill tests start (postgresql-15 is
// installed on the development and CI machines).
const pgBin = "/usr/lib/postgresql/15/bin"

var (
	drillOnce     sync.Once
	drillRootDir  string // traversable by the user PostgreSQL runs as
	drillTemplDir string // an initdb'd data directory with table t of 3 rows
	drillErr      error
)

// nobody is whom PostgreSQL runs as when the tests run as root.
var nobody = &syscall.Credential{Uid: 65534, Gid: 65534}

// drillTemplate makes, once, a real data directory for the fake barman
// to "restore": initdb, then table t with 3 rows, in single-user mode.
func drillTemplate(t *testing.T) (root, template string) {
	t.Helper()
	drillOnce.Do(func() {
		drillRootDir = filepath.Join(testTmp, "drills")
		drillTemplDir = filepath.Join(drillRootDir, "template")
		if drillErr = os.MkdirAll(drillRootDir, 0o755); drillErr != nil {
			return
		}
		// testTmp is 0700: PostgreSQL running as nobody must traverse it.
		if drillErr = os.Chmod(testTmp, 0o755); drillErr != nil {
			return
		}
		run := func(stdin string, name string, args ...string) error {
			cmd := exec.Command(filepath.Join(pgBin, name), args...)
			cmd.Stdin = strings.NewReader(stdin)
			if os.Geteuid() == 0 {
				cmd.SysProcAttr = &syscall.SysProcAttr{Credential: nobody}
			}
			if out, err := cmd.CombinedOutput(); err != nil {
				return &exec.Error{Name: name + ": " + string(out), Err: err}
			}
			return nil
		}
		if os.Geteuid() == 0 {
			os.Chown(drillRootDir, int(nobody.Uid), int(nobody.Gid))
		}
		if drillErr = run("", "initdb", "-D", drillTemplDir, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C"); drillErr != nil {
			return
		}
		drillErr = run("create table t (i int);\ninsert into t values (1), (2), (3);\n", "postgres", "--single", "-D", drillTemplDir, "postgres")
	})
	if drillErr != nil {
		t.Fatalf("making the drill template: %v", drillErr)
	}
	if os.Geteuid() == 0 {
		old := drillCredential
		drillCredential = nobody
		t.Cleanup(func() { drillCredential = old })
	}
	dir, err := os.MkdirTemp(drillRootDir, "d")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	return dir, drillTemplDir
}

// createDrill validates payload with dir as [drills] directory and
// records it, after edits of the validated job: what validation refuses
// today may be in a job an earlier version recorded, or one edited by hand.
func (e *env) createDrill(t *testing.T, dir, payload string, edits ...func(job *pyjson.Object)) (string, error) {
	t.Helper()
	obj, err := pyjson.DecodeObject([]byte(payload), pyjson.DecodeOptions{RejectDuplicateKeys: true})
	if err != nil {
		t.Fatal(err)
	}
	req, err := ops.Policy{Options: barman.Options, DrillDirectory: dir}.Validate(e.Cfg, barman.Catalog{}, "db_server_two", obj)
	if err != nil {
		return "", err
	}
	for _, edit := range edits {
		edit(req.Payload)
	}
	return e.Store.Create(req, ops.Extension{Version: "test", BarmanConfig: e.Conf})
}

func (e *env) drillRunner(t *testing.T, dir string, log *testenv.SyncBuffer) *Runner {
	return &Runner{Store: e.Store, Server: "db_server_two", Lane: ops.LaneDrill, Barman: barman.NewCommand(fakeBarman(t)).WithPolicy(ops.Policy{DrillDirectory: dir}),
		BarmanConfig: e.Conf, Log: log, DrillDirectory: dir, CancelPoll: 50 * time.Millisecond}
}

// runDrill creates a drill and runs the drill lane to its end.
func runDrill(t *testing.T, payload string, edits ...func(job *pyjson.Object)) (e *env, dir string, op *ops.Operation) {
	t.Helper()
	e = newEnv(t)
	dir, tmpl := drillTemplate(t)
	t.Setenv("FAKE_BARMAN_RECOVER_FROM", tmpl)
	id, err := e.createDrill(t, dir, payload, edits...)
	if err != nil {
		t.Fatal(err)
	}
	var log testenv.SyncBuffer
	if err := e.drillRunner(t, dir, &log).Run(context.Background(), nil); err != nil {
		t.Fatalf("Run: %v\n%s", err, log.String())
	}
	return e, dir, e.get(t, "db_server_two", id)
}

// assertNothingLeft checks that the drill removed its directory and that
// its PostgreSQL is gone.
func assertNothingLeft(t *testing.T, dir string, op *ops.Operation) {
	t.Helper()
	entries, _ := os.ReadDir(filepath.Join(dir, "db_server_two"))
	if len(entries) != 0 {
		t.Errorf("the drill left %d entries in %s: %v", len(entries), dir, entries)
	}
	if m := regexp.MustCompile(`\(pid (\d+)\)`).FindStringSubmatch(op.Output); m != nil {
		pid, _ := strconv.Atoi(m[1])
		if !gone(pid) {
			t.Errorf("PostgreSQL (pid %d) is still running", pid)
			syscall.Kill(pid, syscall.SIGKILL)
		}
	}
}

func TestDrillDone(t *testing.T) {
	e, dir, op := runDrill(t, `{"type": "drill", "sql": [{"query": "select count(*) from t", "expect": "3"}, "select 1", {"query": "select 'a'", "expect": "a"}]}`)
	if op.Status != ops.StatusDone {
		t.Fatalf("status %s, reason %q\n%s", op.Status, op.Reason, op.Output)
	}
	for _, want := range []string{"step restore: ok in", "step consistency: ok in", `query 1: ok in`, `first value "3"`, "step queries: ok in", "stopped PostgreSQL", "removed " + dir} {
		if !strings.Contains(op.Output, want) {
			t.Errorf("output lacks %q:\n%s", want, op.Output)
		}
	}
	if steps := ops.DrillSteps(op.Output); len(steps) != 3 || steps["restore"] <= 0 || steps["consistency"] <= 0 || steps["queries"] <= 0 {
		t.Errorf("steps read back from the output: %v", steps)
	}
	calls := testenv.ArgvCalls(t, e.ArgvLog)
	want := []string{"-c", e.Conf, "recover", "db_server_two", "20261125T080758", filepath.Join(dir, "db_server_two", op.ID, "data")}
	if len(calls) != 1 || strings.Join(calls[0], " ") != strings.Join(want, " ") {
		t.Errorf("barman calls = %q, want [%q]", calls, want)
	}
	assertNothingLeft(t, dir, op)
}

// A backup's tablespaces are restored into the drill's directory, not
// where the original server had them (on the Barman host, outside the
// drill's directory, perhaps a live PostgreSQL's), and removed with it.
func TestDrillRelocatesTablespaces(t *testing.T) {
	e := newEnv(t)
	dir, tmpl := drillTemplate(t)
	t.Setenv("FAKE_BARMAN_RECOVER_FROM", tmpl)
	away := filepath.Join(t.TempDir(), "tbs")
	info := filepath.Join(e.Cfg.Servers["db_server_two"].BackupDirectory, "meta", "20261125T080758-backup.info")
	data, err := os.ReadFile(info)
	if err != nil {
		t.Fatal(err)
	}
	tbs := fmt.Sprintf(`tablespaces=[('tbs one', 16400, '%s/1'), ("it's", 16401, '%s/2')]`, away, away)
	if err := os.WriteFile(info, []byte(strings.Replace(string(data), "tablespaces=None", tbs, 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	id, err := e.createDrill(t, dir, `{"type": "drill", "sql": [{"query": "select count(*) from t", "expect": "3"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	var log testenv.SyncBuffer
	if err := e.drillRunner(t, dir, &log).Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	op := e.get(t, "db_server_two", id)
	if op.Status != ops.StatusDone {
		t.Fatalf("status %s, reason %q\n%s", op.Status, op.Reason, op.Output)
	}
	at := filepath.Join(dir, "db_server_two", id, "tablespaces")
	calls := testenv.ArgvCalls(t, e.ArgvLog)
	want := []string{"--tablespace=tbs one:" + filepath.Join(at, "16400"), "--tablespace=it's:" + filepath.Join(at, "16401")}
	if len(calls) != 1 || len(calls[0]) < 2 || strings.Join(calls[0][len(calls[0])-2:], " ") != strings.Join(want, " ") {
		t.Errorf("barman calls = %q, want the last options %q", calls, want)
	}
	if !strings.Contains(op.Output, "tablespace tbs one (oid 16400) is restored into "+filepath.Join(at, "16400")) {
		t.Errorf("output does not say where the tablespace went:\n%s", op.Output)
	}
	if _, err := os.Stat(away); !os.IsNotExist(err) {
		t.Errorf("the drill wrote where the original server had its tablespaces: %v", err)
	}
	assertNothingLeft(t, dir, op)
}

func TestParseTablespaces(t *testing.T) {
	got, err := parseTablespaces(`[('a', 1, '/x'), ("b'c", 22, '/y\\z\xe9'),]`)
	want := []drillTablespace{{"a", 1, "/x"}, {"b'c", 22, "/y\\zé"}}
	if err != nil || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got %v, %v; want %v", got, err, want)
	}
	for _, bad := range []string{`[('a', 1)]`, `[('a', 'x', '/y')]`, `('a', 1, '/x')`, `[('a', 1, '/x')] junk`, `[('a, 1, '/x')]`, `[('a', 1, '/\q')]`} {
		if got, err := parseTablespaces(bad); err == nil {
			t.Errorf("%s: got %v, want an error", bad, got)
		}
	}
}

// Settings the original server had in postgresql.auto.conf (ALTER SYSTEM)
// for its own host do not keep the drill's PostgreSQL from starting on the
// Barman host or from letting the drill in: huge pages it may not have, a
// library only that host has.
func TestDrillOverridesOriginalAutoConf(t *testing.T) {
	e := newEnv(t)
	dir, tmpl := drillTemplate(t)
	altered := filepath.Join(dir, "altered")
	if out, err := exec.Command("cp", "-a", tmpl, altered).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v: %s", err, out)
	}
	auto := "huge_pages = 'on'\nsession_preload_libraries = 'nosuchlib_of_the_original_host'\nlocal_preload_libraries = 'nosuchlib_either'\nshared_buffers = '4TB'\n"
	f, err := os.OpenFile(filepath.Join(altered, "postgresql.auto.conf"), os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString(auto)
	f.Close()
	t.Setenv("FAKE_BARMAN_RECOVER_FROM", altered)
	id, err := e.createDrill(t, dir, `{"type": "drill", "timeout": "60s", "sql": [{"query": "select count(*) from t", "expect": "3"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	var log testenv.SyncBuffer
	if err := e.drillRunner(t, dir, &log).Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	op := e.get(t, "db_server_two", id)
	os.RemoveAll(altered)
	if op.Status != ops.StatusDone {
		t.Fatalf("status %s phase %s, reason %q", op.Status, op.Phase, op.Reason)
	}
	assertNothingLeft(t, dir, op)
}

func TestDrillFailingQuery(t *testing.T) {
	_, dir, op := runDrill(t, `{"type": "drill", "sql": ["select 1", "select * from nosuch"]}`)
	if op.Status != ops.StatusFailed || !strings.Contains(op.Reason, "drill failed at step query 2") || !strings.Contains(op.Reason, `relation "nosuch" does not exist`) {
		t.Fatalf("status %s, reason %q", op.Status, op.Reason)
	}
	assertNothingLeft(t, dir, op)
}

// A query is SQL: psql's meta-commands, which psql -c runs when the string
// starts with a backslash, are refused, or \! would run a program on the
// Barman host. Validation refuses them at create; the runner reads the job
// through the same validation, so a job recorded before that, or edited by
// hand, fails before Barman runs.
func TestDrillRefusesPsqlMetaCommands(t *testing.T) {
	out := filepath.Join(t.TempDir(), "ran")
	e, dir, op := runDrill(t, `{"type": "drill"}`, func(job *pyjson.Object) {
		job.Set("sql", []any{"select 1", "\\! touch " + out})
	})
	if op.Status != ops.StatusFailed || !strings.Contains(op.Reason, `drill: sql[1]: "query" starts with a backslash, which psql runs as its own meta-command`) {
		t.Errorf("status %s, reason %q", op.Status, op.Reason)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("the meta-command ran: %s exists", out)
	}
	if calls := testenv.ArgvCalls(t, e.ArgvLog); len(calls) != 0 {
		t.Errorf("Barman ran: %q", calls)
	}
	assertNothingLeft(t, dir, op)
}

// A failed query's reason is psql's error, without PostgreSQL's log, which
// would only repeat it after twenty lines of the start, in every
// notification and alert that shows the reason.
func TestDrillFailedQueryReasonIsPsqlError(t *testing.T) {
	_, dir, op := runDrill(t, `{"type": "drill", "sql": ["select 1/0"]}`)
	want := `drill failed at step query 1: "select 1/0" failed (exit status 1): ERROR:  division by zero`
	if op.Status != ops.StatusFailed || op.Reason != want {
		t.Fatalf("status %s, reason %q, want %q", op.Status, op.Reason, want)
	}
	assertNothingLeft(t, dir, op)
}

// A restore that fails gives Barman's error in the drill's reason, where
// notifications and alerts show it, not only in the output.
func TestDrillRestoreFailureReasonHasBarmanError(t *testing.T) {
	t.Setenv("FAKE_BARMAN_RECOVER_ERROR", "Failure copying WAL files: data transfer failure\nrsync: [receiver] write failed on \"/d/pg_wal/0001\": No space left on device (28)")
	_, dir, op := runDrill(t, `{"type": "drill"}`)
	want := `drill failed at step restore: barman recover exited with code 1: ERROR: Failure copying WAL files: data transfer failure rsync: [receiver] write failed on "/d/pg_wal/0001": No space left on device (28) (its output is above)`
	if op.Status != ops.StatusFailed || op.Reason != want {
		t.Fatalf("status %s, reason %q, want %q", op.Status, op.Reason, want)
	}
	assertNothingLeft(t, dir, op)
}

// A drill with a recovery target gives Barman the target and
// --target-action=promote (PostgreSQL 12 and later would pause at the
// target and the drill would wait for the end of recovery until its
// timeout), after the fixed arguments it always gives.
func TestDrillPassesRecoveryTarget(t *testing.T) {
	e, dir, op := runDrill(t, `{"type": "drill", "target_time": "2026-11-25T08:30:00Z", "sql": [{"query": "select count(*) from t", "expect": "3"}]}`)
	if op.Status != ops.StatusDone {
		t.Fatalf("status %s, reason %q\n%s", op.Status, op.Reason, op.Output)
	}
	at := time.Date(2026, 11, 25, 8, 30, 0, 0, time.UTC).Local().Format("2006-01-02 15:04:05.999999-07:00")
	want := []string{"-c", e.Conf, "recover", "db_server_two", "20261125T080758", filepath.Join(dir, "db_server_two", op.ID, "data"),
		"--target-time=" + at, "--target-action=promote"}
	calls := testenv.ArgvCalls(t, e.ArgvLog)
	if len(calls) != 1 || strings.Join(calls[0], "\n") != strings.Join(want, "\n") {
		t.Errorf("barman calls = %q, want [%q]", calls, want)
	}
	assertNothingLeft(t, dir, op)
}

// A drill whose job asks PostgreSQL to pause at the target (validation
// refuses it at create; this is a job edited by hand, or another
// implementation's) fails before Barman runs rather than wait for a
// recovery that never ends.
func TestDrillRefusesPausingTarget(t *testing.T) {
	e, dir, op := runDrill(t, `{"type": "drill", "target_time": "2026-11-25T08:30:00Z", "sql": ["select 1"]}`, func(job *pyjson.Object) {
		job.Set("target_action", "pause")
	})
	want := `drill: "target_action" must be "promote"`
	if op.Status != ops.StatusFailed || !strings.Contains(op.Reason, want) {
		t.Fatalf("status %s, reason %q, want %q...", op.Status, op.Reason, want)
	}
	if calls := testenv.ArgvCalls(t, e.ArgvLog); len(calls) != 0 {
		t.Errorf("Barman ran: %q", calls)
	}
	assertNothingLeft(t, dir, op)
}

func TestDrillExpectedValueMismatch(t *testing.T) {
	_, dir, op := runDrill(t, `{"type": "drill", "sql": [{"query": "select count(*) from t", "expect": "4"}]}`)
	if op.Status != ops.StatusFailed || !strings.Contains(op.Reason, `drill failed at step query 1: "select count(*) from t" returned "3" first, expected "4"`) {
		t.Fatalf("status %s, reason %q", op.Status, op.Reason)
	}
	assertNothingLeft(t, dir, op)
}

// A drill whose "user" the backup does not have (a cluster whose
// superuser is not "postgres") fails as soon as PostgreSQL accepts
// connections, with PostgreSQL's reason, not at its timeout after polling
// a server that will never let it in.
func TestDrillUnknownRoleFailsAtOnce(t *testing.T) {
	_, dir, op := runDrill(t, `{"type": "drill", "timeout": "60s", "user": "nosuchrole", "sql": ["select 1"]}`)
	if op.Status != ops.StatusFailed || op.Phase == ops.PhaseTimeout ||
		!strings.Contains(op.Reason, "drill failed at step consistency: PostgreSQL accepts connections, but not the drill's") ||
		!strings.Contains(op.Reason, `role "nosuchrole" does not exist`) {
		t.Fatalf("status %s phase %s, reason %q", op.Status, op.Phase, op.Reason)
	}
	assertNothingLeft(t, dir, op)
}

func TestDrillPostgresFailsToStart(t *testing.T) {
	e := newEnv(t)
	dir, _ := drillTemplate(t)
	// A "restore" with a PG_VERSION and nothing else: PostgreSQL says why
	// it cannot start, and that goes into the reason.
	broken := filepath.Join(dir, "broken")
	os.Mkdir(broken, 0o700)
	os.WriteFile(filepath.Join(broken, "PG_VERSION"), []byte("15\n"), 0o600)
	t.Setenv("FAKE_BARMAN_RECOVER_FROM", broken)
	id, err := e.createDrill(t, dir, `{"type": "drill", "sql": ["select 1"]}`)
	if err != nil {
		t.Fatal(err)
	}
	var log testenv.SyncBuffer
	if err := e.drillRunner(t, dir, &log).Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	op := e.get(t, "db_server_two", id)
	if op.Status != ops.StatusFailed || !strings.Contains(op.Reason, "drill failed at step start: PostgreSQL exited before it accepted a connection") ||
		!strings.Contains(op.Reason, "PostgreSQL's log:") || !strings.Contains(op.Reason, "global/pg_control") {
		t.Fatalf("status %s, reason %q", op.Status, op.Reason)
	}
	os.RemoveAll(broken)
	assertNothingLeft(t, dir, op)
}

func TestDrillMissingPostgresVersion(t *testing.T) {
	e := newEnv(t)
	dir, _ := drillTemplate(t)
	other := filepath.Join(dir, "v8")
	os.Mkdir(other, 0o700)
	os.WriteFile(filepath.Join(other, "PG_VERSION"), []byte("8.4\n"), 0o600)
	t.Setenv("FAKE_BARMAN_RECOVER_FROM", other)
	id, err := e.createDrill(t, dir, `{"type": "drill"}`)
	if err != nil {
		t.Fatal(err)
	}
	var log testenv.SyncBuffer
	if err := e.drillRunner(t, dir, &log).Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	op := e.get(t, "db_server_two", id)
	if op.Status != ops.StatusFailed || !strings.Contains(op.Reason, "the backup is of PostgreSQL 8.4, whose server is not installed here") {
		t.Fatalf("status %s, reason %q", op.Status, op.Reason)
	}
	os.RemoveAll(other)
	assertNothingLeft(t, dir, op)
}

// stopDrill runs a drill whose query sleeps, and stops it with stop once
// PostgreSQL has started.
func stopDrill(t *testing.T, payload string, stop func(e *env, id string)) (string, *ops.Operation) {
	t.Helper()
	e := newEnv(t)
	dir, tmpl := drillTemplate(t)
	t.Setenv("FAKE_BARMAN_RECOVER_FROM", tmpl)
	id, err := e.createDrill(t, dir, payload)
	if err != nil {
		t.Fatal(err)
	}
	var log testenv.SyncBuffer
	done := make(chan error, 1)
	go func() { done <- e.drillRunner(t, dir, &log).Run(context.Background(), nil) }()
	testenv.WaitFor(t, 60*time.Second, "the first query", func() bool {
		data, _ := os.ReadFile(e.Store.LogPath("db_server_two", id))
		return strings.Contains(string(data), "started PostgreSQL")
	})
	stop(e, id)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the drill did not stop")
	}
	return dir, e.get(t, "db_server_two", id)
}

func TestDrillCancelLeavesNothing(t *testing.T) {
	dir, op := stopDrill(t, `{"type": "drill", "sql": ["select pg_sleep(120)"]}`, func(e *env, id string) {
		time.Sleep(500 * time.Millisecond)
		if err := e.Store.RequestCancel("db_server_two", id, "test"); err != nil {
			t.Fatal(err)
		}
	})
	if op.Status != ops.StatusFailed || op.Phase != ops.PhaseCancelled || !strings.Contains(op.Reason, "cancelled by test during the drill") {
		t.Fatalf("status %s phase %s, reason %q", op.Status, op.Phase, op.Reason)
	}
	assertNothingLeft(t, dir, op)
}

func TestDrillTimeoutLeavesNothing(t *testing.T) {
	start := time.Now()
	dir, op := stopDrill(t, `{"type": "drill", "timeout": "4s", "sql": ["select pg_sleep(120)"]}`, func(*env, string) {})
	if op.Status != ops.StatusFailed || op.Phase != ops.PhaseTimeout || !strings.Contains(op.Reason, `timed out: the drill's "timeout" is 4s`) {
		t.Fatalf("status %s phase %s, reason %q", op.Status, op.Phase, op.Reason)
	}
	if d := time.Since(start); d > 40*time.Second {
		t.Errorf("the drill took %s to time out after 4s", d)
	}
	assertNothingLeft(t, dir, op)
}

// A drill that times out during the restore says so with its "timeout"
// as given, not with what was left of it to the nanosecond.
func TestDrillTimeoutDuringRestore(t *testing.T) {
	t.Setenv("FAKE_BARMAN_RECOVER_SLEEP", "30")
	_, dir, op := runDrill(t, `{"type": "drill", "timeout": "1s"}`)
	want := `timed out: drill may run for 1s (the drill's "timeout"); Barman was stopped`
	if op.Status != ops.StatusFailed || op.Phase != ops.PhaseTimeout || op.Reason != want {
		t.Fatalf("status %s phase %s, reason %q, want %q", op.Status, op.Phase, op.Reason, want)
	}
	assertNothingLeft(t, dir, op)
}

func TestDrillLeftoversRemovedAtRunnerStart(t *testing.T) {
	e := newEnv(t)
	dir, _ := drillTemplate(t)
	stale := filepath.Join(dir, "db_server_two", "20261125T080000")
	foreign := filepath.Join(dir, "db_server_two", "not-a-drill")
	for _, d := range []string{stale, foreign} {
		if err := os.MkdirAll(filepath.Join(d, "data"), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(filepath.Join(stale, DrillMarker), []byte("pid 1\n"), 0o600)
	var log testenv.SyncBuffer
	if err := e.drillRunner(t, dir, &log).Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !os.IsNotExist(err) {
		t.Errorf("the stale drill directory is still there (%v); log:\n%s", err, log.String())
	}
	if _, err := os.Stat(foreign); err != nil {
		t.Errorf("a directory without the drill marker was touched: %v", err)
	}
	if !strings.Contains(log.String(), "its runner died; removed "+stale) {
		t.Errorf("log does not say what was removed:\n%s", log.String())
	}
}

func TestDrillRefusedWithoutRoom(t *testing.T) {
	e := newEnv(t)
	dir, _ := drillTemplate(t)
	old := ops.FreeBytes
	ops.FreeBytes = func(string) (uint64, error) { return 1 << 20, nil }
	t.Cleanup(func() { ops.FreeBytes = old })
	_, err := e.createDrill(t, dir, `{"type": "drill"}`)
	want := "not enough room for a drill of backup 20261125T080758 in " + dir + ": it needs 22.2 MiB (the backup and its WAL), the file system has 1.0 MiB free"
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("err = %v, want %q", err, want)
	}
	if ids, _ := e.Store.PendingIDs("db_server_two"); len(ids) != 0 {
		t.Errorf("a refused drill was recorded: %v", ids)
	}
}

func TestDrillValidation(t *testing.T) {
	e := newEnv(t)
	dir, _ := drillTemplate(t)
	for _, c := range []struct{ payload, want string }{
		{`{"type": "drill", "sql": "select 1"}`, `"sql" must be an array`},
		{`{"type": "drill", "sql": [{"expect": "1"}]}`, `sql[0] needs "query"`},
		{`{"type": "drill", "sql": [{"query": " "}]}`, `"query" must not be empty`},
		{`{"type": "drill", "sql": [{"query": "select 1", "expected": "1"}]}`, `sql[0] has the key "expected"`},
		{`{"type": "drill", "timeout": "soon"}`, `"timeout" "soon" is not a duration`},
		{`{"type": "drill", "timeout": 0}`, `"timeout" is 0s; it must be 1s or more`},
		{`{"type": "drill", "backup_id": "nosuch"}`, `nosuch`},
		{`{"type": "drill", "user": "-x"}`, `"user" is "-x"`},
	} {
		if _, err := e.createDrill(t, dir, c.payload); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: err = %v, want %q", c.payload, err, c.want)
		}
	}
	if _, err := e.createDrill(t, "", `{"type": "drill"}`); err == nil || !strings.Contains(err.Error(), "set [drills] directory") {
		t.Errorf("without a drills directory: err = %v", err)
	}
}

// A drills directory whose socket path would pass the kernel's 107 bytes
// is refused at create time, naming the path, its length, the limit and the
// fix, and nothing is recorded.
func TestDrillRefusedWhenSocketPathTooLong(t *testing.T) {
	e := newEnv(t)
	dir, _ := drillTemplate(t)
	long := filepath.Join(dir, strings.Repeat("x", 120-len(dir)))
	if err := os.Mkdir(long, 0o755); err != nil {
		t.Fatal(err)
	}
	_, err := e.createDrill(t, long, `{"type": "drill"}`)
	path := filepath.Join(long, "db_server_two", "<operation ID>", ".s.PGSQL.5432")
	for _, want := range []string{path, fmt.Sprintf("would be %d bytes long", len(path)-len("<operation ID>")+20), "at most 107 bytes", "set a shorter [drills] directory"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("err = %v, want %q", err, want)
		}
	}
	if ids, _ := e.Store.PendingIDs("db_server_two"); len(ids) != 0 {
		t.Errorf("a refused drill was recorded: %v", ids)
	}
}

// A drill recorded under a drills directory that was short enough, whose
// runner is configured with a longer one by the time it runs, fails at
// its prepare step with the same explanation, before Barman or PostgreSQL
// runs or anything is created there.
func TestDrillRunnerRefusesTooLongSocketPath(t *testing.T) {
	e := newEnv(t)
	dir, tmpl := drillTemplate(t)
	t.Setenv("FAKE_BARMAN_RECOVER_FROM", tmpl)
	id, err := e.createDrill(t, dir, `{"type": "drill", "sql": ["select 1"]}`)
	if err != nil {
		t.Fatal(err)
	}
	long := filepath.Join(dir, strings.Repeat("x", 120-len(dir)))
	if err := os.Mkdir(long, 0o755); err != nil {
		t.Fatal(err)
	}
	var log testenv.SyncBuffer
	if err := e.drillRunner(t, long, &log).Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	op := e.get(t, "db_server_two", id)
	path := filepath.Join(long, "db_server_two", id, ".s.PGSQL.5432")
	want := fmt.Sprintf("drill failed at step prepare: a drill of server \"db_server_two\" cannot run under [drills] directory %s: its PostgreSQL socket, %s, would be %d bytes long, and a Unix socket path may be at most 107 bytes", long, path, len(path))
	if op.Status != ops.StatusFailed || !strings.Contains(op.Reason, want) || !strings.Contains(op.Reason, "set a shorter [drills] directory") {
		t.Fatalf("status %s, reason %q\nwant %q", op.Status, op.Reason, want)
	}
	if strings.Contains(op.Output, "restoring backup") {
		t.Errorf("Barman ran:\n%s", op.Output)
	}
	if entries, _ := os.ReadDir(long); len(entries) != 0 {
		t.Errorf("the refused drill created %v in %s", entries, long)
	}
}

// A PostgreSQL that refuses the drill's first connection and accepts by
// the time pg_isready asks, as one does when its end-of-recovery
// checkpoint ends in between (seen on real Barman 3.13.3 with a
// target_time: promotion's checkpoint refused psql with "the database
// system is not accepting connections", then pg_isready found it ready),
// is still waited for: the drill asks again rather than fail for a role or
// database it has.
func TestDrillWaitsThroughEndOfRecoveryCheckpoint(t *testing.T) {
	e := newEnv(t)
	dir, tmpl := drillTemplate(t)
	t.Setenv("FAKE_BARMAN_RECOVER_FROM", tmpl)
	// PostgreSQL's programs, psql refusing its first connection once the
	// server accepts them (so that pg_isready, asked next, says it does).
	bin := filepath.Join(dir, "bin", "15")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(pgBin)
	if err != nil {
		t.Fatal(err)
	}
	for _, ent := range entries {
		if ent.Name() != "psql" {
			if err := os.Symlink(filepath.Join(pgBin, ent.Name()), filepath.Join(bin, ent.Name())); err != nil {
				t.Fatal(err)
			}
		}
	}
	state := filepath.Join(dir, "bin", "refused")
	os.Chmod(filepath.Join(dir, "bin"), 0o777) // psql may run as nobody
	script := fmt.Sprintf(`#!/bin/sh
if [ ! -e %[1]q ]; then
  host=
  prev=
  for a in "$@"; do [ "$prev" = -h ] && host=$a; prev=$a; done
  until %[2]q/pg_isready -q -h "$host" -p 5432; do sleep 0.05; done
  : > %[1]q
  echo 'psql: error: connection to server on socket "x" failed: FATAL:  the database system is not accepting connections' >&2
  exit 2
fi
exec %[2]q/psql "$@"
`, state, pgBin)
	if err := os.WriteFile(filepath.Join(bin, "psql"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	id, err := e.createDrill(t, dir, `{"type": "drill", "sql": [{"query": "select count(*) from t", "expect": "3"}]}`)
	if err != nil {
		t.Fatal(err)
	}
	var log testenv.SyncBuffer
	r := e.drillRunner(t, dir, &log)
	r.PostgresBin = filepath.Join(dir, "bin", "%s")
	if err := r.Run(context.Background(), nil); err != nil {
		t.Fatalf("Run: %v\n%s", err, log.String())
	}
	op := e.get(t, "db_server_two", id)
	if _, err := os.Stat(state); err != nil {
		t.Fatalf("psql never refused a connection (%v): the test proves nothing", err)
	}
	if op.Status != ops.StatusDone {
		t.Fatalf("status %s, reason %q\n%s", op.Status, op.Reason, op.Output)
	}
	// The directory holds the test's programs, which are not the drill's.
	os.RemoveAll(filepath.Join(dir, "bin"))
	assertNothingLeft(t, dir, op)
}
