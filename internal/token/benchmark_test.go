package token

import (
	"strconv"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

func BenchmarkIssue(b *testing.B) {
	roles := []ciphemic.Role{ciphemic.RoleTeacher}
	for _, alg := range allAlgs {
		b.Run(alg, func(b *testing.B) {
			s := mustService(b, testConfig(), mustKey(b, alg, 0))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := s.IssueAccess(7, roles, t0); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkParse is a full verification (the verified cache off); BenchmarkParseCached is
// the same token presented again, as every request after a client's first is.
func BenchmarkParse(b *testing.B) { benchParse(b, -1) }

func BenchmarkParseCached(b *testing.B) { benchParse(b, 0) }

func benchParse(b *testing.B, cacheSize int) {
	for _, alg := range allAlgs {
		b.Run(alg, func(b *testing.B) {
			cfg := testConfig()
			cfg.VerifiedCacheSize = cacheSize
			s := mustService(b, cfg, mustKey(b, alg, 0))
			raw, _ := mustIssueAccess(b, s, t0)
			b.ReportAllocs()
			for b.Loop() {
				if _, err := s.Parse(raw, TypeAccess); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkRevoked measures the per-request check against a view holding 10,000 revoked
// jtis and 10,000 revoked users, for a token that is not revoked (the common case).
func BenchmarkRevoked(b *testing.B) {
	v := NewRevocationView(fixedClock(t0))
	var revs []ciphemic.Revocation
	for i := range 10_000 {
		revs = append(revs,
			ciphemic.Revocation{JTI: strconv.Itoa(i), ExpiresAt: t0.Add(time.Hour)},
			ciphemic.Revocation{UserID: int64(i + 1), ValidAfter: t0, ExpiresAt: t0.Add(time.Hour)})
	}
	v.Apply(revs...)
	c := accessClaims("0190a0b0c0d07e0f8a0b0c0d0e0f1011", 42, t0.Add(time.Second))
	b.ReportAllocs()
	for b.Loop() {
		if v.Revoked(c) {
			b.Fatal("Revoked = true, want false")
		}
	}
}
