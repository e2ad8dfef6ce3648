package ops

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// Fuzz targets: run briefly by scripts/fuzz-smoke, at length with
// go test -run '^$' -fuzz '^FuzzName$' ./ops.

// fuzzPayloads seed the payload targets: the documented examples, and the
// shapes that went wrong once somewhere.
var fuzzPayloads = []string{
	`{"type": "recovery", "backup_id": "latest", "remote_ssh_command": "ssh postgres@db", "destination_directory": "/var/lib/pgdata"}`,
	`{"backup_id": "20261125T080758", "remote_ssh_command": "ssh x", "destination_directory": "/d"}`,
	`{"type": "config_switch", "model_name": "my-model"}`,
	`{"type": "config_switch", "reset": true}`,
	`{"type": "config_update", "changes": [{"scope": "server", "server_name": "db_server_two", "archiver": "on", "n": 1, "b": false}]}`,
	`{"type": "config_update", "changes": [{"scope": "model", "model_name": "my-model", "conninfo": "x"}]}`,
	`{"type": "recovery", "backup_id": "lat\u0000est"}`,
	`{"type": "recovery", "type": "config_switch"}`,
	`{"a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
	`{"operation_type": "recovery"}`,
	`{"x": "\ud800", "y": "\u00e9\ud83d\ude00", "z": -0.0e+10}`,
	`{} trailing`,
	`[]`,
	`"string"`,
	``,
}

// FuzzDecodeAndValidate: any body, for any scope, is decoded and validated
// against Barman 3.17's fixture configuration without panicking; every
// refusal is an *Error saying invalid or not_found, and every accepted
// request is one Barman can be started with.
func FuzzDecodeAndValidate(f *testing.F) {
	env := newBarmanEnv(f, "barman-3.17")
	cfg, err := LoadBarmanConfig(env.Conf)
	if err != nil {
		f.Fatal(err)
	}
	for _, p := range fuzzPayloads {
		f.Add([]byte(p), "db_server_two")
		f.Add([]byte(p), "")
	}
	f.Add([]byte(fuzzPayloads[0]), "../db_server_two")
	f.Add([]byte(fuzzPayloads[0]), "my-model")
	// Values longer than one argument of Barman's command line can be.
	long := strings.Repeat("x", maxArgBytes+1)
	f.Add([]byte(`{"backup_id": "latest", "remote_ssh_command": "ssh `+long+`", "destination_directory": "/d"}`), "db_server_two")
	f.Add([]byte(`{"type": "config_update", "changes": [{"scope": "server", "server_name": "db_server_two", "conninfo": "`+long[:maxArgBytes/6]+`\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"}]}`), "")
	f.Add([]byte(`{"type": "config_update", "changes": [{"scope": "server", "server_name": "db_server_two", "conninfo": "`+strings.Repeat("\u00e9", maxArgBytes/6+1)+`"}]}`), "")
	f.Fuzz(func(t *testing.T, data []byte, server string) {
		obj, err := DecodeObject(data, DecodeOptions{RejectDuplicateKeys: true})
		if err != nil {
			return
		}
		req, err := Validate(cfg, server, obj)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || (e.Code != EINVALID && e.Code != ENOTFOUND) || e.Message == "" {
				t.Fatalf("Validate(%q, %s) = %#v, want an *Error with code invalid or not_found", server, data, err)
			}
			return
		}
		if req.Server != server || req.Payload != obj {
			t.Fatalf("request %+v for scope %q", req, server)
		}
		if req.Type.ServerScoped() != (server != "") {
			t.Fatalf("%s accepted in scope %q", req.Type, server)
		}
		if server != "" && !ValidName(server) {
			t.Fatalf("accepted server name %q", server)
		}
		if req.Type == Recovery && req.BackupID == "" {
			t.Fatalf("recovery accepted without resolving its backup: %s", data)
		}
		for _, k := range reservedKeys {
			if _, ok := obj.Get(k); ok {
				t.Fatalf("accepted the reserved key %q", k)
			}
		}
		// What Barman receives: each argument one that execve takes.
		var args []any
		switch req.Type {
		case Recovery:
			for _, k := range []string{"backup_id", "remote_ssh_command", "destination_directory"} {
				v, _ := obj.Get(k)
				args = append(args, v)
			}
		case ConfigSwitch:
			if v, ok := obj.Get("model_name"); ok {
				args = append(args, v)
			}
		case ConfigUpdate:
			changes, _ := obj.Get("changes")
			enc, err := EncodePython(changes)
			if err != nil {
				t.Fatalf("accepted changes cannot be encoded: %v", err)
			}
			args = append(args, string(enc))
		}
		for _, a := range args {
			s, ok := a.(string)
			if !ok || s == "" || strings.ContainsRune(s, 0) || len(s) > maxArgBytes {
				t.Fatalf("accepted %T %.80q as an argument for Barman", a, a)
			}
		}
	})
}

// checkRoundTrip encodes obj and decodes it back: the encoding is ASCII,
// valid JSON, strict-decodable, stable, and means what data meant.
func checkRoundTrip(t *testing.T, data []byte, obj *Object) {
	t.Helper()
	enc, err := EncodePython(obj)
	if err != nil {
		t.Fatalf("EncodePython of a decoded object: %v", err)
	}
	for _, b := range enc {
		if b >= 0x80 || (b < 0x20 && b != '\n') {
			t.Fatalf("EncodePython wrote byte %#x: %q", b, enc)
		}
	}
	if !json.Valid(enc) {
		t.Fatalf("EncodePython wrote invalid JSON: %s", enc)
	}
	again, err := DecodeObject(enc, DecodeOptions{RejectDuplicateKeys: true})
	if err != nil {
		t.Fatalf("our own encoding %s does not decode: %v", enc, err)
	}
	enc2, err := EncodePython(again)
	if err != nil || !bytes.Equal(enc, enc2) {
		t.Fatalf("encoding is not stable:\n%s\n%s (%v)", enc, enc2, err)
	}
	// Same meaning as the input, read by encoding/json (which also keeps a
	// repeated key's last value).
	generic := func(b []byte) any {
		d := json.NewDecoder(bytes.NewReader(b))
		d.UseNumber()
		var v any
		if err := d.Decode(&v); err != nil {
			t.Fatalf("encoding/json cannot read %q: %v", b, err)
		}
		return v
	}
	if a, b := generic(data), generic(enc); !reflect.DeepEqual(a, b) {
		t.Fatalf("the round trip changed the meaning:\n%q\n%q", data, enc)
	}
	if keys := again.Keys(); !slices.Equal(keys, obj.Keys()) {
		t.Fatalf("the round trip changed the key order: %q -> %q", obj.Keys(), keys)
	}
}

// FuzzEncodeDecodeRoundTrip: whatever DecodeObject accepts, EncodePython
// writes back as JSON that decodes to the same thing, byte-stable.
func FuzzEncodeDecodeRoundTrip(f *testing.F) {
	for _, p := range fuzzPayloads {
		f.Add([]byte(p))
	}
	f.Add([]byte(`{"a": 1, "a": 2, "b": [true, null, {"c": "\"\\\/\b\f\n\r\t\u0001"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		obj, err := DecodeObject(data, DecodeOptions{})
		if err != nil {
			return
		}
		checkRoundTrip(t, data, obj)
	})
}

// FuzzReadJSONFile: any bytes in a store file are read without panicking;
// ReadJSONFile agrees with the lenient DecodeObject, and its errors name
// the file.
func FuzzReadJSONFile(f *testing.F) {
	dir := f.TempDir()
	for _, p := range fuzzPayloads {
		f.Add([]byte(p))
	}
	for _, name := range []string{"pg-backup-api-2.2/barman_home/jobs/20261125T080447.json", "pg-backup-api-2.2/barman_home/output/20261125T080447.json",
		"pg-backup-api-2.2/barman_home/db_server_two/output/20261125T080805.json"} {
		if data, err := os.ReadFile(fixturePath(f, name)); err == nil {
			f.Add(data)
			f.Add(data[:len(data)/2])
		}
	}
	path := filepath.Join(dir, "20261125T080447.json")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		obj, err := ReadJSONFile(path)
		direct, derr := DecodeObject(data, DecodeOptions{})
		if (err == nil) != (derr == nil) {
			t.Fatalf("ReadJSONFile: %v; DecodeObject: %v", err, derr)
		}
		if err != nil {
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		a, _ := EncodePython(obj)
		b, _ := EncodePython(direct)
		if !bytes.Equal(a, b) {
			t.Fatalf("ReadJSONFile and DecodeObject disagree:\n%s\n%s", a, b)
		}
		checkRoundTrip(t, data, obj)
	})
}

