//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestPrometheusScrapesServe: a real Prometheus (Debian's package) scrapes
// each Barman's serve every second; what its query API answers agrees with
// `list -o json` and with `barman list-backups`.
func TestPrometheusScrapesServe(t *testing.T) {
	each(t, all, func(t *testing.T, b *barmanUT) {
		dir := t.TempDir()
		target := strings.TrimPrefix(b.url, "http://")
		conf := fmt.Sprintf("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nscrape_configs:\n  - job_name: pg-backup-api\n    static_configs:\n      - targets: [%q]\n", target)
		promURL := startPrometheus(t, dir, conf)

		// What the store holds, through the CLI.
		stdout, stderr, code := b.cli(t, "list", "--all", "-o", "json")
		if code != 0 {
			t.Fatalf("list --all -o json: exit %d: %s", code, stderr)
		}
		var listed struct {
			Operations []struct {
				Server *string `json:"server"`
				Status string  `json:"status"`
			} `json:"operations"`
		}
		if err := json.Unmarshal([]byte(stdout), &listed); err != nil {
			t.Fatal(err)
		}
		wantDone := 0
		for _, op := range listed.Operations {
			if op.Status == "DONE" {
				wantDone++
			}
		}

		// What Barman says of its newest backup.
		server := sandbox["SANDBOX_SERVER"]
		out, err := barmanOutput(b, "-f", "json", "list-backups", server)
		if err != nil {
			t.Fatalf("barman list-backups: %v\n%s", err, out)
		}
		var backups map[string][]struct {
			Status       string `json:"status"`
			EndTimestamp string `json:"end_time_timestamp"`
		}
		if err := json.Unmarshal(out, &backups); err != nil {
			t.Fatalf("barman list-backups output: %v\n%s", err, out)
		}
		var wantEnd float64
		for _, bk := range backups[server] {
			if bk.Status != "DONE" {
				continue
			}
			if ts, err := strconv.ParseFloat(bk.EndTimestamp, 64); err == nil && ts > wantEnd {
				wantEnd = ts
			}
		}
		if wantEnd == 0 {
			t.Fatalf("barman list-backups shows no DONE backup: %s", out)
		}

		deadline := time.Now().Add(60 * time.Second)
		var gotDone, gotEnd float64
		var lastErr error
		for time.Now().Before(deadline) {
			gotDone, lastErr = promQuery(promURL, `sum(pg_backup_api_operations{status="DONE"}) or vector(0)`)
			if lastErr == nil {
				gotEnd, lastErr = promQuery(promURL, fmt.Sprintf(`pg_backup_api_barman_last_backup_end_timestamp_seconds{server=%q}`, server))
			}
			if lastErr == nil && int(gotDone) == wantDone && math.Abs(gotEnd-wantEnd) < 1 {
				return
			}
			time.Sleep(time.Second)
		}
		t.Fatalf("Prometheus never agreed with the store and Barman within 60s: DONE operations %v (list says %d), last backup end %v (barman says %v); last error: %v",
			gotDone, wantDone, gotEnd, wantEnd, lastErr)
	})
}

// promQuery asks Prometheus's HTTP API for an instant vector with exactly one
// sample and returns its value.
func promQuery(base, query string) (float64, error) {
	resp, err := http.Get(base + "/api/v1/query?query=" + url.QueryEscape(query))
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Data   struct {
			Result []struct {
				Value [2]any `json:"value"`
			} `json:"result"`
		} `json:"data"`
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return 0, err
	}
	if body.Status != "success" {
		return 0, fmt.Errorf("query %s: %s", query, body.Error)
	}
	if len(body.Data.Result) != 1 {
		return 0, fmt.Errorf("query %s: %d samples, want 1", query, len(body.Data.Result))
	}
	s, _ := body.Data.Result[0].Value[1].(string)
	return strconv.ParseFloat(s, 64)
}

// startPrometheus runs a real Prometheus with conf (written to dir, which
// also holds its data and log) on a free loopback port until the test
// ends, and returns its URL; its log is shown when the test fails.
func startPrometheus(t *testing.T, dir, conf string) string {
	t.Helper()
	promBin, err := exec.LookPath("prometheus")
	if err != nil {
		t.Fatalf("prometheus is not installed (scripts/sandbox installs Debian's prometheus package): %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	promURL := fmt.Sprintf("http://127.0.0.1:%d", port)
	logFile, err := os.Create(filepath.Join(dir, "prometheus.log"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(promBin,
		"--config.file="+filepath.Join(dir, "prometheus.yml"),
		"--storage.tsdb.path="+filepath.Join(dir, "data"),
		fmt.Sprintf("--web.listen-address=127.0.0.1:%d", port))
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		logFile.Close()
		if t.Failed() {
			log, _ := os.ReadFile(logFile.Name())
			t.Logf("prometheus log:\n%s", log)
		}
	})
	return promURL
}
