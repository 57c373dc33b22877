package password

import "testing"

// The two benchmarks below are meant to be read side by side from one run,
//
//	go test -run '^$' -bench 'Verify(WrongPassword|Dummy)$' ./internal/password/
//
// VerifyDummy stands in for a login with an unknown username, so its ns/op should match
// that of a wrong password for a known one (a ratio near 1.00).

func BenchmarkVerifyWrongPassword(b *testing.B) {
	h := NewHasher(DefaultParams)
	stored := mustHash(b, h, "correct horse battery staple")
	b.ReportAllocs()
	for b.Loop() {
		if ok, _, err := h.Verify(stored, "wrong"); ok || err != nil {
			b.Fatalf("Verify(stored, %q) = %v, %v; want false, nil", "wrong", ok, err)
		}
	}
}

func BenchmarkVerifyDummy(b *testing.B) {
	h := NewHasher(DefaultParams)
	b.ReportAllocs()
	for b.Loop() {
		h.VerifyDummy("wrong")
	}
}

func BenchmarkHash(b *testing.B) {
	h := NewHasher(DefaultParams)
	b.ReportAllocs()
	for b.Loop() {
		mustHash(b, h, "correct horse battery staple")
	}
}
