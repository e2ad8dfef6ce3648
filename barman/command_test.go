package barman

import (
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

func TestArgs(t *testing.T) {
	refJob := func(name string) string {
		data, err := os.ReadFile(testenv.Fixture(t, "pg-backup-api-2.2", "barman_home", name))
		if err != nil {
			t.Fatalf("fixture missing: %v", err)
		}
		return string(data)
	}
	tests := []struct {
		name    string
		command string
		config  string
		server  string
		typ     ops.Type
		job     string
		want    []string
		wantErr string
	}{
		{
			name: "recovery", command: "barman", config: "/etc/barman.conf", server: "db_server_two", typ: ops.Recovery,
			job:  `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh -p 2222 -o BatchMode=yes postgres@127.0.0.1", "destination_directory": "/var/lib/postgresql/restore"}`,
			want: []string{"barman", "-c", "/etc/barman.conf", "recover", "db_server_two", "latest", "/var/lib/postgresql/restore", "--remote-ssh-command=ssh -p 2222 -o BatchMode=yes postgres@127.0.0.1"},
		},
		{
			name: "recovery restores the backup resolved at creation, not what latest names now", command: "barman", config: "/c", server: "db_server_two", typ: ops.Recovery,
			job:  `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/d", "operation_type": "recovery", "pg_backup_api": {"version": "1", "barman_config": "/c", "resolved_backup_id": "20261125T080758"}}`,
			want: []string{"barman", "-c", "/c", "recover", "db_server_two", "20261125T080758", "/d", "--remote-ssh-command=ssh x"},
		},
		{
			name: "recovery from the reference's job file, no -c without a config", command: "", config: "", server: "db_server_two", typ: ops.Recovery,
			job:  refJob("db_server_two/jobs/20261125T080916.json"),
			want: []string{"barman", "recover", "db_server_two", "latest", "/var/lib/postgresql/restore-failed", "--remote-ssh-command=ssh -p 2299 -o BatchMode=yes -o ConnectTimeout=3 postgres@127.0.0.1"},
		},
		{
			name: "config_switch to a model", command: "barman", config: "/c", server: "db_server_two", typ: ops.ConfigSwitch,
			job:  `{"type": "config_switch", "model_name": "my-model"}`,
			want: []string{"barman", "-c", "/c", "config-switch", "db_server_two", "my-model"},
		},
		{
			name: "config_switch reset", command: "barman", config: "/c", server: "db_server_two", typ: ops.ConfigSwitch,
			job:  `{"type": "config_switch", "reset": true}`,
			want: []string{"barman", "-c", "/c", "config-switch", "db_server_two", "--reset"},
		},
		{
			name: "config_update: one JSON argument in Python's style", command: "barman", config: "/c", typ: ops.ConfigUpdate,
			job:  refJob("jobs/20261125T080447.json"),
			want: []string{"barman", "-c", "/c", "config-update", `[{"scope": "server", "server_name": "db_server_two", "archiver": "off"}]`},
		},
		{
			name: "config_update keeps order, numbers and escapes", command: "barman", config: "/c", typ: ops.ConfigUpdate,
			job: `{"type": "config_update", "changes": [{"scope": "model", "model_name": "m", "description": "caf\u00e9 \"x\"", "minimum_redundancy": 2, "archiver": true},` +
				` {"scope": "server", "server_name": "s", "conninfo": "host=a user=b"}]}`,
			want: []string{"barman", "-c", "/c", "config-update",
				`[{"scope": "model", "model_name": "m", "description": "caf\u00e9 \"x\"", "minimum_redundancy": 2, "archiver": true}, {"scope": "server", "server_name": "s", "conninfo": "host=a user=b"}]`},
		},
		{
			name: "a command with leading arguments", command: "sudo -u barman barman", config: "/etc/barman.conf", server: "pg", typ: ops.ConfigSwitch,
			job:  `{"type": "config_switch", "reset": true}`,
			want: []string{"sudo", "-u", "barman", "barman", "-c", "/etc/barman.conf", "config-switch", "pg", "--reset"},
		},
		{
			name: "extra spaces in the command", command: "  /opt/barman/bin/barman \t --quiet  ", config: "/c", server: "pg", typ: ops.ConfigSwitch,
			job:  `{"type": "config_switch", "model_name": "m"}`,
			want: []string{"/opt/barman/bin/barman", "--quiet", "-c", "/c", "config-switch", "pg", "m"},
		},
		{
			name: "a blank command means barman", command: "   ", config: "/c", server: "pg", typ: ops.ConfigSwitch,
			job:  `{"type": "config_switch", "model_name": "m"}`,
			want: []string{"barman", "-c", "/c", "config-switch", "pg", "m"},
		},
		{
			name: "the finished job (an output file) gives the same command", command: "barman", config: "/c", server: "db_server_two", typ: ops.ConfigSwitch,
			job:  refJob("db_server_two/output/20261125T080918.json"),
			want: []string{"barman", "-c", "/c", "config-switch", "db_server_two", "--reset"},
		},
		{
			// Another implementation, or an older version of ours, may have
			// written a job that the ssh policy refuses.
			name: "a job whose ssh command runs a local command is refused", command: "barman", config: "/c", server: "db_server_two", typ: ops.Recovery,
			job:     `{"type": "recovery", "backup_id": "20261125T080758", "remote_ssh_command": "-oProxyCommand=touch /tmp/x", "destination_directory": "/d"}`,
			wantErr: `operation 20261125T080000: recovery: "remote_ssh_command" "-oProxyCommand=touch /tmp/x": the program "-oProxyCommand=touch" is not ssh`,
		},
		{
			name: "a job whose ssh command holds a shell operator is refused", command: "barman", config: "/c", server: "db_server_two", typ: ops.Recovery,
			job:     `{"type": "recovery", "backup_id": "20261125T080758", "remote_ssh_command": "ssh db; id", "destination_directory": "/d"}`,
			wantErr: `"remote_ssh_command" "ssh db; id": ';' at byte 6 is a shell operator`,
		},
		{
			name: "a job whose destination the remote shell would read differently is refused", command: "barman", config: "/c", server: "db_server_two", typ: ops.Recovery,
			job:     `{"type": "recovery", "backup_id": "20261125T080758", "remote_ssh_command": "ssh db", "destination_directory": "/d $(id)"}`,
			wantErr: `"destination_directory" "/d $(id)" holds ' ' at byte 2`,
		},
		{
			name: "a job whose target_name would end its quotes is refused", command: "barman", config: "/c", server: "db_server_two", typ: ops.Recovery,
			job:     `{"type": "recovery", "backup_id": "20261125T080758", "remote_ssh_command": "ssh db", "destination_directory": "/d", "target_name": "x' #"}`,
			wantErr: `"target_name" "x' #" holds '\'' at byte 1`,
		},
		{
			name: "recovery with every target option, joined, in a fixed order", command: "barman", config: "/c", server: "pg", typ: ops.Recovery,
			job: `{"type": "recovery", "bwlimit": 0, "jobs": 4, "get_wal": false, "standby_mode": true, "exclusive": true, "target_action": "promote", "target_tli": "latest",` +
				` "target_lsn": "0/3000060", "backup_id": "b", "remote_ssh_command": "ssh x", "destination_directory": "/d", "note": "ignored"}`,
			want: []string{"barman", "-c", "/c", "recover", "pg", "b", "/d", "--remote-ssh-command=ssh x",
				"--target-lsn=0/3000060", "--target-tli=latest", "--target-action=promote", "--exclusive", "--standby-mode", "--no-get-wal", "--jobs=4", "--bwlimit=0"},
		},
		{
			name: "recovery target_time in the local zone, xid as a string, get_wal true", command: "barman", config: "/c", server: "pg", typ: ops.Recovery,
			job: `{"type": "recovery", "target_time": "2026-01-02T13:02:03.25Z", "get_wal": true, "target_tli": 2, "remote_ssh_command": "ssh x", "destination_directory": "/d",` +
				` "pg_backup_api": {"version": "1", "barman_config": "/c", "resolved_backup_id": "20260101T000000"}}`,
			want: []string{"barman", "-c", "/c", "recover", "pg", "20260101T000000", "/d", "--remote-ssh-command=ssh x",
				"--target-time=" + time.Date(2026, 1, 2, 13, 2, 3, 250_000_000, time.UTC).Local().Format("2006-01-02 15:04:05.999999-07:00"), "--target-tli=2", "--get-wal"},
		},
		{
			name: "recovery target_xid, target_name, target_immediate false", command: "barman", config: "/c", server: "pg", typ: ops.Recovery,
			job:  `{"type": "recovery", "backup_id": "b", "target_xid": "742", "target_immediate": false, "standby_mode": false, "remote_ssh_command": "ssh x", "destination_directory": "/d"}`,
			want: []string{"barman", "-c", "/c", "recover", "pg", "b", "/d", "--remote-ssh-command=ssh x", "--target-xid=742"},
		},
		{
			name: "a dash-led target_name stays the option's value", command: "barman", config: "/c", server: "pg", typ: ops.Recovery,
			job:  `{"type": "recovery", "backup_id": "b", "target_name": "--help", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`,
			want: []string{"barman", "-c", "/c", "recover", "pg", "b", "/d", "--remote-ssh-command=ssh x", "--target-name=--help"},
		},
		{
			name: "two targets in another implementation's job are refused", command: "barman", config: "/c", server: "pg", typ: ops.Recovery,
			job:     `{"type": "recovery", "backup_id": "b", "target_xid": 7, "target_immediate": true, "remote_ssh_command": "ssh x", "destination_directory": "/d"}`,
			wantErr: `"target_xid" and "target_immediate" are both recovery targets`,
		},
		{
			name: "backup", command: "barman", config: "/c", server: "pg", typ: ops.BackupOp,
			job:  `{"type": "backup"}`,
			want: []string{"barman", "-c", "/c", "backup", "pg", "--wait"},
		},
		{
			name: "backup with a name and an immediate checkpoint", command: "barman", config: "/c", server: "pg", typ: ops.BackupOp,
			job:  `{"type": "backup", "backup_name": "before migration", "immediate_checkpoint": true}`,
			want: []string{"barman", "-c", "/c", "backup", "pg", "--name=before migration", "--immediate-checkpoint", "--wait"},
		},
		{
			name: "a backup job with a name validation refuses is refused", command: "barman", config: "/c", server: "pg", typ: ops.BackupOp,
			job:     `{"type": "backup", "backup_name": "latest"}`,
			wantErr: `operation 20261125T080000: backup: "backup_name" "latest" is one of Barman's shortcuts`,
		},
		{
			name: "backup with immediate_checkpoint false leaves the server's setting", command: "barman", config: "/c", server: "pg", typ: ops.BackupOp,
			job:  `{"type": "backup", "immediate_checkpoint": false}`,
			want: []string{"barman", "-c", "/c", "backup", "pg", "--wait"},
		},
		{
			name: "a dash-led backup_id from another implementation's job is refused", command: "barman", config: "/c", server: "db_server_two", typ: ops.Recovery,
			job:     `{"type": "recovery", "backup_id": "--help", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`,
			wantErr: `recovery: "backup_id" is "--help", which starts with "-": Barman would read it as an option`,
		},
		{
			name: "a dash-led destination is refused", command: "barman", config: "/c", server: "db_server_two", typ: ops.Recovery,
			job:     `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "--get-wal"}`,
			wantErr: `recovery: "destination_directory" "--get-wal" must be an absolute path`,
		},
		{
			name: "a dash-led model name is refused", command: "barman", config: "/c", server: "pg", typ: ops.ConfigSwitch,
			job:     `{"type": "config_switch", "model_name": "--reset"}`,
			wantErr: `model_name "--reset" cannot be given to Barman`,
		},
		{
			name: "unknown type", command: "barman", config: "/c", server: "pg", typ: "restore",
			job:     `{"type": "restore"}`,
			wantErr: `operation 20261125T080000 has unknown type "restore"`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			job, err := pyjson.DecodeObject([]byte(tc.job), pyjson.DecodeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			op := &ops.Operation{ID: "20261125T080000", Server: tc.server, Type: tc.typ, Job: job, Recorded: store.RecordOf(job)}
			got, err := NewCommand(tc.command).Args(tc.config, op)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Args = %q, %v; want error %q", got, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Args =\n %q\nwant\n %q", got, tc.want)
			}
		})
	}
}

