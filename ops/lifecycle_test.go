package ops_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson/pyjsontest"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/ops/opstest"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// TestValidateKeepDelete: keep and delete name their backup as a recovery
// does, resolved at create; keep takes a target or release: true; what
// Barman would refuse and the catalog can tell (keeping a backup that is
// not DONE, deleting a kept one) is refused up front, in Barman's words.
func TestValidateKeepDelete(t *testing.T) {
	env, cfg := validateEnv(t)
	// A second DONE backup, kept, named "monthly".
	const kept = "20261120T000000"
	meta := filepath.Join(env.Home, srv2, "meta")
	testenv.WriteFile(t, filepath.Join(meta, kept+"-backup.info"), "backup_name=monthly\nstatus=DONE\nserver_name=db_server_two\n")
	testenv.WriteFile(t, filepath.Join(meta, kept+"-keep"), "standalone")

	tests := []struct {
		name, payload string
		code          string // "" when valid
		msg           string // part of the error, or the resolved backup ID
	}{
		{"keep latest full", `{"type": "keep", "backup_id": "latest", "target": "full"}`, "", goodDone},
		{"keep by ID standalone", `{"type": "keep", "backup_id": "` + goodDone + `", "target": "standalone"}`, "", goodDone},
		{"keep by name", `{"type": "keep", "backup_id": "monthly", "target": "full"}`, "", kept},
		{"keep oldest", `{"type": "keep", "backup_id": "oldest", "target": "full"}`, "", kept},
		{"release", `{"type": "keep", "backup_id": "monthly", "release": true}`, "", kept},
		{"release a FAILED backup", `{"type": "keep", "backup_id": "last-failed", "release": true}`, "", badID},
		{"delete latest", `{"type": "delete", "backup_id": "latest"}`, "", goodDone},
		{"delete FAILED", `{"type": "delete", "backup_id": "` + badID + `"}`, "", badID},

		{"keep without target", `{"type": "keep", "backup_id": "latest"}`, ops.EINVALID, `keep needs "target": "full"`},
		{"keep bad target", `{"type": "keep", "backup_id": "latest", "target": "forever"}`, ops.EINVALID, `keep: "target" must be "full" or "standalone", got "forever"`},
		{"keep target not a string", `{"type": "keep", "backup_id": "latest", "target": true}`, ops.EINVALID, `"target" must be "full" or "standalone", got true`},
		{"keep both", `{"type": "keep", "backup_id": "latest", "target": "full", "release": true}`, ops.EINVALID, "not both"},
		{"release false", `{"type": "keep", "backup_id": "latest", "release": false}`, ops.EINVALID, `"release" must be true when given`},
		{"release not a bool", `{"type": "keep", "backup_id": "latest", "release": "yes"}`, ops.EINVALID, `"release" must be true or false`},
		{"keep no backup_id", `{"type": "keep", "target": "full"}`, ops.EINVALID, `keep needs "backup_id"`},
		{"keep auto", `{"type": "keep", "backup_id": "auto", "target": "full"}`, ops.EINVALID, `chooses a backup only for a recovery`},
		{"keep option-like", `{"type": "keep", "backup_id": "--all", "target": "full"}`, ops.EINVALID, `starts with "-"`},
		{"keep unknown backup", `{"type": "keep", "backup_id": "nope", "target": "full"}`, ops.ENOTFOUND, `backup "nope" does not exist for server "db_server_two"`},
		{"keep FAILED", `{"type": "keep", "backup_id": "last-failed", "target": "full"}`, ops.EINVALID,
			"Cannot add keep to backup " + badID + " because it has status FAILED. Only backups with status DONE can be kept."},
		{"keep at instance", `{"type": "keep", "backup_id": "latest", "target": "full"}`, ops.EINVALID, "keep is a server operation"},
		{"delete no backup_id", `{"type": "delete"}`, ops.EINVALID, `delete needs "backup_id"`},
		{"delete empty", `{"type": "delete", "backup_id": ""}`, ops.EINVALID, `"backup_id" must not be empty`},
		{"delete number", `{"type": "delete", "backup_id": 3}`, ops.EINVALID, `"backup_id" must be a string`},
		{"delete option-like", `{"type": "delete", "backup_id": "-x"}`, ops.EINVALID, `starts with "-"`},
		{"delete unknown", `{"type": "delete", "backup_id": "20200101T000000"}`, ops.ENOTFOUND, "does not exist"},
		{"delete kept", `{"type": "delete", "backup_id": "monthly"}`, ops.ECONFLICT,
			"Skipping delete of backup " + kept + " for server db_server_two as it has a current keep request. If you really want to delete this backup please remove the keep and try again."},
		{"delete kept by ID", `{"type": "delete", "backup_id": "oldest"}`, ops.ECONFLICT, `keep target: standalone; release it with a keep operation with "release": true`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			server := srv2
			if tc.name == "keep at instance" {
				server = ""
			}
			req, err := validate(cfg, barman.Catalog{}, server, pyjsontest.MustDecode(t, tc.payload))
			if tc.code != "" {
				opstest.WantError(t, err, tc.code, tc.msg)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if req.BackupID != tc.msg {
				t.Errorf("resolved backup = %q, want %q", req.BackupID, tc.msg)
			}
		})
	}
}

