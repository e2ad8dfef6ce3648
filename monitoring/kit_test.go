package monitoring_test

import (
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/metrics"
	dto "github.com/prometheus/client_model/go"
)

// promtool is Prometheus's own tool; CI installs it (Debian's prometheus
// package), so its absence is a failure, not a reason to skip.
func promtool(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("promtool")
	if err != nil {
		t.Fatal("promtool not found: install Debian's prometheus package (apt-get install prometheus)")
	}
	return p
}

// TestRulesLoadAndPassTheirTests runs `promtool check rules alerts.yml` and
// `promtool test rules alerts_test.yml`, and shows that the latter can fail.
func TestRulesLoadAndPassTheirTests(t *testing.T) {
	p := promtool(t)
	for _, args := range [][]string{{"check", "rules", "alerts.yml"}, {"test", "rules", "alerts_test.yml"}} {
		if out, err := exec.Command(p, args...).CombinedOutput(); err != nil {
			t.Errorf("promtool %s: %v\n%s", strings.Join(args, " "), err, out)
		}
	}
	// The same tests expecting a summary the rule does not give must fail:
	// promtool compares what it is told to.
	dir := t.TempDir()
	for _, name := range []string{"alerts.yml", "alerts_test.yml"} {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if name == "alerts_test.yml" {
			data = []byte(strings.Replace(string(data), "A recovery operation of db1 failed", "A recovery operation of db1 went fine", 1))
		}
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(p, "test", "rules", "alerts_test.yml")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err == nil {
		t.Errorf("promtool passed a test that expects the wrong summary; the run above proves nothing\n%s", out)
	}
}

// exposed is what a full /metrics exposes: family name → its label names
// (le and quantile aside), from a registry with every source wired to
// fakes, an HTTP request and an operation observed, and a round of barman
// check done.
func exposed(t *testing.T) map[string][]string {
	t.Helper()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	m, err := metrics.New(metrics.Options{
		Version: "test", BarmanVersion: "3.17.0",
		Operations: fakeOps{},
		Catalog:    fakeCatalog{now: now},
		Drills:     fakeDrills{now: now},
		Routes:     []string{"GET /status"},
	})
	if err != nil {
		t.Fatal(err)
	}
	m.WatchWAL(fakeWAL{now: now})
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	if err := m.StartChecks(ctx, fakeChecker{}, time.Hour, time.Minute); err != nil {
		t.Fatal(err)
	}
	m.ObserveRequest("GET /status", 200, time.Millisecond)
	m.ObserveFinished("db1", "recovery", "FAILED", time.Minute)
	deadline := time.Now().Add(10 * time.Second)
	for {
		families, err := m.Registry().Gather()
		if err != nil {
			t.Fatal(err)
		}
		out := map[string][]string{}
		for _, f := range families {
			out[f.GetName()] = labelNames(f)
		}
		if _, ok := out["pg_backup_api_barman_check_ok"]; ok {
			return out
		}
		if time.Now().After(deadline) {
			t.Fatal("the first round of barman check did not end")
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func labelNames(f *dto.MetricFamily) []string {
	set := map[string]bool{}
	for _, m := range f.GetMetric() {
		for _, l := range m.GetLabel() {
			set[l.GetName()] = true
		}
	}
	var names []string
	for n := range set {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

var metricName = regexp.MustCompile(`\b(pg_backup_api_[a-z0-9_]+)(\{[^}]*\})?`)
var matcherLabel = regexp.MustCompile(`([a-z_]+)\s*(?:=~|!~|!=|=)`)

// checkQueries fails for every pg_backup_api_ metric a query names that
// /metrics does not expose, or a label it matches on that the metric lacks.
func checkQueries(t *testing.T, where string, exprs []string, have map[string][]string) int {
	t.Helper()
	n := 0
	for _, expr := range exprs {
		for _, m := range metricName.FindAllStringSubmatch(expr, -1) {
			n++
			name := m[1]
			labels, ok := have[name]
			if !ok {
				for _, suffix := range []string{"_bucket", "_sum", "_count"} {
					if base, cut := strings.CutSuffix(name, suffix); cut {
						if labels, ok = have[base]; ok && suffix == "_bucket" {
							labels = append(labels, "le")
						}
						break
					}
				}
			}
			if !ok {
				t.Errorf("%s queries %s, which /metrics does not expose: %s", where, name, expr)
				continue
			}
			for _, l := range matcherLabel.FindAllStringSubmatch(m[2], -1) {
				if l[1] != "instance" && l[1] != "job" && !slices.Contains(labels, l[1]) {
					t.Errorf("%s matches %s on label %q, which it does not have (%v): %s", where, name, l[1], labels, expr)
				}
			}
		}
	}
	return n
}

// TestRulesAndDashboardQueryExposedMetrics: every metric a rule or a panel
// queries, with the labels it matches on, is one /metrics exposes.
func TestRulesAndDashboardQueryExposedMetrics(t *testing.T) {
	have := exposed(t)
	rules, err := os.ReadFile("alerts.yml")
	if err != nil {
		t.Fatal(err)
	}
	var exprs []string
	for _, m := range regexp.MustCompile(`(?m)^\s*expr:\s*(.+)$`).FindAllStringSubmatch(string(rules), -1) {
		exprs = append(exprs, m[1])
	}
	if len(exprs) < 6 {
		t.Fatalf("found %d rule expressions in alerts.yml", len(exprs))
	}
	if n := checkQueries(t, "alerts.yml", exprs, have); n < 6 {
		t.Errorf("only %d metrics named by the rules", n)
	}

	data, err := os.ReadFile("grafana-dashboard.json")
	if err != nil {
		t.Fatal(err)
	}
	var d any
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	exprs = nil
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if s, ok := x.(string); ok && (k == "expr" || k == "query" && strings.Contains(s, "pg_backup_api_")) {
					exprs = append(exprs, s)
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(d)
	if n := checkQueries(t, "grafana-dashboard.json", exprs, have); n < 10 {
		t.Errorf("only %d metrics named by the dashboard", n)
	}
}

// TestReadmeTableMatchesScrape: each row of the Monitoring table (docs/monitoring.md) names
// metrics /metrics exposes with exactly the labels it lists, and every
// pg_backup_api_ metric exposed has a row.
func TestReadmeTableMatchesScrape(t *testing.T) {
	have := exposed(t)
	readme, err := os.ReadFile(filepath.Join("..", "docs", "monitoring.md"))
	if err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut("\n"+string(readme), "\n# Monitoring\n")
	if !ok {
		t.Fatal("docs/monitoring.md has no Monitoring section")
	}
	section, _, _ = strings.Cut(section, "\n## ")
	ticked := regexp.MustCompile("`([^`]+)`")
	documented := map[string]bool{}
	for _, line := range strings.Split(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.Contains(cells[1], "`pg_backup_api_") {
			continue
		}
		var labels []string
		for _, m := range ticked.FindAllStringSubmatch(cells[2], -1) {
			labels = append(labels, m[1])
		}
		sort.Strings(labels)
		for _, m := range ticked.FindAllStringSubmatch(cells[1], -1) {
			name := m[1]
			documented[name] = true
			got, ok := have[name]
			if !ok {
				t.Errorf("README documents %s, which /metrics does not expose", name)
				continue
			}
			if !slices.Equal(got, labels) {
				t.Errorf("README documents %s with labels %v; /metrics has %v", name, labels, got)
			}
		}
	}
	for name := range have {
		if strings.HasPrefix(name, "pg_backup_api_") && !documented[name] {
			t.Errorf("/metrics exposes %s, which README's Monitoring table does not document", name)
		}
	}
}

type fakeOps struct{}

func (fakeOps) OperationCounts() ([]metrics.Count, error) {
	return []metrics.Count{{Scope: "db1", Type: "recovery", Status: "DONE", N: 2}}, nil
}

func (fakeOps) Queues() ([]metrics.Queue, error) {
	return []metrics.Queue{{Scope: ""}, {Scope: "db1", Depth: 1, OldestQueued: time.Now().Add(-time.Minute)}, {Scope: "db2"}}, nil
}

type fakeCatalog struct{ now time.Time }

func (f fakeCatalog) CatalogStats() ([]metrics.ServerCatalog, error) {
	return []metrics.ServerCatalog{{Server: "db1", Backups: map[string]int{"DONE": 3}, LastBackupEnd: f.now.Add(-time.Hour),
		LastBackupSize: 1 << 30, RecoveryWindowStart: f.now.Add(-72 * time.Hour)}}, nil
}

type fakeDrills struct{ now time.Time }

func (f fakeDrills) Drills() ([]metrics.Drill, error) {
	return []metrics.Drill{{Server: "db1", LastSuccess: f.now.Add(-time.Hour), Steps: map[string]time.Duration{"restore": time.Minute},
		Every: 24 * time.Hour, Timeout: 2 * time.Hour, ScheduleStart: f.now.Add(-48 * time.Hour)}}, nil
}

type fakeWAL struct{ now time.Time }

func (f fakeWAL) LastArchivedWAL() ([]metrics.ServerWAL, error) {
	return []metrics.ServerWAL{{Server: "db1", LastArchived: f.now.Add(-time.Minute)}}, nil
}

type fakeChecker struct{}

func (fakeChecker) Servers() ([]string, error) { return []string{"db1", "db2"}, nil }

func (fakeChecker) Check(_ context.Context, server string) ([]metrics.CheckResult, error) {
	return []metrics.CheckResult{{Name: "PostgreSQL", OK: true}, {Name: "WAL archive", OK: server == "db1"}}, nil
}
