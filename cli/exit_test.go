package cli_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/cli"
	"github.com/pg-backup-api/pg-backup-api/store"
	urfavecli "github.com/urfave/cli/v2"
)

// exitCodes is every exit status documented in cli/exit.go.
var exitCodes = map[int]string{
	cli.ExitOK:          "ExitOK",
	cli.ExitError:       "ExitError",
	cli.ExitUsage:       "ExitUsage",
	cli.ExitNotFound:    "ExitNotFound",
	cli.ExitFailed:      "ExitFailed",
	cli.ExitUnavailable: "ExitUnavailable",
	cli.ExitConflict:    "ExitConflict",
	cli.ExitStopped:     "ExitStopped",
	cli.ExitSomeRemotes: "ExitSomeRemotes",
}

// TestExitCodes produces every exit status the way a user would meet it.
func TestExitCodes(t *testing.T) {
	t.Parallel()
	const changes = `[{"scope":"server","server_name":"db_server_two","archiver":"on"}]`
	tests := []struct {
		name     string
		setup    func(t *testing.T, e *env) []string // extra args' placeholders: returns args to use, or nil
		args     []string
		stdin    string
		binary   bool     // run the real binary (the operation runs)
		env      []string // for the binary
		wantCode int
		wantMsg  []string // in the message (in-process) or stderr (binary)
		wantOut  string   // in stdout
	}{
		{name: "list", args: []string{"list"}, wantCode: cli.ExitOK, wantOut: "20261125T080805"},
		{name: "create --wait, DONE", args: []string{"create", "config-update", "--changes", changes, "--wait"}, binary: true, wantCode: cli.ExitOK, wantMsg: []string{"DONE"}},

		{
			// Not an error either: it reads FAILED and says which file is damaged.
			name: "damaged job file", args: []string{"inspect", "20261125T100000"}, wantCode: cli.ExitOK, wantOut: "Status:    FAILED\n",
			setup: func(t *testing.T, e *env) []string {
				writeFile(t, e.Home, "jobs/20261125T100000.json", `{"type": "config_update", "changes": [`, 0o644)
				return nil
			},
		},
		{
			// Not an error: the operation reads FAILED and says why.
			name: "damaged output file", args: []string{"inspect", "20261125T080805", "-s", "db_server_two"}, wantCode: cli.ExitOK, wantOut: "Status:    FAILED\n",
			setup: func(t *testing.T, e *env) []string {
				writeFile(t, e.Home, "db_server_two/output/20261125T080805.json", `{"success": `, 0o644)
				return nil
			},
		},

		{name: "unknown global flag", args: []string{"--barman-conf", "x", "list"}, wantCode: cli.ExitUsage, wantMsg: []string{"barman-conf"}},
		{name: "unknown command flag", args: []string{"list", "--verbose"}, wantCode: cli.ExitUsage, wantMsg: []string{"verbose"}},
		{name: "bad flag value", args: []string{"status", "--timeout", "soon"}, wantCode: cli.ExitUsage, wantMsg: []string{"soon"}},
		{name: "bad payload", args: []string{"create", "--payload", "-"}, stdin: `{"type": "config_update"`, wantCode: cli.ExitUsage, wantMsg: []string{"payload"}},
		{name: "unknown output format", args: []string{"version", "-o", "yaml"}, wantCode: cli.ExitUsage, wantMsg: []string{`"yaml"`, "table, plain or json"}},
		{name: "missing required flag", args: []string{"create", "recovery", "--server", "db_server_two", "--backup-id", "latest", "--destination-directory", "/pgdata"}, wantCode: cli.ExitUsage, wantMsg: []string{"remote-ssh-command"}},
		{name: "unknown command", args: []string{"frobnicate"}, wantCode: cli.ExitUsage, wantMsg: []string{`unknown command "frobnicate"`}},
		{name: "no command shows help", args: []string{}, wantCode: cli.ExitOK, wantOut: "COMMANDS"},

		{name: "unknown server", args: []string{"list", "--server", "db9"}, wantCode: cli.ExitNotFound, wantMsg: []string{`"db9"`, "db_server_two"}},
		{name: "unknown backup", args: []string{"create", "recovery", "-s", "db_server_two", "-b", "20991231T000000", "--remote-ssh-command", "ssh db2", "-d", "/pgdata"}, wantCode: cli.ExitNotFound, wantMsg: []string{`"20991231T000000"`}},
		{name: "unknown model", args: []string{"create", "config-switch", "-s", "db_server_two", "-m", "model9"}, wantCode: cli.ExitNotFound, wantMsg: []string{`"model9"`, "my-model"}},
		{name: "unknown operation", args: []string{"inspect", "20991231T000000"}, wantCode: cli.ExitNotFound, wantMsg: []string{"20991231T000000"}},

		{name: "create --wait, FAILED", args: []string{"create", "config-update", "--changes", changes, "--wait"}, binary: true, env: []string{"FAKE_BARMAN_EXIT=1"}, wantCode: cli.ExitFailed, wantMsg: []string{"FAILED", "ERROR: fake failure"}},
		{name: "create --wait -o json, FAILED", args: []string{"create", "config-switch", "-s", "db_server_two", "--reset", "-w", "-o", "json"}, binary: true, env: []string{"FAKE_BARMAN_EXIT=2"}, wantCode: cli.ExitFailed, wantOut: `"status": "FAILED"`},
		{name: "Barman not found", args: []string{"--barman-command", "/nonexistent/barman", "create", "config-update", "--changes", changes, "--wait"}, binary: true, wantCode: cli.ExitFailed, wantMsg: []string{"cannot start Barman", "--barman-command"}},

		{
			name: "Barman configuration missing", wantCode: cli.ExitUnavailable, wantMsg: []string{"/nonexistent/barman.conf", "--barman-config", "PG_BACKUP_API_BARMAN_CONF"},
			args: []string{"--barman-config", "/nonexistent/barman.conf", "list"},
		},
		{
			name: "Barman configuration missing, binary", wantCode: cli.ExitUnavailable, wantMsg: []string{"/nonexistent/barman.conf", "--barman-config", "PG_BACKUP_API_BARMAN_CONF"},
			args: []string{"--barman-config", "/nonexistent/barman.conf", "inspect", "20261125T080805"}, binary: true,
		},
		{
			name: "Barman configuration unreadable", wantCode: cli.ExitUnavailable, wantMsg: []string{"--barman-config", "PG_BACKUP_API_BARMAN_CONF"},
			setup: func(t *testing.T, e *env) []string {
				// A directory: unreadable as a file even for root.
				return []string{"--barman-config", filepath.Join(e.Root, "etc"), "create", "config-update", "--changes", changes}
			},
		},
		{
			name: "not Barman's configuration", wantCode: cli.ExitUnavailable, wantMsg: []string{"[barman]"},
			setup: func(t *testing.T, e *env) []string {
				return []string{"--barman-config", writeFile(t, e.Root, "other.conf", "[main]\nx = 1\n", 0o644), "list"}
			},
		},
		{
			name: "barman_home missing", args: []string{"create", "config-update", "--changes", changes}, wantCode: cli.ExitUnavailable, wantMsg: []string{"barman_home"},
			setup: func(t *testing.T, e *env) []string {
				if err := os.Rename(e.Home, e.Home+".moved"); err != nil {
					t.Fatal(err)
				}
				return nil
			},
		},
		{
			// As create says it: a mistyped barman_home must not read as an
			// empty store, or a cron job alerting on FAILED falls silent.
			name: "barman_home missing, list", args: []string{"list"}, wantCode: cli.ExitUnavailable, wantMsg: []string{"barman_home", "does not exist"},
			setup: moveHome,
		},
		{name: "barman_home missing, inspect", args: []string{"inspect", "20261125T080805"}, wantCode: cli.ExitUnavailable, wantMsg: []string{"barman_home", "does not exist"}, setup: moveHome},
		{
			// An answer the API never gives is a fault, not a state to act on.
			name: "server answers an unexpected status", wantCode: cli.ExitError, wantMsg: []string{"teapot"},
			setup: func(t *testing.T, e *env) []string {
				srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.WriteHeader(http.StatusTeapot)
					w.Write([]byte(`{"error": "I am a teapot"}`))
				}))
				t.Cleanup(srv.Close)
				return []string{"--url", srv.URL, "inspect", "-s", "db_server_two", "20261125T080805"}
			},
		},
		{
			name: "a remote of several fails", wantCode: cli.ExitSomeRemotes, wantMsg: []string{"2 of 2 remotes failed (a, b)"},
			setup: func(t *testing.T, e *env) []string {
				conf := writeFile(t, e.Root, "c.toml", "[remotes.a]\nurl = \"http://127.0.0.1:1\"\n\n[remotes.b]\nurl = \"http://127.0.0.1:1\"\n", 0o644)
				return []string{"--config", conf, "-r", "a,b", "list"}
			},
		},
		{name: "status of nothing", args: []string{"status", "--url", "http://127.0.0.1:1"}, wantCode: cli.ExitUnavailable, wantMsg: []string{"no answer"}},

		{name: "cancel an ended operation", args: []string{"cancel", "20261125T080805"}, wantCode: cli.ExitConflict, wantMsg: []string{"20261125T080805", "already ended DONE"}},
		{
			name: "every ID of the second taken", args: []string{"create", "config-update", "--changes", changes}, wantCode: cli.ExitConflict, wantMsg: []string{"retry"},
			setup: takeEveryID,
		},
		{
			name: "create --wait, timed out", binary: true, env: []string{"FAKE_BARMAN_SLEEP=30"}, wantCode: cli.ExitStopped,
			wantMsg: []string{"FAILED", "timed out", "runner.config_update_timeout"},
			setup: func(t *testing.T, e *env) []string {
				conf := writeFile(t, e.Root, "c.toml", "[runner]\nconfig_update_timeout = \"1s\"\n", 0o644)
				return []string{"--config", conf, "create", "config-update", "--changes", changes, "--wait"}
			},
		},
	}
	seen := map[int]bool{}
	for _, tt := range tests {
		seen[tt.wantCode] = true
		t.Run(fmt.Sprintf("%d %s", tt.wantCode, tt.name), func(t *testing.T) {
			e := newEnv(t, true)
			args := tt.args
			if tt.setup != nil {
				if a := tt.setup(t, e); a != nil {
					args = a
				}
			}
			global := []string{"--barman-config", e.Conf, "--barman-command", fakeBarman}
			var r result
			if tt.binary {
				r = e.exec(t, tt.env, tt.stdin, args...)
				r.Msg = r.Stderr
			} else {
				r = runApp(t, tt.stdin, append(global, args...)...)
			}
			if r.Code != tt.wantCode {
				t.Fatalf("want exit %d (%s), got %v", tt.wantCode, exitCodes[tt.wantCode], r)
			}
			for _, m := range tt.wantMsg {
				if !strings.Contains(r.allErr(), m) {
					t.Errorf("stderr/message does not mention %q:\n%s", m, r.allErr())
				}
			}
			if !strings.Contains(r.Stdout, tt.wantOut) {
				t.Errorf("stdout does not contain %q:\n%s", tt.wantOut, r.Stdout)
			}
			if tt.name == "damaged output file" && !regexp.MustCompile(`\nReason: +the output file \S+ is damaged`).MatchString(r.Stdout) {
				t.Errorf("inspect must show why the operation reads FAILED:\n%s", r.Stdout)
			}
			if tt.name == "damaged job file" && !regexp.MustCompile(`\nReason: +the job file \S+ is damaged`).MatchString(r.Stdout) {
				t.Errorf("inspect must show why the operation reads FAILED:\n%s", r.Stdout)
			}
			if tt.wantCode == cli.ExitOK && r.Msg != "" && !tt.binary {
				t.Errorf("success with a message: %q", r.Msg)
			}
		})
	}
	for code, name := range exitCodes {
		if !seen[code] {
			t.Errorf("no test produces exit status %d (%s)", code, name)
		}
	}
}

