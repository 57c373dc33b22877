package main

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestAttackOversizeTokens: verification work is bounded before any cryptography. A token
// just under the token package's 8 KiB limit is verified; one of 9 KiB is refused with a
// 401 although correctly signed; a 1 MiB token is stopped by the header limit (431) in a
// header and by the body limit (413) in a body; a 70 KiB Authorization header gets the
// server's 431 (MaxHeaderBytes is 64 KiB). None of it is a 5xx.
func TestAttackOversizeTokens(t *testing.T) {
	s, adminID, secret := hs256Server(t)
	sign := hmacSigner("HS256", secret)
	sized := func(n int) string {
		tok := forgeJWS(hs256Header, accessClaims(t, adminID).with("pad", "").json(t), sign)
		pad := strings.Repeat("a", (n-len(tok))*3/4) // base64 makes 4 characters of 3 bytes
		return forgeJWS(hs256Header, accessClaims(t, adminID).with("pad", pad).json(t), sign)
	}
	if tok := sized(7 << 10); len(tok) > 8<<10 {
		t.Fatalf("control token is %d bytes, want under 8 KiB", len(tok))
	} else {
		wantAccepted(t, s, tok)
	}
	big := sized(9 << 10)
	if len(big) <= 8<<10 {
		t.Fatalf("oversize token is %d bytes, want over 8 KiB", len(big))
	}
	wantRefused(t, s, big)

	huge := sized(1 << 20)
	wantStatus(t, "1 MiB token in the Authorization header", useBearer.do(t, s, huge), http.StatusRequestHeaderFieldsTooLarge)
	for _, u := range []tokenUse{useVerify, useRefresh} {
		wantStatus(t, "1 MiB token to "+u.name, u.do(t, s, huge), http.StatusRequestEntityTooLarge)
	}
	header := "Bearer " + strings.Repeat("A", 70<<10)
	req, _ := http.NewRequest(http.MethodGet, s.url+"/api/me/", nil)
	req.Header.Set("Authorization", header)
	wantStatus(t, "70 KiB Authorization header", send(t, req), http.StatusRequestHeaderFieldsTooLarge)
	if a := useBearer.do(t, s, sized(7<<10)); a.status != 200 {
		t.Errorf("GET /api/me/ after the oversize requests = %d, want 200 (server still serving)", a.status)
	}
}

func wantStatus(t *testing.T, what string, a answer, want int) {
	t.Helper()
	if a.status != want {
		t.Errorf("%s = %d, want %d", what, a.status, want)
	}
}

// TestAttackNonCanonicalBase64: each segment has exactly one encoding (RFC 7515 §2
// base64url without padding). A token re-encoded with padding, the standard alphabet or
// non-zero trailing bits is refused, even when its header and payload are re-signed
// with the server's key, so that no two texts are one token.
func TestAttackNonCanonicalBase64(t *testing.T) {
	s, adminID, secret := hs256Server(t)
	sign := hmacSigner("HS256", secret)
	header, payload := canonicalSegments(t, adminID)
	control := forgeSigned(header+"."+payload, sign)
	wantAccepted(t, s, control)

	resigned := map[string][2]string{
		"padded header":         {header + strings.Repeat("=", pad(header)), payload},
		"padded payload":        {header, payload + strings.Repeat("=", pad(payload))},
		"standard alphabet":     {header, strings.NewReplacer("-", "+", "_", "/").Replace(payload)},
		"payload trailing bits": {header, flipTrailingBits(payload)},
		"header trailing bits":  {flipTrailingBits(header), payload},
	}
	for name, seg := range resigned {
		t.Run(name, func(t *testing.T) {
			if seg[0] == header && seg[1] == payload {
				t.Fatalf("the %s variant did not change the token", name)
			}
			wantRefused(t, s, forgeSigned(seg[0]+"."+seg[1], sign))
		})
	}
	sig := control[strings.LastIndexByte(control, '.')+1:]
	body := control[:len(control)-len(sig)]
	for name, variant := range map[string]string{
		"padded signature":        sig + strings.Repeat("=", pad(sig)),
		"signature trailing bits": flipTrailingBits(sig),
		"signature cut short":     sig[:len(sig)-1],
		"signature doubled":       sig + sig,
		"no signature":            "",
		"fourth segment":          sig + "." + sig,
	} {
		t.Run(name, func(t *testing.T) {
			wantRefused(t, s, body+variant)
		})
	}
}

