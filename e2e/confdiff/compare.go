package confdiff

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/pg-backup-api/pg-backup-api/barman"
)

// Reading is what one side resolved from a configuration; both readers are
// reduced to it so they can be compared field by field.
type Reading struct {
	Refused    bool                     `json:"refused,omitempty"`
	Why        string                   `json:"why,omitempty"` // the refusal, not compared
	BarmanHome string                   `json:"barman_home,omitempty"`
	Servers    map[string]ServerReading `json:"servers,omitempty"`
	Models     map[string]ModelReading  `json:"models,omitempty"`
}

type ServerReading struct {
	BackupDirectory string            `json:"backup_directory"`
	BaseBackups     string            `json:"basebackups_directory"`
	WALs            string            `json:"wals_directory"`
	XLogDB          string            `json:"xlogdb_directory,omitempty"` // 3.13 and later`
	Cluster         string            `json:"cluster,omitempty"`
	ActiveModel     string            `json:"active_model,omitempty"`
	Values          map[string]string `json:"values,omitempty"`
}

type ModelReading struct {
	Cluster string            `json:"cluster"`
	Values  map[string]string `json:"values,omitempty"`
}

// compared are the options whose values both sides report.
var compared = []string{"conninfo", "description"}

// Ours reads c with ops.LoadBarmanConfig.
func Ours(c *Config, f Features) Reading {
	cfg, err := barman.LoadConfig(c.Main)
	if err != nil {
		return Reading{Refused: true, Why: err.Error()}
	}
	// Barman refuses a configuration with any broken section; we keep the
	// others usable, but compare as Barman sees it.
	if len(cfg.Broken) > 0 {
		return Reading{Refused: true, Why: fmt.Sprint(cfg.Broken)}
	}
	r := Reading{BarmanHome: filepath.Clean(cfg.BarmanHome), Servers: map[string]ServerReading{}}
	for name, s := range cfg.Servers {
		sr := ServerReading{BackupDirectory: filepath.Clean(s.BackupDirectory), BaseBackups: filepath.Clean(s.BaseBackupsDir()),
			WALs: filepath.Clean(s.WALsDir()), Values: pick(s.Values)}
		if f.XLogDBDirectory {
			sr.XLogDB = filepath.Clean(s.XLogDBDir())
		}
		if f.Models {
			sr.Cluster, sr.ActiveModel = s.Cluster, s.ActiveModel
		}
		r.Servers[name] = sr
	}
	if f.Models {
		r.Models = map[string]ModelReading{}
		for name, m := range cfg.Models {
			r.Models[name] = ModelReading{Cluster: m.Cluster, Values: pick(m.Values)}
		}
	}
	return r
}

func pick(values map[string]string) map[string]string {
	out := map[string]string{}
	for _, k := range compared {
		if v, ok := values[k]; ok {
			out[k] = v
		}
	}
	return out
}

