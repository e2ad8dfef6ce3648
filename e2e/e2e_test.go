//go:build e2e

// Package e2e drives pg-backup-api against a real Barman, PostgreSQL and sshd
// brought up by scripts/sandbox. Run it with `make check` (or `make e2e`),
// which starts the sandbox first; nothing here is faked.
package e2e

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	bin     string            // the pg-backup-api binary under test
	sandbox map[string]string // scripts/sandbox's env file
	barmans []*barmanUT       // every Barman of the sandbox, oldest first
	apiURL  string            // the `serve` of the first Barman (3.4)
	marker  string            // a row written before every backup this run takes
	run     = randomHex()     // names this run's backups and models
)

// barmanUT is one real Barman of the sandbox and the `serve` that runs it.
type barmanUT struct {
	key     string // as in the env file: "3.4", "3.13", "sid"
	command string // runs this Barman (serve's --barman-command)
	conf    string // its barman.conf
	home    string // its barman_home
	version string // what `barman -v` says, e.g. "3.13.3", "3.20.1"
	models  bool   // has config-switch and config-update (>= 3.10)
	url     string // its `serve`
	// Two backups this run took, older first, and what each one's data
	// directory holds as cluster_name (see takeBackups).
	older, newer backupRef
	spent        time.Duration // in its subtests, for the timing summary
}

// backupRef is a backup this run took: its ID, what a request names it by
// (its backup name where Barman keeps names, else its ID), and its marker.
type backupRef struct{ id, request, marker string }

// takeBackup takes a backup named name and finds its ID: the one
// list-backups shows that it did not before.
func takeBackup(b *barmanUT, name string) (backupRef, error) {
	server := sandbox["SANDBOX_SERVER"]
	list := func() (map[string]bool, error) {
		out, err := barmanOutput(b, "list-backups", "--minimal", server)
		if err != nil {
			return nil, fmt.Errorf("%s list-backups: %v\n%s", b, err, out)
		}
		ids := map[string]bool{}
		for _, id := range strings.Fields(string(out)) {
			ids[id] = true
		}
		return ids, nil
	}
	before, err := list()
	if err != nil {
		return backupRef{}, err
	}
	// `barman backup --wait` waits until its last WAL segment is archived,
	// which the sandbox's cron loop does every 30 s: archive sooner, as
	// cron would (a run that finds cron holding the archiver's lock just
	// ends).
	done := make(chan struct{})
	pumped := make(chan struct{})
	go func() {
		defer close(pumped)
		for {
			select {
			case <-done:
				return
			case <-time.After(2 * time.Second):
			}
			barmanOutput(b, "archive-wal", server)
		}
	}()
	out, err := barmanOutput(b, "backup", "--wait", "--name", name, server)
	close(done)
	<-pumped
	if err != nil {
		return backupRef{}, fmt.Errorf("%s backup: %v\n%s", b, err, out)
	}
	after, err := list()
	if err != nil {
		return backupRef{}, err
	}
	var ref backupRef
	for id := range after {
		if !before[id] {
			if ref.id != "" {
				return backupRef{}, fmt.Errorf("%s list-backups shows two new backups, %s and %s", b, ref.id, id)
			}
			ref.id = id
		}
	}
	if ref.id == "" {
		return backupRef{}, fmt.Errorf("%s backup succeeded but list-backups shows no new backup", b)
	}
	// Barman 3.4.0 accepts --name but drops it with --wait (fixed in
	// 3.4.1), so there the request names the backup by its ID;
	// Barman 3.13 and later keep the name, and pg-backup-api must resolve it.
	ref.request = ref.id
	if b.models {
		ref.request = name
	}
	return ref, nil
}

func (b *barmanUT) String() string { return "barman-" + b.version }

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	envFile := os.Getenv("PG_BACKUP_API_E2E_ENV")
	if envFile == "" {
		envFile = "/var/tmp/pg-backup-api-sandbox/env"
	}
	var err error
	if sandbox, err = readEnvFile(envFile); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\nbring the sandbox up first: scripts/sandbox up (or make check)\n", err)
		return 1
	}
	if barmans, err = sandboxBarmans(envFile); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	// One sandbox, one PostgreSQL and one set of Barman servers: two runs
	// of this suite at once would take and check each other's backups and
	// markers. A second run waits for the first.
	lock, err := os.OpenFile(filepath.Join(filepath.Dir(envFile), "e2e.lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: another run of the end-to-end suite holds %s; waiting for it\n", lock.Name())
		if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
			fmt.Fprintln(os.Stderr, "e2e: lock:", err)
			return 1
		}
	}
	tmp, err := os.MkdirTemp("", "pg-backup-api-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	defer testenv.RemoveBinary()
	if bin, err = testenv.BuildBinary(); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: build:", err)
		return 1
	}

	if err := pruneBackups(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	start := time.Now()
	if err := takeBackups(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: %v\n", err)
		return 1
	}
	fmt.Fprintf(os.Stderr, "e2e: took %d backups in %s\n", 2*len(barmans), time.Since(start).Round(time.Millisecond))

	for _, b := range barmans {
		stop, err := startServe(tmp, b)
		if err != nil {
			fmt.Fprintf(os.Stderr, "e2e: serve for %s: %v\n", b, err)
			return 1
		}
		defer stop()
	}
	apiURL = barmans[0].url
	code := m.Run()
	for _, b := range barmans {
		fmt.Fprintf(os.Stderr, "e2e: Barman %s: its tests took %s\n", b.version, b.spent.Round(time.Millisecond))
	}
	return code
}