// takeEveryID takes every operation ID of a second that has not begun yet,
// and of the one after, then waits for it to begin: the create that follows
// at once finds no free ID.
func takeEveryID(t *testing.T, e *env) []string {
	t.Helper()
	jobs := filepath.Join(e.Home, "jobs")
	// Linking 20,000 names takes a second or more on a busy machine: the
	// lead grows until the names are all taken before their second begins.
	lead := 3 * time.Second
	for attempt := 0; attempt < 5; attempt++ {
		// A file of its own for each attempt: a file has at most 65,000
		// links on ext4.
		src := filepath.Join(e.Root, fmt.Sprintf("taken-%d.json", attempt))
		if err := os.WriteFile(src, []byte(`{}`), 0o644); err != nil {
			t.Fatal(err)
		}
		target := time.Now().Truncate(time.Second).Add(lead)
		for s := 0; s < 2; s++ {
			base := target.Add(time.Duration(s) * time.Second).Format(store.IDLayout)
			for seq := 0; seq <= 9999; seq++ {
				id := base
				if seq > 0 {
					id = fmt.Sprintf("%s-%04d", base, seq)
				}
				if err := os.Link(src, filepath.Join(jobs, id+".json")); err != nil && !errors.Is(err, os.ErrExist) {
					t.Fatal(err)
				}
			}
		}
		if wait := time.Until(target); wait > 0 {
			time.Sleep(wait + 10*time.Millisecond)
			return nil
		}
		t.Logf("taking the IDs of %s took too long; trying a later second", target.Format(store.IDLayout))
		lead *= 2
	}
	t.Fatalf("could not take every ID of a second before it began")
	return nil
}

