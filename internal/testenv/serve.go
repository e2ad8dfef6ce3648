package testenv

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Serve is a running `pg-backup-api serve`, started by StartServe.
type Serve struct {
	Cmd     *exec.Cmd
	URL     string // http://ADDR, where it listens
	LogPath string // its standard output and standard error

	done chan struct{}
	err  error // how it exited, once done is closed
}

// ServeOptions say how to start serve.
type ServeOptions struct {
	Binary string   // the pg-backup-api binary
	Args   []string // its arguments up to and including "serve" and serve's own flags, but --listen
	Env    []string // its environment; nil: this process's
	// LogPath receives its standard output and standard error; empty: a
	// file in a temporary directory. A file, not a pipe: the runners serve
	// starts must not hold a pipe of the test's open.
	LogPath string
	// Graceful makes the test's cleanup stop serve with SIGTERM and fail the
	// test unless it exits within 15 s; otherwise it is killed.
	Graceful bool
}

// listening is serve's log line saying where it listens, in the text and
// the JSON log formats.
var listening = regexp.MustCompile(`msg=listening addr=(\S+)|"msg":"listening","addr":"([^"]+)"`)

// StartServe starts serve on a loopback port of the kernel's choosing (so
// no two tests race for one) and returns once it answers GET /status with
// "OK". It fails the test if serve exits first or does not answer within
// 15 s. Serve is stopped when the test ends, if it is still running.
func StartServe(t testing.TB, o ServeOptions) *Serve {
	t.Helper()
	s := &Serve{LogPath: o.LogPath, done: make(chan struct{})}
	if s.LogPath == "" {
		s.LogPath = filepath.Join(t.TempDir(), "serve.log")
	}
	logFile, err := os.Create(s.LogPath)
	if err != nil {
		t.Fatal(err)
	}
	s.Cmd = exec.Command(o.Binary, append(append([]string{}, o.Args...), "--listen", "127.0.0.1:0")...)
	s.Cmd.Env = o.Env
	s.Cmd.Stdout, s.Cmd.Stderr = logFile, logFile
	err = s.Cmd.Start()
	logFile.Close()
	if err != nil {
		t.Fatalf("starting serve: %v", err)
	}
	go func() { s.err = s.Cmd.Wait(); close(s.done) }()
	t.Cleanup(func() { s.stop(t, o.Graceful) })

	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) && !s.Exited() {
		if s.URL == "" {
			if m := listening.FindStringSubmatch(s.Log()); m != nil {
				s.URL = "http://" + m[1] + m[2]
			}
		}
		if s.URL != "" && answersOK(client, s.URL+"/status") {
			return s
		}
		time.Sleep(20 * time.Millisecond)
	}
	if s.Exited() {
		t.Fatalf("serve exited (%v) before answering GET /status; log:\n%s", s.err, s.Log())
	}
	t.Fatalf("serve did not answer GET /status within 15 s; log:\n%s", s.Log())
	return nil
}

func answersOK(client *http.Client, url string) bool {
	resp, err := client.Get(url)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode == http.StatusOK && strings.TrimSpace(string(body)) == `"OK"`
}

func (s *Serve) stop(t testing.TB, graceful bool) {
	if s.Exited() {
		return
	}
	if graceful {
		s.Cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-s.done:
			return
		case <-time.After(15 * time.Second):
			t.Errorf("serve did not stop within 15 s of SIGTERM; log:\n%s", s.Log())
		}
	}
	s.Cmd.Process.Kill()
	<-s.done
}

// Log is what serve has written so far.
func (s *Serve) Log() string {
	data, _ := os.ReadFile(s.LogPath)
	return string(data)
}

// Done is closed once serve has exited.
func (s *Serve) Done() <-chan struct{} { return s.done }

// Exited reports whether serve has exited.
func (s *Serve) Exited() bool {
	select {
	case <-s.done:
		return true
	default:
		return false
	}
}

// Err is how serve exited (nil for status 0), once Done is closed.
func (s *Serve) Err() error {
	select {
	case <-s.done:
		return s.err
	default:
		panic(fmt.Sprintf("testenv: Serve.Err before serve (pid %d) exited", s.Cmd.Process.Pid))
	}
}
