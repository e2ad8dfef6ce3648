//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The drill-overdue rule as monitoring/alerts.yml ships it holds for 10
// minutes, too long to wait for; the copy the test loads holds for 2s. Its
// expression, and the rest of the file, are loaded as shipped.
const (
	drillOverdueAlert = "- alert: PgBackupApiDrillOverdue\n"
	shippedDrillFor   = "\n        for: 10m\n"
)

// TestScheduledDrill proves [[drills.schedule]] on every Barman of the
// sandbox, with a serve of its own scraped by a real Prometheus that loads
// the shipped alerting rules:
//
//   - a server whose drills all failed, the oldest 3 days ago and the
//     newest 90 minutes ago, scheduled every 2h: no drill is due, so none
//     is created; the last success reads 0 and PgBackupApiDrillOverdue
//     fires (the schedule counts from the oldest drill);
//   - the schedule changed to every 1h and SIGHUP: the reload finds the
//     drill due and serve creates it (requested by serve:drills.schedule);
//     it ends DONE with the marker row and leaves nothing; the last
//     success moves to its end and the alert resolves;
//   - SIGHUP again: the drill just made is recent, so no second one.
//
// Each Barman's serve has a store of its own (a barman_home of its own,
// the server's backup_directory the real one), so that the drills the
// rest of the suite records for the server (TestDrill's DONE drill of a
// few minutes ago) do not make the schedule's history: it holds only the
// two failed drills the test plants. Barman, its backups, its WAL and its
// locks are the sandbox's own. The Barmans share only the source
// PostgreSQL, which a drill never touches, and Prometheus, so they run at
// once.
func TestScheduledDrill(t *testing.T) {
	rules, err := os.ReadFile("../monitoring/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	text := string(rules)
	// The rule's block: to the next rule, or to the end of the file.
	block := ""
	if at := strings.Index(text, drillOverdueAlert); at >= 0 {
		block = text[at:]
		if next := strings.Index(block[1:], "- alert: "); next >= 0 {
			block = block[:1+next]
		}
	}
	if strings.Count(text, drillOverdueAlert) != 1 || strings.Count(block, shippedDrillFor) != 1 {
		t.Fatalf("monitoring/alerts.yml does not have one rule %q holding %q: update the test with the rule", drillOverdueAlert, shippedDrillFor)
	}
	short := strings.Replace(text, block, strings.Replace(block, shippedDrillFor, "\n        for: 2s\n", 1), 1)

	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "alerts.yml")
	if err := os.WriteFile(rulesPath, []byte(short), 0o644); err != nil {
		t.Fatal(err)
	}
	// One Prometheus scrapes every serve the subtests start: each writes
	// its target into a file of targetsDir when it has its port.
	targetsDir := filepath.Join(dir, "targets")
	if err := os.Mkdir(targetsDir, 0o755); err != nil {
		t.Fatal(err)
	}
	conf := fmt.Sprintf("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [%q]\n"+
		"scrape_configs:\n  - job_name: pg-backup-api\n    file_sd_configs:\n      - files: [%q]\n        refresh_interval: 1s\n",
		rulesPath, filepath.Join(targetsDir, "*.json"))
	promURL := startPrometheus(t, dir, conf)

	eachAtOnce(t, func(t *testing.T, b *barmanUT) {
		start := time.Now()
		scheduledDrill(t, b, targetsDir, promURL)
		t.Logf("%s: the scheduled drill's proof took %s", b, time.Since(start).Round(time.Millisecond))
	})
}

