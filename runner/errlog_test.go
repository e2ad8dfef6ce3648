package runner

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

// TestRunnerErrLogMaskedAndRotated: a launched runner's runner.err holds no
// password from the command lines it logs, and a full one is rotated to
// runner.err.1 rather than grown (issue 14, defect 10).
func TestRunnerErrLogMaskedAndRotated(t *testing.T) {
	bin := testenv.Binary(t)
	e := newEnv(t)
	errPath := filepath.Join(e.Store.StateDir(""), ErrLogName)
	id := e.create(t, "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "db_server_two", `+
		`"conninfo": "host=pg user=barman password=hunter2", "streaming_conninfo": "postgresql://barman:s3cr3t@pg/postgres"}]}`, "08:00:00")
	if err := os.MkdirAll(filepath.Dir(errPath), 0o700); err != nil {
		t.Fatal(err)
	}
	old := bytes.Repeat([]byte("an old message of an earlier runner\n"), ErrLogMax/36+1)
	if err := os.WriteFile(errPath, old, 0o600); err != nil {
		t.Fatal(err)
	}
	l := &Launcher{Executable: bin, BarmanCommand: fakeBarman(t)}
	if err := l.EnsureRunner(e.Cfg, ""); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 20*time.Second, "the operation to finish", func() bool {
		op, err := e.Store.Get("", id)
		return err == nil && op.Status != ops.StatusInProgress
	})
	testenv.WaitFor(t, 10*time.Second, "the runner to log what it ran", func() bool {
		data, _ := os.ReadFile(errPath)
		return strings.Contains(string(data), "running")
	})
	data, err := os.ReadFile(errPath)
	if err != nil {
		t.Fatal(err)
	}
	log := string(data)
	if len(log) > 2000 {
		log = log[len(log)-2000:] // enough to show what went wrong
	}
	if !strings.Contains(log, "config-update") {
		t.Fatalf("runner.err does not show the command line it ran:\n%s", log)
	}
	// The changes are masked as the JSON they are, argument by argument,
	// not as one line of text that reads a password on to the next quote.
	if want := `"conninfo": "host=pg user=barman password=****", "streaming_conninfo": "postgresql://barman:****@pg/postgres"}]`; !strings.Contains(log, want) {
		t.Errorf("runner.err does not show config_update's changes masked as JSON (%s):\n%s", want, log)
	}
	for _, secret := range []string{"hunter2", "s3cr3t"} {
		if strings.Contains(string(data), secret) {
			t.Errorf("runner.err shows the password %q:\n%s", secret, log)
		}
	}
	if int64(len(data)) >= ErrLogMax {
		t.Errorf("runner.err is %d bytes: the full one was not rotated", len(data))
	}
	if got, err := os.ReadFile(errPath + ".1"); err != nil || !bytes.Equal(got, old) {
		t.Errorf("runner.err.1 does not hold the previous log (%d bytes, %v)", len(got), err)
	}
}

// TestErrLogRotatesOneOldFile drives the writer itself, as two runners of
// one scope (runner.parallel = 2) share it: the pair of files stays within
// twice the limit, and one old file is kept.
func TestErrLogRotatesOneOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ErrLogName)
	open := func() *errLog {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		l := newErrLog(f, path, 200)
		if l == nil {
			t.Fatal("newErrLog did not recognise the file at its path")
		}
		return l
	}
	a, b := open(), open()
	for i := 0; i < 100; i++ {
		w := a
		if i%3 == 0 {
			w = b
		}
		fmt.Fprintf(w, "message %03d: running barman with password=hunter%03d\n", i, i)
	}
	fmt.Fprintf(a, "%s\n", strings.Repeat("x", 500))
	cur, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	prev, err := os.ReadFile(path + ".1")
	if err != nil {
		t.Fatal(err)
	}
	if len(cur) > 200 || len(prev) > 200 {
		t.Errorf("runner.err is %d bytes and runner.err.1 %d; the limit is 200", len(cur), len(prev))
	}
	if !strings.HasSuffix(string(cur), "... [cut]\n") {
		t.Errorf("an over-long message was not cut: %q", cur)
	}
	if !strings.Contains(string(prev), "message 099") {
		t.Errorf("runner.err.1 lacks the last messages before the long one: %q", prev)
	}
	if strings.Contains(string(cur)+string(prev), "hunter") {
		t.Errorf("a password is in the log: %q %q", prev, cur)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		t.Errorf("the directory holds %d files, want runner.err and runner.err.1", len(entries))
	}
	// Not the file at its path (an operator's terminal, say): no rotation.
	other, err := os.CreateTemp(dir, "other")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if newErrLog(other, path, 200) != nil {
		t.Error("newErrLog took over a file that is not the log")
	}
}

