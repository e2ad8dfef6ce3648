//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// The proofs of issue 22's restore options on real Barman: a tablespace
// moved to a new location with network compression on, then a delta
// restore over that restore (Barman 3.16 and later; older ones refuse it,
// naming the release).

// tablespaceName is the tablespace the test creates, backs up and drops.
const tablespaceName = "e2e_ts"

// withTablespace creates a tablespace with a table ts_check in it, holding
// row A of runID, and drops both at cleanup. Its location is one fixed
// directory of the sandbox that is never removed: the WAL that created and
// dropped it stays in every Barman's archive, and a later restore of an
// older backup on this host replays that WAL, which needs the directory
// (PostgreSQL refuses to create a tablespace in a missing one, even in
// recovery).
func withTablespace(t *testing.T, runID string) {
	t.Helper()
	loc := filepath.Join(sandbox["SANDBOX_DIR"], "e2e-tablespace")
	// A run that died before its cleanup left the tablespace: drop it, and
	// anything a replay left in its directory, which PostgreSQL wants empty.
	pgSQL(t, "DROP TABLE IF EXISTS ts_check")
	pgSQL(t, "DROP TABLESPACE IF EXISTS "+tablespaceName)
	os.RemoveAll(loc)
	if err := os.MkdirAll(loc, 0o700); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("chown", "postgres:postgres", loc).CombinedOutput(); err != nil {
		t.Fatalf("chown %s: %v\n%s", loc, err, out)
	}
	pgSQL(t, fmt.Sprintf("CREATE TABLESPACE %s LOCATION '%s'", tablespaceName, loc))
	t.Cleanup(func() {
		psql(sandbox["SANDBOX_PG_PORT"], "DROP TABLE IF EXISTS ts_check")
		psql(sandbox["SANDBOX_PG_PORT"], "DROP TABLESPACE IF EXISTS "+tablespaceName)
	})
	pgSQL(t, "CREATE TABLE ts_check (run text NOT NULL, tag text NOT NULL) TABLESPACE "+tablespaceName)
	pgSQL(t, fmt.Sprintf("INSERT INTO ts_check (run, tag) VALUES ('%s', 'A')", runID))
}

// freshBackups has every Barman take a backup now, at once, and deletes
// them at cleanup: they hold the test's tablespace, which a later test
// restoring the latest backup would not move.
func freshBackups(t *testing.T, runID string) map[*barmanUT]backupRef {
	t.Helper()
	refs := map[*barmanUT]backupRef{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	errs := make([]error, len(barmans))
	for i, b := range barmans {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ref, err := takeBackup(b, "e2e-"+runID)
			mu.Lock()
			defer mu.Unlock()
			errs[i] = err
			if err == nil {
				refs[b] = ref
			}
		}()
	}
	wg.Wait()
	t.Cleanup(func() {
		for b, ref := range refs {
			if out, err := barmanOutput(b, "delete", sandbox["SANDBOX_SERVER"], ref.id); err != nil {
				t.Errorf("%s delete %s: %v\n%s", b, ref.id, err, out)
			}
		}
	})
	for _, err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	return refs
}

// recover posts a recovery of payload (type, ssh command and destination
// added) and waits for it to end DONE; it returns the operation's ID and
// Barman's output.
func (b *barmanUT) recover(t *testing.T, dest string, payload map[string]any) (string, string) {
	t.Helper()
	server := sandbox["SANDBOX_SERVER"]
	body := map[string]any{"type": "recovery", "remote_ssh_command": sandbox["SANDBOX_SSH_COMMAND"], "destination_directory": dest}
	for k, v := range payload {
		body[k] = v
	}
	code, resp := b.post(t, "/servers/"+server+"/operations", body)
	if code != 202 {
		t.Fatalf("POST recovery %v: %d %v", payload, code, resp)
	}
	id, _ := resp["operation_id"].(string)
	op := b.waitEnd(t, "/servers/"+server+"/operations/"+id)
	if op["status"] != "DONE" {
		t.Fatalf("recovery %v ended %v; output:\n%v", payload, op["status"], op["output"])
	}
	return id, fmt.Sprint(op["output"])
}

