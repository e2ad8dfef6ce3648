package cli_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/cli"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// Remote mode: the CLI against a real `serve` on 127.0.0.1 prints what it
// prints locally.

// startServe runs serve over e's store on a free loopback port, with our
// config file at config when it is not empty. It is stopped with SIGTERM at
// the end of the test.
func startServe(t *testing.T, e *env, config string, extraEnv ...string) *testenv.Serve {
	t.Helper()
	var args []string
	if config != "" {
		args = append(args, "--config", config)
	}
	return testenv.StartServe(t, testenv.ServeOptions{
		Binary:   binary,
		Args:     append(args, "--barman-config", e.Conf, "--barman-command", fakeBarman, "serve"),
		Env:      append(append(os.Environ(), "FAKE_BARMAN_ARGV_LOG="+e.ArgvLog), extraEnv...),
		Graceful: true,
	})
}

// closedURL is the URL of a loopback port nobody listens on.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String()
	ln.Close()
	return u
}

// remote runs the real binary with remote-mode global flags, no Barman
// configuration of its own, and extra environment variables.
func remote(t *testing.T, extraEnv []string, global []string, args ...string) result {
	t.Helper()
	return execBinary(t, extraEnv, "", append(append([]string{}, global...), args...)...)
}

var requestIDSuffix = regexp.MustCompile(` \(request ID [0-9a-f]+\)`)

// sameAsLocal checks that args print the same through global's server as on
// the store itself, with the same exit status.
func sameAsLocal(t *testing.T, e *env, global []string, extraEnv []string, wantCode int, args ...string) result {
	t.Helper()
	local := e.exec(t, nil, "", args...)
	rem := remote(t, extraEnv, global, args...)
	if local.Code != wantCode {
		t.Errorf("%q locally: want exit %d, got %v", args, wantCode, local)
	}
	if rem.Code != local.Code || rem.Stdout != local.Stdout {
		t.Errorf("%q differs remotely:\nremote: %v\nlocal: %v", args, rem, local)
	}
	if got := requestIDSuffix.ReplaceAllString(rem.Stderr, ""); got != local.Stderr {
		t.Errorf("%q: remote stderr %q, local %q", args, rem.Stderr, local.Stderr)
	}
	return rem
}