// TestServiceKeepDelete: keep and delete are recorded with the backup they
// resolved to and run in the backup lane; a keep is refused, before
// anything is written, with a Barman older than 2.14, naming the release
// that brings `barman keep`.
func TestServiceKeepDelete(t *testing.T) {
	env, _ := validateEnv(t)
	env.WithStore(t)
	root := filepath.Dir(env.Home)
	svcFor := func(v ops.Version) *ops.Service {
		return &ops.Service{Barman: barman.NewReader(env.Conf), OpenStore: store.Opener(), Version: "test",
			BarmanVersion: func() (ops.Version, error) { return v, nil }}
	}
	before := testenv.Snapshot(t, root)
	for _, payload := range []string{
		`{"type": "keep", "backup_id": "latest", "target": "full"}`,
		`{"type": "keep", "backup_id": "latest", "release": true}`,
	} {
		_, err := svcFor(ops.Version{2, 13, 0}).Create(context.Background(), srv2, pyjsontest.MustDecode(t, payload), ops.Requester{Name: "test"})
		opstest.WantError(t, err, ops.EINVALID, "needs `barman keep --", "which Barman added in 2.14.0; the installed Barman is 2.13.0 (upgrade Barman to use it)")
	}
	if diff := testenv.DiffSnapshots(before, testenv.Snapshot(t, root)); diff != "" {
		t.Fatalf("a refused keep changed the file tree:\n%s", diff)
	}
	// delete is older than any Barman we support.
	svc := svcFor(ops.Version{2, 0, 0})
	id, err := svc.Create(context.Background(), srv2, pyjsontest.MustDecode(t, `{"type": "delete", "backup_id": "latest"}`), ops.Requester{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	op, err := svc.Get(context.Background(), srv2, id)
	if err != nil {
		t.Fatal(err)
	}
	if op.Type != ops.DeleteOp || op.ResolvedBackupID() != goodDone || op.Type.Lane() != ops.LaneBackup {
		t.Errorf("recorded %s resolved to %q in lane %q; want delete of %s in the backup lane", op.Type, op.ResolvedBackupID(), op.Type.Lane(), goodDone)
	}
	svc = svcFor(ops.Version{2, 14, 0})
	id, err = svc.Create(context.Background(), srv2, pyjsontest.MustDecode(t, `{"type": "keep", "backup_id": "latest", "target": "standalone"}`), ops.Requester{Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	if op, err = svc.Get(context.Background(), srv2, id); err != nil || op.ResolvedBackupID() != goodDone || op.Type.Lane() != ops.LaneBackup {
		t.Errorf("keep recorded as %+v, %v; want resolved %s in the backup lane", op, err, goodDone)
	}
}
