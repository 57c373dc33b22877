package httpapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// exampleCase is one real exchange whose answer the document shows as the example named
// name of the response status of operation "METHOD /path/" (or of the shared response
// that one refers to).
type exampleCase struct {
	op, status, name string
	call             func(t *testing.T) response
}

var (
	jwtRE       = regexp.MustCompile(`^eyJ[\w-]+\.[\w-]+\.[\w-]+$`)
	serverURLRE = regexp.MustCompile(`^http://127\.0\.0\.1:[0-9]+`)
	// exampleVolatile are the fields whose values differ from run to run however fixed
	// the clock: they are compared by kind only.
	// Session ids (the "id" of a session, a string; other ids are numbers) are random too.
	exampleVolatile = map[string]bool{"request_id": true, "id": true}
)

// TestSchemaExamples: every example these cases name is in the document and is, byte for
// byte once normalized, the body the server really answers (with the golden test's fixed
// clock), so the examples cannot drift from the server. Token texts, which hold random
// ids, must merely be JWTs, and the test server's URL is http://testserver in the document.
func TestSchemaExamples(t *testing.T) {
	cases := exampleCases(t)
	var doc map[string]any
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	for _, c := range cases {
		t.Run(c.op+" "+c.status+" "+c.name, func(t *testing.T) {
			r := c.call(t)
			if fmt.Sprint(r.status) != c.status {
				t.Fatalf("%s = %d %s, want %s", c.op, r.status, r.body, c.status)
			}
			var real any
			if err := json.Unmarshal(r.body, &real); err != nil {
				t.Fatalf("%s answered %q, not JSON", c.op, r.body)
			}
			at, documented := documentedExample(doc, c)
			if documented == nil || !sameExample(normalizeExample(real, ""), normalizeExample(documented, "")) {
				t.Errorf("the document's example at %s = %s, want the real body: %s", at, toJSON(documented), r.body)
			}
		})
	}
}

// documentedExample finds the example of c in doc, following the operation's response to
// a shared one when it is a $ref.
func documentedExample(doc map[string]any, c exampleCase) (string, any) {
	method, path, _ := strings.Cut(c.op, " ")
	at := "#/paths/" + strings.ReplaceAll(path, "/", "~1") + "/" + strings.ToLower(method) + "/responses/" + c.status
	resp, _ := resolveRef(doc, at).(map[string]any)
	if ref, ok := resp["$ref"].(string); ok {
		at = ref
	}
	at += "/content/application~1json/examples/" + c.name + "/value"
	return at, resolveRef(doc, at)
}

func sameExample(a, b any) bool {
	ra, _ := json.Marshal(a)
	rb, _ := json.Marshal(b)
	return bytes.Equal(ra, rb)
}

func toJSON(v any) string {
	if v == nil {
		return "(none)"
	}
	raw, _ := json.Marshal(v)
	return string(raw)
}

// normalizeExample replaces what differs between runs: token texts, and the fields of
// exampleVolatile.
func normalizeExample(v any, key string) any {
	switch v := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, sub := range v {
			out[k] = normalizeExample(sub, k)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, sub := range v {
			out[i] = normalizeExample(sub, "")
		}
		return out
	case string:
		switch {
		case exampleVolatile[key] && (key != "id" || v != ""):
			return "<" + key + ">"
		case jwtRE.MatchString(v):
			return "<JWT>"
		}
		return serverURLRE.ReplaceAllString(v, "http://testserver")
	}
	return v
}

