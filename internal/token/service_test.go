package token

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// decodeSegment returns the JSON object of segment i of raw, with numbers kept as written.
func decodeSegment(t *testing.T, raw string, i int) map[string]any {
	t.Helper()
	data, err := base64.RawURLEncoding.DecodeString(strings.Split(raw, ".")[i])
	if err != nil {
		t.Fatalf("segment %d: %v", i, err)
	}
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	m := map[string]any{}
	if err := dec.Decode(&m); err != nil {
		t.Fatalf("segment %d: %v", i, err)
	}
	return m
}

func TestIssueParseRoundTrip(t *testing.T) {
	for _, alg := range allAlgs {
		t.Run(alg, func(t *testing.T) {
			s := mustService(t, testConfig(), mustKey(t, alg, 0))
			access, ac := mustIssueAccess(t, s, t0)
			refresh, rc := mustIssueRefresh(t, s, t0)
			for _, tc := range []struct {
				raw, want string
				claims    Claims
				err       error
			}{
				{access, TypeAccess, ac, nil},
				{access, "", ac, nil},
				{access, TypeRefresh, Claims{}, ErrWrongType},
				{refresh, TypeRefresh, rc, nil},
				{refresh, "", rc, nil},
				{refresh, TypeAccess, Claims{}, ErrWrongType},
			} {
				got, err := s.Parse(tc.raw, tc.want)
				if !errors.Is(err, tc.err) || (tc.err == nil && err != nil) {
					t.Fatalf("Parse(%s token, %q) error = %v, want %v", tc.claims.Type, tc.want, err, tc.err)
				}
				if tc.err == nil && !claimsEqual(got, tc.claims) {
					t.Errorf("Parse(%q) = %+v, want %+v", tc.want, got, tc.claims)
				}
			}
		})
	}
}

func claimsEqual(a, b Claims) bool {
	return a.Type == b.Type && a.JTI == b.JTI && a.UserID == b.UserID && reflect.DeepEqual(a.Roles, b.Roles) &&
		a.IssuedAt.Equal(b.IssuedAt) && a.ExpiresAt.Equal(b.ExpiresAt)
}

func TestWireFormat(t *testing.T) {
	k := mustKey(t, "HS256", 0)
	s := mustService(t, testConfig(), k)
	access, ac := mustIssueAccess(t, s, t0)
	refresh, rc := mustIssueRefresh(t, s, t0)

	wantHeader := map[string]any{"alg": "HS256", "typ": "JWT", "kid": k.ID}
	for _, raw := range []string{access, refresh} {
		if got := decodeSegment(t, raw, 0); !reflect.DeepEqual(got, wantHeader) {
			t.Errorf("header = %v, want %v", got, wantHeader)
		}
	}
	iat := json.Number(itoa(t0.Unix()))
	wantAccess := map[string]any{
		"token_type": "access", "exp": json.Number(itoa(t0.Unix() + 300)), "iat": iat, "jti": ac.JTI,
		"user_id": json.Number("7"), "sub": "7", "roles": []any{"teacher"},
	}
	if got := decodeSegment(t, access, 1); !reflect.DeepEqual(got, wantAccess) {
		t.Errorf("access payload = %v, want %v", got, wantAccess)
	}
	wantRefresh := map[string]any{
		"token_type": "refresh", "exp": json.Number(itoa(t0.Unix() + 86400)), "iat": iat, "jti": rc.JTI,
		"user_id": json.Number("7"), "sub": "7",
	}
	if got := decodeSegment(t, refresh, 1); !reflect.DeepEqual(got, wantRefresh) {
		t.Errorf("refresh payload = %v, want %v", got, wantRefresh)
	}
	if ac.JTI == rc.JTI {
		t.Errorf("access and refresh share jti %s", ac.JTI)
	}
	uuid7 := regexp.MustCompile(`^[0-9a-f]{12}7[0-9a-f]{3}[89ab][0-9a-f]{15}$`)
	for _, jti := range []string{ac.JTI, rc.JTI} {
		if !uuid7.MatchString(jti) {
			t.Errorf("jti %q is not a dashless lowercase UUIDv7", jti)
		}
	}
}

func TestIssuedAtHasMilliseconds(t *testing.T) {
	s := mustService(t, testConfig(), mustKey(t, "HS256", 0))
	raw, c := mustIssueAccess(t, s, t0)
	want := time.Date(2026, 3, 1, 12, 0, 0, 456_000_000, time.UTC)
	if !c.IssuedAt.Equal(want) {
		t.Errorf("IssueAccess IssuedAt = %v, want %v", c.IssuedAt, want)
	}
	got, err := s.Parse(raw, TypeAccess)
	if err != nil || !got.IssuedAt.Equal(want) {
		t.Errorf("Parse IssuedAt = %v, %v, want %v", got.IssuedAt, err, want)
	}

	// A UUIDv7 jti that disagrees with iat does not move the issue time to another second;
	// a later one would otherwise let a token outlive a revocation.
	for _, d := range []time.Duration{-time.Hour, -time.Millisecond, time.Second, time.Hour} {
		other, err := newJTI(t0.Truncate(time.Second).Add(d))
		if err != nil {
			t.Fatal(err)
		}
		raw = mustMint(t, s.Keys().Current(), header(s.Keys().Current(), ""), payload("jti", `"`+other+`"`))
		got, err = s.Parse(raw, TypeAccess)
		if err != nil || !got.IssuedAt.Equal(t0.Truncate(time.Second)) {
			t.Errorf("Parse(jti at iat%+v) IssuedAt = %v, %v, want iat %v", d, got.IssuedAt, err, t0.Truncate(time.Second))
		}
	}
}