// sandboxBarmans lists the Barmans the env file names and asks each for its
// version.
func sandboxBarmans(envFile string) ([]*barmanUT, error) {
	keys := strings.Fields(sandbox["SANDBOX_BARMAN_VERSIONS"])
	if strings.Join(keys, " ") != "3.4 3.13 sid" {
		return nil, fmt.Errorf("%s names Barman(s) %q in SANDBOX_BARMAN_VERSIONS, want 3.4, 3.13 and sid; run scripts/sandbox up", envFile, keys)
	}
	var list []*barmanUT
	for _, key := range keys {
		k := strings.ToUpper(strings.ReplaceAll(key, ".", "_"))
		b := &barmanUT{key: key, command: sandbox["SANDBOX_BARMAN_"+k], conf: sandbox["SANDBOX_BARMAN_CONF_"+k], home: sandbox["SANDBOX_BARMAN_HOME_"+k]}
		if b.command == "" || b.conf == "" || b.home == "" {
			return nil, fmt.Errorf("%s lacks SANDBOX_BARMAN_%s, SANDBOX_BARMAN_CONF_%s or SANDBOX_BARMAN_HOME_%s; run scripts/sandbox up", envFile, k, k, k)
		}
		out, err := barmanOutput(b, "-v")
		if err != nil {
			return nil, fmt.Errorf("%s -v: %v\n%s", b.command, err, out)
		}
		b.version = strings.Fields(string(out) + " ?")[0]
		var major, minor int
		fmt.Sscanf(b.version, "%d.%d", &major, &minor)
		switch key {
		case "sid":
			// Debian unstable's Barman is whatever sid had when the
			// sandbox fetched it, at least SANDBOX_BARMAN_SID_MIN.
			var minMajor, minMinor int
			if _, err := fmt.Sscanf(sandbox["SANDBOX_BARMAN_SID_MIN"], "%d.%d", &minMajor, &minMinor); err != nil {
				return nil, fmt.Errorf("%s: SANDBOX_BARMAN_SID_MIN=%q is not a Barman release; run scripts/sandbox up", envFile, sandbox["SANDBOX_BARMAN_SID_MIN"])
			}
			if major < minMajor || major == minMajor && minor < minMinor {
				return nil, fmt.Errorf("%s -v says %q; the sandbox promised Debian unstable's Barman, %s or later", b.command, strings.TrimSpace(string(out)), sandbox["SANDBOX_BARMAN_SID_MIN"])
			}
		case "3.13":
			if want := sandbox["SANDBOX_BARMAN_3_13_VERSION"]; want != "" && b.version != want {
				return nil, fmt.Errorf("%s -v says %q, not the pinned %s; run scripts/sandbox up", b.command, strings.TrimSpace(string(out)), want)
			}
		}
		if key != "sid" && !strings.HasPrefix(b.version, key+".") {
			return nil, fmt.Errorf("%s -v says %q; the sandbox promised Barman %s", b.command, strings.TrimSpace(string(out)), key)
		}
		b.models = major > 3 || major == 3 && minor >= 10
		list = append(list, b)
	}
	if list[0].models || !list[1].models || !list[2].models {
		return nil, fmt.Errorf("the sandbox's Barmans are %s, %s and %s; the suite needs one without models (3.4) and two with", list[0].version, list[1].version, list[2].version)
	}
	return list, nil
}

// barmanOutput runs this Barman as the sandbox does, with its configuration.
func barmanOutput(b *barmanUT, args ...string) ([]byte, error) {
	argv := strings.Fields(b.command)
	if len(args) == 0 || args[0] != "-v" {
		argv = append(argv, "-c", b.conf)
	}
	cmd := exec.Command(argv[0], append(argv[1:], args...)...)
	cmd.Dir = "/"
	return cmd.CombinedOutput()
}

