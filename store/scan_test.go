package store

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/ops"
)

// scanSeeds are job and output documents where a shortcut could read
// something other than pyjson does: repeated keys, values of the wrong
// type, escapes, nesting at and past the limit, damaged documents.
var scanSeeds = []string{
	`{"operation_type": "recovery", "start_time": "2026-11-25T00:00:00.000000", "pg_backup_api": {"version": "1"}}`,
	`{"type": "config_switch", "start_time": "2026-11-25T00:00:00.000000"}`,
	`{"operation_type": 1, "type": "recovery"}`,
	`{"operation_type": "", "type": "recovery"}`,
	`{"operation_type": "recovery", "operation_type": "config_switch"}`,
	`{"operation_type": "recovery", "operation_type": null, "type": "x"}`,
	`{"operation_type": "rec\u006fvery", "start_time": "2026-11-25T00:00:00.000000", "start_time": 5}`,
	`{"operation_type": "recovery", "pg_backup_api": null}`,
	`{"op\u0065ration_type": "recovery", "x": "\ud800", "y": "a\"}b"}`,
	`{"operation_type": "r", "success": true, "end_time": "2026-11-25T00:00:01.000000", "exit_code": 0, "output": "ok"}`,
	`{"operation_type": "r", "success": false, "exit_code": 1, "pg_backup_api": {"reason": "why", "end_reason": "cancelled"}}`,
	`{"operation_type": "r", "success": false, "exit_code": -3, "pg_backup_api": {"reason": "why", "end_reason": "timeout", "reason": "again"}}`,
	`{"operation_type": "r", "success": false, "pg_backup_api": {"end_reason": "lost"}, "pg_backup_api": {"reason": "x"}}`,
	`{"operation_type": "r", "success": "true", "exit_code": "0", "end_time": 7}`,
	`{"operation_type": "r", "success": true, "success": false, "exit_code": 1.5, "end_time": "2026-02-30T00:00:00.000000"}`,
	`{"operation_type": "r", "success": true, "exit_code": 1e2, "pg_backup_api": [1, {"reason": "no"}]}`,
	`{"operation_type": "r", "exit_code": 99999999999999999999, "pg_backup_api": {"reason": "The runner of this operation stopped before it ended"}}`,
	`{"operation_type": "r", "a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
	`{"operation_type": "r", "a": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}`,
	` {"operation_type" : "r" ,"success":true}` + "\n",
	`{"operation_type": "r"} trailing`,
	`{"operation_type": "r",}`,
	`{"operation_type": NaN}`,
	`["operation_type"]`,
	`{}`,
	``,
	"{\"operation_type\": \"r\xff\"}",
}

// FuzzScanMatchesDecode: the index's shortcut readers (indexJob,
// indexOutput) agree with pyjson's full decode on any document.
func FuzzScanMatchesDecode(f *testing.F) {
	for _, s := range scanSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkScanMatchesDecode(t, data)
	})
}

func TestScanMatchesDecode(t *testing.T) {
	for _, s := range scanSeeds {
		checkScanMatchesDecode(t, []byte(s))
	}
	// The shortcut is taken for the files pg-backup-api writes.
	for _, s := range scanSeeds[:3] {
		if !scanTop([]byte(s), func(string, []byte) {}) {
			t.Errorf("scanTop refused %s", s)
		}
	}
}

func checkScanMatchesDecode(t *testing.T, data []byte) {
	t.Helper()
	home := t.TempDir()
	s := newStore(home)
	id := "20261125T000000"
	for _, d := range []string{"jobs", "output"} {
		if err := os.MkdirAll(filepath.Join(home, "db1", d), DirMode); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(s.JobPath("db1", id), data, FileMode); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(s.OutputPath("db1", id), data, FileMode); err != nil {
		t.Fatal(err)
	}

	// The job, as the index reads it and as Get does.
	got := s.indexJob("db1", id)
	job, err := ReadJSONFile(s.JobPath("db1", id))
	want := entryInfo{ID: id}
	switch op := (*ops.Operation)(nil); {
	case err != nil:
		want.Skip = err.Error()
	default:
		op = operationFromJob("db1", id, job)
		if op.Type == "" {
			want.Skip = "no operation_type: not an operation file"
			break
		}
		want.Type = op.Type
		want.StartTime, _ = job.String(ops.KeyStartTime)
		want.Ours = op.Ours()
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("indexJob of %q = %+v, want %+v", data, got, want)
	}

	// The output, as the index reads it and as Get does.
	fast := &ops.Operation{ID: id, Server: "db1"}
	if !scanOutput(fast, data) {
		return // pyjson reads it: nothing to compare
	}
	full := &ops.Operation{ID: id, Server: "db1"}
	decodeOutput(full, s.OutputPath("db1", id), data)
	if fast.Status != full.Status || fast.Phase != full.Phase || fast.Reason != full.Reason ||
		!fast.EndTime.Equal(full.EndTime) || !reflect.DeepEqual(fast.ExitCode, full.ExitCode) {
		t.Errorf("scanOutput of %q = %s %s %q %v %v, pyjson reads %s %s %q %v %v", data,
			fast.Status, fast.Phase, fast.Reason, fast.EndTime, deref(fast.ExitCode),
			full.Status, full.Phase, full.Reason, full.EndTime, deref(full.ExitCode))
	}
	if strings.Contains(string(data), "\xff") {
		t.Errorf("scanOutput took invalid UTF-8 %q", data)
	}
}

func deref(p *int) any {
	if p == nil {
		return nil
	}
	return *p
}
