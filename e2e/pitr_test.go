//go:build e2e

package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// The proofs of issue 15 on real Barman and PostgreSQL: recovery targets
// (point in time by LSN and by time, over HTTP and through the CLI; an
// immediate target on the older of two backups) and on-demand backups that
// run beside a recovery.

// pgSQL runs one statement on the sandbox's PostgreSQL and returns its
// trimmed output.
func pgSQL(t *testing.T, query string) string {
	t.Helper()
	out, err := psql(sandbox["SANDBOX_PG_PORT"], query)
	if err != nil {
		t.Fatalf("psql %q: %v\n%s", query, err, out)
	}
	return strings.TrimSpace(string(out))
}

// insertRow writes a row tagged tag for this test run, in a transaction of
// its own.
func insertRow(t *testing.T, runID, tag string) {
	t.Helper()
	pgSQL(t, "CREATE TABLE IF NOT EXISTS pitr_check (run text NOT NULL, tag text NOT NULL)")
	pgSQL(t, fmt.Sprintf("INSERT INTO pitr_check (run, tag) VALUES ('%s', '%s')", runID, tag))
}

// archiveWAL closes the current WAL segment and waits until b has archived
// it, so a recovery can replay everything written so far.
func archiveWAL(t *testing.T, b *barmanUT) {
	t.Helper()
	out, err := barmanOutput(b, "switch-wal", "--force", "--archive", "--archive-timeout", "60", sandbox["SANDBOX_SERVER"])
	if err != nil || strings.Contains(string(out), "has not been received") {
		t.Fatalf("%s switch-wal --archive: %v\n%s", b, err, out)
	}
}

// restoredRows starts the cluster Barman restored into dest and returns the
// tags of runID's rows it has, sorted and comma-separated.
func restoredRows(t *testing.T, dest, runID string) string {
	t.Helper()
	query, _ := startRestored(t, dest)
	return rowTags(query, "pitr_check", runID)
}

// startRestored starts the cluster Barman restored into dest, waits until
// its replay stopped at its target (or it is promoted), and returns a
// query on it and a stop (also run at cleanup, with the removal of dest).
func startRestored(t *testing.T, dest string) (query func(string) string, stop func()) {
	t.Helper()
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
	stop = func() {
		cmd := exec.Command("runuser", "-u", "postgres", "--", pgctl, "-D", dest, "-m", "fast", "-w", "stop")
		cmd.Dir = "/"
		cmd.Run()
	}
	t.Cleanup(func() {
		stop()
		os.RemoveAll(dest)
		os.Remove(logPath)
	})
	query = func(q string) string {
		t.Helper()
		out, err := psql(port, q)
		if err != nil {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("query on the restored cluster: %v\n%s\n%s", err, out, log)
		}
		return strings.TrimSpace(string(out))
	}
	// pg_ctl returns once the cluster takes read-only connections, which a
	// hot standby does from its first consistent point, before it reaches
	// the target: wait until the replay stopped there (promoted, or paused,
	// the default action).
	deadline := time.Now().Add(2 * time.Minute)
	for query("SELECT NOT pg_is_in_recovery() OR pg_get_wal_replay_pause_state() = 'paused'") != "t" {
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(logPath)
			t.Fatalf("the restored cluster did not reach its recovery target within 2 minutes:\n%s", log)
		}
		time.Sleep(200 * time.Millisecond)
	}
	return query, stop
}

// rowTags are the tags of runID's rows in table, sorted and
// comma-separated; "" when a cluster restored to before the table was
// created has no such table.
func rowTags(query func(string) string, table, runID string) string {
	if query(fmt.Sprintf("SELECT to_regclass('public.%s') IS NOT NULL", table)) != "t" {
		return ""
	}
	return query(fmt.Sprintf("SELECT coalesce(string_agg(tag, ',' ORDER BY tag), '') FROM %s WHERE run = '%s'", table, runID))
}

