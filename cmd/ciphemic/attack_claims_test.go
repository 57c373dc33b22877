package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestAttackLeeway: with --leeway 30s a token expired 29 s ago, or issued or valid from
// 29 s in the future, is accepted, and one 31 s out is refused: the leeway is honoured
// and no more (RFC 7519 §4.1.4, §4.1.5: "some small leeway").
func TestAttackLeeway(t *testing.T) {
	s, adminID, secret := hs256Server(t, "--leeway", "30s")
	sign := hmacSigner("HS256", secret)
	tests := []struct {
		name   string
		claims func(now int64) forgeClaims
		ok     bool
	}{
		{"expired 29s ago", func(now int64) forgeClaims { return at(t, adminID, now-300, now-29) }, true},
		{"expired 31s ago", func(now int64) forgeClaims { return at(t, adminID, now-300, now-31) }, false},
		{"issued 29s ahead", func(now int64) forgeClaims { return at(t, adminID, now+29, now+329) }, true},
		{"issued 31s ahead", func(now int64) forgeClaims { return at(t, adminID, now+31, now+331) }, false},
		{"nbf 29s ahead", func(now int64) forgeClaims { return at(t, adminID, now, now+300).with("nbf", now+29) }, true},
		{"nbf 31s ahead", func(now int64) forgeClaims { return at(t, adminID, now, now+300).with("nbf", now+31) }, false},
		{"no exp", func(now int64) forgeClaims { return at(t, adminID, now, now+300).with("exp", nil) }, false},
		{"no iat", func(now int64) forgeClaims { return at(t, adminID, now, now+300).with("iat", nil) }, false},
		{"exp as a string", func(now int64) forgeClaims { return at(t, adminID, now, now+300).with("exp", "9999999999") }, false},
		{"exp with a fraction", func(now int64) forgeClaims { return at(t, adminID, now, now+300).with("exp", float64(now)+300.5) }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel() // each case waits for a second to begin; they may share it
			uses, want := everyUse, 401
			if tt.ok {
				uses, want = []tokenUse{useBearer, useVerify}, 200
			}
			statuses := statusesAtSecondStart(t, s, uses, func(now int64) string {
				return forgeJWS(hs256Header, tt.claims(now).json(t), sign)
			})
			for i, u := range uses {
				if statuses[i] != want {
					t.Errorf("%s = %d, want %d", u.name, statuses[i], want)
				}
			}
		})
	}
}

// at returns access claims of userID with the given iat and exp.
func at(t *testing.T, userID, iat, exp int64) forgeClaims {
	return accessClaims(t, userID).with("iat", iat).with("exp", exp)
}

// statusesAtSecondStart presents a token minted by mint(now) at each of uses, just after
// a second begins, so that the server's clock reads the second the token was made for
// (NumericDates are whole seconds, and the edges are one second wide). A try that
// straddled two seconds is repeated.
func statusesAtSecondStart(t *testing.T, s *server, uses []tokenUse, mint func(now int64) string) []int {
	t.Helper()
	for try := 0; ; try++ {
		time.Sleep(time.Until(time.Now().Truncate(time.Second).Add(time.Second + 5*time.Millisecond)))
		now := time.Now().Unix()
		var statuses []int
		for _, u := range uses {
			statuses = append(statuses, u.do(t, s, mint(now)).status)
		}
		if time.Now().Unix() == now || try == 4 {
			return statuses
		}
	}
}