// takeBackups gives each Barman two backups of its own, named for this run.
// Between them the cluster_name in the data directory changes. Set with
// ALTER SYSTEM (and only read at start, so the live server is unaffected), it
// lives in postgresql.auto.conf: a file the base backup copies but no WAL
// record touches, so a restored cluster shows which base
// backup it came from even though Barman, with no recovery target, replays
// every archived WAL (a row written between the backups would be replayed
// into the older one too). The marker row, written before both, checks the
// data itself.
func takeBackups() error {
	marker = randomHex()
	if out, err := psql(sandbox["SANDBOX_PG_PORT"], fmt.Sprintf(
		"INSERT INTO sandbox_check (id, note) VALUES (%d, '%s') ON CONFLICT (id) DO UPDATE SET note = EXCLUDED.note",
		2, marker)); err != nil {
		return fmt.Errorf("writing the marker row: %v\n%s", err, out)
	}
	for _, which := range []string{"older", "newer"} {
		mark := which + "-" + randomHex()
		if out, err := psql(sandbox["SANDBOX_PG_PORT"], fmt.Sprintf("ALTER SYSTEM SET cluster_name = '%s'", mark)); err != nil {
			return fmt.Errorf("setting cluster_name: %v\n%s", err, out)
		}
		// The Barmans back up at once (each its own pg_basebackup and
		// WAL slot; PostgreSQL takes concurrent backups): a third the time.
		errs := make([]error, len(barmans))
		var wg sync.WaitGroup
		for i, b := range barmans {
			wg.Add(1)
			go func() {
				defer wg.Done()
				ref, err := takeBackup(b, fmt.Sprintf("e2e-%s-%s", run, which))
				ref.marker = mark
				if which == "older" {
					b.older = ref
				} else {
					b.newer = ref
				}
				errs[i] = err
			}()
		}
		wg.Wait()
		if err := errors.Join(errs...); err != nil {
			return err
		}
		if which == "older" {
			if err := switchWAL(func(b *barmanUT) string { return b.older.id }); err != nil {
				return err
			}
		}
	}
	// Each backup closed WAL segments the other Barmans archive at their
	// next cron: archive them now, so that the catalogs the tests compare
	// do not change under them.
	for _, b := range barmans {
		barmanOutput(b, "archive-wal", sandbox["SANDBOX_SERVER"])
	}
	return nil
}

// switchWAL writes a little, forces a WAL switch and waits until every
// Barman has archived the segment it closed, so each one's older backup has
// WAL of its own after it (wal_size, the recovery window's latest_wal) that
// is not the newer backup's. It runs `barman archive-wal`, what cron would,
// rather than waiting for the sandbox's cron loop. newest names each
// Barman's newest backup, whose show-backup says the last WAL available
// (an older backup's stops at the next one's).
func switchWAL(newest func(*barmanUT) string) error {
	out, err := psql(sandbox["SANDBOX_PG_PORT"], fmt.Sprintf(
		"CREATE TABLE IF NOT EXISTS e2e_wal (run text, pad text); TRUNCATE e2e_wal; "+
			"INSERT INTO e2e_wal SELECT '%s', repeat('x', 1000) FROM generate_series(1, 2000); "+
			"SELECT pg_walfile_name(pg_switch_wal())", run))
	lines := strings.Fields(string(out))
	if err != nil || len(lines) == 0 || len(lines[len(lines)-1]) != 24 {
		return fmt.Errorf("forcing a WAL switch: %v\n%s", err, out)
	}
	seg := lines[len(lines)-1]
	start := time.Now()
	for _, b := range barmans {
		deadline := time.Now().Add(90 * time.Second)
		for {
			// A concurrent cron may hold the archiver's lock: that run
			// archives the segment as well, so its failure is no failure.
			barmanOutput(b, "archive-wal", sandbox["SANDBOX_SERVER"])
			last, err := barmanLastAvailable(b, newest(b))
			if err != nil {
				return err
			}
			if last >= seg {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s has not archived WAL %s after 90s (show-backup %s says the last available is %s)", b, seg, newest(b), last)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	fmt.Fprintf(os.Stderr, "e2e: WAL %s archived by every Barman in %s\n", seg, time.Since(start).Round(time.Millisecond))
	return nil
}

// barmanShowBackup is what `barman -f json show-backup` prints of a backup
// that the catalog checks use.
type barmanShowBackup struct {
	Base struct {
		EndTime string `json:"end_time"`
		EndWAL  string `json:"end_wal"`
	} `json:"base_backup_information"`
	WAL struct {
		LastAvailable string `json:"last_available"`
	} `json:"wal_information"`
}

func barmanShowBackupJSON(b *barmanUT, id string) (barmanShowBackup, error) {
	server := sandbox["SANDBOX_SERVER"]
	out, err := barmanOutput(b, "-f", "json", "show-backup", server, id)
	var show map[string]barmanShowBackup
	if err == nil {
		// Warnings may come first on the combined output; the JSON is last.
		if i := bytes.IndexByte(out, '{'); i > 0 {
			out = out[i:]
		}
		err = json.Unmarshal(out, &show)
	}
	if err != nil {
		return barmanShowBackup{}, fmt.Errorf("%s -f json show-backup %s %s: %v\n%s", b, server, id, err, out)
	}
	return show[server], nil
}

// barmanLastAvailable is the newest WAL show-backup reports for a backup
// (the last archived up to the next backup).
func barmanLastAvailable(b *barmanUT, id string) (string, error) {
	show, err := barmanShowBackupJSON(b, id)
	return show.WAL.LastAvailable, err
}

func randomHex() string {
	var b [8]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// readEnvFile reads the `export K='V'` lines that scripts/sandbox writes.
func readEnvFile(path string) (map[string]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimPrefix(strings.TrimSpace(sc.Text()), "export ")
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") || !strings.HasPrefix(v, "'") {
			continue
		}
		env[k] = strings.Trim(v, "'")
	}
	for _, k := range []string{"SANDBOX_BARMAN_CONF", "SANDBOX_SERVER", "SANDBOX_SSH_COMMAND", "SANDBOX_RESTORE_DIR", "SANDBOX_PG_BIN", "SANDBOX_PG_PORT", "SANDBOX_PG_SOCKET_DIR"} {
		if env[k] == "" {
			return nil, fmt.Errorf("%s does not set %s", path, k)
		}
	}
	return env, sc.Err()
}

func freePort(t *testing.T) int {
	port, err := pickPort()
	if err != nil {
		t.Fatal(err)
	}
	return port
}

func pickPort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// startServe runs `serve` for b: its configuration, and --barman-command so
// every operation and /diagnose run this Barman, not the one on PATH.
func startServe(tmp string, b *barmanUT) (func(), error) {
	port, err := pickPort()
	if err != nil {
		return nil, err
	}
	logPath := filepath.Join(tmp, "serve-"+b.key+".log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "--barman-config", b.conf, "--barman-command", b.command,
		"serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	b.url = fmt.Sprintf("http://127.0.0.1:%d", port)
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		logFile.Close()
	}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(b.url + "/status"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return stop, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	stop()
	log, _ := os.ReadFile(logPath)
	return nil, fmt.Errorf("serve did not answer /status within 15s:\n%s", log)
}

func (b *barmanUT) post(t *testing.T, path string, body any) (int, map[string]any) {
	t.Helper()
	return postTo(t, b.url, path, body)
}

func (b *barmanUT) get(t *testing.T, path string) (int, map[string]any) {
	t.Helper()
	return getFrom(t, b.url, path)
}

func postTo(t *testing.T, base, path string, body any) (int, map[string]any) {
	t.Helper()
	data, _ := json.Marshal(body)
	resp, err := http.Post(base+path, "application/json", bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, decode(t, resp.Body)
}

func getFrom(t *testing.T, base, path string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	return resp.StatusCode, decode(t, resp.Body)
}

func decode(t *testing.T, r io.Reader) map[string]any {
	t.Helper()
	var m map[string]any
	data, _ := io.ReadAll(r)
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("response is not a JSON object: %v: %s", err, data)
	}
	return m
}

// waitEnd polls an operation (its URL path) until it is DONE or FAILED and
// returns its detailed view.
func (b *barmanUT) waitEnd(t *testing.T, path string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	for time.Now().Before(deadline) {
		code, body := b.get(t, path+"?detail=true")
		if code != 200 {
			t.Fatalf("GET %s: %d %v", path, code, body)
		}
		if body["status"] != "IN_PROGRESS" {
			return body
		}
		time.Sleep(250 * time.Millisecond)
	}
	t.Fatalf("operation %s did not end within 5 minutes", path)
	return nil
}

// cli runs the binary against b and returns its stdout, stderr and exit code.
func (b *barmanUT) cli(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"--barman-config", b.conf, "--barman-command", b.command}, args...)...)
	cmd.Dir = "/"
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return stdout.String(), stderr.String(), 0
	case errors.As(err, &ee):
		return stdout.String(), stderr.String(), ee.ExitCode()
	}
	t.Fatalf("running %s: %v", bin, err)
	return "", "", -1
}

