//go:build e2e

package e2e

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// promAlert is one alert of Prometheus's /api/v1/alerts.
type promAlert struct {
	Labels map[string]string `json:"labels"`
	State  string            `json:"state"`
}

func promAlerts(base string) ([]promAlert, error) {
	resp, err := http.Get(base + "/api/v1/alerts")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	var body struct {
		Status string `json:"status"`
		Data   struct {
			Alerts []promAlert `json:"alerts"`
		} `json:"data"`
		Error string `json:"error"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return nil, err
	}
	if body.Status != "success" {
		return nil, fmt.Errorf("/api/v1/alerts: %s", body.Error)
	}
	return body.Data.Alerts, nil
}

// alertState is the state of alert name for instance ("" when inactive),
// among alerts whose labels also match want.
func alertState(alerts []promAlert, name, instance string, want map[string]string) string {
	state := ""
	for _, a := range alerts {
		if a.Labels["alertname"] != name || a.Labels["instance"] != instance {
			continue
		}
		match := true
		for k, v := range want {
			match = match && a.Labels[k] == v
		}
		if match && (state == "" || a.State == "firing") {
			state = a.State
		}
	}
	return state
}

// The WAL-stalled rule as monitoring/alerts.yml ships it, and the copy the
// test loads: an hour without WAL, held for 10 minutes, is too long to
// wait for, so the copy fires after walStallSeconds held for 2s. The rest
// of the file is loaded as shipped.
const (
	shippedWALRule  = "expr: time() - pg_backup_api_barman_last_wal_archived_timestamp_seconds > 3600\n        for: 10m\n"
	walStallSeconds = 30
)

// TestAlertsFire: a real Prometheus loads the shipped alerting rules and
// scrapes every Barman's serve; a failed recovery makes
// PgBackupApiOperationFailed fire, and WAL archiving that stops (no WAL
// switch after one the test forces) makes PgBackupApiWALArchivingStalled
// fire, each for the serve it happened on.
func TestAlertsFire(t *testing.T) {
	rules, err := os.ReadFile("../monitoring/alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(rules), shippedWALRule); n != 1 {
		t.Fatalf("monitoring/alerts.yml has %d copies of the WAL-stalled rule's\n%s\nwant 1: update shippedWALRule with the rule", n, shippedWALRule)
	}
	short := strings.Replace(string(rules), shippedWALRule,
		fmt.Sprintf("expr: time() - pg_backup_api_barman_last_wal_archived_timestamp_seconds > %d\n        for: 2s\n", walStallSeconds), 1)

	dir := t.TempDir()
	rulesPath := filepath.Join(dir, "alerts.yml")
	if err := os.WriteFile(rulesPath, []byte(short), 0o644); err != nil {
		t.Fatal(err)
	}
	instances := map[string]*barmanUT{}
	var targets []string
	for _, b := range barmans {
		inst := strings.TrimPrefix(b.url, "http://")
		instances[inst] = b
		targets = append(targets, fmt.Sprintf("%q", inst))
	}
	conf := fmt.Sprintf("global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files: [%q]\n"+
		"scrape_configs:\n  - job_name: pg-backup-api\n    static_configs:\n      - targets: [%s]\n", rulesPath, strings.Join(targets, ", "))
	promURL := startPrometheus(t, dir, conf)
	start := time.Now()

	// Every rule of the shipped file loaded.
	server := sandbox["SANDBOX_SERVER"]
	waitFor := func(what string, limit time.Duration, ok func() (bool, string)) {
		t.Helper()
		deadline := time.Now().Add(limit)
		last := ""
		for time.Now().Before(deadline) {
			var done bool
			if done, last = ok(); done {
				return
			}
			time.Sleep(500 * time.Millisecond)
		}
		t.Fatalf("%s: not within %s; last: %s", what, limit, last)
	}
	waitFor("Prometheus loads the rules and scrapes every serve twice", 60*time.Second, func() (bool, string) {
		n, err := promQuery(promURL, `count(count_over_time(pg_backup_api_operations_finished_total{status="FAILED",type="recovery",scope="`+server+`"}[1m]) >= 2)`)
		if err != nil {
			return false, err.Error()
		}
		return int(n) == len(barmans), fmt.Sprintf("%v serves scraped twice", n)
	})
	resp, err := http.Get(promURL + "/api/v1/rules")
	if err != nil {
		t.Fatal(err)
	}
	var ruleList struct {
		Data struct {
			Groups []struct {
				Rules []struct {
					Name   string `json:"name"`
					Health string `json:"health"`
				} `json:"rules"`
			} `json:"groups"`
		} `json:"data"`
	}
	json.NewDecoder(resp.Body).Decode(&ruleList)
	resp.Body.Close()
	loaded := 0
	for _, g := range ruleList.Data.Groups {
		for _, r := range g.Rules {
			loaded++
			if r.Health == "err" {
				t.Errorf("rule %s does not evaluate: health %s", r.Name, r.Health)
			}
		}
	}
	if want := strings.Count(string(rules), "- alert: "); loaded != want {
		t.Errorf("Prometheus loaded %d rules, the file has %d", loaded, want)
	}

	// A recovery to an ssh port nothing listens on fails on every serve.
	alerts, err := promAlerts(promURL)
	if err != nil {
		t.Fatal(err)
	}
	for inst := range instances {
		if s := alertState(alerts, "PgBackupApiOperationFailed", inst, nil); s != "" {
			t.Fatalf("PgBackupApiOperationFailed is %s for %s before any operation failed", s, inst)
		}
	}
	for _, b := range barmans {
		code, body := b.post(t, "/servers/"+server+"/operations", map[string]any{
			"type":                  "recovery",
			"backup_id":             "latest",
			"remote_ssh_command":    fmt.Sprintf("ssh -p %d -o BatchMode=yes -o ConnectTimeout=3 postgres@127.0.0.1", freePort(t)),
			"destination_directory": destination(t, "alert"),
		})
		if code != 202 {
			t.Fatalf("%s: POST recovery: %d %v", b, code, body)
		}
		if op := b.waitEnd(t, "/servers/"+server+"/operations/"+body["operation_id"].(string)); op["status"] != "FAILED" {
			t.Fatalf("%s: the recovery to a refusing host ended %v, want FAILED", b, op["status"])
		}
	}
	failedAt := time.Now()
	waitFor("PgBackupApiOperationFailed fires for every serve", 60*time.Second, func() (bool, string) {
		alerts, err := promAlerts(promURL)
		if err != nil {
			return false, err.Error()
		}
		var states []string
		firing := 0
		for inst, b := range instances {
			s := alertState(alerts, "PgBackupApiOperationFailed", inst, map[string]string{"type": "recovery", "scope": server})
			states = append(states, fmt.Sprintf("%s: %q", b, s))
			if s == "firing" {
				firing++
			}
		}
		return firing == len(instances), strings.Join(states, ", ")
	})
	t.Logf("PgBackupApiOperationFailed fired %s after the last failure (Prometheus up %s)", time.Since(failedAt).Round(time.Millisecond), time.Since(start).Round(time.Second))

	// WAL archiving: a forced switch every Barman archives, then none.
	switched := time.Now()
	if err := switchWALAfterBackups(); err != nil {
		t.Fatal(err)
	}
	// First Prometheus sees the new WAL and the alert is not firing: what
	// fires afterwards is the stall, not an old WAL.
	waitFor("Prometheus sees the switched WAL on every serve", 30*time.Second, func() (bool, string) {
		n, err := promQuery(promURL, fmt.Sprintf(`count(pg_backup_api_barman_last_wal_archived_timestamp_seconds{server=%q} >= %d)`, server, switched.Unix()-1))
		if err != nil {
			return false, err.Error()
		}
		return int(n) == len(barmans), fmt.Sprintf("%v serves", n)
	})
	if time.Since(switched) >= walStallSeconds*time.Second {
		t.Fatalf("archiving the switched WAL took %s, longer than the rule's %ds threshold: the not-firing check below would mean nothing", time.Since(switched), walStallSeconds)
	}
	// The alert may be firing from before the switch (an older WAL): it
	// resolves at the next evaluations, before the threshold.
	waitFor("PgBackupApiWALArchivingStalled resolves on every serve after the switch", 10*time.Second, func() (bool, string) {
		alerts, err := promAlerts(promURL)
		if err != nil {
			return false, err.Error()
		}
		var states []string
		for inst, b := range instances {
			if s := alertState(alerts, "PgBackupApiWALArchivingStalled", inst, nil); s != "" {
				states = append(states, fmt.Sprintf("%s: %q", b, s))
			}
		}
		return len(states) == 0, strings.Join(states, ", ")
	})
	if time.Since(switched) >= walStallSeconds*time.Second {
		t.Fatalf("the WAL-stalled alert resolved %s after the switch, beyond the rule's %ds threshold: what fires next may not be the stall", time.Since(switched), walStallSeconds)
	}
	waitFor("PgBackupApiWALArchivingStalled fires for every serve", walStallSeconds*time.Second+60*time.Second, func() (bool, string) {
		alerts, err := promAlerts(promURL)
		if err != nil {
			return false, err.Error()
		}
		var states []string
		firing := 0
		for inst, b := range instances {
			s := alertState(alerts, "PgBackupApiWALArchivingStalled", inst, map[string]string{"server": server})
			states = append(states, fmt.Sprintf("%s: %q", b, s))
			if s == "firing" {
				firing++
			}
		}
		return firing == len(instances), strings.Join(states, ", ")
	})
	if since := time.Since(switched); since < walStallSeconds*time.Second {
		t.Errorf("PgBackupApiWALArchivingStalled fired %s after the WAL switch, before the %ds threshold", since, walStallSeconds)
	}
	t.Logf("PgBackupApiWALArchivingStalled fired %s after the WAL switch (threshold %ds, for 2s)", time.Since(switched).Round(time.Millisecond), walStallSeconds)
}

// switchWALAfterBackups is switchWAL once every Barman has its newer
// backup: it forces a WAL switch and waits until each Barman's newest
// backup shows the closed segment archived.
func switchWALAfterBackups() error {
	out, err := psql(sandbox["SANDBOX_PG_PORT"],
		// A write first: on a segment with nothing new, pg_switch_wal switches nothing.
		"CREATE TABLE IF NOT EXISTS e2e_wal (run text, pad text); INSERT INTO e2e_wal VALUES ('alerts', 'x'); SELECT pg_walfile_name(pg_switch_wal())")
	lines := strings.Fields(string(out))
	if err != nil || len(lines) == 0 || len(lines[len(lines)-1]) != 24 {
		return fmt.Errorf("forcing a WAL switch: %v\n%s", err, out)
	}
	seg := lines[len(lines)-1]
	for _, b := range barmans {
		deadline := time.Now().Add(90 * time.Second)
		for {
			barmanOutput(b, "archive-wal", sandbox["SANDBOX_SERVER"])
			last, err := barmanLastAvailable(b, b.newer.id)
			if err != nil {
				return err
			}
			if last >= seg {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("%s has not archived WAL %s after 90s (show-backup %s says the last available is %s)", b, seg, b.newer.id, last)
			}
			time.Sleep(300 * time.Millisecond)
		}
	}
	return nil
}
