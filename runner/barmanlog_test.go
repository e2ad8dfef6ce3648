package runner

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// barmanLogRun runs one config_switch through the fake barman, which exits
// with exit and appends logLines to its log_file, and returns the recorded
// operation and the fake's pid.
func barmanLogRun(t *testing.T, e *env, exit, logLines string) (*ops.Operation, int) {
	t.Helper()
	const srv = "db_server_two"
	pidFile := filepath.Join(t.TempDir(), "pid")
	t.Setenv("FAKE_BARMAN_PIDFILE", pidFile)
	t.Setenv("FAKE_BARMAN_EXIT", exit)
	t.Setenv("FAKE_BARMAN_LOG", logLines)
	id := e.create(t, srv, `{"type": "config_switch", "model_name": "my-model"}`, "08:00:00")
	e.run(t, srv, fakeBarman(t))
	pid := testenv.ReadPid(pidFile)
	if pid == 0 {
		t.Fatal("the fake barman wrote no pid")
	}
	return e.get(t, srv, id), pid
}

// wantInOrder checks that out holds every part, in order.
func wantInOrder(t *testing.T, out string, parts ...string) {
	t.Helper()
	rest := out
	for _, part := range parts {
		i := strings.Index(rest, part)
		if i < 0 {
			t.Errorf("output lacks %q (in order); output:\n%s", part, out)
			return
		}
		rest = rest[i+len(part):]
	}
}

func wantAbsent(t *testing.T, out string, parts ...string) {
	t.Helper()
	for _, part := range parts {
		if strings.Contains(out, part) {
			t.Errorf("output holds %q; output:\n%s", part, out)
		}
	}
}

// TestFailedOperationShowsBarmanLog: Barman prints a generic line and logs
// the cause; the failed operation's output gets the records its process
// logged while it ran (a traceback's lines with their record), masked, and
// not those of other processes, nor what was there before.
func TestFailedOperationShowsBarmanLog(t *testing.T) {
	e := newEnv(t)
	testenv.WriteFile(t, e.LogFile, "2026-11-25 07:00:00,000 [1] barman.cli INFO: logged before the operation\n")
	op, pid := barmanLogRun(t, e, "1", strings.Join([]string{
		"2026-11-25 08:00:00,001 [999999] barman.cli INFO: another Barman's record",
		"2026-11-25 08:00:00,002 [@PID@] barman.config ERROR: Cannot write /etc/barman.d/db.conf: [Errno 13] Permission denied",
		"Traceback (most recent call last):",
		`  File "/usr/lib/python3/dist-packages/barman/config.py", line 2035, in receive_config_changes`,
		"PermissionError: [Errno 13] Permission denied: '/etc/barman.d/db.conf'",
		"2026-11-25 08:00:00,003 [999999] barman.cli ERROR: another Barman's failure",
		"  and its second line",
		"2026-11-25 08:00:00,004 [@PID@] barman.server INFO: conninfo 'host=db password=hunter2 user=barman'",
	}, "\n"))
	out := op.Output
	if op.Status != ops.StatusFailed || op.ExitCode == nil || *op.ExitCode != 1 {
		t.Fatalf("status %s, exit code %v; want FAILED, 1", op.Status, op.ExitCode)
	}
	wantInOrder(t, out,
		"ERROR: fake failure (FAKE_BARMAN_EXIT=1)\n",
		fmt.Sprintf("--- barman.log (pid %d, %s) ---\n", pid, e.LogFile),
		fmt.Sprintf("[%d] barman.config ERROR: Cannot write /etc/barman.d/db.conf: [Errno 13] Permission denied\n", pid),
		"Traceback (most recent call last):\n",
		"line 2035, in receive_config_changes\n",
		"PermissionError: [Errno 13] Permission denied: '/etc/barman.d/db.conf'\n",
		fmt.Sprintf("[%d] barman.server INFO: conninfo 'host=db", pid),
		"--- end of barman.log ---\n",
	)
	wantAbsent(t, out, "hunter2", "999999", "another Barman", "its second line", "before the operation")
	if !strings.HasSuffix(out, "--- end of barman.log ---\n") {
		t.Errorf("the block is not the output's end:\n%s", out)
	}
}

// TestSucceededOperationHasNoBarmanLog: only a failure gets the block.
func TestSucceededOperationHasNoBarmanLog(t *testing.T) {
	e := newEnv(t)
	op, _ := barmanLogRun(t, e, "0", "2026-11-25 08:00:00,002 [@PID@] barman.cli INFO: all well")
	wantAbsent(t, op.Output, "barman.log", "all well")
}

