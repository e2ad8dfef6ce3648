package store

import (
	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// extensionRecord is our record in a job file, under ops.KeyExtension,
// beside the reference implementation's keys; the output file keeps a copy,
// with why we ended the operation when Barman did not. This file is the one
// place its keys are written and read; the domain gets it as an
// ops.Extension on the operations read (Operation.Recorded).
type extensionRecord struct {
	Version          string
	BarmanConfig     string
	RequestedBy      string
	Client           string
	ResolvedBackupID string
	// Reason and EndReason are in output files only: set when we, not
	// Barman, ended the operation.
	Reason    string
	EndReason string
}

// The keys of the record, in the order Create writes them.
const (
	recVersion          = "version"
	recBarmanConfig     = "barman_config"
	recRequestedBy      = "requested_by"
	recClient           = "client"
	recResolvedBackupID = "resolved_backup_id"
	recReason           = "reason"
	recEndReason        = "end_reason"
)

// newExtensionRecord is what Create records of an operation.
func newExtensionRecord(e ops.Extension, resolvedBackupID string) extensionRecord {
	return extensionRecord{Version: e.Version, BarmanConfig: e.BarmanConfig, RequestedBy: e.RequestedBy, Client: e.Client,
		ResolvedBackupID: resolvedBackupID}
}

// object is the record as a job file holds it: the version and the
// configuration always, the rest when known.
func (r extensionRecord) object() *pyjson.Object {
	o := pyjson.NewObject()
	o.Set(recVersion, r.Version)
	o.Set(recBarmanConfig, r.BarmanConfig)
	for _, kv := range [...]struct{ k, v string }{
		{recRequestedBy, r.RequestedBy}, {recClient, r.Client}, {recResolvedBackupID, r.ResolvedBackupID},
		{recReason, r.Reason}, {recEndReason, r.EndReason},
	} {
		if kv.v != "" {
			o.Set(kv.k, kv.v)
		}
	}
	return o
}

// readExtensionRecord reads the record of a job or output file; false when
// the file has none (another implementation's operation). A record that is
// not an object reads empty: the key alone says the operation is ours.
func readExtensionRecord(file *pyjson.Object) (extensionRecord, bool) {
	v, ok := file.Get(ops.KeyExtension)
	if !ok {
		return extensionRecord{}, false
	}
	var r extensionRecord
	if o, isObj := v.(*pyjson.Object); isObj {
		for _, f := range [...]struct {
			k string
			p *string
		}{
			{recVersion, &r.Version}, {recBarmanConfig, &r.BarmanConfig}, {recRequestedBy, &r.RequestedBy}, {recClient, &r.Client},
			{recResolvedBackupID, &r.ResolvedBackupID}, {recReason, &r.Reason}, {recEndReason, &r.EndReason},
		} {
			*f.p, _ = o.String(f.k)
		}
	}
	return r, true
}

// RecordOf is the record of a job or output file as the domain reads it
// (Operation.Recorded); nil when there is none. The store fills it in on
// every operation it reads; it is exported for tests that build an
// Operation from a job file by hand.
func RecordOf(file *pyjson.Object) *ops.Extension {
	r, ok := readExtensionRecord(file)
	if !ok {
		return nil
	}
	return &ops.Extension{Version: r.Version, BarmanConfig: r.BarmanConfig, RequestedBy: r.RequestedBy, Client: r.Client,
		BackupID: r.ResolvedBackupID}
}

// withEnd is the output file's copy of a job file's record, with why we
// ended the operation: the job's record object is copied whole, keys of
// other versions included, and only reason and end_reason are set.
func withEnd(job *pyjson.Object, reason string, endReason ops.Phase) *pyjson.Object {
	ext := pyjson.NewObject()
	if e, ok := job.Get(ops.KeyExtension); ok {
		if o, ok := e.(*pyjson.Object); ok {
			ext = o.Clone()
		}
	}
	if reason != "" {
		ext.Set(recReason, reason)
	}
	if endReason != "" {
		ext.Set(recEndReason, string(endReason))
	}
	return ext
}

// scanEndRecord reads reason and end_reason from the raw record of an
// output file (the index's fast path, scanTop); raw must be an object.
func scanEndRecord(raw []byte) (reason, endReason string) {
	scanTop(raw, func(key string, raw []byte) {
		switch key {
		case recReason:
			reason, _ = unquote(raw)
		case recEndReason:
			endReason, _ = unquote(raw)
		}
	})
	return reason, endReason
}
