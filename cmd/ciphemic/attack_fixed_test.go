package main

import (
	"fmt"
	"path/filepath"
	"testing"

	"github.com/ciphemic/ciphemic/internal/store/postgres"
)

// The tests in this file pin weaknesses the attack suite found and that are now fixed:
// line breaks inside token segments, invalid UTF-8 in JSON bodies, and NUL characters
// reaching PostgreSQL.

// TestAttackLineBreakInToken: a line break inside a segment is not base64url either. Go's
// base64 decoder skips '\r' and '\n' even in strict mode, so without a check of its own a
// server accepts a real token with a line break added to its signature — a second text
// for the same token, made without any key. Only bodies can carry it (clients refuse a
// line break in a header).
func TestAttackLineBreakInToken(t *testing.T) {
	s, adminID, secret := hs256Server(t)
	access, refresh := mustLogin(t, s, "admin", s.adminPW)
	header, payload := canonicalSegments(t, adminID)
	cases := map[string]string{
		"LF in an access signature":   access[:len(access)-4] + "\n" + access[len(access)-4:],
		"CRLF in an access signature": access[:len(access)-4] + "\r\n" + access[len(access)-4:],
		"LF in a re-signed payload":   forgeSigned(header+"."+payload[:8]+"\n"+payload[8:], hmacSigner("HS256", secret)),
	}
	for name, tok := range cases {
		t.Run(name, func(t *testing.T) {
			wantRefused(t, s, tok, useVerify)
		})
	}
	withLF := refresh[:len(refresh)-4] + "\n" + refresh[len(refresh)-4:]
	wantRefused(t, s, withLF, useRefresh, useLogout)
}

// TestAttackInvalidUTF8Refused: a JSON body that is not UTF-8 is malformed (RFC 8259 §8.1)
// and gets the contract's 400 "JSON parse error", as DRF answers it; it is not stored
// with U+FFFD in place of the bad bytes.
func TestAttackInvalidUTF8Refused(t *testing.T) {
	s := startServer(t, "", "--login-throttle=false")
	admin, _ := mustLogin(t, s, "admin", s.adminPW)
	studentID := mustCreateUser(t, s, admin, "student", "student-Passw0rd!", "student")
	courseID, _ := mustCourseAndEnrollment(t, s, admin, studentID)
	tests := []struct{ method, path, body string }{
		{"POST", "/api/token/", "{\"username\":\"admin\xff\",\"password\":\"x\"}"},
		{"PATCH", fmt.Sprintf("/api/school/courses/%d/", courseID), "{\"title\":\"Secur\xffity\"}"},
	}
	for _, tt := range tests {
		tg := bodyTarget{method: tt.method, path: tt.path, bearer: func(*testing.T) string { return admin }}
		a := sendBody(t, s, tg, attackBody{contentType: ctJSON, body: tt.body})
		if a.status != 400 {
			t.Errorf("%s %s with invalid UTF-8 = %d %s, want 400", tt.method, tt.path, a.status, a.body)
		}
	}
}

// TestAttackNULOnPostgres: a NUL character, which PostgreSQL cannot store in text, never
// reaches it: bodies and search terms with one get a 4xx (DRF: "Null characters are not
// allowed.") or no match, never a 500.
func TestAttackNULOnPostgres(t *testing.T) {
	dsn := postgres.OpenTestURL(t)
	keyFile := filepath.Join(t.TempDir(), "hs256.key")
	if _, _, err := runCmd(t, nil, "", "keys", "generate", "--algorithm", "HS256", "--out", keyFile); err != nil {
		t.Fatal(err)
	}
	s := startServerArgs(t, dsn, "--signing-key-file", keyFile, "--login-throttle=false")
	admin, _ := mustLogin(t, s, "admin", s.adminPW)
	for _, tt := range []struct{ method, path, body string }{
		{"POST", "/api/token/", `{"username":"a\u0000b","password":"x"}`},
		{"POST", "/login/", `{"username":"a\u0000b","password":"x"}`},
		{"POST", "/api/school/courses/", `{"code":"C\u0000","title":"T","description":"","capacity":3}`},
		{"POST", "/api/users/", `{"username":"nul","password":"Passw0rd-long","first_name":"\u0000","roles":["student"]}`},
		{"GET", "/api/school/courses/?search=%00", ""},
		{"GET", "/api/users/?search=%00", ""},
	} {
		tg := bodyTarget{method: tt.method, path: tt.path, bearer: func(*testing.T) string { return admin }}
		if a := sendBody(t, s, tg, attackBody{contentType: ctJSON, body: tt.body}); a.status >= 500 {
			t.Errorf("%s %s with a NUL = %d, want no 5xx", tt.method, tt.path, a.status)
		}
	}
}