// TestPITR: row A, then the time and the WAL location, then row B. A
// recovery to that LSN over HTTP and one to that time through the CLI (the
// backup chosen from the time) each give a cluster with A and not B, on
// each Barman.
func TestPITR(t *testing.T) {
	runID := "pitr-" + randomHex()
	insertRow(t, runID, "A")
	target := pgSQL(t, `SELECT to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')`)
	lsn := pgSQL(t, "SELECT pg_current_wal_lsn()")
	time.Sleep(20 * time.Millisecond) // B commits strictly after the target time
	insertRow(t, runID, "B")
	for _, b := range barmans {
		archiveWAL(t, b)
	}
	server := sandbox["SANDBOX_SERVER"]

	each(t, all, func(t *testing.T, b *barmanUT) {
		t.Run("target_lsn over HTTP", func(t *testing.T) {
			dest := destination(t, "pitr-lsn")
			code, body := b.post(t, "/servers/"+server+"/operations", map[string]any{
				"type":                  "recovery",
				"backup_id":             b.newer.request,
				"remote_ssh_command":    sandbox["SANDBOX_SSH_COMMAND"],
				"destination_directory": dest,
				"target_lsn":            lsn,
				"target_action":         "promote",
			})
			if code != 202 {
				t.Fatalf("POST recovery with target_lsn: %d %v", code, body)
			}
			id, _ := body["operation_id"].(string)
			op := b.waitEnd(t, "/servers/"+server+"/operations/"+id)
			if op["status"] != "DONE" {
				t.Fatalf("recovery to %s ended %v; output:\n%v", lsn, op["status"], op["output"])
			}
			if got := resolvedBackupID(t, b, id); got != b.newer.id {
				t.Errorf("resolved_backup_id %q, want %s", got, b.newer.id)
			}
			if got := restoredRows(t, dest, runID); got != "A" {
				t.Errorf("the cluster restored to LSN %s has rows %q, want A only (A written before, B after)", lsn, got)
			}
		})
		t.Run("target_time through the CLI", func(t *testing.T) {
			dest := destination(t, "pitr-time")
			stdout, stderr, code := b.cli(t, "create", "recovery", "--server", server,
				"--remote-ssh-command", sandbox["SANDBOX_SSH_COMMAND"], "--destination-directory", dest,
				"--target-time", target, "--wait")
			if code != 0 {
				t.Fatalf("create recovery --target-time %s --wait: exit %d\nstdout: %s\nstderr: %s", target, code, stdout, stderr)
			}
			id := lastID(t, stdout)
			resolved := resolvedBackupID(t, b, id)
			if resolved == "" || resolved < b.newer.id {
				t.Errorf("resolved_backup_id %q: want the newest backup that ended before %s, at least %s", resolved, target, b.newer.id)
			}
			if got := restoredRows(t, dest, runID); got != "A" {
				t.Errorf("the cluster restored to %s has rows %q, want A only", target, got)
			}
		})
	})

	// Refused targets write nothing and name the key (exit 2).
	each(t, all, func(t *testing.T, b *barmanUT) {
		defer noNewJobs(t, b)()
		for _, args := range [][]string{
			{"--target-lsn", lsn, "--target-time", target, "-b", "latest"},
			{"--target-time", "2099-01-01T00:00:00Z"},
			{"--target-action", "promote", "-b", "latest"},
		} {
			_, stderr, code := b.cli(t, append([]string{"create", "recovery", "--server", server,
				"--remote-ssh-command", sandbox["SANDBOX_SSH_COMMAND"], "--destination-directory", "/nowhere"}, args...)...)
			if code != 2 || !strings.Contains(stderr, `"target_`) {
				t.Errorf("create recovery %q: exit %d, %s; want 2 naming the key", args, code, stderr)
			}
		}
	})
}

