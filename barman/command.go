package barman

import (
	"context"
	"encoding/json"
	"fmt"
	"os/exec"
	"strings"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/pyjson"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// Command is how Barman is run: the program and its leading arguments (for
// example "sudo -u barman barman"). It is the one place that builds Barman's
// command lines: each operation's, `-v` and `diagnose`.
type Command struct {
	argv []string
}

// NewCommand returns the Command for command, split on spaces (no shell is
// involved); "" means "barman".
func NewCommand(command string) Command {
	argv := strings.Fields(command)
	if len(argv) == 0 {
		argv = []string{"barman"}
	}
	return Command{argv: argv}
}

// base is the program and its leading arguments, then -c config when a
// configuration is given, in a slice of its own.
func (c Command) base(config string) []string {
	argv := append([]string{}, c.argv...)
	if config != "" {
		argv = append(argv, "-c", config)
	}
	return argv
}

// Args returns the argv that runs op, as the reference implementation's
// command table says, plus -c config so Barman reads the configuration the
// operation was validated against. A recovery restores the backup its
// backup_id resolved to when it was created: a shortcut such as "latest"
// may name a newer backup by now.
//
// Nothing from a payload may be read by Barman's argument parser as an
// option: an option's value is joined to it ("--remote-ssh-command=VALUE",
// so a value such as "-oProxyCommand=..." stays a value), and a positional
// that starts with "-" is refused here as well as at validation, since a job
// file may have been written by another implementation that let it through.
// A recovery's target and options (our extension) follow its arguments,
// each joined to its value; a backup waits for its WAL (--wait), so that it
// ends DONE or FAILED rather than WAITING_FOR_WALS.
func (c Command) Args(config string, op *ops.Operation) ([]string, error) {
	argv := c.base(config)
	str := func(key string) string { s, _ := op.Job.String(key); return s }
	switch op.Type {
	case ops.Recovery:
		backupID := op.ResolvedBackupID()
		if backupID == "" {
			backupID = str("backup_id")
		}
		if err := positionals(op, "server", op.Server, "backup_id", backupID, "destination_directory", str("destination_directory")); err != nil {
			return nil, err
		}
		opts, err := ops.RecoveryArgs(op.Job)
		if err != nil {
			return nil, fmt.Errorf("operation %s: %w", op.ID, err)
		}
		argv = append(argv, "recover", op.Server, backupID, str("destination_directory"),
			"--remote-ssh-command="+str("remote_ssh_command"))
		return append(argv, opts...), nil
	case ops.BackupOp:
		if err := positionals(op, "server", op.Server); err != nil {
			return nil, err
		}
		return append(argv, ops.BackupArgs(op.Server, op.Job)...), nil
	case ops.ConfigSwitch:
		if reset, _ := op.Job.Get("reset"); reset == true {
			if err := positionals(op, "server", op.Server); err != nil {
				return nil, err
			}
			return append(argv, "config-switch", op.Server, "--reset"), nil
		}
		if err := positionals(op, "server", op.Server, "model_name", str("model_name")); err != nil {
			return nil, err
		}
		return append(argv, "config-switch", op.Server, str("model_name")), nil
	case ops.ConfigUpdate:
		changes, _ := op.Job.Get("changes")
		arg, err := pyjson.EncodePython(changes)
		if err != nil {
			return nil, err
		}
		return append(argv, "config-update", string(arg)), nil
	}
	return nil, fmt.Errorf("operation %s has unknown type %q", op.ID, op.Type)
}

// positionals refuses, for op, any of the (name, value) pairs whose value is
// empty or would read as an option.
func positionals(op *ops.Operation, pairs ...string) error {
	for i := 0; i+1 < len(pairs); i += 2 {
		if v := pairs[i+1]; v == "" || strings.HasPrefix(v, "-") {
			return fmt.Errorf("operation %s: %s %q cannot be given to Barman as an argument: it is empty or starts with \"-\", which Barman would read as an option", op.ID, pairs[i], v)
		}
	}
	return nil
}

// Version asks `barman -v` for the installed version.
func (c Command) Version() (ops.Version, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	argv := append(c.base(""), "-v")
	out, err := exec.CommandContext(ctx, argv[0], argv[1:]...).Output()
	if err != nil {
		return ops.Version{}, fmt.Errorf("%s -v: %w", argv[0], err)
	}
	return ParseVersion(string(out))
}

// Diagnose runs `barman -c config diagnose` and returns the JSON it prints.
// The error says what was run and the last line Barman wrote to stderr.
func (c Command) Diagnose(ctx context.Context, config string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	argv := append(c.base(config), "diagnose")
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("cannot run %s: %v: %s", strings.Join(argv, " "), err, strings.TrimSpace(lastLine(stderr.String())))
	}
	if !json.Valid(out) {
		return nil, fmt.Errorf("barman diagnose did not print JSON")
	}
	return out, nil
}

func lastLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		return s[i+1:]
	}
	return s
}
