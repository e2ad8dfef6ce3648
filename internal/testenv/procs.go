package testenv

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// KillStrays makes sure no process started for a test outlives it: at
// cleanup it waits up to 10 s for the processes whose command line or
// environment names dir (runners, fake Barmans, serve: each is started
// with the test's directory in its arguments or environment) to end by
// themselves, as runners must once their queue is empty. Those still
// running then are killed, with their process group when they lead one
// (a fake Barman's sleep is in it), and the test fails naming them.
// After a failure they may never end, so it does not wait.
func KillStrays(t testing.TB, dir string) {
	t.Cleanup(func() {
		deadline := time.Now().Add(10 * time.Second)
		for {
			pids := ProcessesNaming(dir)
			if len(pids) == 0 {
				return
			}
			if t.Failed() || time.Now().After(deadline) {
				var desc []string
				for _, pid := range pids {
					desc = append(desc, fmt.Sprintf("%d: %s", pid, Cmdline(pid)))
					if pgid, err := syscall.Getpgid(pid); err == nil && pgid == pid {
						syscall.Kill(-pid, syscall.SIGKILL)
					}
					syscall.Kill(pid, syscall.SIGKILL)
				}
				if !t.Failed() {
					t.Errorf("still running 10 s after the test (runners must exit when their queue is empty):\n%s", strings.Join(desc, "\n"))
				}
				return
			}
			time.Sleep(50 * time.Millisecond)
		}
	})
}

// ProcessesNaming returns the live processes other than this one whose
// command line or environment contains s.
func ProcessesNaming(s string) []int {
	return LivePids(func(pid int) bool {
		return strings.Contains(Cmdline(pid), s) || bytes.Contains(Environ(pid), []byte(s))
	})
}

// LivePids returns the live processes (Alive) other than this one for
// which match holds.
func LivePids(match func(pid int) bool) []int {
	entries, _ := os.ReadDir("/proc")
	var pids []int
	for _, ent := range entries {
		pid, err := strconv.Atoi(ent.Name())
		if err != nil || pid == os.Getpid() || !Alive(pid) {
			continue
		}
		if match(pid) {
			pids = append(pids, pid)
		}
	}
	return pids
}

// Cmdline is a process's command line, its arguments joined by spaces.
func Cmdline(pid int) string {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	return strings.ReplaceAll(string(data), "\x00", " ")
}

// Environ is a process's environment as /proc holds it: NUL-separated.
func Environ(pid int) []byte {
	data, _ := os.ReadFile(fmt.Sprintf("/proc/%d/environ", pid))
	return data
}

// ProcStat returns a process's state, parent and process group from
// /proc/<pid>/stat; ok is false when it is gone.
func ProcStat(pid int) (state byte, ppid, pgrp int, ok bool) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, 0, 0, false
	}
	// "pid (comm) S ppid pgrp ...": comm may hold spaces and parentheses.
	f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
	if len(f) < 3 {
		return 0, 0, 0, false
	}
	ppid, _ = strconv.Atoi(f[1])
	pgrp, _ = strconv.Atoi(f[2])
	return f[0][0], ppid, pgrp, true
}

// Alive reports whether pid runs (a zombie nobody reaped does not). The
// leader of a multi-threaded process (a Go runner) shows as a zombie while
// its other threads are still exiting, and its files, with their locks, go
// only when the last thread has exited: those threads count.
func Alive(pid int) bool {
	state, _, _, ok := ProcStat(pid)
	if !ok {
		return false
	}
	if state != 'Z' && state != 'X' {
		return true
	}
	tasks, _ := os.ReadDir(fmt.Sprintf("/proc/%d/task", pid))
	for _, task := range tasks {
		data, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%s/stat", pid, task.Name()))
		if err != nil {
			continue
		}
		f := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+1:]))
		if len(f) > 0 && f[0] != "Z" && f[0] != "X" {
			return true
		}
	}
	return false
}

// ReadPid reads a pid file (a fake Barman's FAKE_BARMAN_PIDFILE), 0 when it
// is not there yet.
func ReadPid(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(data)))
	return pid
}

// ProcEnv is the environment of a process a test starts: the test's own,
// less what would point it elsewhere (PG_BACKUP_API_*, FAKE_BARMAN_*) or
// change its output (NO_COLOR), then extra.
func ProcEnv(extra ...string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "PG_BACKUP_API_") || strings.HasPrefix(kv, "FAKE_BARMAN_") || strings.HasPrefix(kv, "NO_COLOR=") {
			continue
		}
		out = append(out, kv)
	}
	return append(out, extra...)
}
