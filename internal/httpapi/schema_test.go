package httpapi

import (
	"encoding/json"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// openAPIOperation is the part of an operation the tests check.
type openAPIOperation struct {
	OperationID string            `json:"operationId"`
	Summary     string            `json:"summary"`
	Security    *[]map[string]any `json:"security"`
	Parameters  []map[string]any  `json:"parameters"`
	Responses   map[string]any    `json:"responses"`
}

// documentedOperations returns the embedded document's operations by "METHOD path", with
// the parameters of their path item.
func documentedOperations(t *testing.T) (map[string]openAPIOperation, map[string][]map[string]any) {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	ops := map[string]openAPIOperation{}
	pathParams := map[string][]map[string]any{}
	for path, item := range doc.Paths {
		for key, raw := range item {
			if key == "parameters" {
				var params []map[string]any
				if err := json.Unmarshal(raw, &params); err != nil {
					t.Fatalf("%s parameters: %v", path, err)
				}
				pathParams[path] = params
				continue
			}
			var op openAPIOperation
			if err := json.Unmarshal(raw, &op); err != nil {
				t.Fatalf("%s %s: %v", key, path, err)
			}
			ops[strings.ToUpper(key)+" "+path] = op
		}
	}
	return ops, pathParams
}

// servedRoutes are the routes addRoutes registers, built with a real instance's deps.
func servedRoutes(t *testing.T) []route {
	t.Helper()
	in := newInstance(t, options{})
	rt := addRoutes(http.NewServeMux(), Config{Now: in.clock.Now},
		Deps{Store: in.db, School: in.db, Tokens: in.tokens, Revocations: in.view, Passwords: in.hasher},
		newMetrics(Config{Now: in.clock.Now}, Deps{Revocations: in.view}))
	return rt.routes()
}

// TestSchemaMatchesRoutes: openapi.json documents exactly the routes the router serves,
// both ways, so a route added without documentation (or documentation of a route that is
// gone) fails here.
func TestSchemaMatchesRoutes(t *testing.T) {
	ops, _ := documentedOperations(t)
	served := map[string]route{}
	for _, r := range servedRoutes(t) {
		key := r.method + " " + r.path
		served[key] = r
		if _, ok := ops[key]; !ok {
			t.Errorf("route %s is served but not documented in openapi.json", key)
		}
	}
	for key := range ops {
		if _, ok := served[key]; !ok {
			t.Errorf("openapi.json documents %s, which the router does not serve", key)
		}
	}
}

// TestSchemaSecurity: the document marks every authenticated route as needing the bearer
// token and every public one as public, so a client generated from it sends tokens right.
func TestSchemaSecurity(t *testing.T) {
	ops, _ := documentedOperations(t)
	for _, r := range servedRoutes(t) {
		op, ok := ops[r.method+" "+r.path]
		if !ok {
			continue // TestSchemaMatchesRoutes reports it
		}
		// nil: the document's top-level security applies, which is the bearer token.
		public := op.Security != nil && (len(*op.Security) == 0 || slices.ContainsFunc(*op.Security,
			func(req map[string]any) bool { return len(req) == 0 }))
		if public == r.protected {
			t.Errorf("%s %s: documented public=%v, but the router protected=%v", r.method, r.path, public, r.protected)
		}
	}
}

var pathParamRE = regexp.MustCompile(`\{([^}]+)\}`)

// TestSchemaWellFormed checks what a hand-written document gets wrong: the version, unique
// operation ids, summaries, responses, path parameters declared for every {name} of a
// path, and every $ref pointing somewhere.
func TestSchemaWellFormed(t *testing.T) {
	var doc map[string]any
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if v, _ := doc["openapi"].(string); !strings.HasPrefix(v, "3.1.") {
		t.Errorf("openapi = %q, want 3.1.x", v)
	}
	ops, pathParams := documentedOperations(t)
	ids := map[string]string{}
	for key, op := range ops {
		if prev, dup := ids[op.OperationID]; dup || op.OperationID == "" {
			t.Errorf("%s: operationId %q missing or also used by %s", key, op.OperationID, prev)
		}
		ids[op.OperationID] = key
		if op.Summary == "" || len(op.Responses) == 0 {
			t.Errorf("%s: want a summary and responses", key)
		}
		path := strings.SplitN(key, " ", 2)[1]
		wantPathParams(t, doc, key, path, append(slices.Clone(pathParams[path]), op.Parameters...))
	}
	walkRefs(doc, func(ref string) {
		if resolveRef(doc, ref) == nil {
			t.Errorf("$ref %q points nowhere", ref)
		}
	})
}

// wantPathParams checks that the {names} of path are exactly its required path parameters.
func wantPathParams(t *testing.T, doc map[string]any, key, path string, params []map[string]any) {
	t.Helper()
	var declared []string
	for _, p := range params {
		if ref, ok := p["$ref"].(string); ok {
			p, _ = resolveRef(doc, ref).(map[string]any)
		}
		if p["in"] == "path" {
			if p["required"] != true {
				t.Errorf("%s: path parameter %v is not required", key, p["name"])
			}
			declared = append(declared, p["name"].(string))
		}
	}
	var inPath []string
	for _, m := range pathParamRE.FindAllStringSubmatch(path, -1) {
		inPath = append(inPath, m[1])
	}
	slices.Sort(declared)
	slices.Sort(inPath)
	if !slices.Equal(declared, inPath) {
		t.Errorf("%s: path parameters %v, want %v", key, declared, inPath)
	}
}

// walkRefs calls f with every "$ref" of v.
func walkRefs(v any, f func(string)) {
	switch v := v.(type) {
	case map[string]any:
		for k, sub := range v {
			if s, ok := sub.(string); ok && k == "$ref" {
				f(s)
			}
			walkRefs(sub, f)
		}
	case []any:
		for _, sub := range v {
			walkRefs(sub, f)
		}
	}
}

// resolveRef follows a local JSON pointer ("#/components/schemas/Course"), or returns nil.
func resolveRef(doc map[string]any, ref string) any {
	rest, ok := strings.CutPrefix(ref, "#/")
	if !ok {
		return nil
	}
	var node any = doc
	for _, part := range strings.Split(rest, "/") {
		m, ok := node.(map[string]any)
		if !ok {
			return nil
		}
		part = strings.ReplaceAll(strings.ReplaceAll(part, "~1", "/"), "~0", "~")
		if node, ok = m[part]; !ok {
			return nil
		}
	}
	return node
}

// TestSchemaEndpoint: GET /api/schema/ serves the document without credentials, may be
// cached briefly, and revalidates with its ETag.
func TestSchemaEndpoint(t *testing.T) {
	in := newInstance(t, options{})
	for _, path := range []string{"/api/schema/", "/api/schema"} {
		r := in.get(t, path, "")
		if r.status != http.StatusOK || string(r.body) != string(openAPIDocument) {
			t.Fatalf("GET %s = %d (%d bytes), want 200 with the document", path, r.status, len(r.body))
		}
		if ct := r.header.Get("Content-Type"); ct != "application/vnd.oai.openapi+json" {
			t.Errorf("GET %s Content-Type = %q, want application/vnd.oai.openapi+json", path, ct)
		}
		if cc := r.header.Get("Cache-Control"); cc != staticCache {
			t.Errorf("GET %s Cache-Control = %q, want %q", path, cc, staticCache)
		}
		etag := r.header.Get("ETag")
		if again := in.do(t, http.MethodGet, path, "", nil, "If-None-Match: "+etag); etag == "" || again.status != http.StatusNotModified {
			t.Errorf("GET %s with If-None-Match %s = %d, want 304", path, etag, again.status)
		}
	}
	wantStatusBody(t, in.do(t, http.MethodPost, "/api/schema/", "application/json", nil), http.StatusMethodNotAllowed,
		`{"detail":"Method \"POST\" not allowed."}`)
}
