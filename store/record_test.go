package store

import (
	"testing"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// The record Create writes reads back as what the domain gave, in the
// bytes the job files have always held, and an output file's copy keeps
// keys of other versions.
func TestExtensionRecordRoundTrip(t *testing.T) {
	ext := ops.Extension{Version: "2.3.0", BarmanConfig: "/etc/barman.conf", RequestedBy: "cli:alice", Client: "10.0.0.1"}
	data, err := pyjson.EncodePython(newExtensionRecord(ext, "20261125T080758").object())
	if err != nil {
		t.Fatal(err)
	}
	want := `{"version": "2.3.0", "barman_config": "/etc/barman.conf", "requested_by": "cli:alice", "client": "10.0.0.1", "resolved_backup_id": "20261125T080758"}`
	if string(data) != want {
		t.Errorf("record:\n %s\nwant\n %s", data, want)
	}
	job, err := pyjson.DecodeObject([]byte(`{"operation_type": "recovery", "pg_backup_api": `+want+`}`), pyjson.DecodeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	got := RecordOf(job)
	ext.BackupID = "20261125T080758"
	if got == nil || *got != ext {
		t.Errorf("read back %+v, want %+v", got, ext)
	}

	job, _ = pyjson.DecodeObject([]byte(`{"pg_backup_api": {"version": "9", "future": 1}}`), pyjson.DecodeOptions{})
	data, _ = pyjson.EncodePython(withEnd(job, "stopped", ops.PhaseCancelled))
	if want := `{"version": "9", "future": 1, "reason": "stopped", "end_reason": "cancelled"}`; string(data) != want {
		t.Errorf("output record %s, want %s", data, want)
	}
	if rec, ok := readExtensionRecord(job); !ok || rec.Version != "9" {
		t.Errorf("readExtensionRecord = %+v, %v", rec, ok)
	}
	if RecordOf(pyjson.NewObject()) != nil {
		t.Error("a file without our record read as ours")
	}
	job, _ = pyjson.DecodeObject([]byte(`{"pg_backup_api": 5}`), pyjson.DecodeOptions{})
	if RecordOf(job) == nil {
		t.Error("a record that is not an object must still mark the operation ours, as the key always did")
	}
}
