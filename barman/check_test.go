package barman

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

// TestParseCheck reads `barman check` as Barman's console writer prints it
// (output.py, ConsoleOutputWriter.result_check), colours included, with
// hints that hold colons and parentheses.
func TestParseCheck(t *testing.T) {
	out := "Server pg:\n" +
		"\tPostgreSQL: OK\n" +
		"\tis_superuser: \x1b[32mOK\x1b[0m\n" +
		"\tbackup maximum age: FAILED (interval provided: 1 day, latest backup age: No available backups)\n" +
		"\tminimum redundancy requirements: FAILED (have 0 backups, expected at least 1)\n" +
		"\tWAL archive: OK\r\n" +
		"WARNING: not a check line: OK\n" +
		"\tfailed backups: OK (there are 0 failed backups)\n"
	got := ParseCheck(out)
	want := []CheckResult{
		{Name: "PostgreSQL", OK: true},
		{Name: "is_superuser", OK: true},
		{Name: "backup maximum age", Hint: "interval provided: 1 day, latest backup age: No available backups"},
		{Name: "minimum redundancy requirements", Hint: "have 0 backups, expected at least 1"},
		{Name: "WAL archive", OK: true},
		{Name: "failed backups", OK: true, Hint: "there are 0 failed backups"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseCheck =\n%+v\nwant\n%+v", got, want)
	}
}

// fakeCheck is a Command running testdata/fake-barman with env set.
func fakeCheck(t *testing.T, env map[string]string) (Command, string) {
	t.Helper()
	fake, err := filepath.Abs("../testdata/fake-barman")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "barman.conf")
	if err := os.WriteFile(conf, []byte("[barman]\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	argvLog := filepath.Join(dir, "argv")
	t.Setenv("FAKE_BARMAN_ARGV_LOG", argvLog)
	for k, v := range env {
		t.Setenv(k, v)
	}
	return NewCommand(fake), argvLog
}

func TestCheckRunsBarmanCheck(t *testing.T) {
	c, argvLog := fakeCheck(t, map[string]string{
		"FAKE_BARMAN_CHECK": "PostgreSQL: OK\nWAL archive: FAILED (please make sure WAL shipping is setup)",
		"FAKE_BARMAN_EXIT":  "1", // as Barman exits when a check fails
	})
	conf := filepath.Join(filepath.Dir(argvLog), "barman.conf")
	got, err := c.Check(context.Background(), conf, "pg")
	if err != nil {
		t.Fatal(err)
	}
	want := []CheckResult{{Name: "PostgreSQL", OK: true}, {Name: "WAL archive", Hint: "please make sure WAL shipping is setup"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("Check = %+v, want %+v", got, want)
	}
	argv, _ := os.ReadFile(argvLog)
	if string(argv) != "-c\n"+conf+"\ncheck\npg\n--\n" {
		t.Errorf("argv = %q, want -c CONF check pg", argv)
	}
}

func TestCheckThatPrintsNoCheckFails(t *testing.T) {
	c, argvLog := fakeCheck(t, map[string]string{"FAKE_BARMAN_CHECK": "", "FAKE_BARMAN_EXIT": "1"})
	_, err := c.Check(context.Background(), filepath.Join(filepath.Dir(argvLog), "barman.conf"), "pg")
	if err == nil || !strings.Contains(err.Error(), "check pg") || !strings.Contains(err.Error(), "fake failure") {
		t.Errorf("err = %v, want what was run and Barman's last error line", err)
	}
}

// TestHungCheckIsKilled: a check that outlives its context is killed with
// everything it started, promptly, and reported as such.
func TestHungCheckIsKilled(t *testing.T) {
	c, argvLog := fakeCheck(t, map[string]string{"FAKE_BARMAN_CHECK_SLEEP": "60", "FAKE_BARMAN_IGNORE_TERM": "1"})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.Check(ctx, filepath.Join(filepath.Dir(argvLog), "barman.conf"), "pg")
	if err == nil || !strings.Contains(err.Error(), "was killed") {
		t.Errorf("err = %v, want a check killed at its timeout", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("Check returned after %v; the sleeping fake kept it waiting", d)
	}
}
