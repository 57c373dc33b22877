package password

import (
	"crypto/pbkdf2"
	// Only to verify Django's legacy pbkdf2_sha1 hashes, which become argon2id at the next
	// login; PBKDF2-HMAC-SHA1 is not weakened by SHA-1 collisions.
	"crypto/sha1" // #nosec G505 -- legacy Django hashes only, see above
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"hash"
	"math"
	"strings"

	"golang.org/x/crypto/bcrypt"
)

// pbkdf2Variant is one of Django's PBKDF2 hashers; the hash is as long as the digest.
type pbkdf2Variant struct {
	name string
	hash func() hash.Hash
	size int
}

var (
	pbkdf2SHA256 = pbkdf2Variant{name: "pbkdf2_sha256", hash: sha256.New, size: sha256.Size}
	pbkdf2SHA1   = pbkdf2Variant{name: "pbkdf2_sha1", hash: sha1.New, size: sha1.Size}
)

// verifyPBKDF2 checks "<iterations>$<salt>$<padded base64 hash>", the encoding after
// "pbkdf2_sha256$". Django's salt is any text without "$", used as its UTF-8 bytes.
func (h *Hasher) verifyPBKDF2(v pbkdf2Variant, rest, password string) (bool, error) {
	iterations, rest, ok1 := strings.Cut(rest, "$")
	salt, encoded, ok2 := strings.Cut(rest, "$")
	if !ok1 || !ok2 || salt == "" {
		return false, malformed(v.name, "fields")
	}
	n, ok := parseDecimal(iterations, math.MaxInt32)
	if !ok || n == 0 {
		return false, malformed(v.name, "iterations")
	}
	if n > h.limits.pbkdf2Iterations {
		return false, tooCostly(v.name, "iterations")
	}
	want, ok := decodeBase64(base64.StdEncoding, encoded)
	if !ok || len(want) != v.size {
		return false, malformed(v.name, "hash")
	}
	got, err := pbkdf2.Key(v.hash, password, []byte(salt), int(n), v.size) // #nosec G115 -- n ≤ math.MaxInt32, parsed above
	if err != nil {
		// Only FIPS 140-only mode refuses these inputs (a salt under 128 bits).
		return false, errors.Join(errUnsupported, err)
	}
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// verifyBcrypt checks "$2b$<cost>$<salt and hash>", the encoding after "bcrypt$" or
// "bcrypt_sha256$". bcrypt_sha256 hashes the lowercase hex SHA-256 of the password, so long
// passwords are not cut at 72 bytes; plain bcrypt reads only the first 72 bytes, as
// Django's bcrypt does, and a match is upgraded to argon2id.
func (h *Hasher) verifyBcrypt(alg, rest, password string, prehash bool) (bool, error) {
	if !isBcrypt(rest) {
		return false, malformed(alg, "encoding")
	}
	cost := int(rest[4]-'0')*10 + int(rest[5]-'0')
	if cost < bcrypt.MinCost || cost > bcrypt.MaxCost {
		return false, malformed(alg, "cost")
	}
	if cost > h.limits.bcryptCost {
		return false, tooCostly(alg, "cost")
	}
	pw := []byte(password)
	if prehash {
		sum := sha256.Sum256(pw)
		pw = []byte(hex.EncodeToString(sum[:]))
	}
	// CompareHashAndPassword compares in constant time.
	err := bcrypt.CompareHashAndPassword([]byte(rest), pw)
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword):
		return false, nil
	}
	// The package's errors may quote bytes of the hash, so none is passed on.
	return false, malformed(alg, "encoding")
}

// isBcrypt reports whether s is a modular crypt bcrypt hash: "$2a$", "$2b$" or "$2y$" (the
// same algorithm), a two-digit cost, then 53 characters of bcrypt's base64.
func isBcrypt(s string) bool {
	if len(s) != 60 || !strings.HasPrefix(s, "$2") || s[3] != '$' || s[6] != '$' {
		return false
	}
	if !strings.ContainsRune("aby", rune(s[2])) || !isDigit(s[4]) || !isDigit(s[5]) {
		return false
	}
	for _, c := range []byte(s[7:]) {
		if !isDigit(c) && !('a' <= c && c <= 'z') && !('A' <= c && c <= 'Z') && c != '.' && c != '/' {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }
