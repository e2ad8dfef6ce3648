package faults

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/runner"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// srv is the fixture's one Barman server; srvOps its operations path.
const (
	srv    = "db_server_two"
	srvOps = "/servers/" + srv + "/operations"
)

// idPattern is the reference's ID format plus our same-second suffix.
var idPattern = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}(-[0-9]{4})?$`)

// env is one Barman installation in a temporary directory: Barman 3.17's
// configuration (server db_server_two, model my-model) and backup catalog.
type env struct {
	Dir     string // the temporary directory; every process we start names it
	Conf    string // barman.conf
	ConfDir string // its configuration_files_directory
	Home    string // barman_home
	Fake    string // the fake Barman
	Barman  string // --barman-command: Fake unless a test says otherwise
	ArgvLog string // FAKE_BARMAN_ARGV_LOG: every Barman call's argv
	TOML    string // our configuration file (PG_BACKUP_API_CONFIG), empty
}

// envConfig says how to lay out an env.
type envConfig struct {
	tmpfs     string // mount a tmpfs of this size (e.g. "1m") as barman_home
	noHome    bool   // leave barman_home missing
	reference bool   // add the Python pg-backup-api 2.2's stored operations
}

// newEnv copies the fixtures into t.TempDir(). Every process started for
// it is killed when the test ends; one still running 10 s after a passing
// test fails it, since runners must exit once their queue is empty.
func newEnv(t *testing.T, c envConfig) *env {
	t.Helper()
	fake := testenv.FakeBarman(t)
	dir := t.TempDir()
	b := testenv.Layout(dir)
	e := &env{
		Dir:     dir,
		Conf:    b.Conf,
		ConfDir: b.ConfDir,
		Home:    b.Home,
		Fake:    fake,
		Barman:  fake,
		ArgvLog: filepath.Join(dir, "barman-argv.log"),
		TOML:    filepath.Join(dir, "pg-backup-api.toml"),
	}
	b.CopyConfig(t, "barman-3.17")
	if c.tmpfs != "" {
		mountTmpfs(t, e.Home, c.tmpfs)
	}
	if !c.noHome {
		b.CopyCatalog(t, "barman-3.17")
		if c.reference {
			b.WithStore(t)
		}
	}
	testenv.WriteFile(t, e.TOML, noBarmanCheck)
	testenv.KillStrays(t, e.Dir)
	return e
}

// noBarmanCheck is the configuration of every serve a fault test starts.
// Serve's background `barman check` (its own tests are in metrics and cli)
// would add Barman runs and processes to those the tests count; the create
// limits (tested in httpd) would answer 429 to the load tests' bursts and
// 507 before a full store's own ENOSPC path, which is what these tests
// exercise.
const noBarmanCheck = "[serve]\ncreates_per_minute = -1\nmin_free_bytes = -1\n\n[metrics]\nbarman_check = false\n"

// procEnv is the environment of the processes we start (testenv.ProcEnv),
// with e's config file, the argv log, and extra (later entries win).
func (e *env) procEnv(extra ...string) []string {
	return testenv.ProcEnv(append([]string{"PG_BACKUP_API_CONFIG=" + e.TOML, "FAKE_BARMAN_ARGV_LOG=" + e.ArgvLog}, extra...)...)
}

// globalArgs point the binary at e.
func (e *env) globalArgs(args ...string) []string {
	return append([]string{"--barman-config", e.Conf, "--barman-command", e.Barman}, args...)
}

// result is how a CLI run ended.
type result struct {
	code           int
	stdout, stderr string
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\nstdout: %s\nstderr: %s", r.code, r.stdout, r.stderr)
}

// cli runs the binary with e's global flags and waits for it (60 s at most).
func (e *env) cli(t *testing.T, penv []string, args ...string) result {
	t.Helper()
	return runBin(t, penv, e.globalArgs(args...)...)
}

func runBin(t *testing.T, penv []string, args ...string) result {
	t.Helper()
	run := testenv.RunBinary(binPath, penv, "", args...)
	// A run killed by a signal reads exit -1; one that did not start, or
	// outlived the bound, fails the test.
	var ee *exec.ExitError
	if run.Err != nil && !errors.As(run.Err, &ee) {
		t.Fatalf("pg-backup-api %s: %v", strings.Join(args, " "), run.Err)
	}
	if run.TimedOut {
		t.Fatalf("pg-backup-api %s did not finish within %s", strings.Join(args, " "), testenv.RunTimeout)
	}
	return result{code: run.Code, stdout: run.Stdout, stderr: run.Stderr}
}

// mustCLI runs the binary, requires exit 0 and returns its trimmed output.
func (e *env) mustCLI(t *testing.T, penv []string, args ...string) string {
	t.Helper()
	r := e.cli(t, penv, args...)
	if r.code != 0 {
		t.Fatalf("pg-backup-api %s: %s", strings.Join(args, " "), r)
	}
	return strings.TrimSpace(r.stdout)
}

// createRecovery registers a recovery of srv with the CLI; dest tells the
// operations apart in Barman's argv log.
func (e *env) createRecovery(t *testing.T, penv []string, dest string, more ...string) string {
	t.Helper()
	args := append([]string{"create", "recovery", "-s", srv, "-b", "latest", "--remote-ssh-command", "ssh postgres@target", "-d", dest}, more...)
	id := e.mustCLI(t, penv, args...)
	if !idPattern.MatchString(id) {
		t.Fatalf("create printed %q, want an operation ID", id)
	}
	return id
}

// recoveryBody is a recovery request body restoring into dest.
func recoveryBody(dest string) string {
	return fmt.Sprintf(`{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh postgres@target", "destination_directory": %q}`, dest)
}