// FuzzLoadBarmanConfig: any bytes as barman.conf are read without
// panicking; a refusal is an *Error saying unavailable, and an accepted
// configuration is consistent.
func FuzzLoadBarmanConfig(f *testing.F) {
	dir := f.TempDir()
	for _, name := range []string{"barman-3.17/etc/barman.conf", "barman-3.17/etc/barman.d/db_server_two.conf", "barman-3.17/etc/barman.d/my-model.conf"} {
		data, err := os.ReadFile(fixturePath(f, name))
		if err != nil {
			f.Fatal(err)
		}
		var kept []string
		for _, line := range strings.Split(string(data), "\n") {
			if !strings.Contains(line, "configuration_files_directory") {
				kept = append(kept, line)
			}
		}
		f.Add([]byte(strings.Join(kept, "\n")))
	}
	for _, s := range []string{
		"[barman]\nbarman_home = " + dir + "\n[pg]\ncluster = c\nbackup_directory = %(barman_home)s/%(name)s\n[m]\nmodel = true\ncluster = c\n",
		"[barman]\nbarman_home = /x\n[DEFAULT]\na = %(b)s\nb = %(a)s\n[pg]\nc = %(a)s\n",
		"[barman]\nbarman_home = /x\nk = v\n  continued\n\tmore\n; comment\n# comment\n[s]\nk: v\n",
		"\ufeff[barman]\r\nbarman_home=/x\r\n",
		"[barman]\nbarman_home = /x\n[a]\n[a]\n",
		"[barman\nbarman_home = /x\n",
		"[barman]\nbarman_home = %%(x)s %(\n",
		"key = value\n",
		"[barman]\nbarman_home = /x\x00\n",
	} {
		f.Add([]byte(s))
	}
	path := filepath.Join(dir, "barman.conf")
	f.Fuzz(func(t *testing.T, data []byte) {
		// Keep the fuzzer from reading the host's files: no include
		// directory, and barman_home stays a plain value.
		if bytes.Contains(bytes.ToLower(data), []byte("configuration_files_directory")) {
			return
		}
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		cfg, err := LoadBarmanConfig(path)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Code != EUNAVAILABLE || e.Message == "" {
				t.Fatalf("LoadBarmanConfig = %#v, want an *Error with code unavailable", err)
			}
			return
		}
		if cfg.Path != path || cfg.BarmanHome == "" || len(cfg.Files) == 0 || cfg.Files[0] != path {
			t.Fatalf("configuration %+v", cfg)
		}
		for name, s := range cfg.Servers {
			if s.Name != name || s.BackupDirectory == "" || name == "barman" {
				t.Fatalf("server %q: %+v", name, s)
			}
			if _, isModel := cfg.Models[name]; isModel {
				t.Fatalf("%q is both a server and a model", name)
			}
		}
		for name, m := range cfg.Models {
			if m.Name != name || m.Cluster == "" {
				t.Fatalf("model %q: %+v", name, m)
			}
		}
	})
}

