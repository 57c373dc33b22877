package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// attackBody is one malformed request body.
type attackBody struct {
	name, contentType string
	body              string
	// chunked sends the body without a Content-Length, as a stream of unknown size.
	chunked bool
	// mayPass marks a body that is valid on some endpoint (an empty PATCH changes
	// nothing); every other body must get a 4xx wherever a body is read.
	mayPass bool
}

const (
	ctJSON = "application/json"
	ctForm = "application/x-www-form-urlencoded"
)

// attackBodies are bodies of every broken kind: truncated, deeply nested, out of range,
// badly encoded, of the wrong media type, oversized and empty.
func attackBodies() []attackBody {
	deepArrays := strings.Repeat("[", 100000) + strings.Repeat("]", 100000)
	deepObjects := strings.Repeat(`{"a":`, 100000) + "1" + strings.Repeat("}", 100000)
	fields := func(n int) string {
		var b strings.Builder
		for i := range n {
			fmt.Fprintf(&b, "f%d=x&", i)
		}
		return b.String() + "username=a"
	}
	var parts strings.Builder
	for i := range 10000 {
		fmt.Fprintf(&parts, "--b\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\nx\r\n", i)
	}
	parts.WriteString("--b--\r\n")
	huge := `{"username":1e999999999,"password":-1e999999999,"refresh":1e400,"token":` + strings.Repeat("9", 5000) +
		`,"code":1e400,"title":1e400,"capacity":1e400,"course_id":99999999999999999999999,"student_id":-1e400,` +
		`"grade":1e400,"old_password":1,"new_password":2,"roles":[1e400],"is_active":1e400,"scope":1e400}`
	return []attackBody{
		{name: "truncated JSON", contentType: ctJSON, body: `{"username":"admin","pass`},
		{name: "truncated string", contentType: ctJSON, body: `{"refresh":"`},
		{name: "unclosed object", contentType: ctJSON, body: `{`},
		{name: "100k nested arrays", contentType: ctJSON, body: deepArrays},
		{name: "100k nested objects", contentType: ctJSON, body: deepObjects},
		{name: "100k unclosed arrays", contentType: ctJSON, body: strings.Repeat("[", 100000)},
		{name: "huge numbers", contentType: ctJSON, body: huge},
		{name: "huge top-level number", contentType: ctJSON, body: "1e99999999999"},
		// Accepted as U+FFFD where a field takes any text: see TestAttackInvalidUTF8Refused.
		{name: "invalid UTF-8", contentType: ctJSON, body: "{\"username\":\"\xff\xfe\",\"password\":\"\xc3\x28\",\"refresh\":\"\xed\xa0\x80\",\"code\":\"\xff\"}", mayPass: true},
		{name: "invalid UTF-8 outside strings", contentType: ctJSON, body: "{\xff:1}"},
		{name: "raw NUL in a string", contentType: ctJSON, body: "{\"username\":\"a\x00b\",\"password\":\"x\"}"},
		{name: "raw NUL before the body", contentType: ctJSON, body: "\x00{}"},
		{name: "escaped NUL", contentType: ctJSON, body: `{"username":"a\u0000","password":"\u0000","refresh":"\u0000","token":"\u0000","old_password":"\u0000","new_password":"\u0000"}`, mayPass: true},
		{name: "byte order mark", contentType: ctJSON, body: "\xef\xbb\xbf{}"},
		{name: "two objects", contentType: ctJSON, body: `{} {}`},
		{name: "a list", contentType: ctJSON, body: `[{"username":"admin"}]`},
		{name: "null", contentType: ctJSON, body: `null`},
		{name: "a string", contentType: ctJSON, body: `"refresh"`},
		{name: "wrong field types", contentType: ctJSON, body: `{"username":{},"password":[],"refresh":true,"token":{"a":1},"code":[],"capacity":"x","course_id":{},"roles":"admin","old_password":null,"new_password":false,"grade":"A","scope":{}}`},
		{name: "text/plain", contentType: "text/plain", body: `{"username":"admin","password":"x"}`},
		{name: "application/xml", contentType: "application/xml", body: `<username>admin</username>`},
		{name: "JSON suffix type", contentType: "application/merge-patch+json", body: `{}`},
		{name: "no media type", contentType: "", body: `{"refresh":"x"}`},
		{name: "broken media type", contentType: "application/json;;; =", body: `{"a"`},
		{name: "multipart without boundary", contentType: "multipart/form-data", body: "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--x--\r\n"},
		{name: "multipart with a wrong boundary", contentType: "multipart/form-data; boundary=y", body: "--x\r\n\r\n--x--"},
		{name: "multipart of 10k parts", contentType: "multipart/form-data; boundary=b", body: parts.String()},
		{name: "form of 10k fields", contentType: ctForm, body: fields(10000)},
		{name: "form of 20k fields", contentType: ctForm, body: fields(20000)},
		{name: "form with bad escapes", contentType: ctForm, body: "username=%zz&password=%"},
		{name: "form with NUL", contentType: ctForm, body: "username=a%00&password=%00&refresh=%00&token=%00", mayPass: true},
		{name: "over the body limit", contentType: ctJSON, body: `{"a":"` + strings.Repeat("x", 2<<20) + `"}`},
		{name: "over the limit, chunked", contentType: ctJSON, body: strings.Repeat(" ", 2<<20), chunked: true},
		{name: "form over the limit", contentType: ctForm, body: "a=" + strings.Repeat("x", 2<<20)},
		{name: "empty", contentType: ctJSON, body: "", mayPass: true},
		{name: "empty without a type", contentType: "", body: "", mayPass: true},
		{name: "whitespace", contentType: ctJSON, body: " \t\r\n ", mayPass: true},
	}
}