// exampleCases builds the school of the golden test and the calls that answer with each
// example. They run in order: later ones use what earlier ones made.
func exampleCases(t *testing.T) []exampleCase {
	var adaUser ciphemic.User
	in, s, c, e := goldenSchool(t, func(in *instance) {
		adaUser = in.mustCreateUser(t, "ada", "correct horse battery", ciphemic.RoleStudent)
	})
	ada := map[string]string{"username": "ada", "password": "correct horse battery"}
	var pair struct{ access, refresh string }
	var adaLive string // the access token of ada's session from /login/, which stays live
	post := func(path string, body any, headers ...string) func(t *testing.T) response {
		return func(t *testing.T) response { return in.postJSON(t, path, body, headers...) }
	}
	as := func(a actor, method, path string, body any) func(t *testing.T) response {
		return func(t *testing.T) response { return in.call(t, a, method, path, body) }
	}
	course, enrollment := fmt.Sprintf("/api/school/courses/%d/", c.ID), fmt.Sprintf("/api/school/enrollments/%d/", e.ID)
	user := fmt.Sprintf("/api/users/%d/", s.student.user.ID)
	return []exampleCase{
		{"POST /api/token/", "200", "pair", func(t *testing.T) response {
			r := in.postJSON(t, "/api/token/", ada)
			pair.access, pair.refresh = r.str(t, "access"), r.str(t, "refresh")
			return r
		}},
		{"POST /api/token/", "400", "missingFields", post("/api/token/", map[string]string{})},
		{"POST /api/token/", "401", "wrongPassword", post("/api/token/", map[string]string{"username": "ada", "password": "wrong"})},
		{"POST /login/", "200", "pair", func(t *testing.T) response {
			r := in.postJSON(t, "/login/", ada)
			adaLive = r.str(t, "access")
			return r
		}},
		{"POST /api/token/refresh/", "200", "rotated", func(t *testing.T) response {
			r := in.postJSON(t, "/api/token/refresh/", map[string]string{"refresh": pair.refresh})
			pair.refresh = r.str(t, "refresh")
			return r
		}},
		{"POST /api/token/refresh/", "401", "invalid", post("/api/token/refresh/", map[string]string{"refresh": "not-a-token"})},
		{"POST /api/token/verify/", "200", "done", func(t *testing.T) response {
			return in.postJSON(t, "/api/token/verify/", map[string]string{"token": pair.access})
		}},
		{"POST /api/token/blacklist/", "200", "loggedOut", func(t *testing.T) response {
			return in.postJSON(t, "/api/token/blacklist/", map[string]string{"refresh": pair.refresh})
		}},
		{"POST /api/token/refresh/", "401", "blacklisted", func(t *testing.T) response {
			return in.postJSON(t, "/api/token/refresh/", map[string]string{"refresh": pair.refresh})
		}},
		{"GET /api/me/", "200", "me", as(s.student, "GET", "/api/me/", nil)},
		// ada's sessions: her first login's, logged out above, has ended; /login/'s lives.
		{"GET /api/me/sessions/", "200", "page", func(t *testing.T) response {
			return in.call(t, actor{name: "ada", user: adaUser, access: adaLive}, "GET", "/api/me/sessions/", nil)
		}},
		{"GET /api/me/", "401", "missing", as(s.anonymous, "GET", "/api/me/", nil)},
		{"GET /api/me/", "401", "token", as(actor{access: "not-a-token"}, "GET", "/api/me/", nil)},
		{"GET /api/me/", "401", "header", func(t *testing.T) response {
			return in.do(t, "GET", "/api/me/", "", nil, "Authorization: Bearer")
		}},
		{"POST /api/me/password/", "400", "wrongOldPassword", as(s.student, "POST", "/api/me/password/",
			map[string]string{"old_password": "not it", "new_password": "a much better one"})},
		{"GET /api/school/courses/", "200", "page", as(s.student, "GET", "/api/school/courses/?page_size=1&ordering=-code", nil)},
		{"POST /api/school/courses/", "201", "created", as(s.teacher, "POST", "/api/school/courses/",
			map[string]any{"code": "BIO1", "title": "Biology", "description": "Cells."})},
		{"POST /api/school/courses/", "400", "invalid", as(s.teacher, "POST", "/api/school/courses/",
			map[string]any{"code": "", "capacity": 0})},
		{"POST /api/school/courses/", "409", "duplicateCode", as(s.admin, "POST", "/api/school/courses/",
			map[string]any{"code": "MATH101", "title": "Again"})},
		{"PUT /api/school/courses/{id}/", "400", "malformedJSON", as(s.teacher, "PUT", course, `{"code": `)},
		{"GET /api/school/courses/{id}/", "400", "invalidID", as(s.student, "GET", "/api/school/courses/abc/", nil)},
		{"POST /api/school/courses/", "415", "textPlain", func(t *testing.T) response {
			return in.do(t, "POST", "/api/school/courses/", "text/plain", strings.NewReader("BIO1"), "Authorization: Bearer "+s.teacher.access)
		}},
		{"POST /api/school/courses/", "413", "tooLarge", func(t *testing.T) response {
			body := `{"code": "BIO2", "description": "` + strings.Repeat("x", 1<<20) + `"}`
			return in.do(t, "POST", "/api/school/courses/", "application/json", strings.NewReader(body), "Authorization: Bearer "+s.teacher.access)
		}},
		{"GET /api/school/courses/", "404", "invalidPage", as(s.student, "GET", "/api/school/courses/?page=9", nil)},
		{"GET /api/school/courses/{id}/", "200", "course", as(s.student, "GET", course, nil)},
		{"GET /api/school/courses/{id}/", "404", "notFound", as(s.student, "GET", "/api/school/courses/999/", nil)},
		{"PUT /api/school/courses/{id}/", "200", "replaced", as(s.teacher, "PUT", course,
			map[string]any{"code": "MATH101", "title": "Algebra", "description": "Groups and rings.", "capacity": 40})},
		{"PATCH /api/school/courses/{id}/", "200", "updated", as(s.teacher, "PATCH", course, map[string]any{"title": "Algebra I"})},
		{"DELETE /api/school/courses/{id}/", "409", "hasEnrollments", as(s.admin, "DELETE", course, nil)},
		{"GET /api/school/courses/{id}/students/", "200", "page", as(s.teacher, "GET", course+"students/", nil)},
		{"GET /api/school/enrollments/", "200", "page", as(s.student, "GET", "/api/school/enrollments/?page=2&page_size=1", nil)},
		{"POST /api/school/enrollments/", "201", "created", as(s.otherStudent, "POST", "/api/school/enrollments/",
			map[string]any{"course_id": c.ID})},
		{"POST /api/school/enrollments/", "409", "duplicate", as(s.otherStudent, "POST", "/api/school/enrollments/",
			map[string]any{"course_id": c.ID})},
		{"GET /api/school/enrollments/{id}/", "200", "enrollment", as(s.student, "GET", enrollment, nil)},
		{"PATCH /api/school/enrollments/{id}/", "400", "outOfRange", as(s.teacher, "PATCH", enrollment, map[string]any{"grade": 101})},
		{"PATCH /api/school/enrollments/{id}/", "200", "graded", as(s.teacher, "PATCH", enrollment, map[string]any{"grade": 91})},
		{"GET /api/users/", "200", "page", as(s.admin, "GET", "/api/users/?page_size=2", nil)},
		{"GET /api/users/{id}/sessions/", "200", "page", as(s.admin, "GET", fmt.Sprintf("/api/users/%d/sessions/", adaUser.ID), nil)},
		{"GET /api/users/", "403", "notAdmin", as(s.teacher, "GET", "/api/users/", nil)},
		{"POST /api/users/", "400", "invalid", as(s.admin, "POST", "/api/users/",
			map[string]any{"username": "a b", "password": "123", "roles": []string{"dean"}})},
		{"POST /api/users/", "201", "created", as(s.admin, "POST", "/api/users/",
			map[string]any{"username": "grace", "password": "a long passphrase", "email": "grace@example.com", "roles": []string{"teacher"}})},
		{"POST /api/users/", "409", "duplicateUsername", as(s.admin, "POST", "/api/users/",
			map[string]any{"username": "grace", "password": "a long passphrase", "roles": []string{"teacher"}})},
		{"GET /api/users/{id}/", "200", "user", as(s.admin, "GET", user, nil)},
		{"PATCH /api/users/{id}/", "200", "updated", as(s.admin, "PATCH", user, map[string]any{"first_name": "Stu"})},
		{"GET /api/audit/", "200", "page", as(s.admin, "GET", "/api/audit/?page_size=2", nil)},
		{"GET /.well-known/jwks.json", "200", "hmac", as(s.anonymous, "GET", "/.well-known/jwks.json", nil)},
		{"GET /healthz", "200", "ok", as(s.anonymous, "GET", "/healthz", nil)},
		{"GET /readyz", "200", "ready", as(s.anonymous, "GET", "/readyz", nil)},
	}
}
