package httpd_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/httpd"
	"github.com/pg-backup-api/pg-backup-api/ops"
)

// TestClientStreamFallback: a server without the stream endpoint (an
// older pg-backup-api, the reference) makes Stream answer ErrNoStream,
// for the caller to poll, without calling fn.
func TestClientStreamFallback(t *testing.T) {
	for _, tc := range []struct {
		name    string
		handler http.HandlerFunc
	}{
		{"404", http.NotFound},
		{"405", func(w http.ResponseWriter, r *http.Request) {
			http.Error(w, "no", http.StatusMethodNotAllowed)
		}},
		{"html_200", func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			fmt.Fprint(w, "<html>proxy page</html>")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ts := httptest.NewServer(tc.handler)
			defer ts.Close()
			c, err := httpd.NewClient(httpd.ClientConfig{URL: ts.URL})
			if err != nil {
				t.Fatal(err)
			}
			err = c.Stream(context.Background(), "db1", "20260101T000000", 0, func(ev httpd.StreamEvent) error {
				t.Errorf("event %s from a server without streams", jsonOf(ev))
				return nil
			})
			if !errors.Is(err, httpd.ErrNoStream) {
				t.Fatalf("Stream: %v, want ErrNoStream", err)
			}
		})
	}
}

// TestClientStreamReconnects: a stream that breaks off is resumed with
// ?from= at the offset of the last event received, and nothing repeats.
func TestClientStreamReconnects(t *testing.T) {
	var (
		mu    sync.Mutex
		froms []string
	)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		froms = append(froms, r.URL.Query().Get("from"))
		n := len(froms)
		mu.Unlock()
		w.Header().Set("Content-Type", httpd.StreamContentType)
		if n == 1 {
			fmt.Fprint(w, `{"phase":"running","next":0}`+"\n"+`{"output":"one\n","next":4}`+"\n"+`{"output":"tw`)
			// The connection drops in the middle of an event.
			w.(http.Flusher).Flush()
			panic(http.ErrAbortHandler)
		}
		fmt.Fprint(w, `{"output":"two\n","next":8}`+"\n"+`{"status":"DONE","phase":"done","next":8}`+"\n")
	}))
	defer ts.Close()
	c, err := httpd.NewClient(httpd.ClientConfig{URL: ts.URL})
	if err != nil {
		t.Fatal(err)
	}
	var out string
	var end httpd.StreamEvent
	err = c.Stream(context.Background(), "db1", "20260101T000000", 0, func(ev httpd.StreamEvent) error {
		out += ev.Output
		if ev.Status != "" {
			end = ev
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if out != "one\ntwo\n" || end.Status != ops.StatusDone {
		t.Errorf("output %q, end %s; want \"one\\ntwo\\n\" and DONE", out, jsonOf(end))
	}
	if fmt.Sprint(froms) != "[0 4]" {
		t.Errorf("requests from %v, want [0 4]", froms)
	}
}