// TestPITRTargetImmediate: a row written between two backups is absent
// from the older one restored with target_immediate: Barman restored the
// chosen backup and stopped replaying where it became consistent.
func TestPITRTargetImmediate(t *testing.T) {
	runID := "immediate-" + randomHex()
	insertRow(t, runID, "M")
	server := sandbox["SANDBOX_SERVER"]
	each(t, all, func(t *testing.T, b *barmanUT) {
		later, err := takeBackup(b, "e2e-"+runID)
		if err != nil {
			t.Fatal(err)
		}
		archiveWAL(t, b)
		dest := destination(t, "pitr-immediate")
		code, body := b.post(t, "/servers/"+server+"/operations", map[string]any{
			"type":                  "recovery",
			"backup_id":             b.newer.request,
			"remote_ssh_command":    sandbox["SANDBOX_SSH_COMMAND"],
			"destination_directory": dest,
			"target_immediate":      true,
		})
		if code != 202 {
			t.Fatalf("POST recovery with target_immediate: %d %v", code, body)
		}
		id, _ := body["operation_id"].(string)
		op := b.waitEnd(t, "/servers/"+server+"/operations/"+id)
		if op["status"] != "DONE" {
			t.Fatalf("recovery ended %v; output:\n%v", op["status"], op["output"])
		}
		if got := resolvedBackupID(t, b, id); got != b.newer.id || got == later.id {
			t.Errorf("resolved_backup_id %q, want the older backup %s (not %s)", got, b.newer.id, later.id)
		}
		if got := restoredRows(t, dest, runID); got != "" {
			t.Errorf("backup %s restored with target_immediate has rows %q written after it (before backup %s)", b.newer.id, got, later.id)
		}
	})
}

