//go:build e2e

package e2e

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestDrill proves restore drills on every Barman of the sandbox: a drill
// of the newest backup ends DONE with the marker row written before it; a
// drill cancelled while Barman restores ends FAILED (cancelled); a drill of
// a backup whose pg_control is gone ends FAILED with PostgreSQL's reason;
// and each leaves nothing behind: no directory, no PostgreSQL, no Barman.
//
// The Barmans have homes, stores and drill directories of their own and
// share only the source PostgreSQL, which a drill never touches, so their
// cases run at once; within one Barman they run in turn (a server's drills
// share a lane).
func TestDrill(t *testing.T) {
	eachAtOnce(t, func(t *testing.T, b *barmanUT) {
		d := newDrillEnv(t, b, "d")
		t.Run("newest", func(t *testing.T) { drillNewest(t, d) })
		// Before the damaged copy exists: it would be the newest backup.
		t.Run("cancelled during restore", func(t *testing.T) { drillCancelled(t, d) })
		t.Run("damaged backup", func(t *testing.T) { drillDamaged(t, d) })
	})
}

// TestDrillTarget proves a drill to a point in time (issue 27) on every
// Barman of the sandbox: with a target_time between two inserts, the
// drill's backup is chosen from the target, Barman is given the target and
// --target-action=promote (PostgreSQL 15 would pause there otherwise and
// the drill time out), and the drill's query counts the rows written by
// then: the first insert and not the second.
func TestDrillTarget(t *testing.T) {
	runID := "drill-pitr-" + randomHex()
	insertRow(t, runID, "A")
	target := pgSQL(t, `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`)
	time.Sleep(20 * time.Millisecond) // B commits strictly after the target time
	insertRow(t, runID, "B")
	for _, b := range barmans {
		archiveWAL(t, b)
	}
	server := sandbox["SANDBOX_SERVER"]
	eachAtOnce(t, func(t *testing.T, b *barmanUT) {
		d := newDrillEnv(t, b, "t")
		count := fmt.Sprintf("select count(*) from pitr_check where run = '%s'", runID)
		stdout, stderr, code := d.cli(t, "create", "drill", "--server", server, "--target-time", target,
			"--sql", count+" => 1", "--sql", fmt.Sprintf("select string_agg(tag, ',') from pitr_check where run = '%s' => A", runID),
			"--timeout", "5m", "--wait")
		id := lastID(t, stdout)
		op := b.inspect(t, id)
		if code != 0 || op["status"] != "DONE" {
			t.Fatalf("create drill --target-time %s --wait: exit %d, status %v\nstderr: %s\nreason: %v\noutput:\n%v", target, code, op["status"], stderr, op["reason"], op["output"])
		}
		if got := resolvedBackupID(t, b, id); got == "" || got < b.newer.id {
			t.Errorf("resolved_backup_id %q: want the newest backup that ended before %s, at least %s", got, target, b.newer.id)
		}
		d.checkNothingLeft(t, id)
	})
}

// drillEnv is one Barman's drills directory and the configuration file
// that names it.
type drillEnv struct {
	b      *barmanUT
	root   string // [drills] directory
	config string
}

// newDrillEnv makes b's drills directory, named prefix (one letter per
// test, so that tests of one run have their own) and this run, owned by
// Barman's user.
func newDrillEnv(t *testing.T, b *barmanUT, prefix string) *drillEnv {
	// Short: the drill's socket, root/server/ID/.s.PGSQL.5432, must fit
	// the kernel's 107 bytes.
	root := filepath.Join(sandbox["SANDBOX_DIR"], prefix+"-"+run[:8]+"-"+b.key)
	if err := os.Mkdir(root, 0o700); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	// Barman restores, and the drill's PostgreSQL runs, as Barman's user.
	u, err := user.Lookup("barman")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(root, uid, gid); err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(t.TempDir(), "pg-backup-api.toml")
	if err := os.WriteFile(config, []byte(fmt.Sprintf("[drills]\ndirectory = %q\n", root)), 0o600); err != nil {
		t.Fatal(err)
	}
	return &drillEnv{b: b, root: root, config: config}
}

func (d *drillEnv) cli(t *testing.T, args ...string) (string, string, int) {
	t.Helper()
	return d.b.cli(t, append([]string{"--config", d.config}, args...)...)
}

