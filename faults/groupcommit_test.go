package faults

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pg-backup-api/pg-backup-api/internal/testenv"
	"github.com/pg-backup-api/pg-backup-api/store"
)

// TestServeKilledUnderCreateLoadLosesNoAcknowledgedID: serve is killed
// (SIGKILL) at a random moment while 8 clients POST as fast as they can,
// three times over on one store. Every ID a client got a 202 for has its
// complete job file on disk: creates share directory fsyncs (group
// commit), and none is answered before its batch is durable. A killed
// process keeps the page cache, so this checks the order of answer and
// commit; the fsyncs themselves are watched in store's durability tests.
func TestServeKilledUnderCreateLoadLosesNoAcknowledgedID(t *testing.T) {
	t.Parallel()
	e := newEnv(t, envConfig{})
	// Barman never runs meanwhile: the load is creates only.
	penv := e.procEnv("FAKE_BARMAN_ARGV_LOG=", "FAKE_BARMAN_SLEEP=30")
	jobs := filepath.Join(e.Home, srv, "jobs")
	var acked []string
	for round := range 3 {
		s := e.startServe(t, penv)
		hc := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 8}}
		var (
			mu  sync.Mutex
			ids []string
			wg  sync.WaitGroup
		)
		for c := range 8 {
			wg.Go(func() {
				for i := 0; ; i++ {
					req, _ := http.NewRequest("POST", s.URL+srvOps, strings.NewReader(recoveryBody(fmt.Sprintf("/srv/restore/%d-%d-%d", round, c, i))))
					req.Header.Set("Content-Type", "application/json")
					resp, err := hc.Do(req)
					if err != nil {
						return // killed
					}
					data, err := io.ReadAll(resp.Body)
					resp.Body.Close()
					if err != nil {
						return // killed while answering: not acknowledged
					}
					var created struct {
						OperationID string `json:"operation_id"`
					}
					if resp.StatusCode != http.StatusAccepted || json.Unmarshal(data, &created) != nil {
						t.Errorf("POST: %d %s", resp.StatusCode, data)
						return
					}
					mu.Lock()
					ids = append(ids, created.OperationID)
					mu.Unlock()
				}
			})
		}
		time.Sleep(time.Duration(100+rand.IntN(400)) * time.Millisecond)
		if err := s.Cmd.Process.Signal(syscall.SIGKILL); err != nil {
			t.Fatal(err)
		}
		<-s.Done()
		wg.Wait()
		hc.CloseIdleConnections()
		if len(ids) == 0 {
			t.Fatalf("round %d: no create was acknowledged before the kill; serve log:\n%s", round, s.Log())
		}
		acked = append(acked, ids...)
	}
	for _, id := range acked {
		obj, err := store.ReadJSONFile(filepath.Join(jobs, id+".json"))
		if err != nil {
			t.Errorf("acknowledged %s: %v", id, err)
			continue
		}
		if typ, _ := obj.String("operation_type"); typ != "recovery" {
			t.Errorf("acknowledged %s: job file has operation_type %q", id, typ)
		}
	}
	t.Logf("%d acknowledged creates over 3 kills, each on disk", len(acked))
	// The runners serve started hold a deep queue of 30 s Barmans: they are
	// this test's to stop, not the stray killer's to report.
	for _, pid := range testenv.ProcessesNaming(e.Dir) {
		if pgid, err := syscall.Getpgid(pid); err == nil && pgid == pid {
			syscall.Kill(-pid, syscall.SIGKILL)
		}
		syscall.Kill(pid, syscall.SIGKILL)
	}
}
