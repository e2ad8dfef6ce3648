package cli_test

import (
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/cli"
	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
)

// TestServeReportsBarmanCheckAndWAL: serve runs `barman check` for each
// server by itself (at metrics.check_interval) and reports its checks and
// the newest archived WAL segment, from xlog.db, on /metrics.
func TestServeReportsBarmanCheckAndWAL(t *testing.T) {
	t.Parallel()
	e := newEnv(t, false)
	archived := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	writeFile(t, filepath.Join(e.Home, "db_server_two", "wals"), "xlog.db",
		fmt.Sprintf("000000010000000000000007\t16777216\t%d.0\tgzip\n", archived.Unix()), 0o644)
	config := writeFile(t, e.Root, "pga.toml", "[serve]\nopen_metrics = true\n\n[metrics]\ncheck_interval = \"1s\"\n", 0o644)
	srv := startServe(t, e, config, "FAKE_BARMAN_CHECK=PostgreSQL: OK\nWAL archive: FAILED (please make sure WAL shipping is setup)", "FAKE_BARMAN_EXIT=1")
	var body string
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, err := http.Get(srv.URL + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		body = string(b)
		if strings.Contains(body, `pg_backup_api_barman_checks_failed{server="db_server_two"} 1`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no check result on /metrics after 20s:\n%s\nserve's log:\n%s", testenv.GrepLines(body, "barman_check"), srv.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, line := range []string{
		`pg_backup_api_barman_check_ok{check="PostgreSQL",server="db_server_two"} 1`,
		`pg_backup_api_barman_check_ok{check="WAL archive",server="db_server_two"} 0`,
		fmt.Sprintf(`pg_backup_api_barman_last_wal_archived_timestamp_seconds{server="db_server_two"} %g`, float64(archived.Unix())),
		`pg_backup_api_operations_finished_total{scope="db_server_two",status="FAILED",type="recovery"} 0`,
	} {
		if !strings.Contains(body, line+"\n") {
			t.Errorf("/metrics lacks %s:\n%s", line, testenv.GrepLines(body, "barman_|finished_total"))
		}
	}
	found := false
	for _, argv := range testenv.ArgvCalls(t, e.ArgvLog) {
		if strings.Join(argv, " ") == "-c "+e.Conf+" check db_server_two" {
			found = true
		}
	}
	if !found {
		t.Errorf("fake-barman never got -c %s check db_server_two: %q", e.Conf, testenv.ArgvCalls(t, e.ArgvLog))
	}
}

func TestMetricsCheckIntervalTooShortIsRefused(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, dir, "pga.toml", "[metrics]\ncheck_interval = \"10ms\"\n", 0o644)
	_, err := cli.LoadFileConfig(path, true)
	if err == nil || !strings.Contains(err.Error(), "metrics.check_interval") || !strings.Contains(err.Error(), path) {
		t.Errorf("err = %v, want the file and metrics.check_interval named", err)
	}
}