func TestIssuerAudience(t *testing.T) {
	k := mustKey(t, "HS256", 0)
	cfg := testConfig()
	cfg.Issuer, cfg.Audience = "https://api.example", "school"
	s := mustService(t, cfg, k)
	raw, _ := mustIssueAccess(t, s, t0)
	p := decodeSegment(t, raw, 1)
	if p["iss"] != "https://api.example" || p["aud"] != "school" {
		t.Errorf("payload iss, aud = %#v, %#v; want the configured strings", p["iss"], p["aud"])
	}
	if _, err := s.Parse(raw, TypeAccess); err != nil {
		t.Fatalf("Parse(own token) = %v", err)
	}
	plain, _ := mustIssueAccess(t, mustService(t, testConfig(), k), t0)
	tests := map[string]string{
		"no iss or aud": plain,
		"no iss":        mustMint(t, k, header(k, ""), payload("aud", `"school"`)),
		"no aud":        mustMint(t, k, header(k, ""), payload("iss", `"https://api.example"`)),
		"other iss":     mustMint(t, k, header(k, ""), payload("iss", `"https://evil.example"`, "aud", `"school"`)),
		"other aud":     mustMint(t, k, header(k, ""), payload("iss", `"https://api.example"`, "aud", `"shop"`)),
	}
	for name, raw := range tests {
		if _, err := s.Parse(raw, TypeAccess); !errors.Is(err, ErrInvalid) {
			t.Errorf("Parse(%s) = %v, want ErrInvalid", name, err)
		}
	}
}

func TestNewServiceRefusesBadConfig(t *testing.T) {
	ks := mustKeySet(t, mustKey(t, "HS256", 0))
	for name, cfg := range map[string]Config{
		"no access lifetime":  {RefreshLifetime: time.Hour},
		"no refresh lifetime": {AccessLifetime: time.Hour},
		"negative leeway":     {AccessLifetime: time.Hour, RefreshLifetime: time.Hour, Leeway: -time.Second},
	} {
		if _, err := NewService(ks, cfg); err == nil {
			t.Errorf("NewService(%s) = nil error, want one", name)
		}
	}
	if _, err := NewService(nil, testConfig()); err == nil {
		t.Error("NewService(nil keys) = nil error, want one")
	}
}

func TestIssueRefusesBadInput(t *testing.T) {
	s := mustService(t, testConfig(), mustKey(t, "HS256", 0))
	if _, _, err := s.IssueAccess(0, nil, t0); err == nil {
		t.Error("IssueAccess(user 0) = nil error, want one")
	}
	if _, _, err := s.IssueAccess(1, []ciphemic.Role{"root"}, t0); err == nil {
		t.Error(`IssueAccess(role "root") = nil error, want one`)
	}
}

func TestSetKeysRotation(t *testing.T) {
	oldKey, newKey := mustKey(t, "HS256", 0), mustKey(t, "EdDSA", 0)
	s := mustService(t, testConfig(), oldKey)
	old, _ := mustIssueAccess(t, s, t0)

	s.SetKeys(mustKeySet(t, newKey, oldKey))
	if _, err := s.Parse(old, TypeAccess); err != nil {
		t.Errorf("Parse(token of previous key) = %v, want nil", err)
	}
	fresh, _ := mustIssueAccess(t, s, t0)
	if h := decodeSegment(t, fresh, 0); h["kid"] != newKey.ID || h["alg"] != "EdDSA" {
		t.Errorf("new token header = %v, want kid %s, alg EdDSA", h, newKey.ID)
	}

	s.SetKeys(mustKeySet(t, newKey))
	if _, err := s.Parse(old, TypeAccess); !errors.Is(err, ErrInvalid) {
		t.Errorf("Parse(token of retired key) = %v, want ErrInvalid", err)
	}
	if _, err := s.Parse(fresh, TypeAccess); err != nil {
		t.Errorf("Parse(token of current key) = %v", err)
	}
}

func TestSetKeysWhileParsing(t *testing.T) {
	k0, k1 := mustKey(t, "HS256", 0), mustKey(t, "HS256", 1)
	s := mustService(t, testConfig(), k0)
	raw, _ := mustIssueAccess(t, s, t0)
	both := mustKeySet(t, k1, k0)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 200 {
				if _, err := s.Parse(raw, TypeAccess); err != nil {
					t.Errorf("Parse during SetKeys = %v", err)
					return
				}
			}
		})
	}
	for range 200 {
		s.SetKeys(both)
		s.SetKeys(mustKeySet(t, k0))
	}
	wg.Wait()
}