// With --log-format json (serve's, passed on by the launcher), runner.err
// is one JSON object a line, masked like the text one.
func TestRunnerErrLogJSON(t *testing.T) {
	bin := testenv.Binary(t)
	e := newEnv(t)
	errPath := filepath.Join(e.Store.StateDir(""), ErrLogName)
	id := e.create(t, "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "db_server_two", `+
		`"conninfo": "host=pg user=barman password=hunter2"}]}`, "08:00:00")
	l := &Launcher{Executable: bin, BarmanCommand: fakeBarman(t), LogFormat: "json"}
	if err := l.EnsureRunner(e.Cfg, ""); err != nil {
		t.Fatal(err)
	}
	testenv.WaitFor(t, 20*time.Second, "the operation to finish", func() bool {
		op, err := e.Store.Get("", id)
		return err == nil && op.Status != ops.StatusInProgress
	})
	testenv.WaitFor(t, 10*time.Second, "the runner to log what it ran", func() bool {
		data, _ := os.ReadFile(errPath)
		return strings.Contains(string(data), "running")
	})
	data, err := os.ReadFile(errPath)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "hunter2") {
		t.Errorf("runner.err shows the password:\n%s", data)
	}
	ran := false
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		var rec struct{ Time, Level, Msg string }
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec.Time == "" || rec.Level == "" || rec.Msg == "" {
			t.Fatalf("runner.err line %q is not a JSON record with time, level and msg (%v)", line, err)
		}
		ran = ran || strings.Contains(rec.Msg, "running") && strings.Contains(rec.Msg, "config-update") &&
			strings.Contains(rec.Msg, `"conninfo": "host=pg user=barman password=****"}]`)
	}
	if !ran {
		t.Errorf("runner.err does not show the command line it ran, with the changes masked as JSON:\n%s", data)
	}
}

// An over-long JSON record is cut to a JSON record: the log stays one JSON
// object a line.
func TestErrLogCutsJSONRecordAsJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), ErrLogName)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l := newErrLog(f, path, 300)
	long := `{"time":"2026-11-29T09:00:00Z","level":"ERROR","msg":"` + strings.Repeat(`a\"<é\n`, 200) + `"}` + "\n"
	if _, err := l.Write([]byte(long)); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(path)
	var rec struct {
		Msg string
		Cut bool
	}
	if len(data) > 300 || json.Unmarshal(data, &rec) != nil || !rec.Cut || rec.Msg == "" {
		t.Fatalf("the cut record is %d bytes, want at most 300 and a JSON record with msg and cut: %q", len(data), data)
	}
	if !strings.HasSuffix(string(data), "}\n") {
		t.Errorf("the cut record does not end its line: %q", data)
	}
}

// What errLog has to say itself (a failed rotation) is a JSON record in a
// JSON log: every line of runner.err stays JSON.
func TestErrLogOwnNoteJSON(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, ErrLogName)
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// runner.err.1 a directory that is not empty: the rotation's rename
	// fails, even for root.
	if err := os.MkdirAll(filepath.Join(path+".1", "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	l := newErrLog(f, path, 150)
	l.json = true
	rec := `{"time":"2026-11-29T09:00:00Z","level":"INFO","msg":"` + strings.Repeat("a", 60) + `"}` + "\n"
	for range 2 {
		if _, err := l.Write([]byte(rec)); err != nil {
			t.Fatal(err)
		}
	}
	data, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 3 || !strings.Contains(string(data), "cannot rotate") {
		t.Fatalf("want two records and the rotation failure, got:\n%s", data)
	}
	for _, line := range lines {
		var r struct{ Time, Level, Msg string }
		if err := json.Unmarshal([]byte(line), &r); err != nil || r.Time == "" || r.Level == "" || r.Msg == "" {
			t.Errorf("line %q is not a JSON record (%v)", line, err)
		}
	}
}
