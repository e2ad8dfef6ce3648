package cli_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/user"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/cli"
	"github.com/pg-backup-api/pg-backup-api/cli/iostreams"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// sharedDir is the repository's testdata/ tree (copies of the recorded fixtures), relative to the
// package directory.
const sharedDir = "../testdata"

var (
	// binary is the real pg-backup-api, built once by TestMain.
	binary string
	// fakeBarman is testdata/fake-barman from the repository root.
	fakeBarman string
	// emptyConfig is an empty TOML file that PG_BACKUP_API_CONFIG points
	// at, so a /etc/pg-backup-api.toml on the machine cannot leak in.
	emptyConfig string
)

// ambientEnv would change what the tests see if a developer's shell set it
// (scripts/sandbox exports PG_BACKUP_API_BARMAN_CONF, for one).
var ambientEnv = []string{
	cli.EnvConfig, cli.EnvBarmanConfig, cli.EnvBarmanCommand, "NO_COLOR", "TERM",
	"FAKE_BARMAN_ARGV_LOG", "FAKE_BARMAN_EXIT", "FAKE_BARMAN_SLEEP", "FAKE_BARMAN_PIDFILE", "FAKE_BARMAN_VERSION",
	"FAKE_BARMAN_META_DIR",
}

func TestMain(m *testing.M) {
	// An in-process create that gets past validation makes runner.Launcher
	// start os.Executable() -- this test binary -- as `pg-backup-api ...
	// run`. Be pg-backup-api then, never a second test run.
	if len(os.Args) > 1 && !strings.HasPrefix(os.Args[1], "-test.") {
		app := cli.NewApp(cli.BuildInfo{Version: "test", Commit: "test", Date: "test"}, iostreams.System())
		code, msg := cli.ExitCode(cli.Run(app, os.Args))
		if msg != "" {
			fmt.Fprintln(os.Stderr, msg)
		}
		os.Exit(code)
	}
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	for _, k := range ambientEnv {
		os.Unsetenv(k)
	}
	tmp, err := os.MkdirTemp("", "pg-backup-api-cli-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)

	emptyConfig = filepath.Join(tmp, "empty.toml")
	if err := os.WriteFile(emptyConfig, nil, 0o644); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	os.Setenv(cli.EnvConfig, emptyConfig)

	if fakeBarman, err = filepath.Abs("../testdata/fake-barman"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	if fi, err := os.Stat(fakeBarman); err != nil || fi.Mode()&0o111 == 0 {
		fmt.Fprintf(os.Stderr, "cli tests: %s must exist and be executable (stat: %v)\n", fakeBarman, err)
		return 1
	}

	defer testenv.RemoveBinary()
	if binary, err = testenv.BuildBinary(); err != nil {
		fmt.Fprintf(os.Stderr, "cli tests: %v\n", err)
		return 1
	}
	return m.Run()
}

// env is a writable Barman 3.17 installation with, optionally, the store the
// reference implementation wrote, in a temporary directory.
type env struct {
	Root    string // everything lives under here
	Conf    string // barman.conf
	Home    string // barman_home
	ArgvLog string // where fake-barman records its calls
}

// newEnv copies barman-3.17's configuration and catalog, and with withStore
// the pg-backup-api-2.2 store, into a temporary directory. Runners that
// subprocess creates leave behind are waited for before it is removed.
func newEnv(t *testing.T, withStore bool) *env {
	t.Helper()
	root := t.TempDir()
	e := &env{
		Root:    root,
		Conf:    filepath.Join(root, "etc", "barman.conf"),
		Home:    filepath.Join(root, "home"),
		ArgvLog: filepath.Join(root, "argv.log"),
	}
	b := testenv.Layout(root).CopyConfig(t, "barman-3.17").CopyCatalog(t, "barman-3.17")
	if withStore {
		b.WithStore(t)
	}
	if b.Conf != e.Conf || b.Home != e.Home {
		t.Fatalf("testenv lays the fixture out as %s and %s, not %s and %s", b.Conf, b.Home, e.Conf, e.Home)
	}
	conf, err := os.ReadFile(e.Conf)
	if err != nil {
		t.Fatal(err)
	}
	// The tests run as Barman's user, as operators are told to; the
	// warning for any other user has tests of its own.
	me, err := user.Current()
	if err != nil {
		t.Fatal(err)
	}
	conf = bytes.Replace(conf, []byte("barman_user = barman"), []byte("barman_user = "+me.Username), 1)
	if err := os.WriteFile(e.Conf, conf, 0o644); err != nil {
		t.Fatal(err)
	}
	// Registered after t.TempDir, so it runs before the directory goes.
	t.Cleanup(func() { e.waitIdle(t, 60*time.Second) })
	return e
}

// result is what one run of the command line produced.
type result struct {
	Code           int
	Msg            string // the message main prints on standard error
	Stdout, Stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d, message %q\nstdout:\n%s\nstderr:\n%s", r.Code, r.Msg, r.Stdout, r.Stderr)
}

// allErr is everything a person would see on standard error.
func (r result) allErr() string { return r.Stderr + r.Msg }

var testBuild = cli.BuildInfo{Version: "1.2.3", Commit: "abc1234", Date: "2026-02-03"}

// appMu serialises in-process runs: urfave/cli v2 writes package globals
// (HelpFlag, its help command) on every App.Run, so two apps running at once
// in one process race, whatever our code does. The binary runs one app per
// process; parallel tests run the real binary when they need concurrency.
var appMu sync.Mutex

// runApp runs the application in process with exactly args (after the
// program name) and stdin as its standard input.
func runApp(t testing.TB, stdin string, args ...string) result {
	t.Helper()
	ios, in, _, _ := iostreams.Test()
	in.WriteString(stdin)
	return runAppOn(t, ios, args...)
}

// runAppOn runs the application in process on streams from
// iostreams.Test(), which say whether output goes to a terminal, how wide
// it is and whether colour is allowed: terminal rendering without a
// pseudo-terminal.
func runAppOn(t testing.TB, ios *iostreams.IOStreams, args ...string) result {
	t.Helper()
	appMu.Lock()
	defer appMu.Unlock()
	app := cli.NewApp(testBuild, ios)
	code, msg := cli.ExitCode(cli.Run(app, append([]string{"pg-backup-api"}, args...)))
	return result{Code: code, Msg: msg, Stdout: ios.Out.(*bytes.Buffer).String(), Stderr: ios.ErrOut.(*bytes.Buffer).String()}
}

// run runs the application in process against e's Barman.
func (e *env) run(t testing.TB, args ...string) result {
	t.Helper()
	return runApp(t, "", append([]string{"--barman-config", e.Conf, "--barman-command", fakeBarman}, args...)...)
}

// exec runs the real binary against e's Barman, with extra environment
// variables, stdin and args after the global flags.
func (e *env) exec(t testing.TB, extraEnv []string, stdin string, args ...string) result {
	t.Helper()
	return execBinary(t, append([]string{"FAKE_BARMAN_ARGV_LOG=" + e.ArgvLog}, extraEnv...), stdin,
		append([]string{"--barman-config", e.Conf, "--barman-command", fakeBarman}, args...)...)
}

// execBinary runs the real binary; a run that cannot start or is killed
// fails the test and reports exit status -1.
func execBinary(t testing.TB, extraEnv []string, stdin string, args ...string) result {
	t.Helper()
	run := testenv.RunBinary(binary, append(os.Environ(), extraEnv...), stdin, args...)
	r := result{Code: run.Code, Stdout: run.Stdout, Stderr: run.Stderr}
	if run.Err != nil {
		// Not Fatalf: workers of the concurrency test call this.
		t.Errorf("running %s %q: %v\nstderr:\n%s", binary, args, run.Err, r.Stderr)
	}
	return r
}

// scopeDirs are the directories that may hold operations.
func (e *env) scopeDirs() []string {
	return []string{e.Home, filepath.Join(e.Home, "db_server_two")}
}

// waitIdle waits until no runner holds a scope and no operation is
// IN_PROGRESS, so a test ends with its store quiet.
func (e *env) waitIdle(t testing.TB, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		busy := ""
		for _, dir := range e.scopeDirs() {
			if locked, _ := store.IsLocked(filepath.Join(dir, store.StateDirName, "runner.lock")); locked {
				busy = "a runner is active in " + dir
			}
		}
		if busy == "" {
			st := store.Open(&ops.BarmanConfig{BarmanHome: e.Home})
			for _, scope := range []string{"", "db_server_two"} {
				list, _, _ := st.List(scope, ops.ListOptions{Status: true})
				for _, op := range list {
					if op.Status == ops.StatusInProgress && op.Phase != ops.PhaseForeign {
						busy = fmt.Sprintf("operation %s is %s", op.ID, op.Phase)
					}
				}
			}
		}
		if busy == "" {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("store still busy after %s: %s", timeout, busy)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// decodeJSON decodes s into v, failing the test if it is not JSON.
func decodeJSON(t testing.TB, s string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, s)
	}
	if dec.More() {
		t.Fatalf("output has more than one JSON document:\n%s", s)
	}
}

// objectKeys returns the keys of the JSON object at the top of s, in order.
func objectKeys(t testing.TB, s string) []string {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(s))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not a JSON object (%v): %s", err, s)
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

// writeFile writes a file under dir and returns its path.
func writeFile(t testing.TB, dir, name, content string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), mode); err != nil {
		t.Fatal(err)
	}
	return p
}
