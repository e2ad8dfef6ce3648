package cli_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/cli"
)

// TestRecoverySSHSettings: [recovery] ssh_destinations and ssh_programs in
// our configuration file reach validation, a bad entry stops the command,
// and a refused recovery writes nothing.
func TestRecoverySSHSettings(t *testing.T) {
	e := newEnv(t, false)
	dir := t.TempDir()
	jobs := func() int {
		entries, _ := os.ReadDir(filepath.Join(e.Home, "jobs"))
		return len(entries)
	}
	limited := "[recovery]\nssh_destinations = [\"postgres@db*\"]\nssh_programs = [\"/usr/bin/ssh\"]\n"
	tests := []struct {
		name   string
		config string
		ssh    string
		code   int
		msg    []string
	}{
		{"default refuses a shell command", "", "touch M ; ssh postgres@db", cli.ExitUsage, []string{`"remote_ssh_command"`, `';'`}},
		{"default refuses an unlisted program", "", "/usr/bin/ssh postgres@db1", cli.ExitUsage, []string{"ssh_programs"}},
		{"destinations refuse another host", limited, "ssh postgres@evil", cli.ExitUsage, []string{"ssh_destinations", "postgres@db*"}},
		{"an allowed destination and program", limited, "/usr/bin/ssh -p 22 postgres@db1", cli.ExitOK, nil},
		{"a bad pattern stops the command", "[recovery]\nssh_destinations = [\"[db\"]\n", "ssh db", cli.ExitUsage, []string{"recovery.ssh_destinations", `"[db"`}},
		{"a relative program stops the command", "[recovery]\nssh_programs = [\"bin/ssh\"]\n", "ssh db", cli.ExitUsage, []string{"recovery.ssh_programs", `"bin/ssh"`}},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			config := writeFile(t, dir, "r"+string(rune('0'+i))+".toml", tc.config, 0o644)
			before := jobs()
			r := e.exec(t, nil, "", "--config", config, "create", "recovery", "--server", "db_server_two", "--backup-id", "latest",
				"--remote-ssh-command", tc.ssh, "--destination-directory", "/var/lib/pgdata")
			if r.Code != tc.code {
				t.Fatalf("exit %d, want %d: %v", r.Code, tc.code, r)
			}
			for _, m := range tc.msg {
				if !strings.Contains(r.allErr(), m) {
					t.Errorf("message lacks %q: %v", m, r)
				}
			}
			if after := jobs(); tc.code != cli.ExitOK && after != before {
				t.Errorf("a refused request wrote %d job files", after-before)
			}
		})
	}
}