// TestArgsChecksPolicy: the runner checks a job against the configuration
// file's [recovery] policy as it stands when the job runs, which may have
// been tightened since the job was recorded.
func TestArgsChecksPolicy(t *testing.T) {
	job, err := pyjson.DecodeObject([]byte(`{"type": "recovery", "backup_id": "b", "remote_ssh_command": "ssh -o User=root postgres@db9", "destination_directory": "/d"}`), pyjson.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	op := &ops.Operation{ID: "20261125T080000", Server: "pg", Type: ops.Recovery, Job: job}
	if _, err := NewCommand("barman").Args("/c", op); err != nil {
		t.Fatalf("the default policy refused it: %v", err)
	}
	for _, tc := range []struct {
		policy ops.Policy
		msg    string
	}{
		{ops.Policy{SSHDestinations: []string{"postgres@db1"}}, `ssh option -o User is refused while [recovery] ssh_destinations is set`},
		{ops.Policy{SSHDestinations: []string{"postgres@db[0-8]"}, SSHPrograms: []string{"/usr/bin/ssh"}}, `ssh option -o User is refused`},
	} {
		argv, err := NewCommand("barman").WithPolicy(tc.policy).Args("/c", op)
		if err == nil || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("policy %+v: Args = %q, %v; want an error containing %q", tc.policy, argv, err, tc.msg)
		}
	}
	job.Set("remote_ssh_command", "ssh postgres@db9")
	argv, err := NewCommand("barman").WithPolicy(ops.Policy{SSHDestinations: []string{"postgres@db[0-8]"}}).Args("/c", op)
	if err == nil || !strings.Contains(err.Error(), `the destination "postgres@db9" is not allowed by [recovery] ssh_destinations`) {
		t.Errorf("Args = %q, %v; want the destination refused", argv, err)
	}
}
