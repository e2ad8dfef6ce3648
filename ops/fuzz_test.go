package ops_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// Fuzz targets: run briefly by scripts/fuzz-smoke, at length with
// go test -run '^$' -fuzz '^FuzzName$' ./ops.

// FuzzDecodeAndValidate: any body, for any scope, is decoded and validated
// against Barman 3.17's fixture configuration without panicking; every
// refusal is an *Error saying invalid or not_found, and every accepted
// request is one Barman can be started with.
func FuzzDecodeAndValidate(f *testing.F) {
	env := testenv.NewBarman(f, "barman-3.17")
	cfg, err := barman.LoadConfig(env.Conf)
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range testenv.FuzzPayloads {
		f.Add([]byte(p), "db_server_two")
		f.Add([]byte(p), "")
	}
	f.Add([]byte(testenv.FuzzPayloads[0]), "../db_server_two")
	f.Add([]byte(testenv.FuzzPayloads[0]), "my-model")
	// Values longer than one argument of Barman's command line can be.
	long := strings.Repeat("x", ops.MaxArgBytes+1)
	f.Add([]byte(`{"backup_id": "latest", "remote_ssh_command": "ssh `+long+`", "destination_directory": "/d"}`), "db_server_two")
	f.Add([]byte(`{"type": "config_update", "changes": [{"scope": "server", "server_name": "db_server_two", "conninfo": "`+long[:ops.MaxArgBytes/6]+`\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"}]}`), "")
	f.Add([]byte(`{"type": "config_update", "changes": [{"scope": "server", "server_name": "db_server_two", "conninfo": "`+strings.Repeat("\u00e9", ops.MaxArgBytes/6+1)+`"}]}`), "")
	f.Fuzz(func(t *testing.T, data []byte, server string) {
		obj, err := pyjson.DecodeObject(data, pyjson.DecodeOptions{RejectDuplicateKeys: true})
		if err != nil {
			return
		}
		req, err := validate(cfg, barman.Catalog{}, server, obj)
		if err != nil {
			var e *ops.Error
			if !errors.As(err, &e) || (e.Code != ops.EINVALID && e.Code != ops.ENOTFOUND) || e.Message == "" {
				t.Fatalf("Validate(%q, %s) = %#v, want an *ops.Error with code invalid or not_found", server, data, err)
			}
			return
		}
		if req.Server != server || req.Payload != obj {
			t.Fatalf("request %+v for scope %q", req, server)
		}
		if req.Type.ServerScoped() != (server != "") {
			t.Fatalf("%s accepted in scope %q", req.Type, server)
		}
		if server != "" && !ops.ValidName(server) {
			t.Fatalf("accepted server name %q", server)
		}
		if req.Type == ops.Recovery && req.BackupID == "" {
			t.Fatalf("recovery accepted without resolving its backup: %s", data)
		}
		for _, k := range ops.ReservedKeys {
			if _, ok := obj.Get(k); ok {
				t.Fatalf("accepted the reserved key %q", k)
			}
		}
		// What Barman receives: each argument one that execve takes.
		var args []any
		switch req.Type {
		case ops.Recovery:
			for _, k := range []string{"backup_id", "remote_ssh_command", "destination_directory"} {
				v, _ := obj.Get(k)
				args = append(args, v)
			}
		case ops.ConfigSwitch:
			if v, ok := obj.Get("model_name"); ok {
				args = append(args, v)
			}
		case ops.ConfigUpdate:
			changes, _ := obj.Get("changes")
			enc, err := pyjson.EncodePython(changes)
			if err != nil {
				t.Fatalf("accepted changes cannot be encoded: %v", err)
			}
			args = append(args, string(enc))
		}
		for _, a := range args {
			s, ok := a.(string)
			if !ok || s == "" || strings.ContainsRune(s, 0) || len(s) > ops.MaxArgBytes {
				t.Fatalf("accepted %T %.80q as an argument for Barman", a, a)
			}
		}
	})
}