// bodyTarget is an endpoint that reads a body, with the bearer token it needs.
type bodyTarget struct {
	method, path string
	bearer       func(t *testing.T) string // nil: none
	// ignoresBody marks an endpoint that answers 200 whatever the body says.
	ignoresBody bool
}

// TestAttackMalformedBodies posts every kind of broken body to every endpoint that takes
// one. Each answer is a JSON object and a 4xx (2xx only where the body is ignored or is
// an empty change), never a 5xx, and nothing panics.
func TestAttackMalformedBodies(t *testing.T) {
	s := startServer(t, "", "--login-throttle=false")
	adminAccess, _ := mustLogin(t, s, "admin", s.adminPW)
	const victimPW = "victim-Passw0rd!"
	victimID := mustCreateUser(t, s, adminAccess, "victim", victimPW, "student")
	otherID := mustCreateUser(t, s, adminAccess, "other", victimPW, "student")
	courseID, enrollmentID := mustCourseAndEnrollment(t, s, adminAccess, otherID)
	victimAccess, _ := mustLogin(t, s, "victim", victimPW)
	admin := func(*testing.T) string { return adminAccess }
	victim := func(*testing.T) string { return victimAccess }
	// Each revoke-all ends the victim's tokens, so each needs a new one, issued a moment
	// after the last revocation: forged with the server's key rather than logged in for,
	// which would cost a password hash each.
	secret := mustServerSecret(t, s)
	fresh := func(t *testing.T) string {
		time.Sleep(2 * time.Millisecond)
		c := accessClaims(t, victimID).with("roles", []string{"student"}).with("jti", uuid7JTI(t, time.Now()))
		return forgeJWS(hs256Header, c.json(t), hmacSigner("HS256", secret))
	}
	targets := []bodyTarget{
		{"POST", "/api/token/", nil, false},
		{"POST", "/login/", nil, false},
		{"POST", "/api/token/refresh/", nil, false},
		{"POST", "/api/token/verify/", nil, false},
		{"POST", "/api/token/blacklist/", nil, false},
		{"POST", "/api/token/revoke-all/", fresh, false}, // reads {"scope": …}
		{"POST", "/api/me/password/", victim, false},
		{"POST", "/api/school/courses/", admin, false},
		{"PUT", fmt.Sprintf("/api/school/courses/%d/", courseID), admin, false},
		{"PATCH", fmt.Sprintf("/api/school/courses/%d/", courseID), admin, false},
		{"POST", "/api/school/enrollments/", admin, false},
		{"PATCH", fmt.Sprintf("/api/school/enrollments/%d/", enrollmentID), admin, false},
		{"POST", "/api/users/", admin, false},
		{"PATCH", fmt.Sprintf("/api/users/%d/", otherID), admin, false},
		{"POST", fmt.Sprintf("/api/users/%d/revoke/", otherID), admin, true},
	}
	for _, tg := range targets {
		t.Run(tg.method+" "+tg.path, func(t *testing.T) {
			for _, b := range attackBodies() {
				a := sendBody(t, s, tg, b)
				switch {
				case a.status >= 500:
					t.Errorf("%s = %d, want no 5xx", b.name, a.status)
				case !json.Valid(a.body) || !bytes.HasPrefix(a.body, []byte("{")):
					t.Errorf("%s = %d with a body that is not a JSON object", b.name, a.status)
				case a.status < 400 && !b.mayPass && !tg.ignoresBody:
					t.Errorf("%s = %d, want a 4xx", b.name, a.status)
				case tg.ignoresBody && a.status != 200 && a.status != 413:
					// The token was good, so the handler ran (or the body limit stopped it).
					t.Errorf("%s = %d, want 200 (or 413)", b.name, a.status)
				}
			}
		})
	}
	if log := s.logText(); strings.Contains(log, "msg=panic") || strings.Contains(log, "internal error") {
		t.Errorf("the server logged a panic or an internal error")
	}
}