func TestHelpDocumentsExitStatus(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			r := runApp(t, "", args...)
			if r.Code != cli.ExitOK {
				t.Fatalf("want exit 0, got %v", r)
			}
			if !strings.Contains(r.Stdout, "EXIT STATUS") {
				t.Fatalf("help does not document the exit status:\n%s", r.Stdout)
			}
			for code, name := range exitCodes {
				if !regexp.MustCompile(fmt.Sprintf(`\n +%d  [a-z]`, code)).MatchString(r.Stdout) {
					t.Errorf("help does not explain exit status %d (%s)", code, name)
				}
			}
		})
	}
	t.Run("binary", func(t *testing.T) {
		r := execBinary(t, nil, "", "--help")
		if r.Code != cli.ExitOK || !strings.Contains(r.Stdout, "EXIT STATUS") {
			t.Errorf("want exit 0 and EXIT STATUS, got %v", r)
		}
	})
}

// TestExitCodeOfForeignErrors: errors that are not exit coders come from
// flag parsing and are usage errors.
func TestExitCodeOfForeignErrors(t *testing.T) {
	t.Parallel()
	code, msg := cli.ExitCode(errors.New("flag provided but not defined: -x"))
	if code != cli.ExitUsage || msg != "pg-backup-api: flag provided but not defined: -x" {
		t.Errorf("want %d with a prefixed message, got %d %q", cli.ExitUsage, code, msg)
	}
	if code, msg := cli.ExitCode(nil); code != cli.ExitOK || msg != "" {
		t.Errorf("nil: want 0 and no message, got %d %q", code, msg)
	}
}