// configUpdateBody is a config_update request body setting archiver.
func configUpdateBody(value string) string {
	return fmt.Sprintf(`{"type": "config_update", "changes": [{"scope": "server", "server_name": "db_server_two", "archiver": %q}]}`, value)
}

// store opens e's operation store as the binary does.
func (e *env) store() *store.Store { return store.Open(&ops.BarmanConfig{BarmanHome: e.Home}) }

// get reads one operation or fails the test.
func (e *env) get(t *testing.T, server, id string) *ops.Operation {
	t.Helper()
	op, err := e.store().Get(server, id)
	if err != nil {
		t.Fatalf("Store.Get(%q, %s): %v", server, id, err)
	}
	return op
}

// createDirect validates payload and records it in the store without
// starting a runner.
func (e *env) createDirect(t *testing.T, server, payload string) string {
	t.Helper()
	cfg, err := barman.LoadConfig(e.Conf)
	if err != nil {
		t.Fatal(err)
	}
	obj, err := pyjson.DecodeObject([]byte(payload), pyjson.DecodeOptions{RejectDuplicateKeys: true})
	if err != nil {
		t.Fatal(err)
	}
	req, err := ops.Policy{Options: barman.Options}.Validate(cfg, barman.Catalog{}, server, obj)
	if err != nil {
		t.Fatalf("Validate(%s): %v", payload, err)
	}
	id, err := e.store().Create(req, ops.Extension{Version: "test", BarmanConfig: e.Conf})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// marker is what PG_BACKUP_API_OPERATION holds in the environment of every
// process Barman starts for an operation.
func (e *env) marker(server, id string) string {
	return filepath.Join(e.store().ScopeDir(server), id)
}

// recoverDests returns the destination of every `barman recover` call, in
// the order Barman ran them.
func (e *env) recoverDests(t *testing.T) []string {
	t.Helper()
	var dests []string
	for _, c := range testenv.ArgvCalls(t, e.ArgvLog) {
		for i, a := range c {
			if a == "recover" && i+3 < len(c) {
				dests = append(dests, c[i+3])
			}
		}
	}
	return dests
}

// ---- serve ----

// serveProc is a running `pg-backup-api serve`.
type serveProc = testenv.Serve

// startServe starts serve for e, with extra global args, on a port of the
// kernel's choosing and waits until it answers GET /status.
func (e *env) startServe(t *testing.T, penv []string, args ...string) *serveProc {
	t.Helper()
	n := 0
	for testenv.FileExists(filepath.Join(e.Dir, fmt.Sprintf("serve-%d.log", n))) {
		n++
	}
	return testenv.StartServe(t, testenv.ServeOptions{
		Binary:  binPath,
		Args:    e.globalArgs(append(args, "serve")...),
		Env:     penv,
		LogPath: filepath.Join(e.Dir, fmt.Sprintf("serve-%d.log", n)),
	})
}

// ---- HTTP ----

var client = &http.Client{Timeout: 30 * time.Second}

// postCreate POSTs body and requires 202 with an operation ID.
func postCreate(t *testing.T, url, body string) string {
	t.Helper()
	code, _, data := testenv.HTTPDo(t, client, "POST", url, body)
	var created struct {
		OperationID string `json:"operation_id"`
	}
	if code != http.StatusAccepted || json.Unmarshal(data, &created) != nil || !idPattern.MatchString(created.OperationID) {
		t.Fatalf("POST %s: %d %s, want 202 with an operation_id", url, code, data)
	}
	return created.OperationID
}

// apiError checks a JSON error answer with the given status and returns its
// message.
func apiError(t *testing.T, what string, code int, hdr http.Header, body []byte, want int) string {
	t.Helper()
	var e struct {
		Error string `json:"error"`
	}
	if code != want || hdr.Get("Content-Type") != "application/json" || json.Unmarshal(body, &e) != nil || e.Error == "" {
		t.Fatalf("%s: %d (%s) %s, want %d with a JSON error", what, code, hdr.Get("Content-Type"), body, want)
	}
	return e.Error
}

// opView is an operation as GET ?detail=true (or a list item) shows it.
type opView struct {
	ID          string  `json:"id"`
	OperationID string  `json:"operation_id"`
	Type        string  `json:"type"`
	Status      string  `json:"status"`
	Phase       string  `json:"phase"`
	StartTime   *string `json:"start_time"`
	EndTime     *string `json:"end_time"`
	ExitCode    *int    `json:"exit_code"`
	Reason      string  `json:"reason"`
	Output      *string `json:"output"`
}

// getDetail is GET url?detail=true of one operation.
func getDetail(t *testing.T, url string) opView {
	t.Helper()
	var v opView
	testenv.GetJSON(t, client, url+"?detail=true", &v)
	return v
}

// listDetail is GET url?detail=true of a list of operations.
func listDetail(t *testing.T, url string) []opView {
	t.Helper()
	var v struct {
		Operations []opView `json:"operations"`
	}
	testenv.GetJSON(t, client, url+"?detail=true", &v)
	return v.Operations
}

// inspectJSON is `inspect -o json ID`.
func (e *env) inspectJSON(t *testing.T, penv []string, id string) opView {
	t.Helper()
	out := e.mustCLI(t, penv, "inspect", "-o", "json", id)
	var v opView
	if err := json.Unmarshal([]byte(out), &v); err != nil {
		t.Fatalf("inspect -o json %s: %v\n%s", id, err, out)
	}
	return v
}

// ---- processes ----

// groupMembers returns the live members of process group pgid.
func groupMembers(pgid int) []int {
	return testenv.LivePids(func(pid int) bool {
		_, _, pgrp, ok := testenv.ProcStat(pid)
		return ok && pgrp == pgid
	})
}

// childrenOf returns the live children of pid.
func childrenOf(parent int) []int {
	return testenv.LivePids(func(pid int) bool {
		_, ppid, _, ok := testenv.ProcStat(pid)
		return ok && ppid == parent
	})
}

// markedProcesses returns the live processes whose environment carries
// PG_BACKUP_API_OPERATION=marker: Barman and everything it started for one
// operation.
func markedProcesses(marker string) []int {
	want := []byte(runner.MarkerEnv + "=" + marker + "\x00")
	return testenv.LivePids(func(pid int) bool {
		env := testenv.Environ(pid)
		return bytes.HasPrefix(env, want) || bytes.Contains(env, append([]byte{0}, want...))
	})
}

// ---- storage ----

// mountTmpfs mounts a tmpfs of the given size on dir (created if needed)
// and unmounts it when the test ends. CI runs as root: failing to mount is
// a failure, not a skip.
func mountTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mount("tmpfs", dir, "tmpfs", 0, "size="+size+",mode=0755"); err != nil {
		t.Fatalf("mount -t tmpfs -o size=%s tmpfs %s: %v (these tests need root, as CI runs them)", size, dir, err)
	}
	t.Cleanup(func() {
		var err error
		for i := 0; i < 50; i++ {
			if err = syscall.Unmount(dir, 0); err == nil || errors.Is(err, syscall.EINVAL) {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		syscall.Unmount(dir, syscall.MNT_DETACH)
		t.Errorf("umount %s: %v (detached instead)", dir, err)
	})
}

// remount makes the tmpfs on dir read-only or read-write again. Making it
// read-only fails with EBUSY while a file on it is open for writing: a
// runner that has just finished may still be exiting (the leader of a Go
// process exits before its other threads, which hold its files), so that is
// retried for a while.
func remount(t *testing.T, dir, size string, readOnly bool) {
	t.Helper()
	flags := uintptr(syscall.MS_REMOUNT)
	if readOnly {
		flags |= syscall.MS_RDONLY
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		err := syscall.Mount("tmpfs", dir, "tmpfs", flags, "size="+size+",mode=0755")
		if err == nil {
			return
		}
		if !errors.Is(err, syscall.EBUSY) || time.Now().After(deadline) {
			t.Fatalf("mount -o remount,ro=%t %s: %v", readOnly, dir, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fill writes a file into dir until the file system has no room left for a
// single byte, and returns its path.
func fill(t *testing.T, dir string) string {
	t.Helper()
	path := filepath.Join(dir, "filler")
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, size := range []int{1 << 16, 1 << 10, 1} {
		chunk := make([]byte, size)
		for {
			if _, err := f.Write(chunk); err != nil {
				if !errors.Is(err, syscall.ENOSPC) {
					t.Fatalf("filling %s: %v", dir, err)
				}
				break
			}
		}
	}
	probe := filepath.Join(dir, "probe")
	if err := os.WriteFile(probe, []byte("x"), 0o600); err == nil {
		os.Remove(probe)
		t.Fatalf("%s still takes a one-byte file after filling it", dir)
	}
	os.Remove(probe)
	return path
}

// checkJobsComplete fails unless every entry of a jobs/ directory is a
// complete operation file: no temporary or partial files.
func checkJobsComplete(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		t.Fatal(err)
	}
	var ids []string
	for _, ent := range entries {
		id, ok := strings.CutSuffix(ent.Name(), ".json")
		if !ok || !idPattern.MatchString(id) || !ent.Type().IsRegular() {
			t.Errorf("%s holds %s, which is not a complete job file", dir, ent.Name())
			continue
		}
		obj, err := store.ReadJSONFile(filepath.Join(dir, ent.Name()))
		if err != nil {
			t.Errorf("partial job file: %v", err)
			continue
		}
		if _, ok := obj.String("operation_type"); !ok {
			t.Errorf("%s/%s has no operation_type", dir, ent.Name())
		}
		ids = append(ids, id)
	}
	return ids
}

// tempFiles returns the temporary files left anywhere under dir.
func tempFiles(t *testing.T, dir string) []string {
	t.Helper()
	var found []string
	filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err == nil && strings.Contains(d.Name(), ".tmp-") {
			found = append(found, path)
		}
		return nil
	})
	return found
}
