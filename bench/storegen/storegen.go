// Package storegen writes synthetic Barman environments and operation
// stores for the benchmarks: ops/bench_test.go, httpd/bench_test.go and
// bench/genstore (which bench/run uses).
//
// Operations are written straight to disk in the Python pg-backup-api's
// file format, with our pg_backup_api key so that they count as ours, and
// never through pg-backup-api, so the product code is what reads them. IDs
// run from 20261125T000000 one second apart; four in five are recoveries,
// the rest config_switch; one in seven FAILED (exit code 1); each carries
// about 300 bytes of Barman output. Every file and directory is dated an
// hour back, as in a settled store, so that neither the index nor the
// caches take them for racy.
//
// The package uses the standard library only, so any package's tests may
// import it.
package storegen

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

const (
	idLayout   = "20060102T150405"
	timeLayout = "2006-01-02T15:04:05.000000" // Python's %Y-%m-%dT%H:%M:%S.%f

	// Server is the Barman server the operations belong to.
	Server = "db1"
	// BackupID is the one DONE backup in the catalog, so recoveries validate.
	BackupID = "20261124T230000"
)

// Epoch is the time of the first operation, ID 20261125T000000.
var Epoch = time.Date(2026, 11, 25, 0, 0, 0, 0, time.Local)

// ID returns the ID of the i-th operation.
func ID(i int) string { return Epoch.Add(time.Duration(i) * time.Second).Format(idLayout) }

// Env is a generated Barman environment.
type Env struct {
	Dir        string // everything is under it
	BarmanConf string // barman.conf; barman_home is Home
	Config     string // an empty pg-backup-api.toml, to keep /etc's out
	Home       string // barman_home
	IDs        []string
	SampleID   string // an operation in the middle
}

// Generate writes into dir a barman.conf whose barman_home is dir/home,
// server db1 and model db1-failover in its configuration_files_directory,
// db1's backup catalog with one DONE backup, and n finished operations of
// db1.
func Generate(dir string, n int) (*Env, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	e := &Env{
		Dir:        dir,
		BarmanConf: filepath.Join(dir, "barman.conf"),
		Config:     filepath.Join(dir, "pg-backup-api.toml"),
		Home:       filepath.Join(dir, "home"),
	}
	confDir := filepath.Join(dir, "barman.d")
	files := map[string]string{
		e.BarmanConf: "[barman]\nconfiguration_files_directory = " + confDir + "\nbarman_home = " + e.Home +
			"\nlog_file = " + filepath.Join(dir, "barman.log") + "\nlog_level = INFO\n",
		filepath.Join(confDir, "db1.conf"): "[db1]\ndescription = \"db one\"\nconninfo = host=127.0.0.1 user=barman dbname=postgres\n" +
			"streaming_conninfo = host=127.0.0.1 user=streaming_barman\nbackup_method = postgres\nstreaming_archiver = on\nslot_name = barman\n",
		filepath.Join(confDir, "db1-failover.conf"): "[db1-failover]\ncluster = db1\nmodel = true\nconninfo = host=127.0.0.2 user=barman dbname=postgres\n",
		filepath.Join(e.Home, Server, "meta", BackupID+"-backup.info"): "backup_id=" + BackupID + "\nserver_name=db1\nstatus=DONE\n" +
			"begin_time=2026-11-24 23:00:00.000000+00:00\nend_time=2026-11-24 23:00:07.000000+00:00\nmode=postgres\ntimeline=1\n",
		e.Config: "# storegen: every setting at its default\n",
	}
	past := time.Now().Add(-time.Hour)
	for p, data := range files {
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			return nil, err
		}
		if err := os.WriteFile(p, []byte(data), 0o600); err != nil {
			return nil, err
		}
		if err := os.Chtimes(p, past, past); err != nil {
			return nil, err
		}
	}
	if e.IDs, err = WriteOperations(e.Home, n, e.BarmanConf); err != nil {
		return nil, err
	}
	for _, d := range []string{confDir, filepath.Join(e.Home, Server, "meta"), filepath.Join(e.Home, Server), e.Home, dir} {
		if err := os.Chtimes(d, past, past); err != nil {
			return nil, err
		}
	}
	if n > 0 {
		e.SampleID = e.IDs[n/2]
	}
	return e, nil
}