// moveHome makes e's barman_home disappear, as a typo in barman.conf would.
func moveHome(t *testing.T, e *env) []string {
	if err := os.Rename(e.Home, e.Home+".moved"); err != nil {
		t.Fatal(err)
	}
	return nil
}

// TestExitMessageWithoutTerminalControls: the message printed on stderr for
// an error may quote a value from Barman's files or a remote (a backup's
// status, a server's answer); it reaches the terminal with no escape
// sequence and no bidi control, while its lines stay lines.
func TestExitMessageWithoutTerminalControls(t *testing.T) {
	hostile := "backup x is \x1b]52;c;cm0gLXJmIH4=\x07FAILED\u202e\x1b[2J\nsecond line"
	for _, err := range []error{errors.New(hostile), fmt.Errorf("wrapped: %w", cliExit(hostile))} {
		_, msg := cli.ExitCode(err)
		if strings.ContainsAny(msg, "\x1b\x07\u202e") {
			t.Errorf("ExitCode message %q keeps a terminal control", msg)
		}
		if !strings.Contains(msg, "FAILED") || !strings.Contains(msg, "\nsecond line") {
			t.Errorf("ExitCode message %q lost its text", msg)
		}
	}
}

func cliExit(msg string) error { return urfavecli.Exit(msg, cli.ExitNotFound) }
