package openapitest_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/ciphemic/ciphemic/internal/httpapi"
	"github.com/ciphemic/ciphemic/internal/openapitest"
)

const meBody = `{"id":1,"username":"ada","email":"ada@example.com","roles":["student"],"is_active":true,"date_joined":"2025-01-02T03:04:05Z","last_login":null}`

// TestCheck holds exchanges the server really makes, and ones it must never make, to the
// served document: the first pass, the second fail, so neither the document nor the
// checker can quietly stop describing the server.
func TestCheck(t *testing.T) {
	v, err := openapitest.New(httpapi.OpenAPIDocument())
	if err != nil {
		t.Fatal(err)
	}
	json := http.Header{"Content-Type": {"application/json"}}
	allow := http.Header{"Content-Type": {"application/json"}, "Allow": {"GET, HEAD"}}
	tests := []struct {
		name, method, target, reqBody string
		status                        int
		header                        http.Header
		body                          string
		wantErr, wantTolerated        bool
	}{
		{"me", "GET", "/api/me/", "", 200, json, meBody, false, false},
		{"me without its slash", "GET", "/api/me", "", 200, json, meBody, false, false},
		{"me lacking a field", "GET", "/api/me/", "", 200, json, `{"id":1,"username":"ada"}`, true, false},
		// Each 401 shape is exactly one of the alternatives: they must not overlap, or a
		// validator rejects the real answer as matching several.
		{"401 missing", "GET", "/api/me/", "", 401, json, `{"detail":"Authentication credentials were not provided."}`, false, false},
		{"401 header", "GET", "/api/me/", "", 401, json, `{"detail":"Authorization header must contain two space-delimited values","code":"bad_authorization_header"}`, false, false},
		{"401 user", "GET", "/api/me/", "", 401, json, `{"detail":"User is inactive","code":"user_inactive"}`, false, false},
		{"401 token", "GET", "/api/me/", "", 401, json, `{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{"token_class":"AccessToken","token_type":"access","message":"Token is invalid or expired"}]}`, false, false},
		{"401 with a stray field", "GET", "/api/me/", "", 401, json, `{"detail":"x","hint":"y"}`, true, false},
		{"undocumented status", "GET", "/api/me/", "", 418, json, `{"detail":"teapot"}`, true, false},
		{"unknown path, 404", "GET", "/api/nope/", "", 404, json, `{"detail":"Not found."}`, false, false},
		{"unknown path, 200", "GET", "/api/nope/", "", 200, json, `{}`, true, false},
		{"wrong method, 405", "PUT", "/api/schema/", "", 405, allow, `{"detail":"Method \"PUT\" not allowed."}`, false, false},
		{"wrong method, 405 without Allow", "PUT", "/api/schema/", "", 405, json, `{"detail":"Method \"PUT\" not allowed."}`, true, false},
		{"wrong method on a protected path, 401 first", "PUT", "/api/me/", "", 401, json, `{"detail":"Authentication credentials were not provided."}`, false, false},
		{"wrong method on a public path, 401", "PUT", "/api/schema/", "", 401, json, `{"detail":"Authentication credentials were not provided."}`, true, false},
		{"lenient query, accepted", "GET", "/api/users/?page_size=abc", "", 200, json, `{"count":0,"next":null,"previous":null,"results":[]}`, false, true},
		{"lenient body, accepted", "POST", "/api/school/courses/", `{"code":"A1","title":"A","capacity":"30"}`, 201, json,
			`{"id":1,"code":"A1","title":"A","description":"","teacher_id":null,"capacity":30,"created_at":"2025-01-02T03:04:05Z","updated_at":"2025-01-02T03:04:05Z"}`, false, true},
		{"invalid body, refused", "POST", "/api/school/courses/", `{"capacity":"x"}`, 400, json, `{"capacity":["A valid integer is required."]}`, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.reqBody))
			req.Header.Set("Authorization", "Bearer eyJ.x.y")
			if tt.reqBody != "" {
				req.Header.Set("Content-Type", "application/json")
			}
			p := v.Check(openapitest.Exchange{Request: req, RequestBody: []byte(tt.reqBody), Status: tt.status,
				Header: tt.header, ResponseBody: []byte(tt.body)})
			if (len(p.Errors) > 0) != tt.wantErr {
				t.Errorf("Check(%s %s -> %d %s) errors = %q, want errors: %v", tt.method, tt.target, tt.status, tt.body, p.Errors, tt.wantErr)
			}
			if (len(p.Tolerated) > 0) != tt.wantTolerated {
				t.Errorf("Check(%s %s -> %d) tolerated = %q, want tolerated: %v", tt.method, tt.target, tt.status, p.Tolerated, tt.wantTolerated)
			}
		})
	}
}
