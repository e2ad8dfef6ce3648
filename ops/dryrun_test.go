package ops_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson/pyjsontest"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/ops/opstest"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// TestServiceDryRun: a dry run validates as Create does and answers the
// operation with the argv barman.Command.Args builds (masked), writing
// nothing and starting no runner.
func TestServiceDryRun(t *testing.T) {
	env := testenv.NewBarman(t, "barman-3.17").WithStore(t)
	root := filepath.Dir(env.Home)
	launcher := &recordingLauncher{}
	svc := &ops.Service{Barman: barman.NewReader(env.Conf), OpenStore: store.Opener(), Version: "test", Launcher: launcher,
		Argv: barman.NewCommand("barman").Args}
	who := ops.Requester{Name: "cli:alice"}
	before := testenv.Snapshot(t, root)

	op, err := svc.DryRun(context.Background(), "db_server_two", pyjsontest.MustDecode(t, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`), who)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"barman", "-c", env.Conf, "recover", "db_server_two", "20261125T080758", "/d", "--remote-ssh-command=ssh x"}
	if !reflect.DeepEqual(op.BarmanArgv, want) {
		t.Errorf("argv = %q, want %q", op.BarmanArgv, want)
	}
	if op.ID != "" || op.Type != ops.Recovery || op.Phase != ops.PhaseQueued || op.ResolvedBackupID() != "20261125T080758" || op.RequestedBy() != "cli:alice" {
		t.Errorf("operation = %+v", op)
	}

	op, err = svc.DryRun(context.Background(), "", pyjsontest.MustDecode(t, `{"type": "config_update", "changes": [{"scope": "server", "server_name": "db_server_two", "conninfo": "host=db1 password=s3cretOne"}]}`), who)
	if err != nil {
		t.Fatal(err)
	}
	if all := strings.Join(op.BarmanArgv, " "); strings.Contains(all, "s3cretOne") || !strings.Contains(all, ops.Masked) {
		t.Errorf("argv = %q: want the password masked", op.BarmanArgv)
	}
	// The changes argument stays the JSON Barman is given, its password
	// masked, rather than cut at the password as text would be.
	if changes := op.BarmanArgv[len(op.BarmanArgv)-1]; !json.Valid([]byte(changes)) || !strings.Contains(changes, "password="+ops.Masked+`"`) {
		t.Errorf("changes argument = %q: want the JSON with only the password masked", changes)
	}

	// Refused as Create refuses.
	_, err = svc.DryRun(context.Background(), "db_server_two", pyjsontest.MustDecode(t, `{"type": "recovery", "backup_id": "20990101T000000", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`), who)
	opstest.WantError(t, err, ops.ENOTFOUND)
	_, err = svc.DryRun(context.Background(), "db2", pyjsontest.MustDecode(t, `{"type": "config_switch", "reset": true}`), who)
	opstest.WantError(t, err, ops.ENOTFOUND, `server "db2"`)

	if diff := testenv.DiffSnapshots(before, testenv.Snapshot(t, root)); diff != "" {
		t.Errorf("a dry run changed the file tree:\n%s", diff)
	}
	if len(launcher.ensured) != 0 {
		t.Errorf("a dry run asked for runners: %q", launcher.ensured)
	}
}

// TestServiceDryRunVersionGate: an option the installed Barman lacks is
// refused by a dry run as by Create.
func TestServiceDryRunVersionGate(t *testing.T) {
	env := testenv.NewBarman(t, "barman-3.17").WithStore(t)
	svc := &ops.Service{Barman: barman.NewReader(env.Conf), OpenStore: store.Opener(), Argv: barman.NewCommand("barman").Args,
		BarmanVersion: func() (ops.Version, error) { return ops.Version{Major: 3, Minor: 0}, nil }}
	_, err := svc.DryRun(context.Background(), "db_server_two", pyjsontest.MustDecode(t, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/d", "delta_restore": true}`), ops.Requester{})
	opstest.WantError(t, err, ops.EINVALID, "delta_restore")
}