// slowBarman returns a copy of b whose configuration limits base backups to
// kbps KB/s (Barman's bandwidth_limit, pg_basebackup --max-rate), served by
// a `serve` of its own: the same server, catalog and store, so a backup is
// long enough to see a recovery run beside it.
func slowBarman(t *testing.T, b *barmanUT, kbps int) *barmanUT {
	t.Helper()
	dir, err := os.MkdirTemp(sandbox["SANDBOX_DIR"], "e2e-slow-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	slow := *b
	slow.conf = copyBarmanConf(t, b, dir, "", fmt.Sprintf("bandwidth_limit = %d", kbps))
	stop, err := startServe(dir, &slow)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return &slow
}

var backupIDPattern = regexp.MustCompile(`\b\d{8}T\d{6}\b`)

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// listBackupIDs is what `barman list-backups --minimal` shows.
func listBackupIDs(t *testing.T, b *barmanUT) map[string]bool {
	t.Helper()
	out, err := barmanOutput(b, "list-backups", "--minimal", sandbox["SANDBOX_SERVER"])
	if err != nil {
		t.Fatalf("%s list-backups: %v\n%s", b, err, out)
	}
	ids := map[string]bool{}
	for _, id := range strings.Fields(string(out)) {
		ids[id] = true
	}
	return ids
}

// TestBackupNameRefusedOnBarman34: Barman 3.4.0 takes --name and drops it
// with --wait, which every backup operation gives, so a named backup is
// refused there (400, naming 3.4.1) and nothing is taken or recorded.
func TestBackupNameRefusedOnBarman34(t *testing.T) {
	server := sandbox["SANDBOX_SERVER"]
	each(t, func(b *barmanUT) bool { return b.version == "3.4.0" }, func(t *testing.T, b *barmanUT) {
		before := listBackupIDs(t, b)
		_, list := b.get(t, "/servers/"+server+"/operations")
		code, resp := b.post(t, "/servers/"+server+"/operations", map[string]any{"type": "backup", "backup_name": "e2e-" + randomHex()})
		if msg := fmt.Sprint(resp["error"]); code != 400 || !strings.Contains(msg, `"backup_name" needs Barman 3.4.1 or later`) {
			t.Fatalf("POST a named backup to Barman 3.4.0: %d %q, want 400 naming Barman 3.4.1", code, msg)
		}
		if _, after := b.get(t, "/servers/"+server+"/operations"); fmt.Sprint(after) != fmt.Sprint(list) {
			t.Errorf("the refused backup changed the operations: %v, then %v", list, after)
		}
		if after := listBackupIDs(t, b); len(after) != len(before) {
			t.Errorf("the refused backup changed Barman's backups: %v, then %v", before, after)
		}
	})
}

// TestBackupOperation: {"type": "backup"} over HTTP ends DONE with a new
// backup in `barman list-backups`, and a recovery queued behind it starts
// while the backup still runs, and ends DONE.
func TestBackupOperation(t *testing.T) {
	server := sandbox["SANDBOX_SERVER"]
	each(t, all, func(t *testing.T, b *barmanUT) {
		slow := slowBarman(t, b, 3000)
		before := listBackupIDs(t, b)
		ops := "/servers/" + server + "/operations/"
		req := map[string]any{"type": "backup", "immediate_checkpoint": true}
		// Barman 3.4.0 would drop the name (--wait), so pg-backup-api
		// refuses it there (TestBackupNameRefusedOnBarman34).
		if b.models {
			req["backup_name"] = "e2e-" + randomHex()
		}
		code, body := slow.post(t, ops, req)
		if code != 202 {
			t.Fatalf("POST backup: %d %v", code, body)
		}
		backupOp, _ := body["operation_id"].(string)
		deadline := time.Now().Add(time.Minute)
		for {
			_, op := slow.get(t, ops+backupOp+"?detail=true")
			if op["phase"] == "running" {
				break
			}
			if op["status"] != "IN_PROGRESS" || time.Now().After(deadline) {
				t.Fatalf("the backup did not start running: %v", op)
			}
			time.Sleep(100 * time.Millisecond)
		}

		dest := destination(t, "beside-backup")
		code, body = slow.post(t, ops, map[string]any{
			// bwlimit 0 lifts the configuration's bandwidth_limit for
			// the recovery's copy.
			"type": "recovery", "backup_id": b.newer.request, "target_immediate": true, "bwlimit": 0,
			"remote_ssh_command": sandbox["SANDBOX_SSH_COMMAND"], "destination_directory": dest,
		})
		if code != 202 {
			t.Fatalf("POST recovery: %d %v", code, body)
		}
		recoveryOp, _ := body["operation_id"].(string)
		// The recovery leaves the queue while the backup still runs: its
		// lane is free. (Were it behind the backup, it would stay queued
		// until the backup ended.)
		for {
			_, rec := slow.get(t, ops+recoveryOp+"?detail=true")
			_, bk := slow.get(t, ops+backupOp+"?detail=true")
			if rec["phase"] != "queued" {
				if bk["phase"] != "running" {
					t.Errorf("the recovery left the queue (%v) only once the backup had ended (%v)", rec["phase"], bk["status"])
				}
				break
			}
			if bk["phase"] != "running" {
				t.Fatalf("the backup ended (%v) while the recovery queued behind it still waited", bk["status"])
			}
			time.Sleep(50 * time.Millisecond)
		}
		rec := slow.waitEnd(t, ops+recoveryOp)
		if rec["status"] != "DONE" {
			t.Fatalf("recovery beside the backup ended %v; output:\n%v", rec["status"], rec["output"])
		}

		bk := slow.waitEnd(t, ops+backupOp)
		if bk["status"] != "DONE" {
			t.Fatalf("backup ended %v; output:\n%v", bk["status"], bk["output"])
		}
		// Barman names the backup it takes in its output; that one, and no
		// backup listed before, must be in the catalog now.
		taken := backupIDPattern.FindString(fmt.Sprint(bk["output"]))
		if taken == "" || before[taken] || !listBackupIDs(t, b)[taken] {
			t.Errorf("the backup's output names backup %q, which barman list-backups does not show as new; output:\n%v", taken, bk["output"])
		}
		// And the API's catalog shows it too, DONE.
		code, one := b.get(t, "/servers/"+sandbox["SANDBOX_SERVER"]+"/backups/"+taken)
		if code != 200 || one["backup_id"] != taken || one["status"] != "DONE" {
			t.Errorf("GET /servers/%s/backups/%s = %d %v; want the new backup, DONE", sandbox["SANDBOX_SERVER"], taken, code, one)
		}
	})
}
