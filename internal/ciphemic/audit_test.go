package ciphemic

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestAuditKindOutcome(t *testing.T) {
	want := map[AuditKind]string{
		AuditLoginFailure: OutcomeFailure, AuditLoginThrottled: OutcomeDenied, AuditTokenReuse: OutcomeDenied,
	}
	for _, k := range AuditKinds() {
		w, ok := want[k]
		if !ok {
			w = OutcomeSuccess
		}
		if got := k.Outcome(); got != w {
			t.Errorf("AuditKind(%q).Outcome() = %q, want %q", k, got, w)
		}
		if !k.Valid() {
			t.Errorf("AuditKind(%q).Valid() = false, want true", k)
		}
	}
	for _, k := range []AuditKind{"", "login", "LOGIN.SUCCESS", "login.success "} {
		if k.Valid() {
			t.Errorf("AuditKind(%q).Valid() = true, want false", k)
		}
	}
}

func TestAuditEventSanitized(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"alice", "alice"},
		{strings.Repeat("a", AuditUsernameMax+1), strings.Repeat("a", AuditUsernameMax)},
		{strings.Repeat("ü", AuditUsernameMax) + "x", strings.Repeat("ü", AuditUsernameMax)},
		{"a\x00b", "a\uFFFDb"},
		{"a\xc3", "a\uFFFD"},
	}
	for _, tt := range tests {
		got := AuditEvent{Username: tt.in, Detail: tt.in}.Sanitized()
		if got.Username != tt.want {
			t.Errorf("Sanitized() username of %.20q = %.20q, want %.20q", tt.in, got.Username, tt.want)
		}
		clean := utf8.ValidString(tt.in) && !strings.ContainsRune(tt.in, 0)
		if strings.ContainsRune(got.Detail, 0) || !utf8.ValidString(got.Detail) || clean && got.Detail != tt.in {
			t.Errorf("Sanitized() detail of %.20q = %.20q, want it valid and never cut", tt.in, got.Detail)
		}
	}
}
