//go:build e2e

package e2e

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/e2e/confdiff"
)

// TestConfigMatchesBarman generates configurations and checks that our
// reader resolves each one as real Barman does, on every Barman version the
// sandbox provides. PG_BACKUP_API_CONFDIFF_SEED replays a run;
// PG_BACKUP_API_CONFDIFF_N raises the count above the minimum of 200.
func TestConfigMatchesBarman(t *testing.T) {
	env, err := confdiffEnv()
	if err != nil {
		t.Fatal(err)
	}
	seed := time.Now().UnixNano()
	if s := os.Getenv("PG_BACKUP_API_CONFDIFF_SEED"); s != "" {
		if seed, err = strconv.ParseInt(s, 10, 64); err != nil {
			t.Fatalf("PG_BACKUP_API_CONFDIFF_SEED=%q is not an integer", s)
		}
	}
	n := 200
	if s := os.Getenv("PG_BACKUP_API_CONFDIFF_N"); s != "" {
		if n, err = strconv.Atoi(s); err != nil || n < 200 {
			t.Fatalf("PG_BACKUP_API_CONFDIFF_N=%q: want an integer of at least 200", s)
		}
	}
	t.Logf("seed %d (replay with PG_BACKUP_API_CONFDIFF_SEED=%d)", seed, seed)
	for _, v := range []string{"SANDBOX_BARMAN_3_4", "SANDBOX_BARMAN_3_13", "SANDBOX_BARMAN_SID"} {
		t.Run(v, func(t *testing.T) {
			cmdline := env[v]
			if cmdline == "" {
				t.Fatalf("%s is not set in the sandbox env file; scripts/sandbox up writes it (the command that runs that Barman version)", v)
			}
			confdiffRun(t, confdiff.Command(cmdline), seed, n)
		})
	}
}

func confdiffRun(t *testing.T, cmd []string, seed int64, n int) {
	version, err := confdiff.BarmanVersion(cmd)
	if err != nil {
		t.Fatal(err)
	}
	features := confdiff.FeaturesFor(version)
	t.Logf("Barman %s (%s): %+v", version, strings.Join(cmd, " "), features)
	dir, err := os.MkdirTemp("", "confdiff-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	// Barman runs as the barman user and must read (and may write) here.
	if err := os.Chmod(dir, 0o777); err != nil {
		t.Fatal(err)
	}

	start := time.Now()
	jobs := make(chan int)
	var mu sync.Mutex
	refused, agreed := 0, 0
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				c, err := confdiff.Generate(dir, seed, i, features)
				if err != nil {
					t.Errorf("config %d: generate: %v", i, err)
					continue
				}
				ours := confdiff.Ours(c, features)
				theirs, err := confdiff.Barman(context.Background(), cmd, c, features)
				if err != nil {
					t.Errorf("config %d: %v", i, err)
					continue
				}
				mu.Lock()
				if d := confdiff.Diff(ours, theirs); d != "" {
					t.Errorf("config %d of seed %d disagrees with Barman %s: %s\n%s\nour reading:\n%s\nBarman's reading:\n%s",
						i, seed, version, d, c.Text(), confdiff.Show(ours), confdiff.Show(theirs))
				} else {
					agreed++
					if theirs.Refused {
						refused++
					}
				}
				mu.Unlock()
			}
		}()
	}
	for i := 0; i < n; i++ {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	t.Logf("%d/%d configurations agree (%d refused by both) in %s", agreed, n, refused, time.Since(start).Round(time.Millisecond))
	if agreed == refused {
		t.Errorf("every configuration was refused; the generator or the Barman command is broken")
	}
}

// confdiffEnv reads the sandbox env file (KEY=VALUE lines, optionally with
// "export " and shell quotes) on its own, so this test does not depend on
// how TestMain keeps it.
func confdiffEnv() (map[string]string, error) {
	path := os.Getenv("PG_BACKUP_API_E2E_ENV")
	if path == "" {
		path = "/var/tmp/pg-backup-api-sandbox/env"
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("sandbox env file: %v (bring the sandbox up: scripts/sandbox up, or set PG_BACKUP_API_E2E_ENV)", err)
	}
	defer f.Close()
	env := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(sc.Text()), "export "))
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.HasPrefix(line, "#") {
			continue
		}
		if len(v) >= 2 && (v[0] == '\'' || v[0] == '"') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		env[strings.TrimSpace(k)] = v
	}
	return env, sc.Err()
}
