package cli

import (
	"log/slog"
	"path/filepath"

	"github.com/pg-backup-api/pg-backup-api/notify"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// NotifyDirName is the outbox of notifications, in the instance scope's
// state directory: <barman_home>/.pg-backup-api/notify/.
const NotifyDirName = "notify"

// outboxOf is the notification outbox of a store.
func outboxOf(s *store.Store) (*notify.Outbox, error) {
	return notify.OpenOutbox(filepath.Join(s.StateDir(""), NotifyDirName))
}

// endHook returns what the store calls when an operation ends: it queues the
// operation's notification in the store's outbox, for serve to deliver. It
// runs in whichever process recorded the end — a runner, which outlives
// serve, or serve itself — so an end is queued even while serve is stopped.
// Nil when no notification is configured.
func (st *appState) endHook(log *slog.Logger) func(s *store.Store, server, id string) {
	if st.settings.file == nil || st.settings.file.Notify.Empty() {
		return nil
	}
	return func(s *store.Store, server, id string) {
		if err := enqueueEnd(s, server, id); err != nil {
			// The operation's result stands; only its notification is lost.
			log.Error("cannot queue the notification of an operation that ended", "server", server, "operation_id", id, "error", err)
		}
	}
}

func enqueueEnd(s *store.Store, server, id string) error {
	op, err := s.Get(server, id)
	if err != nil {
		return err
	}
	ev, err := notify.NewEvent(notify.Operation{
		ID: op.ID, Server: server, Type: string(op.Type), Status: string(op.Status), Phase: string(op.Phase),
		Start: op.StartTime, End: op.EndTime, ExitCode: op.ExitCode, RequestedBy: op.RequestedBy(), Output: op.Output,
	})
	if err != nil {
		return err
	}
	outbox, err := outboxOf(s)
	if err != nil {
		return err
	}
	_, err = outbox.Enqueue(ev)
	return err
}

// openStore is the Service's store opener with the end-of-operation hook
// set.
func (st *appState) openStore(log *slog.Logger) func(cfg *ops.BarmanConfig) ops.Store {
	return openStoreWith(st.endHook(log))
}

// openStoreWith is the Service's store opener with hook, if any, as the
// end-of-operation hook, and configure applied.
func openStoreWith(hook func(s *store.Store, server, id string), configure ...func(*store.Store)) func(cfg *ops.BarmanConfig) ops.Store {
	return store.Opener(append([]func(*store.Store){func(s *store.Store) {
		if hook != nil {
			s.OnEnd = hook
		}
	}}, configure...)...)
}