// checkTablespaceMoved asserts that the cluster restored in dest has the
// test's tablespace at loc: its pg_tblspc link points there, PostgreSQL
// reports that location, and the directory holds the table's files.
func checkTablespaceMoved(t *testing.T, query func(string) string, dest, loc string) {
	t.Helper()
	oid := query(fmt.Sprintf("SELECT oid FROM pg_tablespace WHERE spcname = '%s'", tablespaceName))
	link, err := os.Readlink(filepath.Join(dest, "pg_tblspc", oid))
	if err != nil || link != loc {
		t.Errorf("pg_tblspc/%s of the restored cluster links to %q (%v), want the new location %s", oid, link, err, loc)
	}
	if got := query(fmt.Sprintf("SELECT pg_tablespace_location(%s)", oid)); got != loc {
		t.Errorf("the restored cluster has tablespace %s at %q, want %s", tablespaceName, got, loc)
	}
	if got := query("SELECT t.spcname FROM pg_class c JOIN pg_tablespace t ON t.oid = c.reltablespace WHERE c.relname = 'ts_check'"); got != tablespaceName {
		t.Errorf("ts_check is in tablespace %q of the restored cluster, want %s", got, tablespaceName)
	}
	if versions, _ := filepath.Glob(filepath.Join(loc, "PG_*")); len(versions) != 1 {
		t.Errorf("the new location %s holds %v, want one PG_* directory of the restored tablespace", loc, versions)
	}
}

// TestRestoreTablespaceAndDelta: a backup of a cluster with a tablespace,
// row A before it, row B after LSN L. Each Barman restores it to L with the
// tablespace moved and network compression on, the backup chosen by
// "backup_id" "auto": the restored cluster's tablespace is at the new
// location and answers A. Then, where Barman has delta restore (3.16), a
// delta restore of the same backup into the same directory, to the end of
// the WAL: Barman says it reuses the restore it finds there, and the
// cluster answers A and B; an older Barman refuses delta_restore before
// anything is written. The Barmans restore at once, each its own backup
// into its own directory.
func TestRestoreTablespaceAndDelta(t *testing.T) {
	runID := "restore-" + randomHex()
	withTablespace(t, runID)
	before := pgSQL(t, "SELECT pg_current_wal_lsn()")
	start := time.Now()
	fresh := freshBackups(t, runID)
	t.Logf("fresh backups taken in %s", time.Since(start).Round(time.Millisecond))
	lsn := pgSQL(t, "SELECT pg_current_wal_lsn()")
	at := pgSQL(t, `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`)
	time.Sleep(20 * time.Millisecond) // B commits strictly after at
	pgSQL(t, fmt.Sprintf("INSERT INTO ts_check (run, tag) VALUES ('%s', 'B')", runID))
	start = time.Now()
	// The segment that holds B closed, and archived by every Barman before
	// any restore: `barman switch-wal --archive` returns once it archived
	// any segment, which may be an older one still waiting in its
	// streaming directory, leaving B (and target_time) past the window.
	if err := switchWAL(func(b *barmanUT) string { return fresh[b].id }); err != nil {
		t.Fatal(err)
	}
	t.Logf("WAL archived in %s", time.Since(start).Round(time.Millisecond))
	server := sandbox["SANDBOX_SERVER"]

	eachAtOnce(t, func(t *testing.T, b *barmanUT) {
		backup := fresh[b]
		checkAuto(t, b, backup, before, lsn, at)

		dest := destination(t, "tablespace")
		loc := dest + "-" + tablespaceName
		t.Cleanup(func() { os.RemoveAll(loc) })
		moved := map[string]any{tablespaceName: loc}

		// Paused at L (no target_action): a promotion would leave a
		// new timeline's history in pg_wal, which Barman's copy
		// protects and the next replay would follow.
		id, output := b.recover(t, dest, map[string]any{
			"backup_id": "auto", "target_lsn": lsn,
			"tablespaces": moved, "network_compression": true,
		})
		if got := resolvedBackupID(t, b, id); got != backup.id {
			t.Errorf("resolved_backup_id %q, want %s, the newest backup that ended before %s", got, backup.id, lsn)
		}
		if !strings.Contains(output, "using backup "+backup.id+"\n") || !strings.Contains(output, tablespaceName+", "+loc) {
			t.Errorf("Barman's output lacks backup %s or tablespace %s restored to %s:\n%s", backup.id, tablespaceName, loc, output)
		}
		query, stop := startRestored(t, dest)
		checkTablespaceMoved(t, query, dest, loc)
		if got := rowTags(query, "ts_check", runID); got != "A" {
			t.Errorf("the cluster restored to %s has rows %q in the moved tablespace, want A only", lsn, got)
		}
		stop()

		delta := map[string]any{"backup_id": backup.request, "tablespaces": moved, "delta_restore": true}
		if !b.atLeast(3, 16) {
			defer noNewJobs(t, b)()
			body := map[string]any{"type": "recovery", "remote_ssh_command": sandbox["SANDBOX_SSH_COMMAND"], "destination_directory": dest}
			for k, v := range delta {
				body[k] = v
			}
			code, resp := b.post(t, "/servers/"+server+"/operations", body)
			msg := fmt.Sprint(resp["error"])
			if code != 400 || !strings.Contains(msg, b.version) || !strings.Contains(msg, "3.16") || !strings.Contains(msg, "delta_restore") {
				t.Errorf("delta_restore on Barman %s: %d %q, want 400 naming delta_restore, %s and 3.16", b.version, code, msg, b.version)
			}
			return
		}
		// Barman finds the restore it made there (.barman-recover.info)
		// and copies only what changed since the earlier of the two
		// backups began; into an empty directory it says nothing so.
		const reuse = "Using safe horizon time for smart rsync copy: "
		if strings.Contains(output, reuse) {
			t.Errorf("the restore into an empty directory says %q:\n%s", reuse, output)
		}
		_, output = b.recover(t, dest, delta)
		if !strings.Contains(output, reuse) {
			t.Errorf("the delta restore's output lacks Barman's %q:\n%s", reuse, output)
		}
		query, _ = startRestored(t, dest)
		checkTablespaceMoved(t, query, dest, loc)
		if got := rowTags(query, "ts_check", runID); got != "A,B" {
			t.Errorf("the cluster delta-restored to the end of the WAL has rows %q, want A,B", got)
		}
	})
}