// checkNothingLeft fails when drill id left its directory, or any process
// of its own (Barman, rsync, PostgreSQL, psql: each carries the
// operation's marker in its environment or the directory in its command
// line). Killed processes may take a moment to go.
func (d *drillEnv) checkNothingLeft(t *testing.T, id string) {
	t.Helper()
	server := sandbox["SANDBOX_SERVER"]
	dir := filepath.Join(d.root, server, id)
	if entries, err := os.ReadDir(filepath.Join(d.root, server)); err != nil || len(entries) != 0 {
		t.Errorf("the drill left %v in %s (%v)", entries, filepath.Join(d.root, server), err)
	}
	var left []string
	for deadline := time.Now().Add(20 * time.Second); ; {
		left = drillProcesses(d.b, id, dir)
		if len(left) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if len(left) != 0 {
		t.Errorf("the drill left processes running:\n%s", strings.Join(left, "\n"))
	}
}

// drillProcesses lists the live processes of drill id: those whose
// environment carries its marker (MarkerEnv, set by the runner on Barman,
// PostgreSQL and psql, inherited by their children) or whose command line
// names its directory.
func drillProcesses(b *barmanUT, id, dir string) []string {
	procs, _ := filepath.Glob("/proc/[0-9]*")
	var found []string
	for _, p := range procs {
		cmdline, err := os.ReadFile(filepath.Join(p, "cmdline"))
		if err != nil || len(cmdline) == 0 { // gone, or a zombie
			continue
		}
		env, _ := os.ReadFile(filepath.Join(p, "environ"))
		if bytes.Contains(cmdline, []byte(dir)) || hasDrillMarker(env, b, id) {
			found = append(found, fmt.Sprintf("pid %s: %s", filepath.Base(p), bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '})))
		}
	}
	return found
}

// hasDrillMarker: the runner's marker is the operation's path in its
// Barman's store, which ends in the operation's ID.
func hasDrillMarker(env []byte, b *barmanUT, id string) bool {
	for _, kv := range bytes.Split(env, []byte{0}) {
		v, ok := bytes.CutPrefix(kv, []byte("PG_BACKUP_API_OPERATION="))
		if ok && bytes.HasPrefix(v, []byte(b.home+"/")) && bytes.HasSuffix(v, []byte("/"+id)) {
			return true
		}
	}
	return false
}

// drillNewest: a drill of the newest backup restores it on this host,
// starts PostgreSQL on it, finds the marker row written before the backup
// and ends DONE.
func drillNewest(t *testing.T, d *drillEnv) {
	b := d.b
	stdout, stderr, code := d.cli(t, "create", "drill", "--server", sandbox["SANDBOX_SERVER"],
		"--sql", "select note from sandbox_check where id = 2 => "+marker, "--sql", "select count(*) > 0 from sandbox_check => t",
		"--timeout", "5m", "--wait")
	id := lastID(t, stdout)
	op := b.inspect(t, id)
	if code != 0 || op["status"] != "DONE" {
		t.Fatalf("create drill --wait: exit %d, status %v\nstderr: %s\nreason: %v\noutput:\n%v", code, op["status"], stderr, op["reason"], op["output"])
	}
	out := fmt.Sprint(op["output"])
	for _, want := range []string{"step restore: ok in", "step consistency: ok in", "query 1: ok in", fmt.Sprintf("first value %q", marker), "step queries: ok in", "stopped PostgreSQL", "removed "} {
		if !strings.Contains(out, want) {
			t.Errorf("the drill's output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(out, "restoring backup "+b.newer.id+" ") {
		t.Errorf("the drill did not restore the newest backup %s:\n%s", b.newer.id, out)
	}
	d.checkNothingLeft(t, id)
}

// drillCancelled: a drill cancelled while Barman restores ends FAILED
// (cancelled) before any later step, and leaves nothing.
//
// A local restore of the sandbox's small backup takes a second or two, less
// than a cancel might take to land. So the test pauses the real Barman
// (SIGSTOP to its process group) as soon as it appears, requests the
// cancel, waits until the runner's SIGTERM is pending on Barman, and only
// then lets it go on: the cancel lands during the restore every time,
// without waiting out the runner's 10 s grace before SIGKILL.
func drillCancelled(t *testing.T, d *drillEnv) {
	b := d.b
	server := sandbox["SANDBOX_SERVER"]
	stdout, stderr, code := d.cli(t, "create", "drill", "--server", server, "--backup-id", b.newer.id,
		"--sql", "select 1", "--timeout", "5m")
	if code != 0 {
		t.Fatalf("create drill: exit %d\nstdout: %s\nstderr: %s", code, stdout, stderr)
	}
	id := lastID(t, stdout)
	t.Cleanup(func() { d.checkNothingLeft(t, id) })

	pid, pgid := waitBarmanRecover(t, b, id)
	// Paused once it has begun to copy: the data directory it restores
	// into exists.
	data := filepath.Join(d.root, server, id, "data")
	for {
		if _, err := os.Stat(data); err == nil {
			break
		}
		if !alive(pid) {
			t.Fatalf("Barman (pid %d) ended before %s appeared", pid, data)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := syscall.Kill(-pgid, syscall.SIGSTOP); err != nil {
		t.Fatalf("pausing Barman (pid %d): %v", pid, err)
	}
	// Whatever happens below, Barman must not stay stopped.
	defer syscall.Kill(-pgid, syscall.SIGCONT)
	if !alive(pid) {
		t.Fatalf("Barman (pid %d) ended before it could be paused: its restore was too quick for this test", pid)
	}
	stdout, stderr, code = d.cli(t, "cancel", id, "--server", server)
	if code != 0 || !strings.Contains(stdout, "cancel requested") {
		t.Fatalf("cancel %s: exit %d\nstdout: %s\nstderr: %s", id, code, stdout, stderr)
	}
	for deadline := time.Now().Add(30 * time.Second); !sigtermPending(pid); {
		if time.Now().After(deadline) {
			t.Fatalf("the runner has not signalled Barman (pid %d) 30s after the cancel", pid)
		}
		time.Sleep(20 * time.Millisecond)
	}
	syscall.Kill(-pgid, syscall.SIGCONT)

	op := b.waitEnd(t, "/servers/"+server+"/operations/"+id)
	out, reason := fmt.Sprint(op["output"]), fmt.Sprint(op["reason"])
	if op["status"] != "FAILED" || op["phase"] != "cancelled" {
		t.Errorf("the cancelled drill ended %v (phase %v), want FAILED (cancelled)\nreason: %s\noutput:\n%s", op["status"], op["phase"], reason, out)
	}
	if !strings.Contains(reason, "cancelled by") || !strings.Contains(reason, "while Barman ran") {
		t.Errorf("the reason does not say the drill was cancelled while Barman restored: %q", reason)
	}
	// Barman's own words: it had begun the restore the cancel stopped.
	if !strings.Contains(out, "Starting local restore for server "+server) {
		t.Errorf("Barman's output does not show the restore under way:\n%s", out)
	}
	for _, never := range []string{"step restore: ok", "started PostgreSQL"} {
		if strings.Contains(out, never) {
			t.Errorf("the drill went on past the restore (its output has %q):\n%s", never, out)
		}
	}
	if !strings.Contains(out, "removed "+filepath.Join(d.root, server, id)) {
		t.Errorf("the drill's output does not say it removed its directory:\n%s", out)
	}
}

// waitBarmanRecover finds drill id's `barman recover`, by the runner's
// marker in its environment, and returns its pid and process group.
func waitBarmanRecover(t *testing.T, b *barmanUT, id string) (int, int) {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		procs, _ := filepath.Glob("/proc/[0-9]*")
		for _, p := range procs {
			cmdline, err := os.ReadFile(filepath.Join(p, "cmdline"))
			if err != nil || !bytes.Contains(cmdline, []byte("\x00recover\x00")) {
				continue
			}
			env, _ := os.ReadFile(filepath.Join(p, "environ"))
			if !hasDrillMarker(env, b, id) {
				continue
			}
			pid, _ := strconv.Atoi(filepath.Base(p))
			pgid, err := syscall.Getpgid(pid)
			if err != nil {
				continue
			}
			return pid, pgid
		}
		op := b.inspect(t, id)
		if op["status"] != "IN_PROGRESS" {
			t.Fatalf("drill %s ended %v before its barman recover could be found; output:\n%v", id, op["status"], op["output"])
		}
	}
	t.Fatalf("no barman recover of drill %s ran within 60s", id)
	return 0, 0
}

// alive: pid is a process that has not exited (a zombie has).
func alive(pid int) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// "pid (comm) S ...": the state follows the last ')'.
	i := bytes.LastIndexByte(stat, ')')
	return i >= 0 && i+2 < len(stat) && stat[i+2] != 'Z' && stat[i+2] != 'X'
}

// sigtermPending: pid has SIGTERM pending (it is stopped, so it cannot
// have acted on it yet), per the kernel's SigPnd (thread) and ShdPnd
// (process) masks.
func sigtermPending(pid int) bool {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return true // gone: the runner's SIGKILL got it
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, _ := strings.Cut(sc.Text(), ":")
		if k != "SigPnd" && k != "ShdPnd" {
			continue
		}
		mask, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
		if err == nil && mask&(1<<(uint(syscall.SIGTERM)-1)) != 0 {
			return true
		}
	}
	return false
}

// drillDamaged: a drill of a backup PostgreSQL cannot start (its
// global/pg_control is gone) ends FAILED at the start step with
// PostgreSQL's own reason, and leaves nothing.
//
// The damaged backup is a copy of this run's newer backup under an ID of
// its own, in this Barman's catalog only for this test: the backups other
// tests use are never touched, and no new backup means no WAL written or
// archived under them. `barman delete` removes it again; being neither the
// only nor the oldest backup, its deletion removes no WAL.
func drillDamaged(t *testing.T, d *drillEnv) {
	b := d.b
	server := sandbox["SANDBOX_SERVER"]
	copyID := damagedCopy(t, b)
	stdout, stderr, code := d.cli(t, "create", "drill", "--server", server, "--backup-id", copyID,
		"--sql", "select 1", "--timeout", "5m", "--wait")
	id := lastID(t, stdout)
	op := b.inspect(t, id)
	out, reason := fmt.Sprint(op["output"]), fmt.Sprint(op["reason"])
	if code == 0 || op["status"] != "FAILED" {
		t.Fatalf("a drill of a backup without pg_control: exit %d, status %v, want FAILED\nstderr: %s\nreason: %s\noutput:\n%s", code, op["status"], stderr, reason, out)
	}
	if !strings.Contains(out, "restoring backup "+copyID+" ") || !strings.Contains(out, "step restore: ok in") {
		t.Errorf("the drill did not restore the damaged copy %s:\n%s", copyID, out)
	}
	// PostgreSQL's own words, from its log of this start.
	for _, want := range []string{"drill failed at step start", "PostgreSQL's log", "global/pg_control", "No such file or directory"} {
		if !strings.Contains(reason, want) {
			t.Errorf("the reason lacks %q: %s", want, reason)
		}
	}
	for _, never := range []string{"step consistency: ok", "step queries: ok"} {
		if strings.Contains(out, never) {
			t.Errorf("the drill of a damaged backup passed a step (%q):\n%s", never, out)
		}
	}
	d.checkNothingLeft(t, id)
}

// damagedCopy copies b's newer backup, as Barman keeps it (data directory
// and backup.info, which Barman 3.4 keeps in base/ID/ and 3.13 and later
// in meta/ID-backup.info), under the next second's ID, without its backup
// name (a name must name one backup), removes global/pg_control from the
// copy, and deletes the copy with `barman delete` when the test ends.
func damagedCopy(t *testing.T, b *barmanUT) string {
	t.Helper()
	server := sandbox["SANDBOX_SERVER"]
	when, err := time.Parse("20060102T150405", b.newer.id)
	if err != nil {
		t.Fatalf("backup ID %s: %v", b.newer.id, err)
	}
	copyID := when.Add(time.Second).Format("20060102T150405")
	base := filepath.Join(b.home, server, "base")
	infoOf := func(id string) string {
		if b.models { // 3.13 and later: the meta directory
			return filepath.Join(b.home, server, "meta", id+"-backup.info")
		}
		return filepath.Join(base, id, "backup.info")
	}
	if _, err := os.Stat(filepath.Join(base, copyID)); err == nil {
		t.Fatalf("%s already has a backup %s; the damaged copy needs that ID", b, copyID)
	}
	t.Cleanup(func() {
		if out, err := barmanOutput(b, "delete", server, copyID); err != nil {
			t.Errorf("%s delete %s %s: %v\n%s", b, server, copyID, err, out)
		}
		for _, p := range []string{filepath.Join(base, copyID), infoOf(copyID)} {
			if _, err := os.Stat(p); err == nil {
				t.Errorf("barman delete left %s", p)
				os.RemoveAll(p)
			}
		}
	})
	if out, err := exec.Command("cp", "-a", filepath.Join(base, b.newer.id), filepath.Join(base, copyID)).CombinedOutput(); err != nil {
		t.Fatalf("copying backup %s: %v\n%s", b.newer.id, err, out)
	}
	info, err := os.ReadFile(infoOf(b.newer.id))
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.SplitAfter(string(info), "\n") {
		if !strings.HasPrefix(line, "backup_name=") {
			kept = append(kept, line)
		}
	}
	// Written before the data is damaged: cp -a already wrote 3.4's copy.
	if err := os.WriteFile(infoOf(copyID), []byte(strings.Join(kept, "")), 0o644); err != nil {
		t.Fatal(err)
	}
	u, _ := user.Lookup("barman")
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	os.Chown(infoOf(copyID), uid, gid)
	if err := os.Remove(filepath.Join(base, copyID, "data", "global", "pg_control")); err != nil {
		t.Fatal(err)
	}
	// Barman itself must see the copy as a DONE backup.
	show, err := barmanOutput(b, "show-backup", server, copyID)
	if err != nil || !strings.Contains(string(show), "DONE") {
		t.Fatalf("%s show-backup %s %s does not show the copy as DONE: %v\n%s", b, server, copyID, err, show)
	}
	return copyID
}
