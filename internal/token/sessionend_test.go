package token

import (
	"errors"
	"testing"
	"time"
)

func TestIssueSessionRefreshUntil(t *testing.T) {
	svc := mustService(t, testConfig(), mustKey(t, "HS256", 0))
	at := time.Unix(t0.Unix(), 0)
	lifetime := svc.Config().RefreshLifetime
	tests := []struct {
		name     string
		notAfter time.Time
		wantExp  time.Time
	}{
		{"unbounded", time.Time{}, at.Add(lifetime)},
		{"later than the lifetime", at.Add(lifetime + time.Hour), at.Add(lifetime)},
		{"clamped", at.Add(time.Hour + 500*time.Millisecond), at.Add(time.Hour)},
	}
	for _, tt := range tests {
		raw, c, err := svc.IssueSessionRefreshUntil(7, "", at, tt.notAfter)
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		parsed, err := svc.Parse(raw, TypeRefresh)
		if err != nil || !parsed.ExpiresAt.Equal(tt.wantExp) || !c.ExpiresAt.Equal(tt.wantExp) || parsed.SessionID != c.JTI {
			t.Errorf("%s: exp = %v (claims %v), %v; want %v and sid = jti", tt.name, parsed.ExpiresAt, c.ExpiresAt, err, tt.wantExp)
		}
	}
	if _, _, err := svc.IssueSessionRefreshUntil(7, "", at, at.Add(999*time.Millisecond)); !errors.Is(err, ErrSessionOver) {
		t.Errorf("a session ending within the second = %v, want ErrSessionOver", err)
	}
}