// checkAuto: "backup_id" "auto" chooses, for every target Barman chooses
// from, the backup Barman's own choice is (Barman 3.13.1 and later; asked
// through barmanChoice), and the newest backup (fresh) where that is the
// answer; a target Barman does not choose from is refused by both. A dry
// run shows the choice without running anything.
func checkAuto(t *testing.T, b *barmanUT, fresh backupRef, before, lsn, at string) {
	t.Helper()
	server := sandbox["SANDBOX_SERVER"]
	cases := []struct {
		name  string
		keys  map[string]any
		fresh bool // the fresh backup is the answer
	}{
		{"target_lsn", map[string]any{"target_lsn": lsn}, true},
		{"target_lsn before the fresh backup", map[string]any{"target_lsn": before}, false},
		{"target_time", map[string]any{"target_time": at}, true},
		{"no target", map[string]any{}, true},
		{"target_tli 1", map[string]any{"target_tli": 1}, true},
		{"target_tli latest, target_lsn", map[string]any{"target_tli": "latest", "target_lsn": lsn}, true},
	}
	barmanHasAuto := b.atLeast(3, 14) || strings.HasPrefix(b.version, "3.13.") && b.version != "3.13.0"
	for _, c := range cases {
		body := map[string]any{"type": "recovery", "backup_id": "auto", "remote_ssh_command": sandbox["SANDBOX_SSH_COMMAND"], "destination_directory": "/nowhere"}
		for k, v := range c.keys {
			body[k] = v
		}
		code, resp := b.post(t, "/servers/"+server+"/operations?dry_run=true", body)
		op, _ := resp["operation"].(map[string]any)
		ours, _ := op["resolved_backup_id"].(string)
		if code != 200 || ours == "" {
			t.Errorf("auto, %s: dry run %d %v", c.name, code, resp)
			continue
		}
		if c.fresh != (ours == fresh.id) {
			t.Errorf("auto, %s: chose %s; the fresh backup is %s (want it: %v)", c.name, ours, fresh.id, c.fresh)
		}
		if barmanHasAuto {
			if theirs := barmanChoice(t, b, c.keys); theirs != "BARMAN-CHOSE "+ours {
				t.Errorf("auto, %s: pg-backup-api chose %s, Barman %s says %q", c.name, ours, b.version, theirs)
			}
		}
	}
	for _, key := range []string{"target_xid", "target_name", "target_immediate"} {
		value := map[string]any{"target_xid": "3", "target_name": "e2e", "target_immediate": true}[key]
		code, resp := b.post(t, "/servers/"+server+"/operations?dry_run=true", map[string]any{
			"type": "recovery", "backup_id": "auto", key: value,
			"remote_ssh_command": sandbox["SANDBOX_SSH_COMMAND"], "destination_directory": "/nowhere"})
		if msg := fmt.Sprint(resp["error"]); code != 400 || !strings.Contains(msg, fmt.Sprintf("cannot choose one for %q", key)) {
			t.Errorf("auto with %s: %d %q, want 400 saying auto cannot choose for it", key, code, msg)
		}
		if barmanHasAuto {
			if theirs := barmanChoice(t, b, map[string]any{key: value}); !strings.Contains(theirs, "is not allowed without a backup_id") {
				t.Errorf("Barman %s with auto and %s says %q, want its refusal", b.version, key, theirs)
			}
		}
	}
}

