package token

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// maxJTILen bounds the jti of tokens we did not issue (Django's are uuid4 hex, 32 chars).
const maxJTILen = 64

// newJTI returns a UUIDv7 (RFC 9562) for the instant at, written as 32 lowercase hex digits
// without dashes, the shape of simplejwt's uuid4().hex. Its first 48 bits are at in Unix
// milliseconds, which gives the revocation view a precise issue time that is covered by the
// signature; the other 74 bits (all but version and variant) are random.
func newJTI(at time.Time) (string, error) {
	var u [16]byte
	if _, err := rand.Read(u[6:]); err != nil {
		return "", err
	}
	var ms [8]byte
	binary.BigEndian.PutUint64(ms[:], uint64(at.UnixMilli()))
	copy(u[:6], ms[2:])
	u[6] = 0x70 | u[6]&0x0f // version 7
	u[8] = 0x80 | u[8]&0x3f // variant 10
	return hex.EncodeToString(u[:]), nil
}

// jtiTime returns the issue instant carried by a jti made by newJTI. ok is false for any
// other string, such as the uuid4 hex of tokens issued by the Django server.
func jtiTime(jti string) (t time.Time, ok bool) {
	if len(jti) != 32 || jti[12] != '7' || !isLowerHex(jti) {
		return time.Time{}, false
	}
	switch jti[16] {
	case '8', '9', 'a', 'b':
	default:
		return time.Time{}, false
	}
	var ms [8]byte
	if _, err := hex.Decode(ms[2:], []byte(jti[:12])); err != nil {
		return time.Time{}, false
	}
	return time.UnixMilli(int64(binary.BigEndian.Uint64(ms[:]))), true // #nosec G115 -- 48 bits: the top two bytes of ms are zero
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// validJTI accepts the jti of any token we or the Django server issued: printable ASCII
// without spaces, so that it is safe to log and to store, and not too long.
func validJTI(jti string) bool {
	if jti == "" || len(jti) > maxJTILen {
		return false
	}
	for i := 0; i < len(jti); i++ {
		if jti[i] <= ' ' || jti[i] > '~' {
			return false
		}
	}
	return true
}
