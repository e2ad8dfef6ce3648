package cli_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/cli"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
)

// webhookReceiver is an HTTP listener that hands over each body it gets.
func webhookReceiver(t *testing.T) (string, <-chan []byte) {
	t.Helper()
	got := make(chan []byte, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got <- body
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/hook", got
}

// notifyConfig is a configuration file, readable by its owner alone, with
// a webhook to url.
func notifyConfig(t *testing.T, dir, url, extra string) string {
	t.Helper()
	return writeFile(t, dir, "pg-backup-api.toml",
		extra+"\n[[notify.webhooks]]\nurl = \""+url+"\"\nsecret = \"s3cret\"\n", 0o600)
}

// The runner serve starts reads the configuration file serve was given
// with --config, so the webhook configured there is told when the
// operation ends. Before, the runner was given --barman-config alone, read
// $PG_BACKUP_API_CONFIG (here an empty file) and never queued the event.
func TestServeRunnerReadsServesConfig(t *testing.T) {
	e := newEnv(t, false)
	url, got := webhookReceiver(t)
	srv := startServe(t, e, notifyConfig(t, t.TempDir(), url, ""))
	resp, err := http.Post(srv.URL+"/servers/db_server_two/operations", "application/json",
		strings.NewReader(`{"type": "config_switch", "model_name": "my-model"}`))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Fatalf("POST: %s %s", resp.Status, body)
	}
	select {
	case b := <-got:
		var ev struct{ Event, Server, Type, Status string }
		if err := json.Unmarshal(b, &ev); err != nil || ev.Server != "db_server_two" || ev.Type != "config_switch" || ev.Status != "DONE" {
			t.Errorf("webhook got %s (%v), want the config_switch of db_server_two, DONE", b, err)
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no webhook within 30 s of the operation; serve's log:\n%s", srv.Log())
	}
}

// The runner create starts reads create's --config too: the operation's
// end is queued for the webhook configured there.
func TestCreateRunnerReadsCreatesConfig(t *testing.T) {
	e := newEnv(t, false)
	config := notifyConfig(t, t.TempDir(), "http://127.0.0.1:9/hook", "")
	r := e.exec(t, nil, "", "--config", config, "create", "config-switch", "--server", "db_server_two", "--model-name", "my-model", "--wait")
	if r.Code != 0 {
		t.Fatalf("create: %v", r)
	}
	events, _ := filepath.Glob(filepath.Join(e.Home, ".pg-backup-api", "notify", "*"))
	if len(events) == 0 {
		t.Errorf("the runner queued no notification in %s; runner.err:\n%s", filepath.Join(e.Home, ".pg-backup-api", "notify"), runnerErr(t, e))
	}
}

func runnerErr(t *testing.T, e *env) string {
	t.Helper()
	var all string
	matches, _ := filepath.Glob(filepath.Join(e.Home, "*", "*", "runner.err"))
	more, _ := filepath.Glob(filepath.Join(e.Home, ".pg-backup-api", "runner.err"))
	for _, m := range append(matches, more...) {
		data, _ := os.ReadFile(m)
		all += m + ":\n" + string(data)
	}
	return all
}

// jsonLines fails the test unless every line of log is a JSON record.
func jsonLines(t *testing.T, what, log string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSuffix(log, "\n"), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil || rec["level"] == nil || rec["msg"] == nil {
			t.Fatalf("%s: line %q is not a JSON record (%v); all of it:\n%s", what, line, err, log)
		}
		recs = append(recs, rec)
	}
	return recs
}