// TestBarmanLogRotated: a log renamed while Barman ran (logrotate) is read
// on from where it ended at the start, then the new file at the path.
func TestBarmanLogRotated(t *testing.T) {
	e := newEnv(t)
	testenv.WriteFile(t, e.LogFile, "2026-11-25 07:00:00,000 [1] barman.cli INFO: logged before the operation\n")
	op, pid := barmanLogRun(t, e, "2", strings.Join([]string{
		"2026-11-25 08:00:00,001 [@PID@] barman.cli INFO: before the rotation",
		"@ROTATE@",
		"2026-11-25 08:00:00,002 [@PID@] barman.cli ERROR: after the rotation",
	}, "\n"))
	wantInOrder(t, op.Output,
		fmt.Sprintf("--- barman.log (pid %d, %s) ---\n", pid, e.LogFile),
		"rotated while Barman ran",
		"INFO: before the rotation\n",
		"ERROR: after the rotation\n",
		"--- end of barman.log ---\n")
	wantAbsent(t, op.Output, "before the operation")
}

// TestBarmanLogTruncated: a log emptied in place while Barman ran
// (copytruncate) is read from its start.
func TestBarmanLogTruncated(t *testing.T) {
	e := newEnv(t)
	testenv.WriteFile(t, e.LogFile, strings.Repeat("2026-11-25 07:00:00,000 [1] barman.cli INFO: logged before the operation\n", 100))
	op, pid := barmanLogRun(t, e, "2", strings.Join([]string{
		"@TRUNCATE@",
		"2026-11-25 08:00:00,002 [@PID@] barman.cli ERROR: after the truncation",
	}, "\n"))
	wantInOrder(t, op.Output,
		fmt.Sprintf("--- barman.log (pid %d, %s) ---\n", pid, e.LogFile),
		"truncated while Barman ran",
		"ERROR: after the truncation\n",
		"--- end of barman.log ---\n")
}

// TestBarmanLogCannotBeRead: a log_file that cannot be read costs the
// operation nothing but one line saying why.
func TestBarmanLogCannotBeRead(t *testing.T) {
	tests := []struct {
		name  string
		setup func(t *testing.T, e *env)
		why   string
	}{
		{"a directory", func(t *testing.T, e *env) {
			if err := os.MkdirAll(e.LogFile, 0o755); err != nil {
				t.Fatal(err)
			}
		}, "cannot read it: it is a directory, not a file ---\n"},
		{"a FIFO", func(t *testing.T, e *env) {
			os.MkdirAll(filepath.Dir(e.LogFile), 0o755)
			if err := syscall.Mkfifo(e.LogFile, 0o644); err != nil {
				t.Fatal(err)
			}
		}, "cannot read it: it is a named pipe, not a file ---\n"},
		{"absent", func(t *testing.T, e *env) {}, "it does not exist: Barman logged nothing there"},
		{"a broken configuration", func(t *testing.T, e *env) {
			appendConf(t, e, "log_file = %(nowhere)s/barman.log\n")
		}, "cannot tell where Barman logs: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tc.setup(t, e)
			op, pid := barmanLogRun(t, e, "3", "")
			if op.Status != ops.StatusFailed || op.ExitCode == nil || *op.ExitCode != 3 {
				t.Fatalf("status %s, exit code %v; want FAILED, 3", op.Status, op.ExitCode)
			}
			wantInOrder(t, op.Output, "ERROR: fake failure (FAKE_BARMAN_EXIT=3)\n", fmt.Sprintf("--- barman.log (pid %d, ", pid), tc.why)
			if n := strings.Count(op.Output, "--- barman.log"); n != 1 {
				t.Errorf("%d mentions of barman.log, want one line:\n%s", n, op.Output)
			}
		})
	}
}

// appendConf adds lines to the [barman] section of the test's barman.conf,
// its only section.
func appendConf(t *testing.T, e *env, lines string) {
	t.Helper()
	conf := testenv.ReadFile(t, e.Conf)
	if strings.Count(conf, "[") != 1 {
		t.Fatalf("%s has more sections than [barman]", e.Conf)
	}
	testenv.WriteFile(t, e.Conf, conf+"\n"+lines)
}

// TestBarmanLogFormats: records are told apart by the %(process) field of
// the operator's log_format; without one, the output says so rather than
// guess; without log_file, Barman's log is its standard error, the output
// already, and nothing is added.
func TestBarmanLogFormats(t *testing.T) {
	t.Run("custom", func(t *testing.T) {
		e := newEnv(t)
		appendConf(t, e, "log_format = %%%%(levelname)-8s pid=%%%%(process)6d %%%%(message)s\n")
		op, pid := barmanLogRun(t, e, "1", strings.Join([]string{
			"ERROR    pid=999999 not ours",
			"ERROR    pid=@PID@ ours",
			"  continued",
		}, "\n"))
		wantInOrder(t, op.Output, fmt.Sprintf("--- barman.log (pid %d, ", pid), "ours\n  continued\n--- end")
		wantAbsent(t, op.Output, "not ours")
	})
	t.Run("no process", func(t *testing.T) {
		e := newEnv(t)
		appendConf(t, e, "log_format = %%%%(asctime)s %%%%(message)s\n")
		op, _ := barmanLogRun(t, e, "1", "2026-11-25 08:00:00,002 ERROR: whose?")
		wantInOrder(t, op.Output, `its log_format "%(asctime)s %(message)s" has no %(process)d`)
		wantAbsent(t, op.Output, "whose?")
	})
	t.Run("no log_file", func(t *testing.T) {
		e := newEnv(t)
		conf := testenv.ReadFile(t, e.Conf)
		testenv.WriteFile(t, e.Conf, strings.Replace(conf, "log_file = ", "; log_file = ", 1))
		op, _ := barmanLogRun(t, e, "1", "")
		wantAbsent(t, op.Output, "barman.log")
	})
}