// sendBody sends b to tg and returns the answer.
func sendBody(t *testing.T, s *server, tg bodyTarget, b attackBody) answer {
	t.Helper()
	var body io.Reader = strings.NewReader(b.body)
	if b.chunked {
		body = io.MultiReader(body) // hides the length, so the client streams it chunked
	}
	req, err := http.NewRequest(tg.method, s.url+tg.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if b.contentType != "" {
		req.Header.Set("Content-Type", b.contentType)
	}
	if tg.bearer != nil {
		req.Header.Set("Authorization", "Bearer "+tg.bearer(t))
	}
	return send(t, req)
}

// mustCourseAndEnrollment creates a course and enrolls studentID in it.
func mustCourseAndEnrollment(t *testing.T, s *server, adminAccess string, studentID int64) (courseID, enrollmentID int64) {
	t.Helper()
	status, c := s.post(t, "/api/school/courses/", `{"code":"SEC101","title":"Security","description":"","capacity":10}`, adminAccess)
	id, ok := c["id"].(float64)
	if status != 201 || !ok {
		t.Fatalf("create course = %d %v, want 201", status, c)
	}
	status, e := s.post(t, "/api/school/enrollments/", fmt.Sprintf(`{"course_id":%d,"student_id":%d}`, int64(id), studentID), adminAccess)
	eid, ok := e["id"].(float64)
	if status != 201 || !ok {
		t.Fatalf("create enrollment = %d %v, want 201", status, e)
	}
	return int64(id), int64(eid)
}

// TestAttackAnswersCarrySecurityHeaders: every answer, errors included, keeps out of
// caches (it may hold tokens), frames and MIME sniffing.
func TestAttackAnswersCarrySecurityHeaders(t *testing.T) {
	s := startServer(t, "")
	login := `{"username":"admin","password":"` + s.adminPW + `"}`
	tests := []struct {
		name, method, path, contentType, body, bearer string
		status                                        int
	}{
		{"login", "POST", "/api/token/", ctJSON, login, "", 200},
		{"bad credentials", "POST", "/api/token/", ctJSON, `{"username":"admin","password":"x"}`, "", 401},
		{"bad token", "GET", "/api/me/", "", "", "a.b.c", 401},
		{"no credentials", "GET", "/api/me/", "", "", "", 401},
		{"malformed JSON", "POST", "/api/token/", ctJSON, `{`, "", 400},
		{"unsupported media type", "POST", "/api/token/", "text/plain", login, "", 415},
		{"body too large", "POST", "/api/token/", ctJSON, strings.Repeat(" ", 2<<20), "", 413},
		{"unknown path", "GET", "/api/nothing/", "", "", "", 404},
		{"wrong method", "GET", "/api/token/", "", "", "", 405},
	}
	want := map[string]string{
		"Cache-Control": "no-store", "X-Content-Type-Options": "nosniff",
		"X-Frame-Options": "DENY", "Referrer-Policy": "same-origin", "Content-Type": ctJSON,
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tg := bodyTarget{method: tt.method, path: tt.path}
			if tt.bearer != "" {
				tg.bearer = func(*testing.T) string { return tt.bearer }
			}
			a := sendBody(t, s, tg, attackBody{contentType: tt.contentType, body: tt.body})
			if a.status != tt.status {
				t.Errorf("status = %d, want %d", a.status, tt.status)
			}
			for name, value := range want {
				if got := a.header.Get(name); got != value {
					t.Errorf("%s = %q, want %q", name, got, value)
				}
			}
		})
	}
}
