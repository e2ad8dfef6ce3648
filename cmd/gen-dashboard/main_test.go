package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDashboardUpToDate: the committed dashboard is what this command
// generates.
func TestDashboardUpToDate(t *testing.T) {
	want, err := Dashboard()
	if err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(DashboardPath)))
	if err != nil {
		t.Fatalf("%v; run `go run ./cmd/gen-dashboard` and commit the result", err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("%s is stale; run `go run ./cmd/gen-dashboard` and commit the result", DashboardPath)
	}
}

// TestEveryQueryFollowsTheInstanceVariable: each panel's query is limited
// to the instances chosen, so the dashboard covers every scraped host, all
// by default, or some.
func TestEveryQueryFollowsTheInstanceVariable(t *testing.T) {
	data, err := Dashboard()
	if err != nil {
		t.Fatal(err)
	}
	var d struct {
		Panels []struct {
			Type, Title string
			Targets     []struct{ Expr string }
		}
		Templating struct {
			List []struct {
				Name       string
				IncludeAll bool `json:"includeAll"`
				Current    struct{ Value string }
			}
		}
	}
	if err := json.Unmarshal(data, &d); err != nil {
		t.Fatal(err)
	}
	found := false
	for _, v := range d.Templating.List {
		if v.Name == "instance" {
			found = v.IncludeAll && v.Current.Value == "$__all"
		}
	}
	if !found {
		t.Errorf("no instance variable with all instances chosen by default")
	}
	n := 0
	for _, p := range d.Panels {
		for _, q := range p.Targets {
			n++
			for _, part := range strings.Split(q.Expr, "pg_backup_api_")[1:] {
				if !strings.Contains(strings.SplitN(part, "}", 2)[0], `instance=~"$instance"`) {
					t.Errorf("panel %q: a selector of %q ignores $instance", p.Title, q.Expr)
				}
			}
		}
	}
	if n < 10 {
		t.Errorf("only %d queries in the dashboard", n)
	}
}