// WriteOperations writes n finished operations of server db1 under home
// (home/db1/jobs and home/db1/output) and returns their IDs, oldest first.
// barmanConf is what their pg_backup_api key records.
func WriteOperations(home string, n int, barmanConf string) ([]string, error) {
	jobs := filepath.Join(home, Server, "jobs")
	outs := filepath.Join(home, Server, "output")
	for _, d := range []string{jobs, outs} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return nil, err
		}
	}
	past := time.Now().Add(-time.Hour)
	ext := `"pg_backup_api": {"version": "1.0.0", "barman_config": ` + jsonString(barmanConf) + `, "requested_by": "http:ci", "client": "127.0.0.1:40000"}`
	ids := make([]string, n)
	for i := range n {
		id := ID(i)
		ids[i] = id
		start := Epoch.Add(time.Duration(i)*time.Second + 123456*time.Microsecond)
		typ := "recovery"
		payload := fmt.Sprintf(`"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh -p 22 -o BatchMode=yes postgres@db1-restore-%d.example.org", "destination_directory": "/var/lib/postgresql/restore-%04d"`, i%50, i%10000)
		if i%5 == 4 {
			typ = "config_switch"
			payload = fmt.Sprintf(`"type": "config_switch", "model_name": "db1-failover-%d"`, i%3)
		}
		job := fmt.Sprintf(`{%s, "operation_type": "%s", "start_time": "%s", %s}`, payload, typ, start.Format(timeLayout), ext)
		ok := i%7 != 3
		exit := 0
		if !ok {
			exit = 1
		}
		out := fmt.Sprintf(`{%s, "operation_type": "%s", "start_time": "%s", %s, "success": %t, "end_time": "%s", "output": %s, "exit_code": %d}`,
			payload, typ, start.Format(timeLayout), ext, ok, start.Add(700*time.Millisecond).Format(timeLayout),
			jsonString(output(i, typ == "config_switch", ok)), exit)
		for _, f := range []struct{ path, data string }{{filepath.Join(jobs, id+".json"), job}, {filepath.Join(outs, id+".json"), out}} {
			if err := os.WriteFile(f.path, []byte(f.data), 0o600); err != nil {
				return nil, err
			}
			if err := os.Chtimes(f.path, past, past); err != nil {
				return nil, err
			}
		}
	}
	for _, d := range []string{jobs, outs, filepath.Join(home, Server)} {
		if err := os.Chtimes(d, past, past); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

// WriteQueued writes n queued operations of server db1 under home: job
// files without output, IDs from ID(first) on, dated now so that a runner
// takes them for new. bench/run drains them with a Barman that exits at
// once.
func WriteQueued(home string, first, n int, barmanConf string) ([]string, error) {
	jobs := filepath.Join(home, Server, "jobs")
	if err := os.MkdirAll(jobs, 0o700); err != nil {
		return nil, err
	}
	ext := `"pg_backup_api": {"version": "1.0.0", "barman_config": ` + jsonString(barmanConf) + `, "requested_by": "http:ci", "client": "127.0.0.1:40000"}`
	ids := make([]string, n)
	for i := range n {
		id := ID(first + i)
		ids[i] = id
		start := Epoch.Add(time.Duration(first+i) * time.Second)
		job := fmt.Sprintf(`{"type": "config_switch", "model_name": "db1-failover", "operation_type": "config_switch", "start_time": "%s", %s}`, start.Format(timeLayout), ext)
		if err := os.WriteFile(filepath.Join(jobs, id+".json"), []byte(job), 0o600); err != nil {
			return nil, err
		}
	}
	return ids, nil
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

// output is about 300 bytes of Barman output.
func output(i int, switchOp, ok bool) string {
	var s string
	switch {
	case !ok:
		s = fmt.Sprintf("ERROR: Unable to connect to the target host using the command 'ssh -p 22 -o BatchMode=yes -o ConnectTimeout=3 postgres@db1-restore-%d.example.org'\n", i%50)
	case switchOp:
		s = fmt.Sprintf("Applying model 'db1-failover-%d' to server 'db1'\nStopped process receive-wal(%d)\nStarting streaming archiver for server db1\n", i%3, 17000+i%1000)
	default:
		s = fmt.Sprintf("Starting remote restore for server db1 using backup %s\nDestination directory: /var/lib/postgresql/restore-%04d\n"+
			"Remote command: ssh -p 22 -o BatchMode=yes postgres@db1-restore-%d.example.org\nCopying the base backup.\nCopying required WAL segments.\n"+
			"Generating archive status files\nYour PostgreSQL server has been successfully prepared for recovery!\n", BackupID, i%10000, i%50)
	}
	for len(s) < 300 {
		s += "."
	}
	return s
}