// inspect is the CLI's JSON view of an operation, with Barman's output.
func (b *barmanUT) inspect(t *testing.T, id string) map[string]any {
	t.Helper()
	stdout, stderr, code := b.cli(t, "inspect", id, "-o", "json")
	if code != 0 {
		t.Fatalf("inspect %s: exit %d: %s", id, code, stderr)
	}
	return decode(t, strings.NewReader(stdout))
}

// lastID is the operation ID that `create` printed (its last line).
func lastID(t *testing.T, stdout string) string {
	t.Helper()
	lines := strings.Fields(stdout)
	if len(lines) == 0 {
		t.Fatalf("create printed no operation ID")
	}
	return lines[len(lines)-1]
}

func psql(port, query string) ([]byte, error) {
	cmd := exec.Command("psql", "-X", "-q", "-tA", "-h", "127.0.0.1", "-p", port, "-U", "barman", "-d", "postgres", "-c", query)
	cmd.Dir = "/"
	return cmd.CombinedOutput()
}

// checkRestored asserts that dest holds a data directory Barman restored
// from the base backup want, starts it as a PostgreSQL server, and checks
// its answers: the marker row, and want's cluster_name.
func checkRestored(t *testing.T, dest string, want backupRef) {
	t.Helper()
	for _, f := range []string{"PG_VERSION", "backup_label"} {
		if _, err := os.Stat(filepath.Join(dest, f)); err != nil {
			t.Fatalf("restored directory lacks %s: %v", f, err)
		}
	}
	port := fmt.Sprint(freePort(t))
	pgctl := filepath.Join(sandbox["SANDBOX_PG_BIN"], "pg_ctl")
	logPath := dest + ".log"
	start := exec.Command("runuser", "-u", "postgres", "--", pgctl, "-D", dest, "-l", logPath, "-w", "-t", "120",
		"-o", fmt.Sprintf("-p %s -k %s -c listen_addresses=127.0.0.1", port, sandbox["SANDBOX_PG_SOCKET_DIR"]), "start")
	start.Dir = "/"
	if out, err := start.CombinedOutput(); err != nil {
		log, _ := os.ReadFile(logPath)
		t.Fatalf("restored cluster did not start: %v\n%s\n%s", err, out, log)
	}
	t.Cleanup(func() {
		stop := exec.Command("runuser", "-u", "postgres", "--", pgctl, "-D", dest, "-m", "fast", "-w", "stop")
		stop.Dir = "/"
		stop.Run()
		os.RemoveAll(dest)
		os.Remove(logPath)
	})
	out, err := psql(port, "SELECT note FROM sandbox_check WHERE id = 2")
	if err != nil {
		t.Fatalf("query on the restored cluster: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != marker {
		t.Fatalf("restored cluster answered %q, want the marker %q written before the backup", got, marker)
	}
	out, err = psql(port, "SHOW cluster_name")
	if err != nil {
		t.Fatalf("SHOW cluster_name on the restored cluster: %v\n%s", err, out)
	}
	if got := strings.TrimSpace(string(out)); got != want.marker {
		t.Fatalf("restored cluster has cluster_name %q, want %q of backup %s (%s): Barman restored another base backup", got, want.marker, want.id, want.request)
	}
}

func destination(t *testing.T, name string) string {
	dest := filepath.Join(sandbox["SANDBOX_RESTORE_DIR"], fmt.Sprintf("%s-%s", name, randomHex()))
	t.Cleanup(func() { os.RemoveAll(dest) })
	return dest
}

// each runs f as a subtest for every Barman of the sandbox that matches.
func each(t *testing.T, match func(*barmanUT) bool, f func(*testing.T, *barmanUT)) {
	ran := 0
	for _, b := range barmans {
		if match(b) {
			ran++
			start := time.Now()
			t.Run(b.String(), func(t *testing.T) { f(t, b) })
			b.spent += time.Since(start)
		}
	}
	if ran == 0 {
		t.Fatal("no Barman of the sandbox fits this test")
	}
}

// eachAtOnce runs f for every Barman of the sandbox as subtests that run
// in parallel, for cases whose Barmans share nothing but the source
// PostgreSQL; the time counts from when each subtest starts running.
func eachAtOnce(t *testing.T, f func(*testing.T, *barmanUT)) {
	for _, b := range barmans {
		t.Run(b.String(), func(t *testing.T) {
			t.Parallel()
			start := time.Now()
			defer func() { b.spent += time.Since(start) }()
			f(t, b)
		})
	}
}

func all(*barmanUT) bool          { return true }
func withModels(b *barmanUT) bool { return b.models }

// resolvedBackupID is what the operation's job file recorded as the backup
// its backup_id named when it was accepted.
func resolvedBackupID(t *testing.T, b *barmanUT, id string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(b.home, sandbox["SANDBOX_SERVER"], "jobs", id+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var job struct {
		Ext struct {
			BackupID string `json:"resolved_backup_id"`
		} `json:"pg_backup_api"`
	}
	if err := json.Unmarshal(data, &job); err != nil {
		t.Fatalf("job file of %s: %v", id, err)
	}
	return job.Ext.BackupID
}

// checkRecoveryOutput asserts that the operation restored exactly the
// backup its resolved_backup_id names, and that this is b's older backup.
func checkRecoveryOutput(t *testing.T, b *barmanUT, id, output string) {
	t.Helper()
	resolved := resolvedBackupID(t, b, id)
	if resolved != b.older.id {
		t.Errorf("resolved_backup_id is %q, want %s (the backup requested as %s)", resolved, b.older.id, b.older.request)
	}
	if want := "using backup " + resolved + "\n"; resolved == "" || !strings.Contains(output, want) {
		t.Errorf("Barman's output lacks %q:\n%s", want, output)
	}
	if strings.Contains(output, b.newer.id) {
		t.Errorf("Barman's output names the newer backup %s:\n%s", b.newer.id, output)
	}
	if !strings.Contains(output, "successfully prepared for recovery") {
		t.Errorf("output lacks Barman's success line:\n%s", output)
	}
}

// Both recovery tests restore the older of two backups, named by its
// backup name: pg-backup-api resolves it, Barman restores it.
func TestRecoveryOverHTTP(t *testing.T) {
	each(t, all, func(t *testing.T, b *barmanUT) {
		server := sandbox["SANDBOX_SERVER"]
		dest := destination(t, "http")
		code, body := b.post(t, "/servers/"+server+"/operations", map[string]any{
			"type":                  "recovery",
			"backup_id":             b.older.request,
			"remote_ssh_command":    sandbox["SANDBOX_SSH_COMMAND"],
			"destination_directory": dest,
		})
		if code != 202 {
			t.Fatalf("POST recovery: %d %v", code, body)
		}
		id, _ := body["operation_id"].(string)
		op := b.waitEnd(t, "/servers/"+server+"/operations/"+id)
		if op["status"] != "DONE" {
			t.Fatalf("recovery ended %v, want DONE; output:\n%v", op["status"], op["output"])
		}
		checkRecoveryOutput(t, b, id, fmt.Sprint(op["output"]))
		checkRestored(t, dest, b.older)
	})
}

func TestRecoveryThroughCLIWait(t *testing.T) {
	each(t, all, func(t *testing.T, b *barmanUT) {
		dest := destination(t, "cli")
		stdout, stderr, code := b.cli(t, "create", "recovery",
			"--server", sandbox["SANDBOX_SERVER"], "--backup-id", b.older.request,
			"--remote-ssh-command", sandbox["SANDBOX_SSH_COMMAND"], "--destination-directory", dest, "--wait")
		if code != 0 {
			t.Fatalf("create recovery --wait: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
		}
		if !strings.Contains(stderr, "DONE") {
			t.Errorf("--wait did not report DONE: %s", stderr)
		}
		id := lastID(t, stdout)
		op := b.inspect(t, id)
		checkRecoveryOutput(t, b, id, fmt.Sprint(op["output"]))
		checkRestored(t, dest, b.older)
	})
}

func TestRecoveryWithRefusedSSHFails(t *testing.T) {
	each(t, all, func(t *testing.T, b *barmanUT) {
		server := sandbox["SANDBOX_SERVER"]
		port := freePort(t) // nothing listens there
		dest := destination(t, "refused")
		code, body := b.post(t, "/servers/"+server+"/operations", map[string]any{
			"type":                  "recovery",
			"backup_id":             "latest",
			"remote_ssh_command":    fmt.Sprintf("ssh -p %d -o BatchMode=yes -o ConnectTimeout=3 postgres@127.0.0.1", port),
			"destination_directory": dest,
		})
		if code != 202 {
			t.Fatalf("POST recovery: %d %v", code, body)
		}
		op := b.waitEnd(t, "/servers/"+server+"/operations/"+body["operation_id"].(string))
		if op["status"] != "FAILED" {
			t.Fatalf("recovery to a refusing host ended %v, want FAILED", op["status"])
		}
		if !strings.Contains(fmt.Sprint(op["output"]), "Unable to connect to the target host") {
			t.Errorf("output lacks Barman's error:\n%v", op["output"])
		}
		if op["exit_code"] == float64(0) {
			t.Errorf("exit_code is 0 for a FAILED recovery")
		}
	})
}

func jobCount(t *testing.T, dir string) int {
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	return len(entries)
}

// jobsDirs are where any operation for b would be recorded: its server's
// and the instance's (config_update).
func jobsDirs(b *barmanUT) []string {
	var dirs []string
	entries, _ := os.ReadDir(b.home)
	for _, e := range entries {
		if e.IsDir() {
			dirs = append(dirs, filepath.Join(b.home, e.Name(), "jobs"))
		}
	}
	return dirs
}

// noNewJobs fails when a refused request left a job file anywhere.
func noNewJobs(t *testing.T, b *barmanUT) func() {
	before := map[string]int{}
	for _, d := range jobsDirs(b) {
		before[d] = jobCount(t, d)
	}
	return func() {
		t.Helper()
		for _, d := range jobsDirs(b) {
			if after := jobCount(t, d); after != before[d] {
				t.Errorf("a refused request wrote a job file in %s (%d -> %d)", d, before[d], after)
			}
		}
	}
}

func TestUnknownBackupRefusedBeforeAnythingRuns(t *testing.T) {
	each(t, all, func(t *testing.T, b *barmanUT) {
		server := sandbox["SANDBOX_SERVER"]
		check := noNewJobs(t, b)
		code, body := b.post(t, "/servers/"+server+"/operations", map[string]any{
			"type":                  "recovery",
			"backup_id":             "20000101T000000",
			"remote_ssh_command":    sandbox["SANDBOX_SSH_COMMAND"],
			"destination_directory": "/tmp/never",
		})
		if code != 404 || !strings.Contains(fmt.Sprint(body["error"]), "20000101T000000") {
			t.Fatalf("unknown backup: got %d %v, want 404 naming the backup", code, body)
		}
		check()
	})
}

// Debian 12's Barman 3.4 has neither config-switch nor config-update; both
// are refused up front, naming the installed version and the one that added
// them.
func TestModelsRefusedOnOldBarman(t *testing.T) {
	each(t, func(b *barmanUT) bool { return !b.models }, func(t *testing.T, b *barmanUT) {
		server := sandbox["SANDBOX_SERVER"]
		check := noNewJobs(t, b)
		cases := []struct {
			path string
			body map[string]any
		}{
			{"/servers/" + server + "/operations", map[string]any{"type": "config_switch", "reset": true}},
			{"/operations", map[string]any{"type": "config_update", "changes": []any{map[string]any{"scope": "server", "server_name": server, "archiver": "on"}}}},
		}
		for _, c := range cases {
			code, body := b.post(t, c.path, c.body)
			msg := fmt.Sprint(body["error"])
			if code != 400 || !strings.Contains(msg, b.version) || !strings.Contains(msg, "3.10.0") {
				t.Errorf("%v: got %d %q, want 400 naming %s and 3.10.0", c.body["type"], code, msg, b.version)
			}
		}
		_, stderr, code := b.cli(t, "create", "config-switch", "--server", server, "--reset")
		if code != 2 || !strings.Contains(stderr, b.version) {
			t.Errorf("CLI config-switch on Barman %s: exit %d, stderr %q; want exit 2 naming the version", b.version, code, stderr)
		}
		check()
	})
}

// showServer is `barman show-server` of the sandbox's server as key: value.
func showServer(t *testing.T, b *barmanUT) map[string]string {
	t.Helper()
	out, err := barmanOutput(b, "show-server", sandbox["SANDBOX_SERVER"])
	if err != nil {
		t.Fatalf("%s show-server: %v\n%s", b, err, out)
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ": "); ok {
			m[k] = strings.TrimSpace(v)
		}
	}
	return m
}

// activeModel is what Barman's .active-model.auto says ("" when absent).
func activeModel(t *testing.T, b *barmanUT) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(b.home, sandbox["SANDBOX_SERVER"], ".active-model.auto"))
	if errors.Is(err, os.ErrNotExist) {
		return ""
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// resetModel leaves the server as the sandbox configured it, whatever a
// test did.
func resetModel(t *testing.T, b *barmanUT) {
	t.Cleanup(func() {
		if out, err := barmanOutput(b, "config-switch", sandbox["SANDBOX_SERVER"], "--reset"); err != nil {
			t.Errorf("%s config-switch --reset: %v\n%s", b, err, out)
		}
	})
}

// wantModel checks Barman's own view after a config_switch: the model file
// it writes and show-server's values.
func wantModel(t *testing.T, b *barmanUT, model string, values map[string]string) {
	t.Helper()
	if got := activeModel(t, b); got != model {
		t.Errorf(".active-model.auto says %q, want %q", got, model)
	}
	show := showServer(t, b)
	wantActive := model
	if model == "" {
		wantActive = "None"
	}
	if show["active_model"] != wantActive {
		t.Errorf("show-server says active_model %q, want %q", show["active_model"], wantActive)
	}
	for k, v := range values {
		if show[k] != v {
			t.Errorf("show-server says %s %q, want %q", k, show[k], v)
		}
	}
}

func TestConfigSwitchOverHTTP(t *testing.T) {
	each(t, withModels, func(t *testing.T, b *barmanUT) {
		resetModel(t, b)
		server := sandbox["SANDBOX_SERVER"]
		ops := "/servers/" + server + "/operations"
		switchTo := func(body map[string]any) {
			t.Helper()
			code, resp := b.post(t, ops, body)
			if code != 202 {
				t.Fatalf("POST %v: %d %v", body, code, resp)
			}
			op := b.waitEnd(t, ops+"/"+resp["operation_id"].(string))
			if op["status"] != "DONE" {
				t.Fatalf("%v ended %v, want DONE; output:\n%v", body, op["status"], op["output"])
			}
		}
		switchTo(map[string]any{"type": "config_switch", "model_name": server + "-immediate"})
		wantModel(t, b, server+"-immediate", map[string]string{"immediate_checkpoint": "True", "retention_policy": "RECOVERY WINDOW OF 9 DAYS"})
		switchTo(map[string]any{"type": "config_switch", "reset": true})
		wantModel(t, b, "", map[string]string{"immediate_checkpoint": "False", "retention_policy": "None"})
	})
}

func TestConfigSwitchThroughCLIWait(t *testing.T) {
	each(t, withModels, func(t *testing.T, b *barmanUT) {
		resetModel(t, b)
		server := sandbox["SANDBOX_SERVER"]
		for _, c := range []struct {
			args   []string
			model  string
			values map[string]string
		}{
			{[]string{"--model-name", server + "-patient"}, server + "-patient", map[string]string{"basebackup_retry_times": "3", "basebackup_retry_sleep": "7"}},
			{[]string{"--reset"}, "", map[string]string{"basebackup_retry_times": "0", "basebackup_retry_sleep": "30"}},
		} {
			stdout, stderr, code := b.cli(t, append([]string{"create", "config-switch", "--server", server, "--wait"}, c.args...)...)
			if code != 0 || !strings.Contains(stderr, "DONE") {
				t.Fatalf("create config-switch %v --wait: exit %d\nstdout: %s\nstderr: %s", c.args, code, stdout, stderr)
			}
			wantModel(t, b, c.model, c.values)
		}
	})
}

// A model config_update creates is one config_switch can use at once: serve
// reads Barman's configuration (with .barman.auto.conf) anew, no restart.
func TestConfigUpdateThenSwitchOverHTTP(t *testing.T) {
	each(t, withModels, func(t *testing.T, b *barmanUT) {
		resetModel(t, b)
		server := sandbox["SANDBOX_SERVER"]
		model := "e2e-http-" + randomHex()
		code, resp := b.post(t, "/operations", map[string]any{
			"type": "config_update",
			"changes": []any{map[string]any{
				"scope": "model", "model_name": model, "cluster": server, "basebackup_retry_times": "5",
			}},
		})
		if code != 202 {
			t.Fatalf("POST config_update: %d %v", code, resp)
		}
		op := b.waitEnd(t, "/operations/"+resp["operation_id"].(string))
		if op["status"] != "DONE" {
			t.Fatalf("config_update ended %v, want DONE; output:\n%v", op["status"], op["output"])
		}
		ops := "/servers/" + server + "/operations"
		code, resp = b.post(t, ops, map[string]any{"type": "config_switch", "model_name": model})
		if code != 202 {
			t.Fatalf("config_switch to the model config_update created, same serve: %d %v", code, resp)
		}
		op = b.waitEnd(t, ops+"/"+resp["operation_id"].(string))
		if op["status"] != "DONE" {
			t.Fatalf("config_switch ended %v, want DONE; output:\n%v", op["status"], op["output"])
		}
		wantModel(t, b, model, map[string]string{"basebackup_retry_times": "5"})
	})
}

func TestConfigUpdateThenSwitchThroughCLIWait(t *testing.T) {
	each(t, withModels, func(t *testing.T, b *barmanUT) {
		resetModel(t, b)
		server := sandbox["SANDBOX_SERVER"]
		model := "e2e-cli-" + randomHex()
		changes := fmt.Sprintf(`[{"scope": "model", "model_name": %q, "cluster": %q, "immediate_checkpoint": "true"}]`, model, server)
		stdout, stderr, code := b.cli(t, "create", "config-update", "--changes", changes, "--wait")
		if code != 0 || !strings.Contains(stderr, "DONE") {
			t.Fatalf("create config-update --wait: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
		}
		stdout, stderr, code = b.cli(t, "create", "config-switch", "--server", server, "--model-name", model, "--wait")
		if code != 0 || !strings.Contains(stderr, "DONE") {
			t.Fatalf("create config-switch --model-name %s --wait: exit %d\nstdout: %s\nstderr: %s", model, code, stdout, stderr)
		}
		wantModel(t, b, model, map[string]string{"immediate_checkpoint": "True"})
	})
}

// A model of another cluster, or none at all, is refused before any job
// file is written or Barman runs.
func TestModelRefusals(t *testing.T) {
	each(t, withModels, func(t *testing.T, b *barmanUT) {
		server := sandbox["SANDBOX_SERVER"]
		before := activeModel(t, b)
		check := noNewJobs(t, b)
		for _, c := range []struct {
			model string
			code  int
			exit  int
		}{
			{"other-immediate", 400, 2},
			{"no-such-model-" + randomHex(), 404, 3},
		} {
			code, body := b.post(t, "/servers/"+server+"/operations", map[string]any{"type": "config_switch", "model_name": c.model})
			if code != c.code || !strings.Contains(fmt.Sprint(body["error"]), c.model) {
				t.Errorf("config_switch to %s: got %d %v, want %d naming the model", c.model, code, body, c.code)
			}
			_, stderr, exit := b.cli(t, "create", "config-switch", "--server", server, "--model-name", c.model, "--wait")
			if exit != c.exit || !strings.Contains(stderr, c.model) {
				t.Errorf("CLI config-switch to %s: exit %d, stderr %q; want exit %d naming the model", c.model, exit, stderr, c.exit)
			}
		}
		check()
		if after := activeModel(t, b); after != before {
			t.Errorf("a refused config_switch changed the active model: %q -> %q", before, after)
		}
	})
}

// /diagnose is the diagnose of the Barman serve was told to run.
func TestDiagnoseIsBarmans(t *testing.T) {
	each(t, all, func(t *testing.T, b *barmanUT) {
		code, body := b.get(t, "/diagnose")
		if code != 200 {
			t.Fatalf("GET /diagnose: %d %v", code, body)
		}
		global, _ := body["global"].(map[string]any)
		servers, _ := body["servers"].(map[string]any)
		if global == nil || servers == nil {
			t.Fatalf("diagnose lacks global/servers: %v", body)
		}
		if _, ok := servers[sandbox["SANDBOX_SERVER"]]; !ok {
			t.Fatalf("diagnose does not list server %s: servers %v", sandbox["SANDBOX_SERVER"], keys(servers))
		}
		info, _ := global["system_info"].(map[string]any)
		if got := fmt.Sprint(info["barman_ver"]); got != b.version {
			t.Errorf("diagnose's system_info.barman_ver is %q, want %s", got, b.version)
		}
		conf, _ := global["config"].(map[string]any)
		if got := fmt.Sprint(conf["barman_home"]); got != b.home {
			t.Errorf("diagnose's barman_home is %q, want %s", got, b.home)
		}
	})
}

func keys(m map[string]any) []string {
	var k []string
	for s := range m {
		k = append(k, s)
	}
	return k
}
