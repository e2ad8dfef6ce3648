package ops_test

import (
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson/pyjsontest"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/ops/opstest"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// validateEnv is the barman-3.17 fixture plus a FAILED backup newer than the
// DONE one, and a model of another cluster.
func validateEnv(t *testing.T) (*testenv.Barman, *ops.BarmanConfig) {
	t.Helper()
	env := testenv.NewBarman(t, "barman-3.17")
	testenv.WriteFile(t, filepath.Join(env.Home, "db_server_two", "meta", "20261125T090000-backup.info"),
		"backup_name=None\nstatus=FAILED\nserver_name=db_server_two\n")
	testenv.WriteFile(t, filepath.Join(env.ConfDir, "other-model.conf"), "[other-model]\nmodel = true\ncluster = other\n")
	cfg, err := barman.LoadConfig(env.Conf)
	if err != nil {
		t.Fatal(err)
	}
	return env, cfg
}

// withOptions is p with Barman's option table, as the Service validates.
func withOptions(p ops.Policy) ops.Policy {
	p.Options = barman.Options
	return p
}

// validate is validation with the default policy, as the Service does it.
func validate(cfg *ops.BarmanConfig, catalog ops.Catalog, server string, payload *pyjson.Object) (*ops.Request, error) {
	return withOptions(ops.Policy{}).Validate(cfg, catalog, server, payload)
}

const (
	srv2     = "db_server_two"
	goodDone = "20261125T080758"
	badID    = "20261125T090000"
)

func TestValidate(t *testing.T) {
	_, cfg := validateEnv(t)
	manyChanges := `{"type": "config_update", "changes": [` +
		strings.TrimSuffix(strings.Repeat(`{"scope": "server", "server_name": "a", "archiver": "on"},`, 1001), ",") + `]}`
	longKey := strings.Repeat("k", 65)

	tests := []struct {
		name    string
		server  string
		payload string
		code    string   // "" when the payload is valid
		msg     string   // a part of the error message, or for a valid recovery the resolved backup ID
		typ     ops.Type // for valid payloads
	}{
		// Valid requests, the documented ones first.
		{"documented recovery", srv2, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh postgres@db_server_two.my.org", "destination_directory": "/var/lib/pgdata"}`, "", goodDone, ops.Recovery},
		{"documented config_switch", srv2, `{"type": "config_switch", "model_name": "my-model"}`, "", "", ops.ConfigSwitch},
		{"documented config_switch reset", srv2, `{"type": "config_switch", "reset": true}`, "", "", ops.ConfigSwitch},
		{"documented config_update", "", `{
		  "type": "config_update",
		  "changes": [
		    {"scope": "server", "server_name": "my-server-a", "archiver": "on", "streaming_archiver": "off"},
		    {"scope": "server", "server_name": "my-other-server-b", "conninfo": "some_conn_info", "streaming_conninfo": "some_streaming_conninfo", "streaming_archiver": "on"},
		    {"scope": "model", "model_name": "some-model", "streaming_conninfo": "some_streaming_conn_info"}
		  ]}`, "", "", ops.ConfigUpdate},
		{"server POST without type is a recovery", srv2, `{"backup_id": "last", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`, "", goodDone, ops.Recovery},
		{"recovery by backup ID", srv2, `{"type": "recovery", "backup_id": "` + goodDone + `", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`, "", goodDone, ops.Recovery},
		{"recovery of oldest", srv2, `{"type": "recovery", "backup_id": "oldest", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`, "", goodDone, ops.Recovery},
		{"recovery of first", srv2, `{"type": "recovery", "backup_id": "first", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`, "", goodDone, ops.Recovery},
		{"recovery with extra keys", srv2, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/d", "note": {"a": [1]}}`, "", goodDone, ops.Recovery},
		{"config_update numbers and booleans", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "minimum_redundancy": 2, "archiver": true, "x_y_9": 1.5}]}`, "", "", ops.ConfigUpdate},

		// Scope and type.
		{"unknown server", "db2", `{"type": "config_switch", "reset": true}`, ops.ENOTFOUND, `server "db2" is not in`, ""},
		{"model posted as server", "my-model", `{"type": "config_switch", "reset": true}`, ops.ENOTFOUND, `"my-model" is a model, not a server`, ""},
		{"server name with a path", "../etc", `{"type": "config_switch", "reset": true}`, ops.ENOTFOUND, `server "../etc" is not in`, ""},
		{"server name with a slash", "a/b", `{"type": "config_switch", "reset": true}`, ops.ENOTFOUND, `not a valid server name`, ""},
		{"instance POST without type", "", `{"changes": []}`, ops.EINVALID, `"type" is required`, ""},
		{"type not a string", srv2, `{"type": 1}`, ops.EINVALID, `"type" must be a string, got a number`, ""},
		{"type null", "", `{"type": null}`, ops.EINVALID, `"type" must be a string, got null`, ""},
		{"unknown type", srv2, `{"type": "restore"}`, ops.EINVALID, `unknown operation type "restore": expected one of recovery, config_switch, config_update, backup`, ""},
		{"unknown type at instance", "", `{"type": "destroy"}`, ops.EINVALID, `unknown operation type "destroy"`, ""},
		{"empty type", srv2, `{"type": ""}`, ops.EINVALID, `unknown operation type ""`, ""},
		{"type case matters", srv2, `{"type": "Recovery"}`, ops.EINVALID, `unknown operation type "Recovery"`, ""},
		{"recovery to the instance", "", `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`, ops.EINVALID, "recovery is a server operation", ""},
		{"config_switch to the instance", "", `{"type": "config_switch", "reset": true}`, ops.EINVALID, "config_switch is a server operation", ""},
		{"config_update to a server", srv2, `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "archiver": "on"}]}`, ops.EINVALID, `config_update is an instance operation: send it to /operations, not to server "db_server_two"`, ""},

		// Reserved keys.
		{"reserved operation_type", srv2, `{"type": "config_switch", "reset": true, "operation_type": "recovery"}`, ops.EINVALID, `key "operation_type" is reserved`, ""},
		{"reserved start_time", srv2, `{"type": "config_switch", "reset": true, "start_time": "x"}`, ops.EINVALID, `key "start_time" is reserved`, ""},
		{"reserved success", "", `{"type": "config_update", "success": true}`, ops.EINVALID, `key "success" is reserved`, ""},
		{"reserved end_time", srv2, `{"type": "config_switch", "reset": true, "end_time": "x"}`, ops.EINVALID, `key "end_time" is reserved`, ""},
		{"reserved output", srv2, `{"type": "config_switch", "reset": true, "output": ""}`, ops.EINVALID, `key "output" is reserved`, ""},
		{"reserved exit_code", srv2, `{"type": "config_switch", "reset": true, "exit_code": 0}`, ops.EINVALID, `key "exit_code" is reserved`, ""},
		{"reserved pg_backup_api", srv2, `{"type": "config_switch", "reset": true, "pg_backup_api": {}}`, ops.EINVALID, `key "pg_backup_api" is reserved`, ""},

		// recovery.
		{"recovery without backup_id", srv2, `{"type": "recovery", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`, ops.EINVALID, `recovery needs "backup_id"`, ""},
		{"recovery without remote_ssh_command", srv2, `{"type": "recovery", "backup_id": "latest", "destination_directory": "/d"}`, ops.EINVALID, `recovery needs "remote_ssh_command"`, ""},
		{"recovery without destination_directory", srv2, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x"}`, ops.EINVALID, `recovery needs "destination_directory"`, ""},
		{"recovery with nothing", srv2, `{"type": "recovery"}`, ops.EINVALID, `recovery needs "backup_id"`, ""},
		{"backup_id a number", srv2, `{"type": "recovery", "backup_id": 20261125, "remote_ssh_command": "ssh x", "destination_directory": "/d"}`, ops.EINVALID, `recovery: "backup_id" must be a string, got a number`, ""},
		{"remote_ssh_command null", srv2, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": null, "destination_directory": "/d"}`, ops.EINVALID, `"remote_ssh_command" must be a string, got null`, ""},
		{"remote_ssh_command an array", srv2, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": ["ssh", "x"], "destination_directory": "/d"}`, ops.EINVALID, `"remote_ssh_command" must be a string, got an array`, ""},
		{"destination_directory an object", srv2, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": {}}`, ops.EINVALID, `"destination_directory" must be a string, got an object`, ""},
		{"destination_directory a boolean", srv2, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": true}`, ops.EINVALID, `got a boolean`, ""},
		{"empty backup_id", srv2, `{"type": "recovery", "backup_id": "", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`, ops.EINVALID, `"backup_id" must not be empty`, ""},
		{"blank remote_ssh_command", srv2, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "   ", "destination_directory": "/d"}`, ops.EINVALID, `"remote_ssh_command" must not be empty`, ""},
		{"relative destination", srv2, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "var/lib/pgdata"}`, ops.EINVALID, `"destination_directory" "var/lib/pgdata" must be an absolute path`, ""},
		{"dot destination", srv2, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "./pgdata"}`, ops.EINVALID, "must be an absolute path", ""},
		{"tilde destination", srv2, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "~/pgdata"}`, ops.EINVALID, "must be an absolute path", ""},
		{"newline in destination", srv2, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/d\nx"}`, ops.EINVALID, `"destination_directory" contains a control character ('\n' at byte 2)`, ""},
		{"tab in remote_ssh_command", srv2, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh\tx", "destination_directory": "/d"}`, ops.EINVALID, `"remote_ssh_command" contains a control character`, ""},
		{"DEL in backup_id", srv2, `{"type": "recovery", "backup_id": "lat\u007fest", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`, ops.EINVALID, `"backup_id" contains a control character`, ""},
		{"NUL in destination", srv2, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/d\u0000"}`, ops.EINVALID, `contains a control character`, ""},
		{"unknown backup", srv2, `{"type": "recovery", "backup_id": "20990101T000000", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`, ops.ENOTFOUND, `backup "20990101T000000" does not exist for server "db_server_two" (backups: 20261125T080758 DONE, 20261125T090000 FAILED)`, ""},
		{"unknown backup name", srv2, `{"type": "recovery", "backup_id": "nightly", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`, ops.ENOTFOUND, `backup "nightly" does not exist`, ""},
		{"FAILED backup by ID", srv2, `{"type": "recovery", "backup_id": "` + badID + `", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`, ops.EINVALID, `backup 20261125T090000 of server "db_server_two" has status FAILED; only a DONE backup can be recovered`, ""},
		{"FAILED backup by last-failed", srv2, `{"type": "recovery", "backup_id": "last-failed", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`, ops.EINVALID, "has status FAILED", ""},

		// config_switch.
		{"config_switch with neither", srv2, `{"type": "config_switch"}`, ops.EINVALID, `config_switch needs "model_name" (a model to apply) or "reset": true`, ""},
		{"config_switch with both", srv2, `{"type": "config_switch", "model_name": "my-model", "reset": true}`, ops.EINVALID, `either "model_name" or "reset": true, not both`, ""},
		{"config_switch reset false", srv2, `{"type": "config_switch", "reset": false}`, ops.EINVALID, `"reset" must be true when given (got false)`, ""},
		{"config_switch reset string", srv2, `{"type": "config_switch", "reset": "true"}`, ops.EINVALID, `(got "true")`, ""},
		{"config_switch reset number", srv2, `{"type": "config_switch", "reset": 1}`, ops.EINVALID, `(got 1)`, ""},
		{"config_switch reset null", srv2, `{"type": "config_switch", "reset": null}`, ops.EINVALID, `(got null)`, ""},
		{"config_switch reset object", srv2, `{"type": "config_switch", "reset": {}}`, ops.EINVALID, `(got an object)`, ""},
		{"config_switch model_name number", srv2, `{"type": "config_switch", "model_name": 3}`, ops.EINVALID, `config_switch: "model_name" must be a string, got a number`, ""},
		{"config_switch model_name null", srv2, `{"type": "config_switch", "model_name": null}`, ops.EINVALID, `"model_name" must be a string, got null`, ""},
		{"config_switch model_name empty", srv2, `{"type": "config_switch", "model_name": ""}`, ops.EINVALID, `"model_name" must not be empty`, ""},
		{"config_switch model_name newline", srv2, `{"type": "config_switch", "model_name": "my-model\n"}`, ops.EINVALID, `contains a control character`, ""},
		{"config_switch unknown model", srv2, `{"type": "config_switch", "model_name": "no-such-model"}`, ops.ENOTFOUND, `model "no-such-model" is not in`, ""},
		{"config_switch server as model", srv2, `{"type": "config_switch", "model_name": "db_server_two"}`, ops.ENOTFOUND, `model "db_server_two" is not in`, ""},
		{"config_switch model of another cluster", srv2, `{"type": "config_switch", "model_name": "other-model"}`, ops.EINVALID, `model "other-model" belongs to cluster "other", but server "db_server_two" is in cluster "db_server_two"`, ""},

		// config_update.
		{"config_update without changes", "", `{"type": "config_update"}`, ops.EINVALID, `config_update needs "changes"`, ""},
		{"config_update empty changes", "", `{"type": "config_update", "changes": []}`, "", "", ops.ConfigUpdate}, // as the reference: Barman does nothing
		{"config_update changes object", "", `{"type": "config_update", "changes": {"scope": "server"}}`, ops.EINVALID, `"changes" must be an array, got an object`, ""},
		{"config_update changes string", "", `{"type": "config_update", "changes": "[]"}`, ops.EINVALID, `"changes" must be an array, got a string`, ""},
		{"config_update changes null", "", `{"type": "config_update", "changes": null}`, ops.EINVALID, `"changes" must be an array, got null`, ""},
		{"config_update too many changes", "", manyChanges, ops.EINVALID, `"changes" has 1001 entries; at most 1000 are accepted`, ""},
		{"config_update change not an object", "", `{"type": "config_update", "changes": [1]}`, ops.EINVALID, `changes[0] must be an object, got a number`, ""},
		{"config_update change an array", "", `{"type": "config_update", "changes": [[]]}`, ops.EINVALID, `changes[0] must be an object, got an array`, ""},
		{"config_update no scope", "", `{"type": "config_update", "changes": [{"server_name": "s", "archiver": "on"}]}`, ops.EINVALID, `changes[0] needs "scope": "server" or "model"`, ""},
		{"config_update bad scope", "", `{"type": "config_update", "changes": [{"scope": "instance", "server_name": "s", "archiver": "on"}]}`, ops.EINVALID, `"scope" must be "server" or "model", got "instance"`, ""},
		{"config_update scope not a string", "", `{"type": "config_update", "changes": [{"scope": 1, "archiver": "on"}]}`, ops.EINVALID, `"scope" must be "server" or "model", got 1`, ""},
		{"config_update scope case", "", `{"type": "config_update", "changes": [{"scope": "Server", "server_name": "s", "archiver": "on"}]}`, ops.EINVALID, `got "Server"`, ""},
		{"config_update missing server_name", "", `{"type": "config_update", "changes": [{"scope": "server", "archiver": "on"}]}`, ops.EINVALID, `changes[0] has scope "server" and so needs "server_name"`, ""},
		{"config_update missing model_name", "", `{"type": "config_update", "changes": [{"scope": "model", "server_name": "s", "archiver": "on"}]}`, ops.EINVALID, `has scope "model" and so needs "model_name"`, ""},
		{"config_update server_name not a string", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": 7, "archiver": "on"}]}`, ops.EINVALID, `"server_name" must be a string, got a number`, ""},
		{"config_update server_name path", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "../x", "archiver": "on"}]}`, ops.EINVALID, `"../x" is not a valid server name`, ""},
		{"config_update server_name with bracket", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "a]\n[b", "archiver": "on"}]}`, ops.EINVALID, `is not a valid server name`, ""},
		{"config_update server_name barman", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "barman", "barman_home": "/tmp"}]}`, ops.EINVALID, `"barman" is not a valid server name`, ""},
		{"config_update model_name empty", "", `{"type": "config_update", "changes": [{"scope": "model", "model_name": "", "archiver": "on"}]}`, ops.EINVALID, `"" is not a valid model name`, ""},
		{"config_update key with newline", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "archiver\nconninfo": "on"}]}`, ops.EINVALID, `"archiver\nconninfo" is not a Barman option name`, ""},
		{"config_update key upper-case", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "Archiver": "on"}]}`, ops.EINVALID, `"Archiver" is not a Barman option name`, ""},
		{"config_update key with dash", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "streaming-archiver": "on"}]}`, ops.EINVALID, `is not a Barman option name`, ""},
		{"config_update key with space", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "a b": "on"}]}`, ops.EINVALID, `is not a Barman option name`, ""},
		{"config_update key with equals", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "a=b": "on"}]}`, ops.EINVALID, `is not a Barman option name`, ""},
		{"config_update key starting with a digit", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "1a": "on"}]}`, ops.EINVALID, `is not a Barman option name`, ""},
		{"config_update key too long", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "` + longKey + `": "on"}]}`, ops.EINVALID, `is not a Barman option name`, ""},
		{"config_update empty key", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "": "on"}]}`, ops.EINVALID, `"" is not a Barman option name`, ""},
		{"config_update value with newline", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "conninfo": "host=a\n[evil]"}]}`, ops.EINVALID, `the value of "conninfo" contains a control character`, ""},
		{"config_update value with CR", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "conninfo": "host=a\r"}]}`, ops.EINVALID, `contains a control character`, ""},
		{"config_update object value", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "archiver": {"on": true}}]}`, ops.EINVALID, `the value of "archiver" must be a string, number or boolean, got an object`, ""},
		{"config_update array value", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "archiver": ["on"]}]}`, ops.EINVALID, `got an array`, ""},
		{"config_update null value", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "archiver": null}]}`, ops.EINVALID, `got null`, ""},
		{"config_update no options", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s"}]}`, ops.EINVALID, `changes[0] changes no option`, ""},
		// Sections every server reads, and options that run commands or
		// name paths (issue 14, defect 3).
		{"config_update DEFAULT section", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "DEFAULT", "archiver": "on"}]}`, ops.EINVALID, `"DEFAULT" is not a valid server name: [DEFAULT] would change every server`, ""},
		{"config_update default section lower-case", "", `{"type": "config_update", "changes": [{"scope": "model", "model_name": "default", "archiver": "on"}]}`, ops.EINVALID, `"default" is not a valid model name`, ""},
		{"config_update Barman section mixed case", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "Barman", "archiver": "on"}]}`, ops.EINVALID, `"Barman" is not a valid server name`, ""},
		{"config_update hook script", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "post_backup_script": "touch /tmp/pwned"}]}`, ops.EINVALID, `option "post_backup_script" may not be set by config_update: it makes Barman run a command or use a path of the sender's choosing (default deny list entry "*_script"); to allow it, add "post_backup_script" to [config_update] allow_keys`, ""},
		{"config_update retry hook script", "", `{"type": "config_update", "changes": [{"scope": "model", "model_name": "m", "cluster": "c", "pre_archive_retry_script": "x"}]}`, ops.EINVALID, `option "pre_archive_retry_script" may not be set`, ""},
		{"config_update ssh_command", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "ssh_command": "sh -c evil"}]}`, ops.EINVALID, `option "ssh_command" may not be set`, ""},
		{"config_update primary_ssh_command", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "primary_ssh_command": "x"}]}`, ops.EINVALID, `option "primary_ssh_command" may not be set`, ""},
		{"config_update encryption_passphrase_command", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "encryption_passphrase_command": "x"}]}`, ops.EINVALID, `option "encryption_passphrase_command" may not be set`, ""},
		{"config_update custom_compression_filter", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "custom_compression_filter": "sh"}]}`, ops.EINVALID, `option "custom_compression_filter" may not be set`, ""},
		{"config_update path_prefix", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "path_prefix": "/tmp/evil"}]}`, ops.EINVALID, `option "path_prefix" may not be set`, ""},
		{"config_update backup_directory", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "backup_directory": "/etc"}]}`, ops.EINVALID, `option "backup_directory" may not be set`, ""},
		{"config_update recovery_staging_path", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "recovery_staging_path": "/etc"}]}`, ops.EINVALID, `option "recovery_staging_path" may not be set`, ""},
		{"config_update staging_path", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "staging_path": "/etc"}]}`, ops.EINVALID, `option "staging_path" may not be set`, ""},
		{"config_update forbidden key after allowed ones", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "archiver": "on"}, {"scope": "server", "server_name": "t", "description": "x", "wals_directory": "/tmp"}]}`, ops.EINVALID, `changes[1]: option "wals_directory" may not be set`, ""},

		// Dash-led positionals (defect 9).
		{"backup_id that reads as an option", srv2, `{"type": "recovery", "backup_id": "--help", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`, ops.EINVALID, `recovery: "backup_id" is "--help", which starts with "-": Barman would read it as an option`, ""},
		{"model_name that reads as an option", srv2, `{"type": "config_switch", "model_name": "--reset"}`, ops.EINVALID, `config_switch: "model_name" is "--reset", which starts with "-"`, ""},
		{"dash-led remote_ssh_command is not ssh", srv2, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "-oProxyCommand=x", "destination_directory": "/d"}`, ops.EINVALID, `the program "-oProxyCommand=x" is not ssh`, ""},

		// Control characters and lone surrogates anywhere (defect 4).
		{"NUL in an extra key", srv2, `{"type": "config_switch", "reset": true, "note\u0000": "x"}`, ops.EINVALID, `key "note\x00" contains a control character (U+0000 at byte 4)`, ""},
		{"ESC in an extra key", "", `{"type": "config_update", "changes": [], "\u001b]0;x": 1}`, ops.EINVALID, `contains a control character (U+001B at byte 0)`, ""},
		{"C1 in a nested extra key", srv2, `{"type": "config_switch", "reset": true, "note": {"a\u009bb": 1}}`, ops.EINVALID, `key "note.a\u009bb" contains a control character (U+009B`, ""},
		{"NUL in an extra value", srv2, `{"type": "config_switch", "reset": true, "note": "a\u0000b"}`, ops.EINVALID, `the value of "note" contains a control character (U+0000 at byte 1)`, ""},
		{"escape sequence in a nested extra value", srv2, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/d", "note": {"a": ["ok", "\u001b]52;c;eA==\u0007"]}}`, ops.EINVALID, `the value of "note.a[1]" contains a control character (U+001B at byte 0)`, ""},
		{"DEL in an extra value", srv2, `{"type": "config_switch", "reset": true, "note": "\u007f"}`, ops.EINVALID, `contains a control character (U+007F`, ""},
		{"bidi override in a path", srv2, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/var/lib/\u202egpj.exe"}`, ops.EINVALID, `"destination_directory" "/var/lib/\u202egpj.exe" holds '\u202e' at byte 9`, ""},
		{"bidi override in an extra value", srv2, `{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/d", "note": "\u202egpj.exe"}`, ops.EINVALID, `the value of "note" contains a bidirectional embedding, override or isolate (U+202E at byte 0)`, ""},
		{"bidi isolate in an extra value", srv2, `{"type": "config_switch", "reset": true, "note": "a\u2066b"}`, ops.EINVALID, `(U+2066 at byte 1)`, ""},
		{"bidi embedding in a config_update value", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "description": "x\u202ay"}]}`, ops.EINVALID, `the value of "changes[0].description" contains a bidirectional`, ""},
		{"right-to-left mark in a key", srv2, `{"type": "config_switch", "reset": true, "no\u200fte": 1}`, ops.EINVALID, `key "no\u200fte" contains a bidirectional formatting character (U+200F at byte 2)`, ""},
		{"right-to-left mark in free text is text", srv2, `{"type": "config_switch", "reset": true, "note": "\u05e9\u05dc\u05d5\u05dd!\u200f"}`, "", "", ops.ConfigSwitch},
		{"tab and line breaks in an extra value are text", srv2, `{"type": "config_switch", "reset": true, "note": "a\tb\r\nc"}`, "", "", ops.ConfigSwitch},
		{"lone high surrogate", srv2, `{"type": "config_switch", "reset": true, "note": "\ud800"}`, ops.EINVALID, `lone UTF-16 surrogate`, ""},
		{"lone low surrogate in a key", srv2, `{"type": "config_switch", "reset": true, "\udc00": 1}`, ops.EINVALID, `lone UTF-16 surrogate`, ""},
		{"high surrogate then a letter", srv2, `{"type": "config_switch", "reset": true, "note": "\uD83Dx"}`, ops.EINVALID, `lone UTF-16 surrogate`, ""},
		{"surrogate pair is a character", srv2, `{"type": "config_switch", "reset": true, "note": "\ud83d\ude00 \\ud800"}`, "", "", ops.ConfigSwitch},
		{"U+FFFD itself is a character", srv2, `{"type": "config_switch", "reset": true, "note": "\ufffd"}`, "", "", ops.ConfigSwitch},

		{"config_update second change bad", "", `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "archiver": "on"}, {"scope": "model", "model_name": "m"}]}`, ops.EINVALID, `changes[1] changes no option`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			payload := pyjsontest.MustDecode(t, tc.payload)
			before, _ := pyjson.EncodePython(payload)
			req, err := validate(cfg, barman.Catalog{}, tc.server, payload)
			if after, _ := pyjson.EncodePython(payload); string(after) != string(before) {
				t.Errorf("Validate changed the payload:\n%s\n%s", before, after)
			}
			if tc.code != "" {
				if req != nil {
					t.Errorf("got a request %+v with the error", req)
				}
				opstest.WantError(t, err, tc.code, tc.msg)
				return
			}
			if err != nil {
				t.Fatalf("Validate: %v (code %s)", err, ops.ErrorCode(err))
			}
			if req.Type != tc.typ || req.Server != tc.server || req.Payload != payload {
				t.Errorf("request = %+v, want type %s server %q and the payload", req, tc.typ, tc.server)
			}
			if req.BackupID != tc.msg {
				t.Errorf("BackupID = %q, want %q", req.BackupID, tc.msg)
			}
		})
	}
}

// TestValidateFixturePayloads feeds back the bodies the reference
// implementation accepted (its job files without the keys it added).
func TestValidateFixturePayloads(t *testing.T) {
	env := testenv.NewBarman(t, "barman-3.17")
	cfg, err := barman.LoadConfig(env.Conf)
	if err != nil {
		t.Fatal(err)
	}
	// We refuse up front what Barman would have refused later.
	wantCode := map[string]string{"20261125T080915": ops.ENOTFOUND} // model no-such-model
	root := testenv.Fixture(t, "pg-backup-api-2.2", "barman_home")
	var seen []string
	for _, scope := range []string{"", srv2} {
		files, err := filepath.Glob(filepath.Join(root, scope, "jobs", "*.json"))
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			id := strings.TrimSuffix(filepath.Base(f), ".json")
			seen = append(seen, id)
			job, err := store.ReadJSONFile(f)
			if err != nil {
				t.Fatal(err)
			}
			job.Delete(ops.KeyOperationType)
			job.Delete(ops.KeyStartTime)
			_, err = validate(cfg, barman.Catalog{}, scope, job)
			if got := ops.ErrorCode(err); got != wantCode[id] {
				t.Errorf("%s: Validate error %v (code %q), want code %q", id, err, got, wantCode[id])
			}
		}
	}
	sort.Strings(seen)
	if len(seen) != 7 {
		t.Errorf("fixture job files = %v, want 7", seen)
	}
}

func TestValidName(t *testing.T) {
	tests := []struct {
		s    string
		want bool
	}{
		{"db_server_two", true},
		{"my-model", true},
		{"pg.15", true},
		{"20261125T080500", true},
		{"20261125T080500-0001", true},
		{"A", true},
		{strings.Repeat("a", 128), true},
		{strings.Repeat("a", 129), false},
		{"", false},
		{".", false},
		{"..", false},
		{"../x", false},
		{"a..b", false},
		{".hidden", false},
		{"-dash", false},
		{"_under", false},
		{"a/b", false},
		{"a b", false},
		{"a\nb", false},
		{"a\x00", false},
		{"é", false},
		{"a]", false},
	}
	for _, tc := range tests {
		if got := ops.ValidName(tc.s); got != tc.want {
			t.Errorf("ValidName(%q) = %v, want %v", tc.s, got, tc.want)
		}
	}
}

func TestTypeServerScoped(t *testing.T) {
	want := map[ops.Type]bool{ops.Recovery: true, ops.ConfigSwitch: true, ops.ConfigUpdate: false, ops.BackupOp: true, ops.KeepOp: true, ops.DeleteOp: true, "other": false}
	for typ, w := range want {
		if got := typ.ServerScoped(); got != w {
			t.Errorf("%s.ServerScoped() = %v, want %v", typ, got, w)
		}
	}
}

func TestOperationDuration(t *testing.T) {
	start := time.Date(2026, 11, 25, 8, 0, 0, 0, time.Local)
	now := start.Add(90 * time.Second)
	tests := []struct {
		name string
		op   ops.Operation
		want time.Duration
	}{
		{"no start", ops.Operation{}, 0},
		{"running", ops.Operation{StartTime: start}, 90 * time.Second},
		{"finished", ops.Operation{StartTime: start, EndTime: start.Add(5 * time.Second)}, 5 * time.Second},
	}
	for _, tc := range tests {
		if got := tc.op.Duration(now); got != tc.want {
			t.Errorf("%s: Duration = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestErrorCodeAndMessage(t *testing.T) {
	tests := []struct {
		err       error
		code, msg string
	}{
		{nil, "", ""},
		{ops.Errorf(ops.ENOTFOUND, "x %d", 1), ops.ENOTFOUND, "x 1"},
		{os.ErrNotExist, ops.EINTERNAL, "file does not exist"},
		{wrapErr{ops.Errorf(ops.ECONFLICT, "inner")}, ops.ECONFLICT, "outer: inner"},
		// A store file root left behind: 503 with what to run, not a 500.
		{&fs.PathError{Op: "open", Path: "/var/lib/barman/db1/jobs/x.json", Err: fs.ErrPermission}, ops.EUNAVAILABLE,
			"open /var/lib/barman/db1/jobs/x.json: permission denied; this process's user may not use that file: `pg-backup-api doctor` (as root) lists the files that are not Barman's user's and the chown that fixes them"},
		{wrapErr{ops.Errorf(ops.EINVALID, "bad %v", fs.ErrPermission)}, ops.EINVALID, "outer: bad permission denied"},
	}
	for _, tc := range tests {
		if got := ops.ErrorCode(tc.err); got != tc.code {
			t.Errorf("ErrorCode(%v) = %q, want %q", tc.err, got, tc.code)
		}
		if got := ops.ErrorMessage(tc.err); got != tc.msg {
			t.Errorf("ErrorMessage(%v) = %q, want %q", tc.err, got, tc.msg)
		}
	}
}

type wrapErr struct{ inner error }

func (w wrapErr) Error() string { return "outer: " + w.inner.Error() }
func (w wrapErr) Unwrap() error { return w.inner }

// TestConfigUpdatePolicy checks [config_update] allow_keys and deny_keys
// (issue 14, defect 3): allow_keys lifts entries of the default list,
// deny_keys refuses more and wins over allow_keys.
func TestConfigUpdatePolicy(t *testing.T) {
	_, cfg := validateEnv(t)
	change := func(key string) string {
		return `{"type": "config_update", "changes": [{"scope": "server", "server_name": "s", "` + key + `": "v"}]}`
	}
	tests := []struct {
		name   string
		policy ops.Policy
		key    string
		msg    string // "" when accepted
	}{
		{"default refuses a hook", ops.Policy{}, "post_backup_script", `to allow it, add "post_backup_script" to [config_update] allow_keys`},
		{"default accepts a plain option", ops.Policy{}, "archiver", ""},
		{"allowed by name", ops.Policy{AllowConfigKeys: []string{"post_backup_script"}}, "post_backup_script", ""},
		{"allowed by pattern", ops.Policy{AllowConfigKeys: []string{"post_*"}}, "post_backup_script", ""},
		{"allowing one hook leaves the others refused", ops.Policy{AllowConfigKeys: []string{"post_backup_script"}}, "pre_backup_script", `option "pre_backup_script" may not be set`},
		{"deny_keys refuses more", ops.Policy{DenyConfigKeys: []string{"conninfo"}}, "conninfo", `[config_update] deny_keys refuses it ("conninfo")`},
		{"deny_keys wins over allow_keys", ops.Policy{AllowConfigKeys: []string{"*"}, DenyConfigKeys: []string{"ssh_command"}}, "ssh_command", `deny_keys refuses it`},
		{"allow everything", ops.Policy{AllowConfigKeys: []string{"*"}}, "ssh_command", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req, err := withOptions(tc.policy).Validate(cfg, barman.Catalog{}, "", pyjsontest.MustDecode(t, change(tc.key)))
			if tc.msg == "" {
				if err != nil {
					t.Fatalf("Validate: %v", err)
				}
				return
			}
			if req != nil {
				t.Errorf("got a request %+v with the error", req)
			}
			opstest.WantError(t, err, ops.EINVALID, tc.msg)
		})
	}
	for _, p := range []string{"post_backup_script", "*_script", "*"} {
		if err := ops.CheckKeyPatterns([]string{p}); err != nil {
			t.Errorf("CheckKeyPatterns(%q): %v", p, err)
		}
	}
	for _, p := range []string{"", "Post", "a b", "x[", "-x", "a/b"} {
		if err := ops.CheckKeyPatterns([]string{p}); err == nil {
			t.Errorf("CheckKeyPatterns(%q) accepted it", p)
		}
	}
}