// With --log-format json, serve's log is JSON from its first line: the
// warnings of start-up (another user than Barman's, secrets in a file
// others may read) too, which were lines of text before.
func TestServeJSONLogFromFirstLine(t *testing.T) {
	e := newEnv(t, false)
	conf, err := os.ReadFile(e.Conf)
	if err != nil {
		t.Fatal(err)
	}
	other := strings.Replace(string(conf), "barman_user = ", "barman_user = nobody\n#", 1)
	if err := os.WriteFile(e.Conf, []byte(other), 0o644); err != nil {
		t.Fatal(err)
	}
	config := notifyConfig(t, t.TempDir(), "http://127.0.0.1:9/hook", "")
	if err := os.Chmod(config, 0o644); err != nil {
		t.Fatal(err)
	}
	srv := testenv.StartServe(t, testenv.ServeOptions{
		Binary:   binary,
		Args:     []string{"--config", config, "--barman-config", e.Conf, "--barman-command", fakeBarman, "serve", "--log-format", "json"},
		Env:      append(os.Environ(), "FAKE_BARMAN_ARGV_LOG="+e.ArgvLog),
		Graceful: true,
	})
	recs := jsonLines(t, "serve's log", srv.Log())
	var user, secrets bool
	for _, rec := range recs {
		msg, _ := rec["msg"].(string)
		user = user || rec["level"] == "WARN" && strings.Contains(msg, "not as Barman's user nobody")
		secrets = secrets || rec["level"] == "WARN" && strings.Contains(msg, "notify.webhooks[0].secret") && strings.Contains(msg, config)
	}
	if !user || !secrets {
		t.Errorf("want JSON warnings about the user (%v) and the readable secrets (%v):\n%s", user, secrets, srv.Log())
	}

	// Ending with an error ends with a JSON record too, and its exit code.
	r := e.exec(t, nil, "", "--config", config, "serve", "--log-format", "json", "--listen", "127.0.0.1:99999")
	if r.Code != cli.ExitUnavailable {
		t.Errorf("serve on a bad address: %v; want exit %d", r, cli.ExitUnavailable)
	}
	recs = jsonLines(t, "serve's standard error", r.Stderr)
	if last := recs[len(recs)-1]; last["level"] != "ERROR" || !strings.Contains(last["msg"].(string), "cannot listen on 127.0.0.1:99999") {
		t.Errorf("the last record is %v, want the error", last)
	}
}

// A runner under --log-format json writes its exit error as a JSON record:
// runner.err stays JSON whatever ends the runner.
func TestRunnerExitErrorJSON(t *testing.T) {
	e := newEnv(t, false)
	r := e.exec(t, nil, "", "run", "--log-format", "json", "--timeout", "restore=1h")
	if r.Code != cli.ExitUsage {
		t.Fatalf("run with a bad --timeout: %v; want exit %d", r, cli.ExitUsage)
	}
	recs := jsonLines(t, "the runner's standard error", r.Stderr)
	if msg, _ := recs[0]["msg"].(string); !strings.Contains(msg, `--timeout "restore=1h"`) {
		t.Errorf("the record is %v, want the --timeout error", recs[0])
	}
}

