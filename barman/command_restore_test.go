package barman

import (
	"slices"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// TestArgsBarman3Options: each option of Barman 3.x's recover and backup
// that a caller may use becomes its exact argument, joined to its value.
func TestArgsBarman3Options(t *testing.T) {
	tests := []struct {
		typ     ops.Type
		payload string
		want    []string
	}{
		{ops.Recovery, `"tablespaces": {"tbs1": "/srv/tbs1", "idx": "/srv/idx"}`, []string{"--tablespace=tbs1:/srv/tbs1", "--tablespace=idx:/srv/idx"}},
		{ops.Recovery, `"delta_restore": true`, []string{"--delta-restore"}},
		{ops.Recovery, `"delta_restore": false`, []string{"--no-delta-restore"}},
		{ops.Recovery, `"recovery_staging_path": "/var/tmp/stage"`, []string{"--recovery-staging-path=/var/tmp/stage"}},
		{ops.Recovery, `"staging_wal_directory": "/var/tmp/wal"`, []string{"--staging-wal-directory=/var/tmp/wal"}},
		{ops.Recovery, `"network_compression": true`, []string{"--network-compression"}},
		{ops.Recovery, `"network_compression": false`, []string{"--no-network-compression"}},
		{ops.Recovery, `"retry_times": 0, "retry_sleep": 30`, []string{"--retry-times=0", "--retry-sleep=30"}},
		{ops.Recovery, `"jobs": 4, "jobs_start_batch_period": 10, "jobs_start_batch_size": 2`, []string{"--jobs=4", "--jobs-start-batch-period=10", "--jobs-start-batch-size=2"}},
		{ops.Recovery, `"recovery_conf_filename": "custom.conf"`, []string{"--recovery-conf-filename=custom.conf"}},
		{ops.Recovery, `"recovery_option_port": 2222`, []string{"--recovery-option-port=2222"}},
		{ops.Recovery, `"combine_mode": "copy-file-range"`, []string{"--combine-mode=copy-file-range"}},
		{ops.Recovery, `"partial_wal": true, "skip_archive_wal": true`, []string{"--partial-wal", "--skip-archive-wal"}},
		// Neither has a --no- form: false is Barman's default, no argument.
		{ops.Recovery, `"partial_wal": false, "skip_archive_wal": false`, nil},
		{ops.BackupOp, `"incremental": "latest-full"`, []string{"--incremental=latest-full"}},
		{ops.BackupOp, `"reuse_backup": "link"`, []string{"--reuse-backup=link"}},
		{ops.BackupOp, `"jobs": 2, "bwlimit": 0`, []string{"--jobs=2", "--bwlimit=0"}},
		{ops.BackupOp, `"retry_times": 3, "retry_sleep": 5`, []string{"--retry-times=3", "--retry-sleep=5"}},
		{ops.BackupOp, `"wait_timeout": 600`, []string{"--wait-timeout=600"}},
		{ops.BackupOp, `"manifest": true`, []string{"--manifest"}},
		{ops.BackupOp, `"manifest": false, "backup_name": "n"`, []string{"--name=n", "--no-manifest"}},
	}
	for _, tc := range tests {
		t.Run(string(tc.typ)+" "+tc.payload, func(t *testing.T) {
			fixed := []string{"barman", "-c", "/c", "backup", "pg"}
			body := `{"type": "backup", ` + tc.payload + `}`
			if tc.typ == ops.Recovery {
				fixed = []string{"barman", "-c", "/c", "recover", "pg", "b", "/d", "--remote-ssh-command=ssh x"}
				body = `{"type": "recovery", "backup_id": "b", "remote_ssh_command": "ssh x", "destination_directory": "/d", ` + tc.payload + `}`
			}
			job, err := pyjson.DecodeObject([]byte(body), pyjson.DecodeOptions{})
			if err != nil {
				t.Fatal(err)
			}
			got, err := NewCommand("barman").Args("/c", &ops.Operation{ID: "1", Server: "pg", Type: tc.typ, Job: job})
			if err != nil {
				t.Fatal(err)
			}
			want := append(slices.Clone(fixed), tc.want...)
			if tc.typ == ops.BackupOp {
				want = append(want, "--wait")
			}
			if !slices.Equal(got, want) {
				t.Errorf("Args =\n %q\nwant\n %q", got, want)
			}
		})
	}
}