// barmanChooses runs Barman's own `recover SERVER auto` up to the point
// where it has chosen the backup and would start the restore, and prints
// that backup.
const barmanChooses = `import os, sys
import barman.cli, barman.server
def chosen(self, backup_info, *args, **kwargs):
    print("BARMAN-CHOSE " + backup_info.backup_id, flush=True)
    os._exit(0)
barman.server.Server.recover = chosen
sys.argv = ["barman"] + sys.argv[1:]
barman.cli.main()
`

// barmanChoice is what b's own `recover ... auto` chooses with keys (its
// targets): "BARMAN-CHOSE ID", or else what Barman printed. It runs
// Barman's Python as b's wrapper does (its PYTHONPATH), with Server.recover
// replaced by a print: nothing is restored.
func barmanChoice(t *testing.T, b *barmanUT, keys map[string]any) string {
	t.Helper()
	wrapper, err := os.ReadFile(strings.Fields(b.command)[0])
	if err != nil {
		t.Fatal(err)
	}
	var pythonPath, python string
	for _, line := range strings.Split(string(wrapper), "\n") {
		if v, ok := strings.CutPrefix(line, "PYTHONPATH="); ok {
			pythonPath = v
		}
		if v, ok := strings.CutPrefix(line, "exec "); ok {
			python = strings.Fields(v + " ?")[0]
		}
	}
	if pythonPath == "" || python == "" {
		t.Fatalf("%s sets no PYTHONPATH or execs no python", b.command)
	}
	args := []string{"-c", barmanChooses, "-c", b.conf, "recover", sandbox["SANDBOX_SERVER"], "auto", "/nowhere"}
	for k, v := range keys {
		flag := "--" + strings.ReplaceAll(k, "_", "-")
		if v == true {
			args = append(args, flag)
		} else {
			args = append(args, flag, fmt.Sprint(v))
		}
	}
	cmd := exec.Command(python, args...)
	cmd.Env = append(os.Environ(), "PYTHONPATH="+pythonPath)
	cmd.Dir = "/"
	out, _ := cmd.CombinedOutput()
	return strings.TrimSpace(string(out))
}

// atLeast says whether b is Barman major.minor or later.
func (b *barmanUT) atLeast(major, minor int) bool {
	var ma, mi int
	fmt.Sscanf(b.version, "%d.%d", &ma, &mi)
	return ma > major || ma == major && mi >= minor
}