// Without --config and PG_BACKUP_API_CONFIG, the configuration is the
// first that exists of $XDG_CONFIG_HOME/pg-backup-api/config.toml (else
// ~/.config/pg-backup-api/config.toml) and the system file; only the first
// is read. Messages about what the file lacks name it.
func TestConfigSearchOrder(t *testing.T) {
	dir := t.TempDir()
	system := filepath.Join(dir, "etc", "pg-backup-api.toml")
	cli.SetSystemConfigPath(t, system)
	t.Setenv(cli.EnvConfig, "")
	os.Unsetenv(cli.EnvConfig)
	home := filepath.Join(dir, "home")
	xdg := filepath.Join(dir, "xdg")
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", xdg)
	// Each file names a remote of its own: which one is known says which
	// file was read.
	remoteIn := func(path, name string) {
		writeFile(t, filepath.Dir(path), filepath.Base(path), "[remotes."+name+"]\nurl = \"http://127.0.0.1:9\"\n", 0o600)
	}
	lookup := func(t *testing.T, args ...string) string {
		t.Helper()
		r := runApp(t, "", append(args, "list", "--remote", "nope")...)
		if r.Code != cli.ExitNotFound {
			t.Fatalf("want exit %d for an unknown remote, got %v", cli.ExitNotFound, r)
		}
		return r.Msg
	}

	if msg := lookup(t); !strings.Contains(msg, "none found") || !strings.Contains(msg, filepath.Join(xdg, "pg-backup-api", "config.toml")) || !strings.Contains(msg, system) {
		t.Errorf("with no file, the message must say where it looked: %s", msg)
	}
	remoteIn(system, "from_etc")
	if msg := lookup(t); !strings.Contains(msg, "not in "+system) || !strings.Contains(msg, "known: from_etc") {
		t.Errorf("want the system file read: %s", msg)
	}
	// XDG_CONFIG_HOME naming a file: nothing is under it, so the search
	// goes on to the system file.
	t.Setenv("XDG_CONFIG_HOME", writeFile(t, dir, "xdg-file", "", 0o644))
	if msg := lookup(t); !strings.Contains(msg, "not in "+system) || !strings.Contains(msg, "known: from_etc") {
		t.Errorf("with XDG_CONFIG_HOME a file, want the system file read: %s", msg)
	}
	t.Setenv("XDG_CONFIG_HOME", xdg)
	homeFile := filepath.Join(home, ".config", "pg-backup-api", "config.toml")
	remoteIn(homeFile, "from_home")
	if msg := lookup(t); !strings.Contains(msg, "known: from_etc") {
		t.Errorf("~/.config is not read while XDG_CONFIG_HOME says elsewhere: %s", msg)
	}
	t.Setenv("XDG_CONFIG_HOME", "")
	if msg := lookup(t); !strings.Contains(msg, "not in "+homeFile) || !strings.Contains(msg, "known: from_home") {
		t.Errorf("without XDG_CONFIG_HOME, want ~/.config/pg-backup-api/config.toml: %s", msg)
	}
	t.Setenv("XDG_CONFIG_HOME", xdg)
	xdgFile := filepath.Join(xdg, "pg-backup-api", "config.toml")
	remoteIn(xdgFile, "from_xdg")
	if msg := lookup(t); !strings.Contains(msg, "known: from_xdg)") {
		t.Errorf("want the XDG file, alone (files are not merged): %s", msg)
	}
	explicit := filepath.Join(dir, "explicit.toml")
	remoteIn(explicit, "from_flag")
	t.Setenv(cli.EnvConfig, explicit)
	if msg := lookup(t); !strings.Contains(msg, "not in "+explicit) || !strings.Contains(msg, "known: from_flag)") {
		t.Errorf("want $%s's file: %s", cli.EnvConfig, msg)
	}
	os.Unsetenv(cli.EnvConfig)
	if msg := lookup(t, "--config", explicit); !strings.Contains(msg, "known: from_flag)") {
		t.Errorf("want --config's file: %s", msg)
	}
	// A file that exists but cannot be read is an error naming it, not a
	// reason to read the next one.
	if err := os.Remove(xdgFile); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(xdgFile, 0o755); err != nil {
		t.Fatal(err)
	}
	if r := runApp(t, "", "version"); r.Code != cli.ExitUsage || !strings.Contains(r.Msg, xdgFile) {
		t.Errorf("an unreadable first file: %v; want exit %d naming %s", r, cli.ExitUsage, xdgFile)
	}
}

