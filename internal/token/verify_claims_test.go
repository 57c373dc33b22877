package token

import (
	"encoding/base64"
	"errors"
	"strings"
	"testing"
	"time"
)

const b64Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"

// nonCanonical sets an unused low bit of the last character of segment s, which lenient
// decoders ignore. s must not be a multiple of 4 long.
func nonCanonical(t *testing.T, s string) string {
	t.Helper()
	if len(s)%4 == 0 {
		t.Fatalf("segment of length %d has no unused bits", len(s))
	}
	last := strings.IndexByte(b64Alphabet, s[len(s)-1])
	out := s[:len(s)-1] + string(b64Alphabet[last|1])
	a, errA := base64.RawURLEncoding.DecodeString(s)
	b, errB := base64.RawURLEncoding.DecodeString(out)
	if errA != nil || errB != nil || string(a) != string(b) || out == s {
		t.Fatalf("nonCanonical(%q) = %q does not decode leniently to the same bytes", s, out)
	}
	return out
}

func nonCanonicalSignature(t *testing.T, raw string) string {
	t.Helper()
	i := strings.LastIndexByte(raw, '.')
	return raw[:i+1] + nonCanonical(t, raw[i+1:])
}

func TestDjangoIssuedToken(t *testing.T) {
	secret := "django-insecure-signing-key-for-the-tests-0123456789"
	k, err := ParseKey("HS256", []byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	s := mustService(t, testConfig(), k)
	h := `{"alg":"HS256","typ":"JWT"}`
	if seg(h) != "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9" {
		t.Fatalf("header segment = %s, want simplejwt's", seg(h))
	}
	iat := t0.Unix() - 10
	for _, tc := range []struct{ typ, userID string }{{"access", "1"}, {"refresh", "1"}, {"access", `"1"`}} {
		p := `{"token_type":"` + tc.typ + `","exp":` + itoa(iat+300) + `,"iat":` + itoa(iat) +
			`,"jti":"5f2b8c3a9d4e4f0a8b7c6d5e4f3a2b1c","user_id":` + tc.userID + `}`
		c, err := s.Parse(mustMint(t, k, h, p), tc.typ)
		want := Claims{Type: tc.typ, JTI: "5f2b8c3a9d4e4f0a8b7c6d5e4f3a2b1c", UserID: 1,
			IssuedAt: time.Unix(iat, 0), ExpiresAt: time.Unix(iat+300, 0)}
		if err != nil || !claimsEqual(c, want) {
			t.Errorf("Parse(Django %s token, user_id %s) = %+v, %v; want %+v", tc.typ, tc.userID, c, err, want)
		}
	}
}

func TestRequiredClaims(t *testing.T) {
	k := mustKey(t, "HS256", 0)
	s := mustService(t, testConfig(), k)
	accept := [][]string{
		{},
		{"sub", ""},
		{"roles", ""},
		{"user_id", `"7"`},
		{"user_id", `"007"`, "sub", ""},
		{"jti", `"` + strings.Repeat("a", 64) + `"`},
		{"aud", `"someone"`}, // not checked when no audience is configured
	}
	for _, repl := range accept {
		if _, err := s.Parse(mustMint(t, k, header(k, ""), payload(repl...)), TypeAccess); err != nil {
			t.Errorf("Parse(payload %v) = %v, want nil", repl, err)
		}
	}
	reject := [][]string{
		{"exp", ""}, {"exp", "null"}, {"exp", `"` + itoa(t0.Unix()+300) + `"`}, {"exp", itoa(t0.Unix()+300) + ".5"},
		{"iat", ""}, {"iat", "null"}, {"iat", `"` + itoa(t0.Unix()) + `"`},
		{"exp", itoa(t0.Unix() + 300), "iat", itoa(t0.Unix() + 300)},
		{"jti", ""}, {"jti", `""`}, {"jti", "5"}, {"jti", `"` + strings.Repeat("a", 65) + `"`}, {"jti", `"a b"`}, {"jti", `"a\nb"`},
		{"token_type", ""}, {"token_type", `"Access"`}, {"token_type", `"id"`}, {"token_type", "1"},
		{"sub", `"8"`}, {"sub", `""`}, {"sub", "7"}, {"sub", `"07"`},
		{"roles", `["root"]`}, {"roles", `"teacher"`},
		{"nbf", itoa(t0.Unix() + 60)},
	}
	// Without "sub", nothing else ties user_id down.
	for _, id := range []string{"", "null", "0", "-7", "7.0", "7e0", `""`, `"0"`, `"-7"`, `"+7"`, `" 7"`, `"7a"`,
		`"99999999999999999999"`, "true", "[7]"} {
		reject = append(reject, []string{"user_id", id, "sub", ""})
	}
	for _, repl := range reject {
		mustRejectInvalid(t, s, "payload "+strings.Join(repl, " "), mustMint(t, k, header(k, ""), payload(repl...)))
	}
}

func TestTimeRules(t *testing.T) {
	k := mustKey(t, "HS256", 0)
	iat := t0.Unix()
	exp := time.Unix(iat+300, 0)
	raw := mustMint(t, k, header(k, ""), payload())
	tests := []struct {
		name   string
		leeway time.Duration
		now    time.Time
		ok     bool
	}{
		{"fresh", 0, t0, true},
		{"1ns before exp", 0, exp.Add(-1), true},
		{"at exp", 0, exp, false},
		{"expired 10s, leeway 30s", 30 * time.Second, exp.Add(10 * time.Second), true},
		{"expired 30s-1ms, leeway 30s", 30 * time.Second, exp.Add(30*time.Second - time.Millisecond), true},
		{"expired exactly 30s, leeway 30s", 30 * time.Second, exp.Add(30 * time.Second), false},
		{"expired 40s, leeway 30s", 30 * time.Second, exp.Add(40 * time.Second), false},
		{"at iat", 0, time.Unix(iat, 0), true},
		{"iat 1ns ahead", 0, time.Unix(iat, 0).Add(-1), false},
		{"iat 30s ahead, leeway 30s", 30 * time.Second, time.Unix(iat-30, 0), true},
		{"iat 30s+1ms ahead, leeway 30s", 30 * time.Second, time.Unix(iat-30, 0).Add(-time.Millisecond), false},
	}
	for _, tc := range tests {
		cfg := testConfig()
		cfg.Leeway, cfg.Now = tc.leeway, fixedClock(tc.now)
		s := mustService(t, cfg, k)
		_, err := s.Parse(raw, TypeAccess)
		if tc.ok != (err == nil) || (err != nil && !errors.Is(err, ErrInvalid)) {
			t.Errorf("%s: Parse = %v, want ok=%v", tc.name, err, tc.ok)
		}
	}
	// Within the leeway both times pass on their own, but a token cannot expire before it
	// is issued.
	cfg := testConfig()
	cfg.Leeway = time.Minute
	s := mustService(t, cfg, k)
	for _, d := range []int64{10, 20} {
		raw := mustMint(t, k, header(k, ""), payload("iat", itoa(iat+20), "exp", itoa(iat+d)))
		mustRejectInvalid(t, s, "exp "+itoa(d-20)+"s after iat", raw)
	}
}

func TestSizeLimit(t *testing.T) {
	k := mustKey(t, "HS256", 0)
	s := mustService(t, testConfig(), k)
	var fits, over string
	for n := 5000; over == ""; n++ {
		raw := mustMint(t, k, header(k, ""), payload("pad", `"`+strings.Repeat("x", n)+`"`))
		if len(raw) <= maxTokenLen {
			fits = raw
		} else {
			over = raw
		}
	}
	if _, err := s.Parse(fits, TypeAccess); err != nil {
		t.Errorf("Parse(%d-byte token) = %v, want nil", len(fits), err)
	}
	mustRejectInvalid(t, s, itoa(int64(len(over)))+"-byte token", over)
	mustRejectInvalid(t, s, "1 MiB of dots", strings.Repeat(".", 1<<20))
}

func TestDuplicateMembersRejected(t *testing.T) {
	k := mustKey(t, "HS256", 0)
	s := mustService(t, testConfig(), k)
	p := payload()
	replace := func(old, new string) string {
		if !strings.Contains(p, old) {
			t.Fatalf("payload %s has no %s", p, old)
		}
		return strings.Replace(p, old, new, 1)
	}
	tests := map[string][2]string{
		"two alg":          {`{"alg":"none","alg":"HS256","kid":"` + k.ID + `"}`, p},
		"two kid":          {`{"alg":"HS256","kid":"nope","kid":"` + k.ID + `"}`, p},
		"two typ":          {`{"alg":"HS256","typ":"JOSE","typ":"JWT"}`, p},
		"ALG and alg":      {`{"ALG":"none","alg":"HS256"}`, p},
		"two user_id":      {header(k, ""), replace(`"user_id":7`, `"user_id":1,"user_id":7`)},
		"USER_ID, user_id": {header(k, ""), replace(`"user_id":7`, `"USER_ID":1,"user_id":7`)},
		"long s variant":   {header(k, ""), replace(`"sub":"7"`, `"ſub":"1","sub":"7"`)},
		"kelvin variant":   {header(k, ""), replace(`"token_type":"access"`, `"to\u212aen_type":"refresh","token_type":"access"`)},
		"two token_type":   {header(k, ""), replace(`"token_type":"access"`, `"token_type":"refresh","token_type":"access"`)},
		"two exp":          {header(k, ""), replace(`"exp":`, `"exp":1,"exp":`)},
	}
	for name, tc := range tests {
		mustRejectInvalid(t, s, name, mustMint(t, k, tc[0], tc[1]))
	}
}

func TestNonCanonicalEncodingRejected(t *testing.T) {
	k := mustKey(t, "HS256", 0)
	s := mustService(t, testConfig(), k)
	h := seg(header(k, ""))
	p := payload()
	for len(p)%3 == 0 {
		p += " "
	}
	good := mustSignSegments(t, k.method, k.signKey, h, seg(p))
	if _, err := s.Parse(good, TypeAccess); err != nil {
		t.Fatalf("Parse(valid token) = %v", err)
	}
	padded := func(s string) string { return s + strings.Repeat("=", (4-len(s)%4)%4) }
	tests := map[string]string{
		"payload trailing bits":   mustSignSegments(t, k.method, k.signKey, h, nonCanonical(t, seg(p))),
		"signature trailing bits": nonCanonicalSignature(t, good),
		"padded payload":          mustSignSegments(t, k.method, k.signKey, h, padded(seg(p))),
		"standard alphabet":       mustSignSegments(t, k.method, k.signKey, h, base64.RawStdEncoding.EncodeToString([]byte(p+"\xff\xfe"))),
		"padded signature":        padded(good),
	}
	for name, raw := range tests {
		mustRejectInvalid(t, s, name, raw)
	}
}

func TestTamperedAndGarbageRejected(t *testing.T) {
	k := mustKey(t, "HS256", 0)
	s := mustService(t, testConfig(), k)
	raw, _ := mustIssueAccess(t, s, t0)
	parts := strings.Split(raw, ".")
	forged := strings.Replace(payload(), `"user_id":7`, `"user_id":1`, 1)
	tests := map[string]string{
		"payload swapped":   parts[0] + "." + seg(forged) + "." + parts[2],
		"no signature":      parts[0] + "." + parts[1] + ".",
		"short signature":   parts[0] + "." + parts[1] + "." + parts[2][:40],
		"two segments":      parts[0] + "." + parts[1],
		"four segments":     raw + "." + parts[2],
		"empty":             "",
		"garbage":           "garbage",
		"dots":              "..",
		"array payload":     mustMint(t, k, header(k, ""), "[1,2]"),
		"trailing JSON":     mustMint(t, k, header(k, ""), payload()+"{}"),
		"string header":     mustMint(t, k, `"HS256"`, payload()),
		"bearer prefix":     "Bearer " + raw,
		"whitespace around": " " + raw,
	}
	for name, raw := range tests {
		mustRejectInvalid(t, s, name, raw)
	}
	if _, err := s.Parse(raw, "id"); !errors.Is(err, ErrInvalid) {
		t.Errorf(`Parse(raw, "id") = %v, want ErrInvalid`, err)
	}
}

func TestErrorsHoldNoTokenContent(t *testing.T) {
	k := mustKey(t, "HS256", 0)
	s := mustService(t, testConfig(), k)
	const marker = "QZXMARKER"
	tokens := []string{
		mustMint(t, k, `{"alg":"HS256","kid":"`+marker+`"}`, payload()),
		mustMint(t, k, header(k, ""), payload("user_id", `"`+marker+`"`)),
		mustMint(t, k, header(k, ""), payload("jti", `{"`+marker+`":1}`)),
		mustMint(t, k, header(k, ""), `{"`+marker+``),
		mustMint(t, k, header(k, ""), marker),
		mustMint(t, k, header(k, ""), payload("exp", marker)),
		seg(`{"alg":"`+marker+`"}`) + "." + seg(payload()) + ".",
		marker + "." + marker + "." + marker,
	}
	for _, raw := range tokens {
		_, err := s.Parse(raw, TypeAccess)
		if !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse = %v, want ErrInvalid", err)
			continue
		}
		msg := err.Error()
		for _, part := range append(strings.Split(raw, "."), marker, "QZX") {
			if len(part) >= 3 && strings.Contains(msg, part) {
				t.Errorf("Parse error %q contains token content %q", msg, part)
			}
		}
	}
}
