package token

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/rsa"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"
)

// BenchmarkRawVerify checks only the signature of the same tokens BenchmarkParse parses,
// with the standard library's crypto and nothing else, so that Parse/RawVerify is what
// parsing, claim checks and the safety rules cost on top of the cryptography.
func BenchmarkRawVerify(b *testing.B) {
	for _, alg := range allAlgs {
		b.Run(alg, func(b *testing.B) {
			key := mustKey(b, alg, 0)
			s := mustService(b, testConfig(), key)
			raw, _ := mustIssueAccess(b, s, t0)
			dot := strings.LastIndexByte(raw, '.')
			input := []byte(raw[:dot])
			sig, err := base64.RawURLEncoding.DecodeString(raw[dot+1:])
			if err != nil {
				b.Fatal(err)
			}
			verify := rawVerifier(b, alg, key.verifyKey)
			b.ReportAllocs()
			for b.Loop() {
				if !verify(input, sig) {
					b.Fatal("signature does not verify")
				}
			}
		})
	}
}

func rawVerifier(b *testing.B, alg string, key any) func(input, sig []byte) bool {
	hashOf := map[string]crypto.Hash{"HS256": crypto.SHA256, "HS384": crypto.SHA384, "HS512": crypto.SHA512,
		"RS256": crypto.SHA256, "ES256": crypto.SHA256}
	digest := func(input []byte) []byte {
		h := hashOf[alg].New()
		h.Write(input)
		return h.Sum(nil)
	}
	switch k := key.(type) {
	case []byte:
		return func(input, sig []byte) bool {
			m := hmac.New(hashOf[alg].New, k)
			m.Write(input)
			return hmac.Equal(m.Sum(nil), sig)
		}
	case *rsa.PublicKey:
		return func(input, sig []byte) bool { return rsa.VerifyPKCS1v15(k, crypto.SHA256, digest(input), sig) == nil }
	case *ecdsa.PublicKey:
		return func(input, sig []byte) bool {
			r, s := new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])
			return ecdsa.Verify(k, digest(input), r, s)
		}
	case ed25519.PublicKey:
		return func(input, sig []byte) bool { return ed25519.Verify(k, input, sig) }
	}
	b.Fatalf("no raw verifier for %s key %T", alg, key)
	return nil
}
