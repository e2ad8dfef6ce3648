package httpd_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/pg-backup-api/pg-backup-api/httpd"
)

var httpMethods = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}

// openAPIPath turns a ServeMux pattern's path into an OpenAPI path template:
// "{name}" is the same in both; "{name...}" becomes "{name}" and "{$}" goes.
func openAPIPath(pattern string) string {
	p := strings.ReplaceAll(pattern, "{$}", "")
	return regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)\.\.\.\}`).ReplaceAllString(p, "{$1}")
}

func TestOpenAPIPathConversion(t *testing.T) {
	for in, want := range map[string]string{
		"/servers/{name}/operations/{id}": "/servers/{name}/operations/{id}",
		"/operations/{$}":                 "/operations/",
		"/files/{path...}":                "/files/{path}",
		"/status":                         "/status",
	} {
		if got := openAPIPath(in); got != want {
			t.Errorf("openAPIPath(%q) = %q, want %q", in, got, want)
		}
	}
}

type openAPIDoc struct {
	OpenAPI    string                                `json:"openapi"`
	Info       map[string]any                        `json:"info"`
	Paths      map[string]map[string]json.RawMessage `json:"paths"`
	Components map[string]map[string]json.RawMessage `json:"components"`
}

type openAPIOperation struct {
	OperationID string                     `json:"operationId"`
	Parameters  []map[string]any           `json:"parameters"`
	Responses   map[string]json.RawMessage `json:"responses"`
}

func parseOpenAPI(t *testing.T) (*openAPIDoc, map[string]any) {
	t.Helper()
	if !json.Valid(httpd.OpenAPI) {
		t.Fatal("openapi.json is not valid JSON")
	}
	var doc openAPIDoc
	dec := json.NewDecoder(bytes.NewReader(httpd.OpenAPI))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	var raw map[string]any
	json.Unmarshal(httpd.OpenAPI, &raw)
	return &doc, raw
}

// TestOpenAPIMatchesRoutes keeps openapi.json and Routes in step, both ways.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	doc, _ := parseOpenAPI(t)
	if !regexp.MustCompile(`^3\.[0-9]+\.[0-9]+$`).MatchString(doc.OpenAPI) {
		t.Errorf("openapi = %q, want 3.x.y", doc.OpenAPI)
	}
	if doc.Info["title"] == nil || doc.Info["version"] == nil {
		t.Errorf("info needs title and version: %v", doc.Info)
	}

	routes := map[string]bool{}
	for _, rt := range httpd.Routes {
		key := strings.ToUpper(rt.Method) + " " + openAPIPath(rt.Pattern)
		if routes[key] {
			t.Errorf("Routes lists %s twice", key)
		}
		routes[key] = true
	}
	documented := map[string]bool{}
	for path, item := range doc.Paths {
		for key := range item {
			if key == "parameters" || key == "summary" || key == "description" || key == "servers" || strings.HasPrefix(key, "x-") {
				continue
			}
			if !contains(httpMethods, key) {
				t.Errorf("paths[%q] has %q, which is not an HTTP method", path, key)
				continue
			}
			documented[strings.ToUpper(key)+" "+path] = true
		}
	}
	for k := range routes {
		if !documented[k] {
			t.Errorf("%s is served (httpd.Routes) but not in openapi.json", k)
		}
	}
	for k := range documented {
		if !routes[k] {
			t.Errorf("%s is in openapi.json but not served (httpd.Routes)", k)
		}
	}
	if len(routes) == 0 || len(documented) == 0 {
		t.Errorf("%d routes and %d documented operations: nothing compared", len(routes), len(documented))
	}
}

// TestOpenAPIOperations checks each operation: responses with descriptions,
// unique operationIds, declared path parameters, and references that
// resolve.
func TestOpenAPIOperations(t *testing.T) {
	doc, raw := parseOpenAPI(t)
	ids := map[string]string{}
	for path, item := range doc.Paths {
		for _, method := range httpMethods {
			data, ok := item[method]
			if !ok {
				continue
			}
			where := strings.ToUpper(method) + " " + path
			var op openAPIOperation
			if err := json.Unmarshal(data, &op); err != nil {
				t.Errorf("%s: %v", where, err)
				continue
			}
			if len(op.Responses) == 0 {
				t.Errorf("%s has no responses", where)
			}
			for code, r := range op.Responses {
				var resp map[string]any
				json.Unmarshal(r, &resp)
				if _, isRef := resp["$ref"]; !isRef && resp["description"] == nil {
					t.Errorf("%s: response %s has no description", where, code)
				}
				if code != "default" && !regexp.MustCompile(`^[1-5]([0-9]{2}|XX)$`).MatchString(code) {
					t.Errorf("%s: response code %q is not valid", where, code)
				}
			}
			if op.OperationID == "" {
				t.Errorf("%s has no operationId", where)
			} else if other, dup := ids[op.OperationID]; dup {
				t.Errorf("operationId %q is used by %s and %s", op.OperationID, other, where)
			} else {
				ids[op.OperationID] = where
			}

			// Every {param} of the path is declared, in: path, required.
			declared := map[string]bool{}
			for _, p := range op.Parameters {
				if ref, ok := p["$ref"].(string); ok {
					resolved, ok := resolveRef(raw, ref).(map[string]any)
					if !ok {
						t.Errorf("%s: parameter $ref %q does not resolve", where, ref)
						continue
					}
					p = resolved
				}
				if p["in"] == "path" {
					name, _ := p["name"].(string)
					if p["required"] != true {
						t.Errorf("%s: path parameter %q must be required", where, name)
					}
					declared[name] = true
				}
			}
			for _, m := range regexp.MustCompile(`\{([^}]+)\}`).FindAllStringSubmatch(path, -1) {
				if !declared[m[1]] {
					t.Errorf("%s: path parameter {%s} is not declared", where, m[1])
				}
				delete(declared, m[1])
			}
			for name := range declared {
				t.Errorf("%s declares path parameter %q that the path does not have", where, name)
			}
		}
	}

	// Every $ref in the document resolves.
	var refs []string
	collectRefs(raw, &refs)
	sort.Strings(refs)
	for _, ref := range refs {
		if resolveRef(raw, ref) == nil {
			t.Errorf("$ref %q does not resolve", ref)
		}
	}
	if len(refs) == 0 {
		t.Error("no $ref found: the parse is wrong")
	}
}

// TestOpenAPIServed: GET /openapi.json answers the embedded document.
func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t)
	h, _ := e.handler(t)
	w := get(t, h, "/openapi.json")
	wantStatus(t, w, http.StatusOK)
	wantJSONContentType(t, w.Header())
	if !bytes.Equal(w.Body.Bytes(), httpd.OpenAPI) {
		t.Error("GET /openapi.json does not answer the embedded openapi.json")
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func collectRefs(v any, refs *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "$ref" {
				*refs = append(*refs, s)
				continue
			}
			collectRefs(x, refs)
		}
	case []any:
		for _, x := range v {
			collectRefs(x, refs)
		}
	}
}

// resolveRef resolves a local JSON pointer reference, or returns nil.
func resolveRef(doc map[string]any, ref string) any {
	ptr, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	var cur any = doc
	for _, part := range strings.Split(ptr, "/") {
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		m, ok := cur.(map[string]any)
		if !ok {
			return nil
		}
		if cur, ok = m[part]; !ok {
			return nil
		}
	}
	return cur
}
