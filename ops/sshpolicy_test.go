package ops_test

import (
	"encoding/json"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson/pyjsontest"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/ops/opstest"
)

// recoveryWith is a recovery payload of db_server_two with the given ssh
// command and destination directory.
func recoveryWith(ssh, dest string) string {
	s, _ := json.Marshal(ssh)
	d, _ := json.Marshal(dest)
	return `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": ` + string(s) + `, "destination_directory": ` + string(d) + `}`
}

// TestRecoverySSHCommandPolicy: remote_ssh_command is an ssh invocation
// and nothing else. Every refused case was accepted before, and Barman ran
// it through a shell as its own user.
func TestRecoverySSHCommandPolicy(t *testing.T) {
	_, cfg := validateEnv(t)
	limited := ops.Policy{SSHDestinations: []string{"postgres@db*"}, SSHPrograms: []string{"/usr/bin/ssh"}}
	tests := []struct {
		name   string
		policy ops.Policy
		ssh    string
		msg    []string // "" parts: accepted
	}{
		{"plain", ops.Policy{}, "ssh postgres@db", nil},
		{"options", ops.Policy{}, "ssh -p 2222 -o BatchMode=yes -o 'ServerAliveInterval 30' -i ~/.ssh/id_restore -4q postgres@db", nil},
		{"options after the destination", ops.Policy{}, "ssh postgres@db -p 22", nil},
		{"ssh:// destination", ops.Policy{}, "ssh ssh://postgres@db.example.org:2222", nil},
		{"-l without limits", ops.Policy{}, "ssh -l postgres db", nil},
		{"limited, allowed", limited, "ssh -p 22 postgres@db1", nil},
		{"listed program", limited, "/usr/bin/ssh postgres@db1", nil},
		// What operators write to skip host key checks (the e2e suite's
		// command is one): a known-hosts file that is no file.
		{"no known-hosts file", ops.Policy{}, "ssh -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null postgres@db", nil},
		{"no known-hosts file, spaced", ops.Policy{}, `ssh -o "UserKnownHostsFile /dev/null" -o userknownhostsfile=none postgres@db`, nil},
		{"no master connection", ops.Policy{}, "ssh -o ControlPath=none -o ControlMaster=no postgres@db", nil},

		{"shell operator", ops.Policy{}, "touch M ; ssh postgres@db", []string{`"remote_ssh_command"`, `';' at byte 8`, "letters, digits"}},
		{"and-list", ops.Policy{}, "ssh postgres@db && id", []string{`'&' at byte 16`}},
		{"pipe", ops.Policy{}, "ssh db|sh", []string{`'|'`}},
		{"redirection", ops.Policy{}, "ssh db >/tmp/x", []string{`'>'`}},
		{"command substitution", ops.Policy{}, "ssh $(id) db", []string{`'$'`}},
		{"substitution in double quotes", ops.Policy{}, `ssh "$(id)" db`, []string{`'$'`, "even inside quotes"}},
		{"backquote", ops.Policy{}, "ssh `id`", []string{"'`'"}},
		{"backslash", ops.Policy{}, `ssh db\;id`, []string{`'\\'`}},
		{"comment", ops.Policy{}, "ssh db #", []string{`'#'`}},
		{"glob", ops.Policy{}, "ssh db*", []string{`'*'`}},
		{"brace expansion", ops.Policy{}, "ssh {a,b}", []string{`'{'`}},
		{"unclosed quote", ops.Policy{}, "ssh 'db", []string{"never closed"}},
		{"not ssh", ops.Policy{}, "sh -c id", []string{`the program "sh" is not ssh`, "ssh_programs"}},
		{"env assignment", ops.Policy{}, "LD_PRELOAD=/x ssh db", []string{`the program "LD_PRELOAD=/x" is not ssh`}},
		{"unlisted absolute ssh", ops.Policy{}, "/tmp/ssh db", []string{`"/tmp/ssh" is not ssh`, "none listed"}},
		{"a remote command", ops.Policy{}, "ssh postgres@db rm /", []string{"3 words that are not ssh options", "exactly one destination"}},
		{"quotes joining a command", ops.Policy{}, "ssh db 'rm x'", []string{"2 words that are not ssh options"}},
		{"empty word", ops.Policy{}, `ssh "" db`, []string{"2 words"}},
		{"no destination", ops.Policy{}, "ssh -v", []string{"has no destination"}},
		{"ProxyCommand joined", ops.Policy{}, "-oProxyCommand=touch", []string{`the program "-oProxyCommand=touch" is not ssh`}},
		{"ProxyCommand", ops.Policy{}, "ssh -oProxyCommand=touch db", []string{"-o ProxyCommand is refused", "runs a local command"}},
		{"proxycommand spaced and quoted", ops.Policy{}, `ssh -o "proxycommand touch" db`, []string{"-o proxycommand is refused"}},
		{"PROXYCOMMAND with = after space", ops.Policy{}, "ssh -o PROXYCOMMAND=x db", []string{"-o PROXYCOMMAND is refused"}},
		{"LocalCommand in a flag group", ops.Policy{}, "ssh -vo LocalCommand=id db", []string{"-o LocalCommand is refused"}},
		{"PermitLocalCommand", ops.Policy{}, "ssh -o PermitLocalCommand=yes db", []string{"-o PermitLocalCommand is refused"}},
		{"KnownHostsCommand", ops.Policy{}, "ssh -o KnownHostsCommand=/bin/id db", []string{"-o KnownHostsCommand is refused"}},
		{"Match exec", ops.Policy{}, `ssh -o "Match exec id" db`, []string{"-o Match is refused"}},
		{"quoted keyword", ops.Policy{}, `ssh -o '"ProxyCommand" x' db`, []string{"does not start with an option name"}},
		{"Include", ops.Policy{}, "ssh -o Include=/tmp/c db", []string{"-o Include is refused"}},
		{"-F", ops.Policy{}, "ssh -F /tmp/c db", []string{"-F is refused", "another ssh configuration file"}},
		{"-F joined in a group", ops.Policy{}, "ssh -qF/tmp/c db", []string{"-F is refused"}},
		{"-J", ops.Policy{}, "ssh -J jump db", []string{"-J is refused", "~/.ssh/config"}},
		{"ProxyJump", ops.Policy{}, "ssh -o ProxyJump=jump db", []string{"-o ProxyJump is refused"}},
		{"forwarding", ops.Policy{}, "ssh -L 8080:internal:80 db", []string{"-L is refused"}},
		{"PKCS11Provider", ops.Policy{}, "ssh -o PKCS11Provider=/tmp/x.so db", []string{"-o PKCS11Provider is refused", "code"}},
		{"SmartcardDevice, PKCS11Provider's old name", ops.Policy{}, "ssh -o SmartcardDevice=/tmp/x.so db", []string{"-o SmartcardDevice is refused", "PKCS11Provider"}},
		{"XAuthLocation", ops.Policy{}, "ssh -X -o XAuthLocation=/tmp/x db", []string{"-o XAuthLocation is refused", "program"}},
		{"ControlPath", ops.Policy{}, "ssh -o ControlPath=/home/barman/.ssh/cm-other db", []string{"-o ControlPath is refused", "master connection"}},
		{"-S", ops.Policy{}, "ssh -S /home/barman/.ssh/cm-other db", []string{"-S is refused", "ssh_destinations"}},
		{"UserKnownHostsFile", ops.Policy{}, "ssh -o UserKnownHostsFile=/home/barman/.bashrc db", []string{"-o UserKnownHostsFile is refused", "writes"}},
		{"UserKnownHostsFile, /dev/null and a file", ops.Policy{}, `ssh -o "UserKnownHostsFile=/dev/null /etc/barman.conf" db`, []string{"-o UserKnownHostsFile is refused", "writes", "/dev/null"}},
		{"ForwardAgent", ops.Policy{}, "ssh -o ForwardAgent=yes db", []string{"-o ForwardAgent is refused", "agent"}},
		{"-A in a group", ops.Policy{}, "ssh -qA db", []string{"-A is refused", "agent"}},
		{"unknown flag", ops.Policy{}, "ssh -Z db", []string{"-Z is not an ssh option"}},
		{"option without value", ops.Policy{}, "ssh db -p", []string{"-p needs a value"}},
		{"bad destination", ops.Policy{}, "ssh 'a;b'", []string{`the destination "a;b" is not [user@]host`}},
		{"limited, other host", limited, "ssh postgres@evil", []string{`the destination "postgres@evil" is not allowed by [recovery] ssh_destinations`, "postgres@db*"}},
		{"limited, other user", limited, "ssh root@db1", []string{`"root@db1" is not allowed`}},
		{"limited, -l", limited, "ssh -l root postgres@db1", []string{"-l is refused while [recovery] ssh_destinations is set"}},
		{"limited, -o User", limited, "ssh -o User=root postgres@db1", []string{"-o User is refused while"}},
		{"limited, -o HostName", limited, "ssh -oHostName=evil postgres@db1", []string{"-o HostName is refused while"}},
		{"limited, unlisted program", limited, "/tmp/ssh postgres@db1", []string{`"/tmp/ssh" is not ssh`, "/usr/bin/ssh"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := withOptions(tc.policy).Validate(cfg, barman.Catalog{}, srv2, pyjsontest.MustDecode(t, recoveryWith(tc.ssh, "/var/lib/pgdata")))
			if tc.msg == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			opstest.WantError(t, err, ops.EINVALID, tc.msg...)
		})
	}
}