// TestBarmanLogNoRecords: a failure whose process logged nothing says so,
// and that a wrapper's pid is not Barman's.
func TestBarmanLogNoRecords(t *testing.T) {
	e := newEnv(t)
	op, pid := barmanLogRun(t, e, "1", "2026-11-25 08:00:00,001 [999999] barman.cli INFO: another Barman's record")
	wantInOrder(t, op.Output, fmt.Sprintf("--- barman.log (pid %d, %s): no records of this process since it started (--barman-command starts fake-barman: ", pid, e.LogFile))
	wantAbsent(t, op.Output, "another Barman")
}

// TestBarmanLogBounded: only the last lines of a chatty process are kept,
// and the output says how many were left out.
func TestBarmanLogBounded(t *testing.T) {
	defer func(n int) { barmanLogMaxLines = n }(barmanLogMaxLines)
	barmanLogMaxLines = 3
	e := newEnv(t)
	var lines []string
	for i := range 10 {
		lines = append(lines, fmt.Sprintf("2026-11-25 08:00:00,000 [@PID@] barman.cli INFO: record %d", i))
	}
	op, _ := barmanLogRun(t, e, "1", strings.Join(lines, "\n"))
	wantInOrder(t, op.Output, "the first 7 lines of this process were left out; the last 3 follow]\n", "record 7\n", "record 8\n", "record 9\n--- end")
	wantAbsent(t, op.Output, "record 6")
}

func TestRecordPattern(t *testing.T) {
	tests := []struct {
		format, line string
		pid          string // "" when the line does not start a record
	}{
		{"%(asctime)s [%(process)s] %(name)s %(levelname)s: %(message)s", "2026-11-25 08:00:00,002 [42] barman.cli ERROR: x", "42"},
		{"%(asctime)s [%(process)s] %(name)s %(levelname)s: %(message)s", "Traceback (most recent call last):", ""},
		{"%(asctime)s [%(process)s] %(name)s %(levelname)s: %(message)s", "  [42] x y: z", ""},
		{"%(process)-8d|%(message)s", "42      |x", "42"},
		{"%(process)8d|%(message)s", "      42|x", "42"},
		{"100%% %(process)d %(message)s", "100% 42 x", "42"},
		{"%(lineno)d %(process)d %(message)s", "12 42 x", "42"},
		{"%(lineno)d %(process)d %(message)s", "x 42 x", ""},
	}
	for _, tc := range tests {
		re, note := recordPattern(tc.format)
		if note != "" {
			t.Errorf("%q: %s", tc.format, note)
			continue
		}
		m := re.FindStringSubmatch(tc.line)
		got := ""
		if m != nil {
			got = m[1]
		}
		if got != tc.pid {
			t.Errorf("%q on %q: pid %q, want %q", tc.format, tc.line, got, tc.pid)
		}
	}
	for _, bad := range []string{"%(message)s", "%(process)x %(message)s", "%s %(process)d", "%(process)d 100%"} {
		if _, note := recordPattern(bad); note == "" {
			t.Errorf("%q: no note", bad)
		}
	}
}

// TestBarmanLogOnTimeout: a Barman stopped by its time limit gets its
// records too, before the runner's reason. The limit leaves the fake time
// to log, even on a loaded machine.
func TestBarmanLogOnTimeout(t *testing.T) {
	e := newEnv(t)
	const srv = "db_server_two"
	t.Setenv("FAKE_BARMAN_SLEEP", "30")
	t.Setenv("FAKE_BARMAN_LOG", "2026-11-25 08:00:00,002 [@PID@] barman.cli INFO: waiting for something")
	id := e.create(t, srv, `{"type": "config_switch", "model_name": "my-model"}`, "08:00:00")
	r := &Runner{Store: e.Store, Server: srv, Barman: barman.NewCommand(fakeBarman(t)), BarmanConfig: e.Conf,
		Timeouts: map[ops.Type]time.Duration{ops.ConfigSwitch: 2 * time.Second}, KillGrace: time.Second, Log: &testenv.SyncBuffer{}}
	if err := r.Run(context.Background(), nil); err != nil {
		t.Fatal(err)
	}
	op := e.get(t, srv, id)
	if op.Phase != ops.PhaseTimeout {
		t.Fatalf("phase %s, want timeout", op.Phase)
	}
	wantInOrder(t, op.Output, "--- barman.log (pid ", "INFO: waiting for something\n--- end of barman.log ---\npg-backup-api: timed out")
}