// canonicalSegments returns the encoded header and payload of a good access token of
// userID whose payload uses both '-' and '_' and whose segments both end in a partial
// quantum, so that every re-encoding under test changes them.
func canonicalSegments(t *testing.T, userID int64) (header, payload string) {
	t.Helper()
	header = forgeSeg([]byte(`{"alg":"HS256","typ":"JWT","x":"y"}`))
	for k := range 64 {
		// '~' and '?' are bytes whose bits make the characters '-' and '_' at some offsets.
		payload = forgeSeg([]byte(accessClaims(t, userID).with("note", strings.Repeat("~?", k)).json(t)))
		if pad(payload) > 0 && strings.Contains(payload, "-") && strings.Contains(payload, "_") {
			break
		}
	}
	if pad(header) == 0 || pad(payload) == 0 || !strings.ContainsAny(payload, "-") {
		t.Fatal("found no token whose segments have partial quanta and '-' and '_'")
	}
	return header, payload
}

// pad is how many '=' base64 padding would add to seg.
func pad(seg string) int { return (4 - len(seg)%4) % 4 }

// flipTrailingBits sets the lowest of the unused bits of seg's last character (seg ends
// in a partial quantum), which lenient decoders ignore.
func flipTrailingBits(seg string) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	i := strings.IndexByte(alphabet, seg[len(seg)-1])
	return seg[:len(seg)-1] + string(alphabet[i|1])
}

// TestAttackDatabaseHoldsNoTokens: the store keeps refresh tokens by jti only, so a copy
// of the database (a backup, a stolen disk) holds no token or password to replay: after
// a login, a refresh and a logout, no token, signature or password is in any of the
// SQLite files.
func TestAttackDatabaseHoldsNoTokens(t *testing.T) {
	s := startServer(t, "")
	access, refresh := mustLogin(t, s, "admin", s.adminPW)
	status, pair := s.post(t, "/api/token/refresh/", `{"refresh":"`+refresh+`"}`, "")
	if status != 200 {
		t.Fatalf("refresh = %d %v, want 200", status, pair)
	}
	access2, refresh2 := pair["access"].(string), pair["refresh"].(string)
	if status, _ := s.post(t, "/api/token/blacklist/", `{"refresh":"`+refresh2+`"}`, access2); status != 200 {
		t.Fatalf("logout = %d, want 200", status)
	}
	secrets := []string{s.adminPW}
	for _, tok := range []string{access, refresh, access2, refresh2} {
		secrets = append(secrets, tok, tok[strings.LastIndexByte(tok, '.')+1:])
	}
	files, _ := filepath.Glob(strings.TrimPrefix(s.database, "sqlite:") + "*")
	var db []byte
	for _, f := range files {
		if strings.HasSuffix(f, ".key") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		db = append(db, b...)
	}
	// The control: what is kept, the jti, is found, so the files read are the right ones.
	var claims struct{ JTI string }
	payload, _ := base64.RawURLEncoding.DecodeString(strings.Split(refresh2, ".")[1])
	if err := json.Unmarshal(payload, &claims); err != nil || !bytes.Contains(db, []byte(claims.JTI)) {
		t.Fatalf("the refresh token's jti is not in the database files (%v)", err)
	}
	for i, secret := range secrets {
		if bytes.Contains(db, []byte(secret)) {
			t.Errorf("secret #%d (a token, a signature or the password) is in the database files", i)
		}
	}
}