// TestRecoveryDestinationPolicy: destination_directory reaches the target
// host's shell and PostgreSQL's restore_command as written.
func TestRecoveryDestinationPolicy(t *testing.T) {
	_, cfg := validateEnv(t)
	tests := []struct {
		dest string
		msg  []string
	}{
		{"/var/lib/postgresql/17/restore-1", nil},
		{"/srv/données/pg_2026.01,a+b@c=d", nil},
		{"relative/dir", []string{`"destination_directory" "relative/dir" must be an absolute path`}},
		{"/tmp/x;rm -rf ~", []string{`"destination_directory"`, `';' at byte 6`, "letters, digits and - _ . / + , @ ="}},
		{"/tmp/a b", []string{`' ' at byte 6`}},
		{"/tmp/$(id)", []string{`'$'`}},
		{"/tmp/o'brien", []string{`'\''`}},
		{"/tmp/100%", []string{`'%'`}},
		{"/var/lib/../../etc", []string{`has a ".." component`}},
		{"/var/lib/..", []string{`has a ".." component`}},
	}
	for _, tc := range tests {
		t.Run(tc.dest, func(t *testing.T) {
			_, err := validate(cfg, barman.Catalog{}, srv2, pyjsontest.MustDecode(t, recoveryWith("ssh postgres@db", tc.dest)))
			if tc.msg == nil {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			opstest.WantError(t, err, ops.EINVALID, tc.msg...)
		})
	}
}

// TestRecoveryTargetNameQuoting: Barman writes recovery_target_name = '%s'
// into postgresql.auto.conf without escaping.
func TestRecoveryTargetNameQuoting(t *testing.T) {
	_, cfg := validateEnv(t)
	for _, name := range []string{`before-o'brien' #`, `a\'b`, `say "hi"`} {
		t.Run(name, func(t *testing.T) {
			n, _ := json.Marshal(name)
			payload := `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh db", "destination_directory": "/d", "target_name": ` + string(n) + `}`
			_, err := validate(cfg, barman.Catalog{}, srv2, pyjsontest.MustDecode(t, payload))
			opstest.WantError(t, err, ops.EINVALID, `recovery: "target_name"`, "unescaped into PostgreSQL's configuration", "quotes, backslashes and control characters")
			// The runner checks a job file the same way.
			op := &ops.Operation{ID: "20261125T080000", Server: srv2, Type: ops.Recovery, Job: pyjsontest.MustDecode(t, payload)}
			if _, _, err := withOptions(ops.Policy{}).RecoveryJob(op); err == nil {
				t.Error("RecoveryJob accepted it")
			}
		})
	}
}

func TestCheckSSHConfigLists(t *testing.T) {
	if err := ops.CheckSSHDestinationPatterns([]string{"postgres@db*", "[a-"}); err == nil {
		t.Error("a bad glob was accepted")
	}
	if err := ops.CheckSSHPrograms([]string{"/usr/bin/ssh", "ssh2"}); err == nil {
		t.Error("a relative program was accepted")
	}
	if err := ops.CheckSSHPrograms([]string{"/opt/ssh;id"}); err == nil {
		t.Error("a program with a shell operator was accepted")
	}
	if err := ops.CheckSSHPrograms([]string{"/usr/bin/ssh"}); err != nil {
		t.Error(err)
	}
}