// An unknown key is reported with its file and line and the key it most
// likely meant, not with a list of every key.
func TestConfigUnknownKeyLine(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		content string
		want    []string
	}{
		{"barman_config = \"/etc/barman.conf\"\n\n[serve]\nlisten = \"127.0.0.1:1\"\nlistn = \"x\"\n", []string{"c.toml:5: unknown key serve.listn (did you mean serve.listen?)"}},
		{"log_format = \"json\"\n", []string{"c.toml:1: unknown key log_format (did you mean serve.log_format?)"}},
		{"# a comment\n[remotes.b2]\nurl = \"https://b2\"\ntokn = \"x\"\n", []string{"c.toml:4: unknown key remotes.b2.tokn (did you mean remotes.b2.token?)"}},
		{"[[notify.webhooks]]\nurl = \"https://h\"\nsecrett = \"x\"\n", []string{"c.toml:3: unknown key notify.webhooks.secrett (did you mean notify.webhooks.secret?)"}},
		{"\n[auth]\ntoken = \"x\"\n", []string{"c.toml:2: unknown key auth"}},
		// A misspelt table is one unknown key, and gets the table meant.
		{"[[notify.webhook]]\nurl = \"https://h\"\nsecret = \"x\"\n", []string{"c.toml:1: unknown key notify.webhook (did you mean notify.webhooks?)"}},
		{"[[serve.token]]\nname = \"ci\"\n", []string{"c.toml:1: unknown key serve.token (did you mean serve.tokens?)"}},
		{"[drill]\ndirectory = \"/x\"\n", []string{"c.toml:1: unknown key drill (did you mean drills?)"}},
		{"[drills]\nzz = 1\n", []string{"c.toml:2: unknown key drills.zz; every key"}}, // not "did you mean drills?", the table it is in
	} {
		path := writeFile(t, dir, "c.toml", tt.content, 0o600)
		r := runApp(t, "", "--config", path, "version")
		if r.Code != cli.ExitUsage {
			t.Errorf("%q: want exit %d, got %v", tt.content, cli.ExitUsage, r)
		}
		for _, w := range tt.want {
			if !strings.Contains(r.Msg, w) {
				t.Errorf("%q: message %q lacks %q", tt.content, r.Msg, w)
			}
		}
		if strings.Contains(r.Msg, "known:") || strings.Contains(r.Msg, "runner.backup_timeout") {
			t.Errorf("%q: the message lists the known keys: %s", tt.content, r.Msg)
		}
	}
}

// A configuration file holding secrets that every user may read is
// warned about; one readable by its owner and group is not, nor one
// without secrets.
func TestConfigSecretsReadableWarning(t *testing.T) {
	dir := t.TempDir()
	for _, tt := range []struct {
		name    string
		content string
		mode    os.FileMode
		warn    string
	}{
		{"remote token, 0644", "[remotes.b2]\nurl = \"https://b2\"\ntoken = \"pgba_x\"\n", 0o644, "remotes.b2.token"},
		{"webhook secret, 0604", "[[notify.webhooks]]\nurl = \"https://h\"\nsecret = \"x\"\n", 0o604, "notify.webhooks[0].secret"},
		{"password in a webhook URL, 0644", "[[notify.webhooks]]\nurl = \"https://u:pw@h\"\nsecret = \"x\"\n", 0o644, "notify.webhooks[0].url (a password)"},
		{"remote token, 0640", "[remotes.b2]\nurl = \"https://b2\"\ntoken = \"pgba_x\"\n", 0o640, ""},
		{"no secret, 0644", "[serve]\nlisten = \"127.0.0.1:1\"\n", 0o644, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := writeFile(t, dir, strings.ReplaceAll(tt.name, " ", "_")+".toml", tt.content, tt.mode)
			if err := os.Chmod(path, tt.mode); err != nil { // whatever the umask
				t.Fatal(err)
			}
			r := runApp(t, "", "--config", path, "version")
			if r.Code != 0 {
				t.Fatalf("version: %v", r)
			}
			if tt.warn == "" {
				if r.Stderr != "" {
					t.Errorf("want no warning, got %q", r.Stderr)
				}
				return
			}
			if !strings.HasPrefix(r.Stderr, "pg-backup-api: warning: "+path) || !strings.Contains(r.Stderr, tt.warn) || !strings.Contains(r.Stderr, "chmod o-rwx") {
				t.Errorf("want a warning naming %s and %s, got %q", path, tt.warn, r.Stderr)
			}
		})
	}
}
