package cli_test

import (
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/cli"
)

// A usage error is the error and a hint on standard error, exit 2, and
// nothing on standard output, where `id=$(pg-backup-api create ...)` would
// take the help text for the operation ID.
func TestUsageErrorsAreShort(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	for _, tt := range []struct {
		name string
		args []string
		want string // the whole message
	}{
		{"unknown flag", []string{"create", "recovery", "--remot-ssh-command", "ssh db2"},
			"pg-backup-api: unknown flag: --remot-ssh-command\nDid you mean --remote-ssh-command?\nRun 'pg-backup-api create recovery --help' for usage."},
		{"unknown flag, single dash", []string{"list", "-limt", "3"},
			"pg-backup-api: unknown flag: --limt\nDid you mean --limit?\nRun 'pg-backup-api list --help' for usage."},
		{"unknown flag, nothing near", []string{"list", "--verbose"},
			"pg-backup-api: unknown flag: --verbose\nRun 'pg-backup-api list --help' for usage."},
		{"unknown global flag", []string{"--barman-comand", "barman", "list"},
			"pg-backup-api: unknown flag: --barman-comand\nDid you mean --barman-command?\nRun 'pg-backup-api --help' for usage."},
		{"global flag mistyped after the command", []string{"list", "--barman-comand", "barman"},
			"pg-backup-api: unknown flag: --barman-comand\nDid you mean --barman-command?\nRun 'pg-backup-api list --help' for usage."},
		{"unknown command", []string{"lst"},
			"pg-backup-api: unknown command \"lst\"\nDid you mean list?\nRun 'pg-backup-api --help' for usage."},
		{"unknown command, nothing near", []string{"frobnicate"},
			"pg-backup-api: unknown command \"frobnicate\"\nRun 'pg-backup-api --help' for usage."},
		{"unknown subcommand, before a flag", []string{"create", "recvery", "--remote-ssh-command", "ssh db2"},
			"pg-backup-api: unknown command \"recvery\" for \"pg-backup-api create\"\nDid you mean recovery?\nRun 'pg-backup-api create --help' for usage."},
		{"unknown subcommand of a command without an action", []string{"token", "crate", "ci"},
			"pg-backup-api: unknown command \"crate\" for \"pg-backup-api token\"\nDid you mean create?\nRun 'pg-backup-api token --help' for usage."},
		{"missing flag value", []string{"list", "-n"},
			"pg-backup-api: flag needs a value: -n\nRun 'pg-backup-api list --help' for usage."},
		{"bad flag value", []string{"list", "--limit", "ten"},
			"pg-backup-api: invalid value \"ten\" for --limit: want a whole number\nRun 'pg-backup-api list --help' for usage."},
		{"bad duration", []string{"status", "--timeout", "soon"},
			"pg-backup-api: invalid value \"soon\" for --timeout: want a duration such as 30s, 5m or 1h\nRun 'pg-backup-api status --help' for usage."},
		{"bad boolean", []string{"create", "backup", "-s", "db_server_two", "--wait=maybe"},
			"pg-backup-api: invalid value \"maybe\" for --wait: want true or false\nRun 'pg-backup-api create backup --help' for usage."},
		{"missing required flag", []string{"create", "recovery", "-s", "db_server_two", "-d", "/pgdata"},
			"pg-backup-api: missing required flag: --remote-ssh-command\nRun 'pg-backup-api create recovery --help' for usage."},
		{"missing required flags", []string{"create", "recovery", "-s", "db_server_two"},
			"pg-backup-api: missing required flags: --remote-ssh-command, --destination-directory\nRun 'pg-backup-api create recovery --help' for usage."},
		{"missing required argument", []string{"inspect", "-s", "db_server_two"},
			"pg-backup-api: inspect takes one operation ID, or SERVER/ID (see pg-backup-api list)\nRun 'pg-backup-api inspect --help' for usage."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := e.run(t, tt.args...)
			if r.Code != cli.ExitUsage || r.Stdout != "" || r.Stderr != "" || r.Msg != tt.want {
				t.Errorf("want exit %d, nothing printed and the message\n%s\ngot %v", cli.ExitUsage, tt.want, r)
			}
		})
	}
	// The binary, as a script runs it.
	r := e.exec(t, nil, "", "create", "recovery", "-s", "db_server_two", "--remot-ssh-command", "ssh db2", "-d", "/pgdata")
	want := "pg-backup-api: unknown flag: --remot-ssh-command\nDid you mean --remote-ssh-command?\nRun 'pg-backup-api create recovery --help' for usage.\n"
	if r.Code != cli.ExitUsage || r.Stdout != "" || r.Stderr != want {
		t.Errorf("binary: want exit %d, no stdout and stderr\n%s\ngot %v", cli.ExitUsage, want, r)
	}
}