// Barman runs `barman -c MAIN diagnose` (its JSON holds the global
// configuration, every server's resolved configuration and active model,
// and, from 3.10, the models) and reduces it to a Reading. A configuration
// Barman refuses yields no JSON.
func Barman(ctx context.Context, cmd []string, c *Config, f Features) (Reading, error) {
	args := append(append([]string{}, cmd[1:]...), "-c", c.Main, "diagnose")
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	x := exec.CommandContext(ctx, cmd[0], args...)
	x.Dir = "/"
	var stdout, stderr bytes.Buffer
	x.Stdout, x.Stderr = &stdout, &stderr
	runErr := x.Run()
	if ctx.Err() != nil {
		return Reading{}, fmt.Errorf("%s timed out", strings.Join(x.Args, " "))
	}
	var out struct {
		Global struct {
			Config map[string]any `json:"config"`
		} `json:"global"`
		Servers map[string]struct {
			Config      map[string]any `json:"config"`
			ActiveModel *string        `json:"active_model"`
		} `json:"servers"`
		Models map[string]struct {
			Config map[string]any `json:"config"`
		} `json:"models"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil || out.Servers == nil {
		var ee *exec.ExitError
		if runErr != nil && !errors.As(runErr, &ee) {
			return Reading{}, fmt.Errorf("cannot run %s: %v", strings.Join(x.Args, " "), runErr)
		}
		return Reading{Refused: true, Why: lastLines(stderr.String()+stdout.String(), 3)}, nil
	}
	r := Reading{Servers: map[string]ServerReading{}}
	for name, s := range out.Servers {
		sr := ServerReading{BackupDirectory: filepath.Clean(str(s.Config["backup_directory"])), BaseBackups: filepath.Clean(str(s.Config["basebackups_directory"])),
			WALs: filepath.Clean(str(s.Config["wals_directory"])), Values: map[string]string{}}
		if f.XLogDBDirectory {
			sr.XLogDB = filepath.Clean(str(s.Config["xlogdb_directory"]))
		}
		if home := str(s.Config["barman_home"]); home != "" {
			r.BarmanHome = filepath.Clean(home)
		}
		for _, k := range compared {
			if v, ok := s.Config[k].(string); ok && v != "" {
				sr.Values[k] = v
			}
		}
		if f.Models {
			sr.Cluster = str(s.Config["cluster"])
			if s.ActiveModel != nil {
				sr.ActiveModel = *s.ActiveModel
			}
		}
		r.Servers[name] = sr
	}
	// Barman 3.20 no longer repeats barman_home in each server's
	// configuration; its global one has it (earlier ones have both), but
	// as written in the file: Barman itself reads it through Config.get,
	// which drops one pair of matching quotes (_QUOTE_RE).
	if home := str(out.Global.Config["barman_home"]); home != "" && r.BarmanHome == "" {
		if n := len(home); n >= 2 && (home[0] == '"' || home[0] == '\'') && home[n-1] == home[0] {
			home = home[1 : n-1]
		}
		r.BarmanHome = filepath.Clean(home)
	}
	if f.Models {
		r.Models = map[string]ModelReading{}
		for name, m := range out.Models {
			mr := ModelReading{Cluster: str(m.Config["cluster"]), Values: map[string]string{}}
			for _, k := range compared {
				if v, ok := m.Config[k].(string); ok && v != "" {
					mr.Values[k] = v
				}
			}
			r.Models[name] = mr
		}
	}
	return r, nil
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, " | ")
}

// Diff returns the differences between two readings, "" when they agree.
// A refusal matches a refusal whatever the message.
func Diff(ours, barman Reading) string {
	if ours.Refused || barman.Refused {
		if ours.Refused == barman.Refused {
			return ""
		}
		return fmt.Sprintf("refused: ours %v (%s), Barman %v (%s)", ours.Refused, ours.Why, barman.Refused, barman.Why)
	}
	var diffs []string
	// barman_home is only visible through a server; every generated
	// configuration has one.
	if ours.BarmanHome != barman.BarmanHome && len(barman.Servers) > 0 {
		diffs = append(diffs, fmt.Sprintf("barman_home: ours %q, Barman %q", ours.BarmanHome, barman.BarmanHome))
	}
	a, _ := json.Marshal(ours.Servers)
	b, _ := json.Marshal(barman.Servers)
	if !bytes.Equal(a, b) {
		diffs = append(diffs, "servers differ")
	}
	a, _ = json.Marshal(ours.Models)
	b, _ = json.Marshal(barman.Models)
	if !bytes.Equal(a, b) {
		diffs = append(diffs, "models differ")
	}
	return strings.Join(diffs, "; ")
}

// Show renders a reading for a failure report.
func Show(r Reading) string {
	b, _ := json.MarshalIndent(r, "", "  ")
	return string(b)
}

// BarmanVersion asks cmd for its version ("3.4.0").
func BarmanVersion(cmd []string) (string, error) {
	out, err := exec.Command(cmd[0], append(append([]string{}, cmd[1:]...), "--version")...).CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("%s --version: %v: %s", strings.Join(cmd, " "), err, out)
	}
	fields := strings.Fields(string(out))
	if len(fields) == 0 {
		return "", fmt.Errorf("%s --version printed nothing", strings.Join(cmd, " "))
	}
	return fields[0], nil
}

// Command turns an env file's command string into argv, run as the barman
// user when we are root (Barman refuses to run as another user than
// barman_user, and must be able to read the files).
func Command(s string) []string {
	cmd := strings.Fields(s)
	if len(cmd) > 0 && os.Getuid() == 0 && cmd[0] != "runuser" && cmd[0] != "sudo" {
		cmd = append([]string{"runuser", "-u", "barman", "--"}, cmd...)
	}
	return cmd
}

// Sorted returns m's keys in order.
func Sorted[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