// TestAttackIssuerAudience: a server started with --issuer and --audience refuses tokens
// signed with its own key whose iss or aud is missing or different (RFC 8725 §3.8, §3.9).
func TestAttackIssuerAudience(t *testing.T) {
	const iss, aud = "https://auth.school.example", "school-api"
	s, adminID, secret := hs256Server(t, "--issuer", iss, "--audience", aud)
	sign := hmacSigner("HS256", secret)
	good := accessClaims(t, adminID).with("iss", iss).with("aud", aud)
	wantAccepted(t, s, forgeJWS(hs256Header, good.json(t), sign))
	wantAccepted(t, s, forgeJWS(hs256Header, good.with("aud", []string{"other", aud}).json(t), sign))
	for name, claims := range map[string]forgeClaims{
		"no iss":             good.with("iss", nil),
		"other iss":          good.with("iss", "https://evil.example"),
		"iss in upper case":  good.with("iss", strings.ToUpper(iss)),
		"iss with a slash":   good.with("iss", iss+"/"),
		"iss as a list":      good.with("iss", []string{iss}),
		"no aud":             good.with("aud", nil),
		"other aud":          good.with("aud", "billing-api"),
		"aud list without":   good.with("aud", []string{"billing-api"}),
		"aud empty list":     good.with("aud", []string{}),
		"aud as a number":    good.with("aud", 1),
		"aud with a space":   good.with("aud", aud+" "),
		"neither iss or aud": good.with("iss", nil).with("aud", nil),
	} {
		t.Run(name, func(t *testing.T) {
			wantRefused(t, s, forgeJWS(hs256Header, claims.json(t), sign))
		})
	}
}

// TestAttackTokenTypeConfusion: a refresh token is never an access token and an access
// token never a refresh token (RFC 8725 §3.12), also when forged with the server's key
// and an odd token_type.
func TestAttackTokenTypeConfusion(t *testing.T) {
	s, adminID, secret := hs256Server(t)
	access, refresh := mustLogin(t, s, "admin", s.adminPW)
	if a := useBearer.do(t, s, refresh); a.status != 401 {
		t.Errorf("refresh token as Bearer = %d, want 401", a.status)
	}
	if status, _ := s.post(t, "/api/token/revoke-all/", "", refresh); status != 401 {
		t.Errorf("refresh token as Bearer of revoke-all = %d, want 401", status)
	}
	for _, u := range []tokenUse{useRefresh, useLogout} {
		if a := u.do(t, s, access); a.status != 401 {
			t.Errorf("%s with an access token = %d, want 401", u.name, a.status)
		}
	}
	// The refused attempts spent nothing: both tokens still work as what they are.
	if a := useBearer.do(t, s, access); a.status != 200 {
		t.Errorf("access token after the confusion attempts = %d, want 200", a.status)
	}
	if a := useRefresh.do(t, s, refresh); a.status != 200 {
		t.Errorf("refresh token after the confusion attempts = %d, want 200", a.status)
	}
	sign := hmacSigner("HS256", secret)
	for name, typ := range map[string]any{
		"refresh":     "refresh",
		"Access":      "Access",
		"ACCESS":      "ACCESS",
		"id":          "id",
		"empty":       "",
		"list":        []string{"access"},
		"number":      1,
		"missing":     nil,
		"with spaces": " access",
	} {
		t.Run(name, func(t *testing.T) {
			tok := forgeJWS(hs256Header, accessClaims(t, adminID).with("token_type", typ).json(t), sign)
			wantRefused(t, s, tok) // as "refresh" it is refused for being unknown to the store
		})
	}
}

// TestAttackTamperedPayload: a student's real token with its payload edited — to admin,
// to another user, to a later expiry — and its original signature is refused.
func TestAttackTamperedPayload(t *testing.T) {
	s, adminID, _ := hs256Server(t)
	adminAccess, _ := mustLogin(t, s, "admin", s.adminPW)
	const pw = "mallory-Passw0rd!"
	mustCreateUser(t, s, adminAccess, "mallory", pw, "student")
	access, refresh := mustLogin(t, s, "mallory", pw)
	if status, _ := s.get(t, "/api/users/", access); status != 403 {
		t.Fatalf("GET /api/users/ as the student = %d, want 403", status)
	}
	edits := map[string]func(c forgeClaims) forgeClaims{
		"roles admin":     func(c forgeClaims) forgeClaims { return c.with("roles", []string{"admin"}) },
		"user_id admin":   func(c forgeClaims) forgeClaims { return c.with("user_id", adminID).with("sub", jsonString(adminID)) },
		"exp a year on":   func(c forgeClaims) forgeClaims { return c.with("exp", time.Now().Add(365*24*time.Hour).Unix()) },
		"jti changed":     func(c forgeClaims) forgeClaims { return c.with("jti", randomJTI(t)) },
		"type swapped":    func(c forgeClaims) forgeClaims { return c.with("token_type", otherType(c["token_type"])) },
		"member added":    func(c forgeClaims) forgeClaims { return c.with("is_staff", true) },
		"sid removed":     func(c forgeClaims) forgeClaims { return c.with("sid", nil) },
		"iat a day later": func(c forgeClaims) forgeClaims { return c.with("iat", time.Now().Add(24*time.Hour).Unix()) },
	}
	for name, edit := range edits {
		t.Run(name, func(t *testing.T) {
			forged := tamper(t, access, edit)
			wantRefused(t, s, forged)
			if status, _ := s.get(t, "/api/users/", forged); status != 401 {
				t.Errorf("GET /api/users/ with the tampered access token = %d, want 401", status)
			}
			wantRefused(t, s, tamper(t, refresh, edit))
		})
	}
}