// Asking for help is no error: it goes to standard output, exit 0.
func TestHelpStillOnStdout(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{"create", "recovery", "--help"}, {"help", "list"}, {"list", "-h"}} {
		r := runApp(t, "", args...)
		if r.Code != cli.ExitOK || !strings.Contains(r.Stdout, "USAGE:") || r.Msg != "" {
			t.Errorf("%q: want help on stdout, exit 0; got %v", args, r)
		}
	}
}

// A single-letter flag takes its value attached, as getopt allows:
// -n1 is -n 1, -ojson is -o json.
func TestShortFlagsWithAttachedValues(t *testing.T) {
	t.Parallel()
	e := newEnv(t, true)
	for _, tt := range []struct{ attached, apart []string }{
		{[]string{"list", "-n1"}, []string{"list", "-n", "1"}},
		{[]string{"list", "-n2", "-ojson"}, []string{"list", "-n", "2", "-o", "json"}},
		{[]string{"-ojson", "list", "-sdb_server_two"}, []string{"-o", "json", "list", "-s", "db_server_two"}},
		{[]string{"inspect", "20261125T080805", "-sdb_server_two", "-oplain"}, []string{"inspect", "20261125T080805", "-s", "db_server_two", "-o", "plain"}},
		{[]string{"list", "-tbackup", "-tconfig_switch"}, []string{"list", "-t", "backup", "-t", "config_switch"}},
	} {
		want := e.run(t, tt.apart...)
		got := e.run(t, tt.attached...)
		if want.Code != cli.ExitOK || want.Stdout == "" {
			t.Fatalf("%q: %v", tt.apart, want)
		}
		if got.Code != want.Code || got.Stdout != want.Stdout || got.Msg != want.Msg {
			t.Errorf("%q does not do what %q does:\n%v\nwant\n%v", tt.attached, tt.apart, got, want)
		}
	}
	// A value that is itself a flag's name stays that flag's value.
	if r := e.run(t, "list", "--server", "-n1"); r.Code != cli.ExitNotFound || !strings.Contains(r.Msg, `"-n1"`) {
		t.Errorf("--server -n1: want server \"-n1\" not found, got %v", r)
	}
}

// create recovery's help says what "auto" chooses for both targets it
// chooses from (it said --target-time only, and offered last-failed, a
// backup a recovery always refuses as not DONE).
func TestRecoveryHelpAuto(t *testing.T) {
	t.Parallel()
	r := runApp(t, "", "create", "recovery", "--help")
	help := strings.Join(strings.Fields(r.Stdout), " ")
	for _, want := range []string{"with --target-time or --target-lsn, the newest that ended at or before the target", "the newest before --target-time or --target-lsn"} {
		if !strings.Contains(help, want) {
			t.Errorf("create recovery --help lacks %q:\n%s", want, r.Stdout)
		}
	}
	if _, line, _ := strings.Cut(r.Stdout, "--backup-id"); strings.Contains(strings.SplitN(line, "\n", 2)[0], "last-failed") {
		t.Errorf("create recovery --help offers last-failed for --backup-id: %s", line)
	}
}

// A flag with a --no- form gives Barman neither when left out, so its
// Barman configuration decides (get_wal from recovery_options): the help
// said "(default: false)".
func TestNegatableFlagsDefaultToBarman(t *testing.T) {
	t.Parallel()
	checked := 0
	for _, args := range [][]string{{"create", "recovery", "--help"}, {"create", "backup", "--help"}} {
		r := runApp(t, "", args...)
		for _, line := range strings.Split(r.Stdout, "\n") {
			f := strings.Fields(line)
			if len(f) == 0 || !strings.Contains(line, "=false: ") {
				continue
			}
			checked++
			if !strings.HasSuffix(line, "(default: not given: Barman's configuration or default)") {
				t.Errorf("%q: %s: want the default to say Barman decides", args, line)
			}
		}
	}
	// get_wal, delta_restore, network_compression; manifest.
	if checked < 4 {
		t.Errorf("checked %d flags with a --no- form, want 4 or more", checked)
	}
}
