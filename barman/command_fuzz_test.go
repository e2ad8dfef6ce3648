package barman

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// maxArgStrlen is Linux's MAX_ARG_STRLEN with 4 KiB pages, counting the
// terminating NUL: execve refuses a longer argument with E2BIG.
const maxArgStrlen = 32 * 4096

// FuzzArgs: every request that validation accepts becomes exactly the
// argv of the reference's command table, with the caller's values passed
// verbatim as single arguments that execve accepts (no NUL, not too long),
// so Barman can always be started for an accepted operation.
func FuzzArgs(f *testing.F) {
	dir := f.TempDir()
	home := filepath.Join(dir, "home")
	conf := filepath.Join(dir, "barman.conf")
	files := map[string]string{
		conf: "[barman]\nbarman_home = " + home + "\n[db_server_two]\ndescription = two\n[my-model]\nmodel = true\ncluster = db_server_two\n",
		filepath.Join(home, "db_server_two", "meta", "20261125T080758-backup.info"): "backup_name=nightly\nstatus=DONE\n",
	}
	for path, content := range files {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			f.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			f.Fatal(err)
		}
	}
	cfg, err := LoadConfig(conf)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []struct {
		payload, server string
	}{
		{`{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh postgres@db -p 22", "destination_directory": "/var/lib/pgdata"}`, "db_server_two"},
		{`{"backup_id": "nightly", "remote_ssh_command": "--help", "destination_directory": "/ with spaces; rm -rf /"}`, "db_server_two"},
		{`{"type": "config_switch", "model_name": "my-model"}`, "db_server_two"},
		{`{"type": "config_switch", "reset": true}`, "db_server_two"},
		{`{"type": "config_update", "changes": [{"scope": "server", "server_name": "db_server_two", "archiver": "on", "n": 1e3, "b": false}]}`, ""},
		{`{"type": "config_update", "changes": [{"scope": "model", "model_name": "x", "conninfo": "\u00e9 \"'$(id)"}]}`, ""},
	} {
		f.Add([]byte(seed.payload), seed.server, uint8(0))
		f.Add([]byte(seed.payload), seed.server, uint8(1))
	}
	// Values too long for one argument of a command line.
	long := strings.Repeat("x", maxArgStrlen)
	f.Add([]byte(`{"backup_id": "latest", "remote_ssh_command": "ssh x", "destination_directory": "/`+long+`"}`), "db_server_two", uint8(0))
	f.Add([]byte(`{"type": "config_update", "changes": [{"scope": "server", "server_name": "db_server_two", "conninfo": "`+strings.Repeat("\u00e9", maxArgStrlen/6)+`"}]}`), "", uint8(0))
	commands := []string{"barman", "/usr/bin/barman", "sudo -u barman barman", "  barman  --quiet "}
	f.Fuzz(func(t *testing.T, data []byte, server string, which uint8) {
		payload, err := pyjson.DecodeObject(data, pyjson.DecodeOptions{RejectDuplicateKeys: true})
		if err != nil {
			return
		}
		req, err := ops.Policy{Options: Options}.Validate(cfg, Catalog{}, server, payload)
		if err != nil {
			return
		}
		command := commands[int(which)%len(commands)]
		op := &ops.Operation{ID: "20261125T093012", Server: server, Type: req.Type, Job: payload}
		argv, err := NewCommand(command).Args(conf, op)
		if err != nil {
			t.Fatalf("Args of an accepted %s: %v", req.Type, err)
		}
		prefix := append(strings.Fields(command), "-c", conf)
		if !slices.Equal(argv[:min(len(prefix), len(argv))], prefix) {
			t.Fatalf("argv %q does not start with %q", argv, prefix)
		}
		str := func(key string) string { s, _ := payload.String(key); return s }
		rest := argv[len(prefix):]
		var want []string
		switch req.Type {
		case ops.Recovery:
			want = []string{"recover", server, str("backup_id"), str("destination_directory"), "--remote-ssh-command=" + str("remote_ssh_command")}
		case ops.ConfigSwitch:
			want = []string{"config-switch", server, str("model_name")}
			if reset, _ := payload.Get("reset"); reset == true {
				want[2] = "--reset"
			}
		case ops.ConfigUpdate:
			changes, _ := payload.Get("changes")
			enc, _ := pyjson.EncodePython(changes)
			want = []string{"config-update", string(enc)}
			// Barman reads the argument back as the same JSON array.
			back, err := pyjson.DecodeObject([]byte(`{"changes": `+rest[len(rest)-1]+`}`), pyjson.DecodeOptions{RejectDuplicateKeys: true})
			if err != nil {
				t.Fatalf("config-update argument %q is not JSON: %v", rest[len(rest)-1], err)
			}
			again, _ := back.Get("changes")
			if enc2, _ := pyjson.EncodePython(again); !bytes.Equal(enc, enc2) {
				t.Fatalf("config-update argument reads back as %s, want %s", enc2, enc)
			}
		}
		if !slices.Equal(rest, want) {
			t.Fatalf("argv %q, want %q after %q", argv, want, prefix)
		}
		for i, a := range rest {
			// Only our own options may start with "-": Barman's parser
			// must read every value from the payload as a value.
			if i > 0 && strings.HasPrefix(a, "-") && a != "--reset" && !strings.HasPrefix(a, "--remote-ssh-command=") {
				t.Fatalf("argument %q of %q would read as an option", a, rest)
			}
			if a == "" || strings.IndexByte(a, 0) >= 0 || len(a)+1 > maxArgStrlen {
				t.Fatalf("argument %.80q (%d bytes) cannot be passed to Barman", a, len(a))
			}
		}
	})
}
