package runner

import (
	"errors"
	"flag"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

// TestInvocationRoundTrip: what Launcher writes on the runner's command line
// is what the run subcommand reads back, every field.
func TestInvocationRoundTrip(t *testing.T) {
	for _, inv := range []Invocation{
		{BarmanConfig: "/etc/barman.conf", LockFD: LockFD, Timeouts: map[ops.Type]time.Duration{}, LogFormat: "text"},
		{BarmanConfig: "/c", BarmanCommand: "sudo -u barman barman", Server: "db_server_two", LockFD: 7,
			Timeouts: map[ops.Type]time.Duration{ops.Recovery: 90 * time.Minute, ops.ConfigUpdate: 1500 * time.Millisecond}, LogFormat: "text"},
		{Config: "/etc/pg-backup-api/other.toml", BarmanConfig: "/c", Server: "pg.1", LockFD: -1, Timeouts: map[ops.Type]time.Duration{ops.ConfigSwitch: time.Second}, LogFormat: "json"},
		{BarmanConfig: "/c", Server: "pg", Lane: ops.LaneBackup, LockFD: LockFD, Timeouts: map[ops.Type]time.Duration{ops.BackupOp: 6 * time.Hour}, LogFormat: "text"},
	} {
		argv := inv.Argv()
		i := slices.Index(argv, "run")
		if i < 0 {
			t.Fatalf("Argv = %q has no run", argv)
		}
		// The global flags are the application's; give them as it would.
		global := Invocation{BarmanConfig: inv.BarmanConfig, BarmanCommand: inv.BarmanCommand}
		if j := slices.Index(argv[:i], "--config"); j >= 0 {
			global.Config = argv[j+1]
		}
		got, err := ParseRunArgs(argv[i+1:], global)
		if err != nil {
			t.Fatalf("ParseRunArgs(%q): %v", argv[i+1:], err)
		}
		if !reflect.DeepEqual(got, inv) {
			t.Errorf("Argv %q read back as\n %+v\nwant\n %+v", argv, got, inv)
		}
	}
}

// The runner is given its parent's configuration file, as an absolute
// path, and its log format even when that is text: without them it read
// whichever file it found itself (and so no [[notify.*]] of serve's
// --config), and the file's log format rather than its parent's.
func TestArgvCarriesParentsConfig(t *testing.T) {
	t.Chdir(t.TempDir())
	argv := Invocation{Config: "ours.toml", BarmanConfig: "/c", LockFD: -1, LogFormat: "text"}.Argv()
	abs, _ := filepath.Abs("ours.toml")
	run := slices.Index(argv, "run")
	if j := slices.Index(argv, "--config"); j < 0 || j > run || argv[j+1] != abs {
		t.Errorf("Argv = %q, want --config %s before run", argv, abs)
	}
	if j := slices.Index(argv, "--log-format"); j < run || argv[j+1] != "text" {
		t.Errorf("Argv = %q, want run --log-format text", argv)
	}
	if argv := (Invocation{BarmanConfig: "/c", LockFD: -1}).Argv(); slices.Contains(argv, "--config") {
		t.Errorf("Argv = %q: no configuration file, no --config", argv)
	}
}

func TestParseRunArgs(t *testing.T) {
	defaults := Invocation{BarmanConfig: "/c", Timeouts: map[ops.Type]time.Duration{ops.Recovery: time.Hour, ops.ConfigSwitch: time.Minute}}
	got, err := ParseRunArgs([]string{"-s", "db", "--timeout", "recovery=2h"}, defaults)
	if err != nil {
		t.Fatal(err)
	}
	want := Invocation{BarmanConfig: "/c", Server: "db", LockFD: -1, Timeouts: map[ops.Type]time.Duration{ops.Recovery: 2 * time.Hour, ops.ConfigSwitch: time.Minute}, LogFormat: "text"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if defaults.Timeouts[ops.Recovery] != time.Hour {
		t.Error("ParseRunArgs changed the defaults it was given")
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--timeout", "restore=1h"}, `--timeout "restore=1h": want TYPE=DURATION with TYPE one of recovery, config_switch, config_update, backup`},
		{[]string{"--lane", "fast"}, `--lane "fast": the lanes besides the main one are "backup" and "drill"`},
		{[]string{"--timeout", "recovery=-1s"}, `--timeout "recovery=-1s"`},
		{[]string{"--timeout", "recovery"}, `--timeout "recovery"`},
		{[]string{"--server", "../x"}, `invalid server name "../x"`},
		{[]string{"--lock-fd", "x"}, `invalid value "x" for flag -lock-fd`},
		{[]string{"--nope"}, "flag provided but not defined: -nope"},
		{[]string{"extra"}, `run takes no arguments, got ["extra"]`},
		{[]string{"--log-format", "xml"}, `--log-format: log format "xml" is not known: use "text" or "json"`},
	} {
		_, err := ParseRunArgs(tc.args, defaults)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("ParseRunArgs(%q) = %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
	if _, err := ParseRunArgs([]string{"--help"}, defaults); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help = %v, want flag.ErrHelp", err)
	}
}
