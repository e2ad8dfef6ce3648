package testenv

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// HTTPDo sends one request with client (a body is sent as
// application/json) and returns the response's status, header and body. It
// fails the test when the request cannot be sent or the body read.
func HTTPDo(t testing.TB, client *http.Client, method, url, body string) (int, http.Header, []byte) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the body: %v", method, url, err)
	}
	return resp.StatusCode, resp.Header, data
}

// GetJSON is a GET of url with client that must answer 200 with JSON,
// decoded into v; anything else fails the test with the answer.
func GetJSON(t testing.TB, client *http.Client, url string, v any) {
	t.Helper()
	code, _, body := HTTPDo(t, client, "GET", url, "")
	if code != 200 {
		t.Fatalf("GET %s: %d %s", url, code, body)
	}
	if err := json.Unmarshal(body, v); err != nil {
		t.Fatalf("GET %s: %v in %s", url, err, body)
	}
}