func TestRemoteMatchesLocal(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	srv := startServe(t, e, "")
	url := []string{"--url", srv.URL}

	t.Run("list and inspect", func(t *testing.T) {
		for _, args := range [][]string{
			{"list", "-o", "json"},
			{"list"},
			{"list", "--server", "db_server_two", "-o", "json"},
			{"list", "--instance", "-o", "json"},
			{"list", "--status", "failed", "--type", "recovery"},
		} {
			sameAsLocal(t, e, url, nil, cli.ExitOK, args...)
		}
		for _, op := range fixtureOps {
			r := sameAsLocal(t, e, url, nil, cli.ExitOK, "inspect", op.ID, "-o", "json")
			var got listedOp
			decodeJSON(t, r.Stdout, &got)
			if got.Payload == nil || got.Output == nil || *got.Output != fixtureOutput(t, op) {
				t.Errorf("inspect %s -o json remotely lacks the payload or the output:\n%s", op.ID, r.Stdout)
			}
			sameAsLocal(t, e, url, nil, cli.ExitOK, "inspect", op.ID)
			sameAsLocal(t, e, url, nil, cli.ExitOK, "logs", op.ID)
		}
		sameAsLocal(t, e, url, nil, cli.ExitOK, "wait", "20261125T080805")
		sameAsLocal(t, e, url, nil, cli.ExitFailed, "wait", "20261125T080916")
		sameAsLocal(t, e, url, nil, cli.ExitFailed, "logs", "-f", "-s", "db_server_two", "20261125T080915")
	})

	t.Run("unknown server or operation", func(t *testing.T) {
		for _, args := range [][]string{
			{"list", "--server", "db9"},
			{"inspect", "--server", "db9", "20261125T080805"},
			{"wait", "--server", "db9", "20261125T080805"},
			{"cancel", "--server", "db9", "20261125T080805"},
			{"create", "config-switch", "-s", "db9", "--reset"},
			{"create", "recovery", "-s", "db9", "-b", "latest", "--remote-ssh-command", "ssh x", "-d", "/pgdata"},
		} {
			r := sameAsLocal(t, e, url, nil, cli.ExitNotFound, args...)
			if !strings.Contains(r.Stderr, `server "db9" is not in`) {
				t.Errorf("%q remotely: %v", args, r)
			}
		}
		for _, args := range [][]string{
			{"inspect", "20991231T000000"},
			{"wait", "20991231T000000"},
			{"cancel", "20991231T000000"},
			{"inspect", "--instance", "20261125T080805"},
		} {
			if r := remote(t, nil, url, args...); r.Code != cli.ExitNotFound || !strings.Contains(r.Stderr, args[len(args)-1]) {
				t.Errorf("%q remotely: want exit %d, got %v", args, cli.ExitNotFound, r)
			}
		}
		if r := remote(t, nil, url, "create", "recovery", "-s", "db_server_two", "-b", "20991231T000000", "--remote-ssh-command", "ssh x", "-d", "/pgdata"); r.Code != cli.ExitNotFound {
			t.Errorf("unknown backup remotely: want exit %d, got %v", cli.ExitNotFound, r)
		}
	})

	t.Run("create --wait", func(t *testing.T) {
		r := remote(t, nil, url, "create", "recovery", "-s", "db_server_two", "-b", "latest", "--remote-ssh-command", "ssh postgres@db2", "-d", "/pgdata", "--wait")
		id := strings.TrimSpace(r.Stdout)
		if r.Code != cli.ExitOK || !strings.HasPrefix(r.Stderr, "operation "+id+" DONE after ") {
			t.Fatalf("remote create --wait: %v", r)
		}
		op := opState(t, e, "db_server_two", id)
		if op.Type != ops.Recovery || op.Status != ops.StatusDone {
			t.Errorf("the operation is %s %s in the store", op.Type, op.Status)
		}
		calls := testenv.ArgvCalls(t, e.ArgvLog)
		if last := calls[len(calls)-1]; len(last) < 5 || last[2] != "recover" || last[3] != "db_server_two" {
			t.Errorf("Barman was not asked to recover: %q", last)
		}
		sameAsLocal(t, e, url, nil, cli.ExitOK, "inspect", id, "-o", "json")
	})

	t.Run("cancel", func(t *testing.T) {
		holdRunnerLock(t, e, "db_server_two")
		r := remote(t, nil, url, "create", "config-switch", "-s", "db_server_two", "--reset", "-o", "json")
		var created struct {
			OperationID string  `json:"operation_id"`
			Server      *string `json:"server"`
		}
		decodeJSON(t, r.Stdout, &created)
		id := created.OperationID
		if r.Code != 0 || created.Server == nil || *created.Server != "db_server_two" {
			t.Fatalf("remote create -o json: %v", r)
		}
		t.Cleanup(func() { e.run(t, "cancel", "-s", "db_server_two", id) })
		if op := opState(t, e, "db_server_two", id); op.Phase != ops.PhaseQueued {
			t.Fatalf("operation is %s, want queued", op.Phase)
		}
		r = remote(t, nil, url, "cancel", id)
		if r.Code != cli.ExitOK || r.Stdout != id+" FAILED (cancelled)\n" {
			t.Fatalf("remote cancel: %v", r)
		}
		op := opState(t, e, "db_server_two", id)
		if op.Phase != ops.PhaseCancelled || !strings.Contains(op.Reason, "cancelled by http:anonymous") {
			t.Errorf("in the store: %s (%s), reason %q", op.Status, op.Phase, op.Reason)
		}
		sameAsLocal(t, e, url, nil, cli.ExitOK, "inspect", id, "-o", "json")
		sameAsLocal(t, e, url, nil, cli.ExitStopped, "wait", id)
		sameAsLocal(t, e, url, nil, cli.ExitStopped, "logs", "-f", id)
		if r := remote(t, nil, url, "cancel", id); r.Code != cli.ExitConflict || !strings.Contains(r.Stderr, "already ended FAILED") {
			t.Errorf("remote cancel of an ended operation: want exit %d, got %v", cli.ExitConflict, r)
		}
	})
}