func otherType(typ any) string {
	if typ == "access" {
		return "refresh"
	}
	return "access"
}

// tamper returns tok with its payload changed by edit and its header and signature kept.
func tamper(t *testing.T, tok string, edit func(forgeClaims) forgeClaims) string {
	t.Helper()
	parts := strings.Split(tok, ".")
	raw, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c forgeClaims
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&c); err != nil {
		t.Fatal(err)
	}
	parts[1] = forgeSeg([]byte(edit(c).json(t)))
	return strings.Join(parts, ".")
}

// TestAttackDuplicateMembers: a header or payload naming a member twice — exactly, in
// another case, or through a Unicode folding — is refused even when signed with the
// server's key, so that no reader can see claims other than the ones verified.
func TestAttackDuplicateMembers(t *testing.T) {
	s, adminID, secret := hs256Server(t)
	adminAccess, _ := mustLogin(t, s, "admin", s.adminPW)
	studentID := mustCreateUser(t, s, adminAccess, "mallory", "mallory-Passw0rd!", "student")
	sign := hmacSigner("HS256", secret)
	payload := accessClaims(t, studentID).with("roles", []string{"student"}).json(t)
	wantAccepted(t, s, forgeJWS(hs256Header, payload, sign))
	// prepend adds a member before the others, so that it is the first of two.
	prepend := func(member string) string { return "{" + member + "," + payload[1:] }
	admin := jsonString(adminID)
	tests := map[string][2]string{
		"alg twice":            {`{"alg":"HS256","alg":"HS256","typ":"JWT"}`, payload},
		"alg none then HS256":  {`{"alg":"none","alg":"HS256","typ":"JWT"}`, payload},
		"alg HS256 then none":  {`{"alg":"HS256","typ":"JWT","alg":"none"}`, payload},
		"ALG in upper case":    {`{"alg":"HS256","ALG":"none","typ":"JWT"}`, payload},
		"typ twice":            {`{"alg":"HS256","typ":"JWT","typ":"at+jwt"}`, payload},
		"kid twice":            {`{"alg":"HS256","kid":"a","kid":"b","typ":"JWT"}`, payload},
		"user_id twice":        {hs256Header, prepend(`"user_id":` + admin)},
		"USER_ID":              {hs256Header, prepend(`"USER_ID":` + admin)},
		"user_id escaped":      {hs256Header, prepend(`"user\u005fid":` + admin)},
		"uſer_id (long s)":     {hs256Header, prepend(`"uſer_id":` + admin)},
		"roles twice":          {hs256Header, prepend(`"roles":["admin"]`)},
		"exp twice":            {hs256Header, prepend(`"exp":99999999999`)},
		"token_type twice":     {hs256Header, prepend(`"token_type":"refresh"`)},
		"sub and user_id both": {hs256Header, prepend(`"sub":"` + admin + `","user_id":` + admin)},
	}
	for name, tt := range tests {
		t.Run(name, func(t *testing.T) {
			wantRefused(t, s, forgeJWS(tt[0], tt[1], sign))
		})
	}
}