func scheduledDrill(t *testing.T, b *barmanUT, targetsDir, promURL string) {
	server := sandbox["SANDBOX_SERVER"]
	iso := isolatedStore(t, b)
	d := newDrillEnv(t, iso, "s")
	now := time.Now().Truncate(time.Second)
	oldest := plantFailedDrill(t, iso, now.Add(-72*time.Hour))
	recent := plantFailedDrill(t, iso, now.Add(-90*time.Minute))
	planted := []string{oldest, recent}

	query := "select note from sandbox_check where id = 2 => " + marker
	writeSchedule := func(every string) {
		t.Helper()
		toml := fmt.Sprintf("[drills]\ndirectory = %q\n\n[[drills.schedule]]\nserver = %q\nevery = %q\nsql = [%q]\ntimeout = \"5m\"\n",
			d.root, server, every, query)
		if err := os.WriteFile(d.config, []byte(toml), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeSchedule("2h")
	s := startScheduleServe(t, iso, d.config)
	inst := strings.TrimPrefix(iso.url, "http://")
	target, _ := json.Marshal([]map[string][]string{{"targets": {inst}}})
	// Renamed into place: Prometheus never reads half a file.
	targetFile := filepath.Join(targetsDir, b.key+".json")
	if err := os.WriteFile(targetFile+".new", target, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(targetFile+".new", targetFile); err != nil {
		t.Fatal(err)
	}

	// 1. Not due: the start's check says so, and creates nothing.
	phase := time.Now()
	s.waitLog(t, 0, regexp.MustCompile(`msg="drill schedule: not due yet" server=`+server+` every=2h0m0s newest_drill=`+recent+` `))
	waitUntil(t, "Prometheus sees the schedule of 2h, its start 3 days ago and no success, and PgBackupApiDrillOverdue fires", 60*time.Second, func() (bool, string) {
		var got []string
		for q, want := range map[string]float64{
			"pg_backup_api_drill_schedule_period_seconds":          7200,
			"pg_backup_api_drill_schedule_timeout_seconds":         300,
			"pg_backup_api_drill_schedule_start_timestamp_seconds": float64(now.Add(-72 * time.Hour).Unix()),
			"pg_backup_api_drill_last_success_timestamp_seconds":   0,
		} {
			v, err := promQuery(promURL, fmt.Sprintf("%s{instance=%q,server=%q}", q, inst, server))
			if err != nil || v != want {
				got = append(got, fmt.Sprintf("%s = %v (%v), want %v", q, v, err, want))
			}
		}
		state, err := overdueState(promURL, inst, server)
		if err != nil || state != "firing" {
			got = append(got, fmt.Sprintf("PgBackupApiDrillOverdue %q (%v)", state, err))
		}
		return len(got) == 0, strings.Join(got, "; ")
	})
	if ids := drillIDs(t, d); strings.Join(ids, " ") != recent+" "+oldest {
		t.Fatalf("with a drill 90 minutes old and every = 2h, the store's drills are %v, want only the planted %v", ids, planted)
	}
	t.Logf("not due: the alert fired and no drill was created, %s after serve started", time.Since(phase).Round(time.Millisecond))

	// 2. every = 1h and SIGHUP: due at once.
	phase = time.Now()
	writeSchedule("1h")
	mark := s.logLen(t)
	s.hup(t)
	created := s.waitLog(t, mark, regexp.MustCompile(`msg="drill schedule: created a drill" server=`+server+` operation_id=(\S+) every=1h0m0s reason="the newest drill, `+recent+`, was created 1h\d+m\d+s ago"`))
	id := created[1]
	if ids := drillIDs(t, d); len(ids) != 3 || ids[0] != id {
		t.Fatalf("list --type drill shows %v, want the new drill %s and the planted %v", ids, id, planted)
	}
	if op := iso.inspect(t, id); op["requested_by"] != "serve:drills.schedule" {
		t.Errorf("the scheduled drill %s was requested by %v, want serve:drills.schedule", id, op["requested_by"])
	}
	op := iso.waitEnd(t, "/servers/"+server+"/operations/"+id)
	out := fmt.Sprint(op["output"])
	if op["status"] != "DONE" {
		t.Fatalf("the scheduled drill %s ended %v, want DONE\nreason: %v\noutput:\n%s\nserve's log:\n%s", id, op["status"], op["reason"], out, s.logText())
	}
	for _, want := range []string{"step restore: ok in", "step consistency: ok in", fmt.Sprintf("first value %q", marker), "step queries: ok in", "removed "} {
		if !strings.Contains(out, want) {
			t.Errorf("the scheduled drill's output lacks %q:\n%s", want, out)
		}
	}
	d.checkNothingLeft(t, id)
	end := storedEndTime(t, iso, id)
	ran := time.Since(phase)
	waitUntil(t, "Prometheus sees the drill's success and PgBackupApiDrillOverdue resolves", 60*time.Second, func() (bool, string) {
		var got []string
		if v, err := promQuery(promURL, fmt.Sprintf("pg_backup_api_drill_last_success_timestamp_seconds{instance=%q,server=%q}", inst, server)); err != nil || v < end-0.001 || v > end+0.001 {
			got = append(got, fmt.Sprintf("last success %f (%v), want the drill's end %f", v, err, end))
		}
		if v, err := promQuery(promURL, fmt.Sprintf("pg_backup_api_drill_schedule_period_seconds{instance=%q,server=%q}", inst, server)); err != nil || v != 3600 {
			got = append(got, fmt.Sprintf("period %v (%v), want 3600", v, err))
		}
		if state, err := overdueState(promURL, inst, server); err != nil || state != "" {
			got = append(got, fmt.Sprintf("PgBackupApiDrillOverdue %q (%v)", state, err))
		}
		return len(got) == 0, strings.Join(got, "; ")
	})
	t.Logf("due: the drill ran in %s, the alert resolved %s after the SIGHUP", ran.Round(time.Millisecond), time.Since(phase).Round(time.Millisecond))

	// 3. SIGHUP again: the reload's check finds the new drill recent.
	mark = s.logLen(t)
	s.hup(t)
	s.waitLog(t, mark, regexp.MustCompile(`msg="drill schedule: not due yet" server=`+server+` every=1h0m0s newest_drill=`+id+` `))
	if ids := drillIDs(t, d); len(ids) != 3 || ids[0] != id {
		t.Errorf("after the scheduled drill and another reload, list --type drill shows %v, want %s and the planted %v", ids, id, planted)
	}
	if strings.Count(s.logText(), `msg="drill schedule: created a drill"`) != 1 {
		t.Errorf("serve created more than one drill:\n%s", s.logText())
	}
}

// isolatedStore is b with a configuration of its own whose barman_home is
// a new directory, so that the server's operations start empty, and whose
// server's backup_directory and barman_lock_directory are b's: the same
// backups, WAL and locks, the same Barman.
func isolatedStore(t *testing.T, b *barmanUT) *barmanUT {
	t.Helper()
	dir, err := os.MkdirTemp(sandbox["SANDBOX_DIR"], "e2e-sched-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	home := filepath.Join(dir, "home")
	server := sandbox["SANDBOX_SERVER"]
	for _, p := range []string{home, filepath.Join(home, server), filepath.Join(home, server, "jobs"), filepath.Join(home, server, "output")} {
		if err := os.Mkdir(p, 0o750); err != nil {
			t.Fatal(err)
		}
		chownBarman(t, p)
	}
	iso := *b
	iso.home = home
	iso.conf = copyBarmanConf(t, b, dir, home, "backup_directory = "+filepath.Join(b.home, server))
	return &iso
}

// copyBarmanConf writes into dir a copy of b's configuration and its
// configuration_files_directory, with extra added to the server's section
// and, unless home is "", barman_home set to home and Barman's locks kept
// in b's barman_home. It returns the copy's path.
func copyBarmanConf(t *testing.T, b *barmanUT, dir, home, extra string) string {
	t.Helper()
	conf, err := os.ReadFile(b.conf)
	if err != nil {
		t.Fatal(err)
	}
	var origDir string
	var lines []string
	for _, l := range strings.Split(string(conf), "\n") {
		k, v, ok := strings.Cut(l, "=")
		switch k = strings.TrimSpace(k); {
		case ok && k == "configuration_files_directory":
			origDir = strings.TrimSpace(v)
			l = "configuration_files_directory = " + filepath.Join(dir, "d")
		case ok && k == "barman_lock_directory" && home != "":
			t.Fatalf("%s sets barman_lock_directory; the copy with barman_home %s would not share its locks", b.conf, home)
		case ok && k == "barman_home" && home != "":
			// Barman's locks (xlog.db's among them) stay where the
			// sandbox's cron takes them.
			l = "barman_home = " + home + "\nbarman_lock_directory = " + strings.TrimSpace(v)
		}
		lines = append(lines, l)
	}
	if origDir == "" {
		t.Fatalf("%s has no configuration_files_directory", b.conf)
	}
	if err := os.Mkdir(filepath.Join(dir, "d"), 0o755); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(origDir, "*.conf"))
	added := false
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		// The server's own file has its one section, [pg]: extra goes at
		// its end.
		text := string(data)
		if strings.Contains("\n"+text, "\n["+sandbox["SANDBOX_SERVER"]+"]\n") && strings.Count(text, "\n[")+boolInt(strings.HasPrefix(text, "[")) == 1 {
			text = strings.TrimRight(text, "\n") + "\n" + extra + "\n"
			added = true
		}
		if err := os.WriteFile(filepath.Join(dir, "d", filepath.Base(f)), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if !added {
		t.Fatalf("no file of %s holds section [%s] alone", origDir, sandbox["SANDBOX_SERVER"])
	}
	path := filepath.Join(dir, "barman.conf")
	if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func chownBarman(t *testing.T, path string) {
	t.Helper()
	u, err := user.Lookup("barman")
	if err != nil {
		t.Fatal(err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	if err := os.Chown(path, uid, gid); err != nil {
		t.Fatal(err)
	}
}

// plantFailedDrill writes into b's store, as the store writes them (the
// job file, then the output file of an ended operation), a drill of the
// server created at created that failed 10 s later, and returns its ID.
func plantFailedDrill(t *testing.T, b *barmanUT, created time.Time) string {
	t.Helper()
	const layout = "2006-01-02T15:04:05.000000" // local time, as the store's
	id := created.Format("20060102T150405")
	job := fmt.Sprintf(`{"type": "drill", "sql": [{"query": "select 1"}], "timeout": "5m", "operation_type": "drill", "start_time": %q, `+
		`"pg_backup_api": {"version": "e2e", "barman_config": %q, "requested_by": "cli:root"`, created.Local().Format(layout), b.conf)
	output := job + fmt.Sprintf(`, "reason": "drill failed at step restore: planted by TestScheduledDrill"}, "success": false, "end_time": %q, `+
		`"output": "planted by TestScheduledDrill\n", "exit_code": 1}`, created.Add(10*time.Second).Local().Format(layout))
	scope := filepath.Join(b.home, sandbox["SANDBOX_SERVER"])
	for _, f := range []struct{ path, text string }{
		{filepath.Join(scope, "jobs", id+".json"), job + "}}\n"},
		{filepath.Join(scope, "output", id+".json"), output + "\n"},
	} {
		if !json.Valid([]byte(f.text)) {
			t.Fatalf("the planted %s is not JSON: %s", f.path, f.text)
		}
		if err := os.WriteFile(f.path, []byte(f.text), 0o600); err != nil {
			t.Fatal(err)
		}
		chownBarman(t, f.path)
	}
	return id
}

// storedEndTime is when operation id ended, as its output file records it
// (microseconds, local time), in seconds since the epoch.
func storedEndTime(t *testing.T, b *barmanUT, id string) float64 {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(b.home, sandbox["SANDBOX_SERVER"], "output", id+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var rec struct {
		EndTime string `json:"end_time"`
	}
	if err := json.Unmarshal(data, &rec); err != nil {
		t.Fatal(err)
	}
	end, err := time.ParseInLocation("2006-01-02T15:04:05.000000", rec.EndTime, time.Local)
	if err != nil {
		t.Fatalf("operation %s's end_time: %v", id, err)
	}
	return float64(end.UnixNano()) / 1e9
}

// drillIDs is what `list --type drill` shows of the server, newest first.
func drillIDs(t *testing.T, d *drillEnv) []string {
	t.Helper()
	stdout, stderr, code := d.cli(t, "list", "--server", sandbox["SANDBOX_SERVER"], "--type", "drill", "-o", "json")
	if code != 0 {
		t.Fatalf("list --type drill: exit %d: %s", code, stderr)
	}
	var list struct {
		Operations []struct {
			ID string `json:"id"`
		} `json:"operations"`
	}
	if err := json.Unmarshal([]byte(stdout), &list); err != nil {
		t.Fatalf("list -o json: %v\n%s", err, stdout)
	}
	var ids []string
	for _, op := range list.Operations {
		ids = append(ids, op.ID)
	}
	return ids
}

func overdueState(promURL, inst, server string) (string, error) {
	alerts, err := promAlerts(promURL)
	if err != nil {
		return "", err
	}
	return alertState(alerts, "PgBackupApiDrillOverdue", inst, map[string]string{"server": server}), nil
}

// waitUntil polls ok every 500 ms until it holds, and fails the test with
// what it last said when it does not within limit.
func waitUntil(t *testing.T, what string, limit time.Duration, ok func() (bool, string)) {
	t.Helper()
	last := ""
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		var done bool
		if done, last = ok(); done {
			return
		}
	}
	t.Fatalf("%s: not within %s; last: %s", what, limit, last)
}

// scheduleServe is a serve started with a configuration file, as the
// packaged unit starts it, so that SIGHUP reloads that file.
type scheduleServe struct {
	cmd *exec.Cmd
	log string
}

func startScheduleServe(t *testing.T, b *barmanUT, config string) *scheduleServe {
	t.Helper()
	port := freePort(t)
	logPath := filepath.Join(t.TempDir(), "serve.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config", config, "--barman-config", b.conf, "--barman-command", b.command,
		"serve", "--listen", fmt.Sprintf("127.0.0.1:%d", port))
	cmd.Dir = "/"
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &scheduleServe{cmd: cmd, log: logPath}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		logFile.Close()
		if t.Failed() {
			t.Logf("serve's log:\n%s", s.logText())
		}
	})
	b.url = fmt.Sprintf("http://127.0.0.1:%d", port)
	waitUntil(t, "serve answers /status", 15*time.Second, func() (bool, string) {
		resp, err := http.Get(b.url + "/status")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == 200, resp.Status
	})
	return s
}

func (s *scheduleServe) logText() string {
	data, _ := os.ReadFile(s.log)
	return string(data)
}

func (s *scheduleServe) logLen(t *testing.T) int {
	t.Helper()
	return len(s.logText())
}

// hup makes serve reload its configuration file.
func (s *scheduleServe) hup(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
}

// waitLog waits until serve's log, from byte from on, has a line that re
// matches, and returns the match; a refused reload fails at once.
func (s *scheduleServe) waitLog(t *testing.T, from int, re *regexp.Regexp) []string {
	t.Helper()
	var m []string
	waitUntil(t, "serve logs "+re.String(), 60*time.Second, func() (bool, string) {
		text := s.logText()[from:]
		if strings.Contains(text, "reload refused") {
			t.Fatalf("serve refused the reload:\n%s", text)
		}
		m = re.FindStringSubmatch(text)
		return m != nil, "serve's log since:\n" + text
	})
	return m
}
