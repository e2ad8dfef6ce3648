//go:build e2e

package e2e

import (
	"fmt"
	"strings"
	"testing"
)

// barmanKeepStatus is what `barman keep --status` says of a backup:
// "standalone", "full", or "nokeep".
func barmanKeepStatus(t *testing.T, b *barmanUT, id string) string {
	t.Helper()
	out, err := barmanOutput(b, "keep", "--status", sandbox["SANDBOX_SERVER"], id)
	if err != nil {
		t.Fatalf("%s keep --status %s: %v\n%s", b, id, err, out)
	}
	// Warnings may come first on the combined output; "Keep: ..." is last.
	for _, line := range strings.Split(string(out), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Keep:"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("%s keep --status %s printed no \"Keep:\" line:\n%s", b, id, out)
	return ""
}

// apiKeep is the keep field GET /servers/{name}/backups shows for a backup
// (nil for null), and whether the backup is listed at all.
func apiKeep(t *testing.T, b *barmanUT, id string) (keep any, listed bool) {
	t.Helper()
	code, body := b.get(t, "/servers/"+sandbox["SANDBOX_SERVER"]+"/backups")
	if code != 200 {
		t.Fatalf("GET /servers/%s/backups: %d %v", sandbox["SANDBOX_SERVER"], code, body)
	}
	list, _ := body["backups"].([]any)
	for _, item := range list {
		backup, _ := item.(map[string]any)
		if backup["backup_id"] == id {
			k, ok := backup["keep"]
			if !ok {
				t.Fatalf("backup %s in GET .../backups has no keep field: %v", id, backup)
			}
			return k, true
		}
	}
	return nil, false
}

func barmanLists(t *testing.T, b *barmanUT, id string) bool {
	t.Helper()
	for _, w := range barmanListBackups(t, b) {
		if w.ID == id {
			return true
		}
	}
	return false
}

// TestKeepAndDeleteAgreeWithBarman walks a backup of its own through keep,
// a refused delete, release and delete over HTTP, and checks after each
// step that Barman (keep --status, list-backups) and our catalog agree.
// It never touches the backups TestMain took: other tests use them.
func TestKeepAndDeleteAgreeWithBarman(t *testing.T) {
	server := sandbox["SANDBOX_SERVER"]
	ops := "/servers/" + server + "/operations"
	each(t, all, func(t *testing.T, b *barmanUT) {
		ref, err := takeBackup(b, fmt.Sprintf("e2e-%s-lifecycle", run))
		if err != nil {
			t.Fatal(err)
		}
		// Whatever step fails, the sandbox is left without this backup.
		t.Cleanup(func() {
			if !barmanLists(t, b, ref.id) {
				return
			}
			barmanOutput(b, "keep", "--release", server, ref.id)
			if out, err := barmanOutput(b, "delete", server, ref.id); err != nil {
				t.Errorf("cleanup: %s delete %s: %v\n%s", b, ref.id, err, out)
			}
		})
		mustDone := func(body map[string]any) map[string]any {
			t.Helper()
			code, resp := b.post(t, ops, body)
			if code != 202 {
				t.Fatalf("POST %v: %d %v", body, code, resp)
			}
			op := b.waitEnd(t, ops+"/"+resp["operation_id"].(string))
			if op["status"] != "DONE" {
				t.Fatalf("%v ended %v, want DONE; output:\n%v", body, op["status"], op["output"])
			}
			return op
		}

		mustDone(map[string]any{"type": "keep", "backup_id": ref.request, "target": "standalone"})
		if got := barmanKeepStatus(t, b, ref.id); got != "standalone" {
			t.Fatalf("after keep: barman keep --status says %q, want standalone", got)
		}
		if keep, listed := apiKeep(t, b, ref.id); !listed || keep != "standalone" {
			t.Fatalf("after keep: GET .../backups shows keep %v (listed %v), want \"standalone\"", keep, listed)
		}

		check := noNewJobs(t, b)
		code, resp := b.post(t, ops, map[string]any{"type": "delete", "backup_id": ref.request})
		msg := fmt.Sprint(resp["error"])
		if code != 409 || !strings.Contains(msg, "as it has a current keep request") || !strings.Contains(msg, ref.id) {
			t.Fatalf("delete of a kept backup: %d %v, want 409 with Barman's reason naming %s", code, resp, ref.id)
		}
		check()
		if !barmanLists(t, b, ref.id) || barmanKeepStatus(t, b, ref.id) != "standalone" {
			t.Fatalf("a refused delete changed backup %s in Barman", ref.id)
		}

		mustDone(map[string]any{"type": "keep", "backup_id": ref.request, "release": true})
		if got := barmanKeepStatus(t, b, ref.id); got != "nokeep" {
			t.Fatalf("after release: barman keep --status says %q, want nokeep", got)
		}
		if keep, listed := apiKeep(t, b, ref.id); !listed || keep != nil {
			t.Fatalf("after release: GET .../backups shows keep %v (listed %v), want null", keep, listed)
		}

		mustDone(map[string]any{"type": "delete", "backup_id": ref.request})
		if barmanLists(t, b, ref.id) {
			t.Errorf("after delete: barman list-backups still lists %s", ref.id)
		}
		if _, listed := apiKeep(t, b, ref.id); listed {
			t.Errorf("after delete: GET .../backups still lists %s", ref.id)
		}
		for _, keep := range []backupRef{b.older, b.newer} {
			if !barmanLists(t, b, keep.id) {
				t.Errorf("the suite's backup %s is gone", keep.id)
			}
		}
	})
}
