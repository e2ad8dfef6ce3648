package cli_test

import (
	"encoding/json"
	"encoding/pem"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/cli"
)

// fakeAPI answers the reads the CLI makes of a server with one operation,
// and remembers the Authorization header of each request.
type fakeAPI struct {
	mu    sync.Mutex
	auths []string
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	f.auths = append(f.auths, r.Header.Get("Authorization"))
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	op := `{"id": "20261125T080447", "operation_id": "20261125T080447", "type": "config_update", "status": "DONE", "phase": "done",
		"start_time": "2026-11-25T08:04:47Z", "end_time": "2026-11-25T08:04:48Z", "exit_code": 0}`
	switch r.URL.Path {
	case "/servers":
		w.Write([]byte(`{"servers": []}`))
	case "/operations":
		w.Write([]byte(`{"operations": [` + op + `]}`))
	case "/operations/20261125T080447":
		w.Write([]byte(op))
	default:
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"error": "no such thing"}`))
	}
}

func (f *fakeAPI) lastAuth() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.auths) == 0 {
		return ""
	}
	return f.auths[len(f.auths)-1]
}

// TestGlobalFlagsAfterTheCommand: the global flags work where people type
// them, after the command name as well as before it, and the one after
// wins when both are given.
func TestGlobalFlagsAfterTheCommand(t *testing.T) {
	api := &fakeAPI{}
	srv := httptest.NewServer(api)
	defer srv.Close()
	dead := closedURL(t)
	dir := t.TempDir()
	remotes := writeFile(t, dir, "client.toml", "[remotes.barman2]\nurl = \""+srv.URL+"\"\n\n[remotes.dead]\nurl = \""+dead+"\"\n", 0o644)
	broken := writeFile(t, dir, "broken.toml", "this is not TOML = = =\n", 0o644)

	const id = "20261125T080447"
	ok := func(r result) bool { return r.Code == cli.ExitOK && strings.Contains(r.Stdout, id) }
	for _, tt := range []struct {
		name string
		args []string
		want func(result) bool
	}{
		{"url after list", []string{"list", "--url", srv.URL}, ok},
		{"url= after list", []string{"list", "--url=" + srv.URL}, ok},
		{"url after ls, before its flags", []string{"ls", "--url", srv.URL, "--instance"}, ok},
		{"url after inspect and its ID", []string{"inspect", id, "--url", srv.URL}, ok},
		{"url after wait", []string{"wait", "--instance", id, "--url", srv.URL}, func(r result) bool { return r.Code == cli.ExitOK }},
		{"url after logs", []string{"logs", "--instance", "--url", srv.URL, id}, func(r result) bool { return r.Code == cli.ExitOK }},
		{"url after create config-update", []string{"create", "config-update", "--changes", "[]", "--url", dead},
			func(r result) bool {
				return r.Code == cli.ExitUnavailable && strings.Contains(r.Msg, "cannot reach "+dead)
			}},
		{"url after create --payload", []string{"create", "--payload", "-", "--url", dead},
			func(r result) bool {
				return r.Code == cli.ExitUnavailable && strings.Contains(r.Msg, "cannot reach "+dead)
			}},
		{"url after cancel", []string{"cancel", "--instance", id, "--url", dead},
			func(r result) bool {
				return r.Code == cli.ExitUnavailable && strings.Contains(r.Msg, "cannot reach "+dead)
			}},
		{"after wins over before", []string{"--url", dead, "list", "--url", srv.URL}, ok},
		{"after wins over before, the other way", []string{"--url", srv.URL, "list", "--url", dead},
			func(r result) bool {
				return r.Code == cli.ExitUnavailable && strings.Contains(r.Msg, "cannot reach "+dead)
			}},
		{"remote and config after list", []string{"list", "--config", remotes, "--remote", "barman2"}, ok},
		{"-r after list, config before", []string{"--config", remotes, "list", "-r", "barman2"}, ok},
		{"remote after wins", []string{"--config", remotes, "-r", "dead", "inspect", id, "-r", "barman2"}, ok},
		{"config after wins", []string{"--config", broken, "list", "--config", remotes, "-r", "barman2"}, ok},
		{"config after, broken", []string{"--config", remotes, "list", "--config", broken, "-r", "barman2"},
			func(r result) bool { return r.Code == cli.ExitUsage && strings.Contains(r.Msg, broken) }},
		{"url and remote split around the command", []string{"--url", srv.URL, "list", "--config", remotes, "-r", "barman2"},
			func(r result) bool { return r.Code == cli.ExitUsage && strings.Contains(r.Msg, "not both") }},
		{"client cert after, without its key", []string{"list", "--url", srv.URL, "--client-cert", remotes},
			func(r result) bool { return r.Code == cli.ExitUsage && strings.Contains(r.Msg, "go together") }},
		{"ca-cert after", []string{"list", "--url", srv.URL, "--ca-cert", remotes},
			func(r result) bool {
				return r.Code == cli.ExitUsage && strings.Contains(r.Msg, "holds no PEM certificate")
			}},
		{"-o before the command", []string{"-o", "json", "list", "--url", srv.URL},
			func(r result) bool { return r.Code == cli.ExitOK && json.Valid([]byte(r.Stdout)) }},
		{"-o after wins", []string{"-o", "json", "list", "--url", srv.URL, "-o", "plain"},
			func(r result) bool { return r.Code == cli.ExitOK && strings.HasPrefix(r.Stdout, id+"\t") }},
		{"-o before version", []string{"--output", "json", "version"},
			func(r result) bool { return r.Code == cli.ExitOK && strings.Contains(r.Stdout, `"version": "1.2.3"`) }},
		{"prune refuses url after it too", []string{"prune", "--older-than", "1d", "--url", srv.URL},
			func(r result) bool { return r.Code == cli.ExitUsage && strings.Contains(r.Msg, "local store only") }},
		{"an unknown flag stays an error", []string{"list", "--nope", "1"},
			func(r result) bool {
				return r.Code == cli.ExitUsage && strings.Contains(r.Msg, "unknown flag: --nope")
			}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if r := runApp(t, `{"type": "config_update", "changes": []}`, tt.args...); !tt.want(r) {
				t.Errorf("%q: %v", tt.args, r)
			}
		})
	}

	t.Run("token", func(t *testing.T) {
		t.Setenv(cli.EnvToken, "from-env")
		for _, tt := range []struct {
			args []string
			want string
		}{
			{[]string{"list", "--url", srv.URL}, "Bearer from-env"},
			{[]string{"--token", "before", "list", "--url", srv.URL}, "Bearer before"},
			{[]string{"list", "--url", srv.URL, "--token", "after"}, "Bearer after"},
			{[]string{"--token", "before", "inspect", id, "--url", srv.URL, "--token", "after"}, "Bearer after"},
		} {
			if r := runApp(t, "", tt.args...); r.Code != cli.ExitOK {
				t.Errorf("%q: %v", tt.args, r)
			}
			if got := api.lastAuth(); got != tt.want {
				t.Errorf("%q sent Authorization %q, want %q", tt.args, got, tt.want)
			}
		}
	})

	t.Run("ca-cert after the command, over TLS", func(t *testing.T) {
		tlsSrv := httptest.NewTLSServer(api)
		defer tlsSrv.Close()
		ca := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tlsSrv.Certificate().Raw})
		caFile := writeFile(t, dir, "ca.crt", string(ca), 0o644)
		if r := runApp(t, "", "list", "--url", tlsSrv.URL, "--ca-cert", caFile); !ok(r) {
			t.Errorf("list --url https --ca-cert after: %v", r)
		}
		if r := runApp(t, "", "--ca-cert", caFile, "list", "--url", tlsSrv.URL); !ok(r) {
			t.Errorf("--ca-cert before list: %v", r)
		}
		if r := runApp(t, "", "list", "--url", tlsSrv.URL); r.Code != cli.ExitUnavailable {
			t.Errorf("without the CA the server must not be trusted: %v", r)
		}
	})
}

// TestGlobalBarmanConfigAfterTheCommand: --barman-config and --config after
// the command choose the local store and Barman configuration too.
func TestGlobalBarmanConfigAfterTheCommand(t *testing.T) {
	e := newEnv(t, true)
	cmd := []string{"--barman-command", fakeBarman}
	wantList := func(r result) bool { return r.Code == cli.ExitOK && strings.Contains(r.Stdout, "20261125T080805") }
	for _, args := range [][]string{
		{"list", "--barman-config", e.Conf},
		{"--barman-config", "/nonexistent/barman.conf", "list", "--barman-config", e.Conf},
		{"inspect", "20261125T080805", "--barman-config", e.Conf},
		{"list", "--config", writeFile(t, e.Root, "c.toml", "barman_config = \""+e.Conf+"\"\n", 0o644)},
	} {
		if r := runApp(t, "", append(cmd, args...)...); !wantList(r) {
			t.Errorf("%q: %v", args, r)
		}
	}
	r := runApp(t, "", append(cmd, "--barman-config", e.Conf, "list", "--barman-config", "/nonexistent/barman.conf")...)
	if r.Code != cli.ExitUnavailable || !strings.Contains(r.Msg, "/nonexistent/barman.conf") {
		t.Errorf("the --barman-config after the command must win: %v", r)
	}
	r = runApp(t, "", append(cmd, "prune", "--older-than", "1d", "--dry-run", "--barman-config", e.Conf)...)
	if r.Code != cli.ExitOK {
		t.Errorf("prune --barman-config after: %v", r)
	}

	// status reads serve.listen from the --config after it.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`"OK"`)) }))
	defer srv.Close()
	conf := writeFile(t, e.Root, "s.toml", "[serve]\nlisten = \""+strings.TrimPrefix(srv.URL, "http://")+"\"\n", 0o644)
	if r := runApp(t, "", "status", "--config", conf); r.Code != cli.ExitOK || r.Stdout != "OK\n" {
		t.Errorf("status --config after: %v", r)
	}
	// And its own --url, given before it as people give global flags.
	if r := runApp(t, "", "--url", srv.URL, "status"); r.Code != cli.ExitOK || r.Stdout != "OK\n" {
		t.Errorf("--url before status: %v", r)
	}
}

// TestGlobalFlagsInHelp: each command's --help lists the global flags it
// takes, so people find them where they type them (the man page and the
// completions are made from the same definitions; TestDocsUpToDate keeps
// them in step).
func TestGlobalFlagsInHelp(t *testing.T) {
	for _, tt := range []struct {
		cmd  []string
		want []string
	}{
		{[]string{"list"}, []string{"--url URL", "--remote NAME, -r NAME", "--token TOKEN", "--ca-cert FILE", "--client-cert FILE", "--client-key FILE", "--config FILE", "--barman-config FILE", "--output FORMAT, -o FORMAT"}},
		{[]string{"create", "recovery"}, []string{"--url URL", "--remote NAME", "--token TOKEN", "--config FILE", "--barman-config FILE", "-o FORMAT"}},
		{[]string{"inspect"}, []string{"--url URL", "--config FILE", "-o FORMAT"}},
		{[]string{"logs"}, []string{"--url URL", "--config FILE"}},
		{[]string{"serve"}, []string{"--config FILE", "--barman-config FILE"}},
	} {
		r := runApp(t, "", append(tt.cmd, "--help")...)
		if r.Code != cli.ExitOK {
			t.Fatalf("%q --help: %v", tt.cmd, r)
		}
		for _, w := range tt.want {
			if !strings.Contains(r.Stdout, w) {
				t.Errorf("%q --help does not list %q:\n%s", tt.cmd, w, r.Stdout)
			}
		}
	}
}
