package cli

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/pg-backup-api/pg-backup-api/barman"
	"github.com/pg-backup-api/pg-backup-api/internal/jsonlog"
	"github.com/pg-backup-api/pg-backup-api/ops"
	"github.com/pg-backup-api/pg-backup-api/store"
	"github.com/urfave/cli/v2"
)

// completeKinds are the lists __complete prints.
var completeKinds = []string{"servers", "models", "operations", "backups", "remotes"}

// CompleteKinds are the lists __complete prints, for the generated
// completions (cmd/gen-docs) to ask for.
func CompleteKinds() []string { return append([]string(nil), completeKinds...) }

// CompleteTakesServer reports whether __complete KIND takes the server of
// the command line being completed as a second argument: backups does, to
// list that server's catalog only.
func CompleteTakesServer(kind string) bool { return kind == "backups" }

// backupShortcuts are the words a backup ID may be instead of an ID or a
// name (ops.FindBackup resolves them; TestCompleteBackupShortcuts checks
// that every one of them resolves).
var backupShortcuts = []string{"latest", "last", "oldest", "first", "last-failed"}

// CompleteFlag says how the shells complete the value of flag name (its long
// name) of the command at path ("create recovery"): kind is one of
// CompleteKinds, asked of __complete, or words is the fixed set of values;
// both empty when the value is free. The values come from the definitions
// the commands check them against, so that the two cannot drift.
func CompleteFlag(path, name string) (kind string, words []string) {
	switch name {
	case "server":
		return "servers", nil
	case "model-name":
		return "models", nil
	case "remote":
		return "remotes", nil
	case "backup-id":
		return "backups", nil
	case "output":
		return "", OutputFormats()
	case "log-format":
		return "", []string{jsonlog.Text, jsonlog.JSON}
	}
	switch path + " --" + name {
	case "list --type":
		for _, t := range ops.Types {
			words = append(words, string(t))
		}
		return "", words
	case "list --status":
		// As listFilter takes them: a status in capitals, or a phase.
		for _, s := range []ops.Status{ops.StatusDone, ops.StatusFailed, ops.StatusInProgress} {
			words = append(words, string(s))
		}
		for _, p := range []ops.Phase{ops.PhaseQueued, ops.PhaseRunning, ops.PhaseLost, ops.PhaseCancelled, ops.PhaseTimeout} {
			words = append(words, string(p))
		}
		return "", words
	}
	// The options of create recovery, backup and keep are barman.Options'
	// rows; an enum's (or a timeline's) values are there.
	for _, spec := range barman.Options {
		if spec.Key == "" || len(spec.Values) == 0 || optionFlagName(spec) != name {
			continue
		}
		if path == "create "+strings.ReplaceAll(string(spec.Type), "_", "-") {
			return "", append([]string(nil), spec.Values...)
		}
	}
	return "", nil
}

// completeCommand prints candidates for the shell completions, one a line.
// Completion must never show an error, so every failure prints nothing and
// exits 0.
func (st *appState) completeCommand() *cli.Command {
	return &cli.Command{
		Name:            "__complete",
		Usage:           "print server, model, remote or backup names or operation IDs, one a line, for the shell completions",
		UsageText:       "pg-backup-api __complete servers|models|operations|remotes|backups [SERVER]",
		Hidden:          true,
		SkipFlagParsing: true,
		Action: func(c *cli.Context) error {
			// A configuration file that does not load completes nothing,
			// rather than an error in the middle of the command line.
			if st.load(c) != nil {
				return nil
			}
			args := c.Args().Slice()
			var server string
			switch {
			case len(args) == 2 && CompleteTakesServer(args[0]):
				server = args[1]
			case len(args) != 1:
				return nil
			}
			for _, item := range st.completions(c.Context, args[0], server) {
				fmt.Fprintln(ioOf(c).Out, item)
			}
			return nil
		},
	}
}

// completions lists what kind names, sorted, or nothing on any error.
// server narrows backups to one server's ("" or an unknown one: every
// server's).
func (st *appState) completions(ctx context.Context, kind, server string) []string {
	if kind == "remotes" {
		if st.settings.file == nil {
			return nil
		}
		names := make([]string, 0, len(st.settings.file.Remotes))
		for name := range st.settings.file.Remotes {
			names = append(names, name)
		}
		sort.Strings(names)
		return names
	}
	svc := &ops.Service{Barman: barman.NewReader(st.settings.barmanConfig), OpenStore: store.Opener()}
	cfg, err := svc.Config(ctx)
	if err != nil {
		return nil
	}
	switch kind {
	case "servers":
		return cfg.ServerNames()
	case "models":
		names := make([]string, 0, len(cfg.Models))
		for name := range cfg.Models {
			names = append(names, name)
		}
		sort.Strings(names)
		return names
	case "operations":
		return bounded(func() []string {
			list, _, err := svc.ListAll(ctx, ops.ListOptions{})
			if err != nil {
				return nil
			}
			seen := map[string]bool{}
			var ids []string
			for _, op := range list {
				if !seen[op.ID] {
					seen[op.ID] = true
					ids = append(ids, op.ID)
				}
			}
			sort.Strings(ids)
			return ids
		})
	case "backups":
		servers := cfg.ServerNames()
		if slices.Contains(servers, server) {
			servers = []string{server}
		}
		return bounded(func() []string {
			seen := map[string]bool{}
			var out []string
			add := func(s string) {
				if s != "" && !seen[s] {
					seen[s] = true
					out = append(out, s)
				}
			}
			var found bool
			for _, name := range servers {
				cat, err := svc.Backups(ctx, name)
				if err != nil {
					continue
				}
				for _, b := range cat.Backups {
					found = true
					add(b.ID)
					add(b.Name)
				}
			}
			if !found {
				return nil
			}
			sort.Strings(out)
			for _, s := range backupShortcuts {
				add(s)
			}
			return out
		})
	}
	return nil
}

// bounded runs list with a time limit: a completion that hangs (a store or
// a catalog on a dead NFS mount) is worse than none.
func bounded(list func() []string) []string {
	done := make(chan []string, 1)
	go func() { done <- list() }()
	select {
	case r := <-done:
		return r
	case <-time.After(5 * time.Second):
		return nil
	}
}
