package username

import "testing"

func TestNormalize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"admin", "admin"},
		{"ａｄｍｉｎ", "admin"},     // full-width
		{"ａdmin", "admin"},     // one full-width letter
		{"ﬁona", "fiona"},      // ligature
		{"user²", "user2"},     // superscript
		{"ｶﾀｶﾅ", "カタカナ"},       // half-width katakana
		{"jose\u0301", "josé"}, // combining accent composed
		{"Ω", "Ω"},             // ohm sign to Greek capital omega
		{"mrs.teach", "mrs.teach"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := Normalize(tt.in); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if got := Normalize(tt.want); got != tt.want {
			t.Errorf("Normalize(%q) = %q, want it unchanged (NFKC is idempotent)", tt.want, got)
		}
	}
}