// FuzzParseBackupInfo: any bytes as backup.info parse without panicking
// into trimmed keys and values.
func FuzzParseBackupInfo(f *testing.F) {
	for _, name := range []string{"barman-3.17/barman_home/db_server_two/meta/20261125T080758-backup.info", "barman-3.4/barman_home/pg/base/20261125T080951/backup.info"} {
		data, err := os.ReadFile(fixturePath(f, name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("status=DONE\nbackup_name=None\n=x\nno equals\n  spaced  =  value = more  \r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		info := ParseBackupInfo(data)
		for k, v := range info {
			if k != strings.TrimSpace(k) || v != strings.TrimSpace(v) {
				t.Fatalf("untrimmed %q=%q", k, v)
			}
			if strings.Contains(k, "=") || strings.ContainsAny(k+v, "\n") {
				t.Fatalf("key %q or value %q spans what should be separate", k, v)
			}
			if !bytes.Contains(data, []byte(k)) || !bytes.Contains(data, []byte(v)) {
				t.Fatalf("%q=%q is not in the input", k, v)
			}
		}
	})
}

// FuzzParseID: ParseID accepts exactly the IDs Store.Create makes: every
// one it accepts is a valid name and formats back to itself, and every ID
// made from a time and a sequence number parses back to them.
func FuzzParseID(f *testing.F) {
	for _, s := range []string{"20261125T093012", "20261125T093012-0001", "20261125T093012-9999", "20261125T093012-0000",
		"20261325T093012", "20260229T093012", "20240229T235959", "20261125t093012", "20261125T093060", "2026112T0930123",
		"20261125T093012-1", "20261125T093012_0001", "../20261125T093012", "", "00000101T000000"} {
		f.Add(s, int64(1795599012), uint16(0))
	}
	f.Add("", int64(-62135596800), uint16(9999))
	f.Fuzz(func(t *testing.T, s string, unix int64, seq uint16) {
		if tm, n, err := ParseID(s); err == nil {
			if !ValidName(s) {
				t.Fatalf("ParseID accepted %q, which is not a valid name", s)
			}
			if n < 0 || n > maxIDSuffix {
				t.Fatalf("ParseID(%q) sequence %d", s, n)
			}
			if back := idWithSeq(tm.Format(IDLayout), n); back != s {
				t.Fatalf("ParseID(%q) = %s, %d, which formats as %q", s, tm, n, back)
			}
		}
		// Every ID Store.Create can make parses back.
		tm := time.Unix(unix%(400*365*24*3600), 0) // years 1570 to 2370
		n := int(seq) % (maxIDSuffix + 1)
		id := idWithSeq(tm.Format(IDLayout), n)
		got, gotN, err := ParseID(id)
		if err != nil {
			t.Fatalf("ParseID(%q), made from %s and %d: %v", id, tm, n, err)
		}
		if gotN != n || got.Format(IDLayout) != tm.Format(IDLayout) {
			t.Fatalf("ParseID(%q) = %s, %d; want %s, %d", id, got, gotN, tm, n)
		}
		if !utf8.ValidString(id) || !ValidName(id) {
			t.Fatalf("made an invalid ID %q", id)
		}
	})
}