func TestRemoteNamed(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	srv := startServe(t, e, "")
	dead := closedURL(t)
	config := writeFile(t, e.Root, "client.toml",
		"[remotes.barman2]\nurl = \""+srv.URL+"/\"\n\n[remotes.dead]\nurl = \""+dead+"\"\n", 0o644)
	named := []string{"--config", config, "--remote", "barman2"}

	sameAsLocal(t, e, named, nil, cli.ExitOK, "list", "-o", "json")
	sameAsLocal(t, e, []string{"--config", config, "-r", "barman2"}, nil, cli.ExitOK, "inspect", "20261125T080916", "-o", "json")
	r := remote(t, nil, named, "create", "config-update", "--changes", instanceChanges, "--wait")
	id := strings.TrimSpace(r.Stdout)
	if r.Code != cli.ExitOK || opState(t, e, "", id).Status != ops.StatusDone {
		t.Errorf("create --wait through --remote: %v", r)
	}

	for _, tt := range []struct {
		global   []string
		args     []string
		wantCode int
		wantMsg  []string
	}{
		{[]string{"--config", config, "--remote", "nope"}, []string{"list"}, cli.ExitNotFound, []string{`remote "nope"`, "known: barman2, dead"}},
		{[]string{"--remote", "barman2"}, []string{"list"}, cli.ExitNotFound, []string{`remote "barman2"`, "known: none"}},
		{[]string{"--config", config, "--remote", "dead"}, []string{"list"}, cli.ExitUnavailable, []string{"cannot reach " + dead}},
		{[]string{"--url", dead}, []string{"list"}, cli.ExitUnavailable, []string{"cannot reach " + dead}},
		{[]string{"--url", dead}, []string{"inspect", "20261125T080805"}, cli.ExitUnavailable, []string{"cannot reach"}},
		{[]string{"--url", dead}, []string{"wait", "--instance", "20261125T080919"}, cli.ExitUnavailable, []string{"cannot reach"}},
		{[]string{"--url", dead}, []string{"create", "config-update", "--changes", instanceChanges}, cli.ExitUnavailable, []string{"cannot reach"}},
		{[]string{"--url", dead}, []string{"cancel", "-s", "db_server_two", "20261125T080805"}, cli.ExitUnavailable, []string{"cannot reach"}},
		{[]string{"--config", config, "--remote", "barman2", "--url", srv.URL}, []string{"list"}, cli.ExitUsage, []string{"not both"}},
		{[]string{"--url", "ftp://" + strings.TrimPrefix(srv.URL, "http://")}, []string{"list"}, cli.ExitUsage, []string{"want http://HOST:PORT"}},
	} {
		r := remote(t, nil, tt.global, tt.args...)
		if r.Code != tt.wantCode {
			t.Errorf("%q %q: want exit %d, got %v", tt.global, tt.args, tt.wantCode, r)
			continue
		}
		for _, m := range tt.wantMsg {
			if !strings.Contains(r.Stderr, m) {
				t.Errorf("%q %q: stderr does not mention %q: %v", tt.global, tt.args, m, r)
			}
		}
	}
}

func TestRemoteToken(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	const secret = "pgba_test-token-for-remote-mode"
	sum := sha256.Sum256([]byte(secret))
	serveConfig := writeFile(t, e.Root, "serve.toml",
		"[[serve.tokens]]\nname = \"ci\"\nsha256 = \""+hex.EncodeToString(sum[:])+"\"\n", 0o644)
	srv := startServe(t, e, serveConfig)
	url := []string{"--url", srv.URL}
	clientConfig := writeFile(t, e.Root, "client.toml",
		"[remotes.secure]\nurl = \""+srv.URL+"\"\ntoken = \""+secret+"\"\n", 0o600)

	for _, tt := range []struct {
		name   string
		env    []string
		global []string
	}{
		{"no token", nil, url},
		{"wrong token", nil, append([]string{"--token", "pgba_wrong"}, url...)},
		{"wrong token in the environment", []string{cli.EnvToken + "=pgba_wrong"}, url},
	} {
		r := remote(t, tt.env, tt.global, "list")
		if r.Code != cli.ExitUnavailable || !strings.Contains(r.Stderr, "--token") || !strings.Contains(r.Stderr, "401") {
			t.Errorf("%s: want exit %d mentioning --token and 401, got %v", tt.name, cli.ExitUnavailable, r)
		}
	}

	sameAsLocal(t, e, append([]string{"--token", secret}, url...), nil, cli.ExitOK, "list", "-o", "json")
	sameAsLocal(t, e, url, []string{cli.EnvToken + "=" + secret}, cli.ExitOK, "inspect", "20261125T080805", "-o", "json")
	sameAsLocal(t, e, []string{"--config", clientConfig, "--remote", "secure"}, nil, cli.ExitOK, "list", "--server", "db_server_two")
	// --token beats the config file's token.
	if r := remote(t, nil, []string{"--config", clientConfig, "--remote", "secure", "--token", "pgba_wrong"}, "list"); r.Code != cli.ExitUnavailable {
		t.Errorf("--token did not override the remote's token: %v", r)
	}

	r := remote(t, nil, append([]string{"--token", secret}, url...), "create", "config-update", "--changes", instanceChanges, "--wait")
	id := strings.TrimSpace(r.Stdout)
	if r.Code != cli.ExitOK {
		t.Fatalf("create --wait with a token: %v", r)
	}
	job, err := os.ReadFile(filepath.Join(e.Home, "jobs", id+".json"))
	if err != nil || !strings.Contains(string(job), "http:token:ci") {
		t.Errorf("the job file does not name the token that asked for it (%v):\n%s", err, job)
	}
}
