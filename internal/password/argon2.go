package password

import (
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"math"
	"strings"

	"golang.org/x/crypto/argon2"
)

const (
	argon2id      = "argon2id"
	argon2i       = "argon2i"
	argon2Version = 0x13
	// argon2Version10 is the version of hashes written before 2016, also those without
	// "v=". golang.org/x/crypto/argon2 computes only 0x13, and the two differ in every pass
	// after the first, so such hashes are unsupported.
	argon2Version10 = 0x10
)

// argon2Hash is one decoded "argon2$<variant>$v=19$m=…,t=…,p=…$<salt>$<hash>".
type argon2Hash struct {
	variant string
	version uint64
	memory  uint32
	time    uint32
	threads uint8
	salt    []byte
	key     []byte
}

// b64 is the base64 of PHC strings, which libargon2 (so argon2-cffi, so Django) writes.
var b64 = base64.RawStdEncoding.Strict()

func (a *argon2Hash) encode() string {
	return fmt.Sprintf("argon2$%s$v=%d$m=%d,t=%d,p=%d$%s$%s", a.variant, a.version,
		a.memory, a.time, a.threads, b64.EncodeToString(a.salt), b64.EncodeToString(a.key))
}

func deriveArgon2(a *argon2Hash, password []byte) []byte {
	keyLen := uint32(len(a.key)) // #nosec G115 -- ≤ maxSaltKeyLen bytes: parseArgon2 and checkParams bound it
	if a.variant == argon2i {
		return argon2.Key(password, a.salt, a.time, a.memory, a.threads, keyLen)
	}
	return argon2.IDKey(password, a.salt, a.time, a.memory, a.threads, keyLen)
}

func (h *Hasher) verifyArgon2(rest, password string) (ok, needsRehash bool, err error) {
	a, err := parseArgon2(rest, h.limits)
	if err != nil {
		return false, false, err
	}
	got := h.derive(a, []byte(password))
	ok = subtle.ConstantTimeCompare(got, a.key) == 1
	return ok, ok && !h.current(a), nil
}

// current reports whether a is what h.Hash would write now. A longer salt than h's is
// no weakness, so only a shorter one asks for a rehash (Django's own salts are 22 bytes).
func (h *Hasher) current(a *argon2Hash) bool {
	p := h.params
	return a.variant == argon2id && a.version == argon2Version &&
		a.memory == p.Memory && a.time == p.Time && a.threads == p.Threads &&
		len(a.key) == int(p.KeyLen) && len(a.salt) >= int(p.SaltLen)
}

// parseArgon2 decodes rest, the encoding after "argon2$", and checks its costs against l.
func parseArgon2(rest string, l limits) (*argon2Hash, error) {
	f := strings.Split(rest, "$")
	a := &argon2Hash{variant: f[0], version: argon2Version10}
	if len(f) > 1 && strings.HasPrefix(f[1], "v=") {
		var ok bool
		if a.version, ok = parseDecimal(f[1][2:], math.MaxUint32); !ok {
			return nil, malformed("argon2", "version")
		}
		f = append(f[:1], f[2:]...)
	}
	if len(f) != 4 {
		return nil, malformed("argon2", "fields")
	}
	if err := a.checkKind(); err != nil {
		return nil, err
	}
	if err := a.parseCosts(f[1]); err != nil {
		return nil, err
	}
	var ok bool
	if a.salt, ok = decodeBase64(b64, f[2]); !ok {
		return nil, malformed("argon2", "salt")
	}
	if a.key, ok = decodeBase64(b64, f[3]); !ok {
		return nil, malformed("argon2", "hash")
	}
	if len(a.salt) > l.maxSaltKeyLen || len(a.key) > l.maxSaltKeyLen {
		return nil, malformed("argon2", "salt or hash length")
	}
	return a, a.check(l)
}

// checkKind accepts the variants and the version x/crypto computes.
func (a *argon2Hash) checkKind() error {
	if a.variant != argon2id && a.variant != argon2i {
		return fmt.Errorf("%w: argon2 variant other than argon2id and argon2i", errUnsupported)
	}
	switch a.version {
	case argon2Version:
		return nil
	case argon2Version10:
		return fmt.Errorf("%w: argon2 version 0x10 (v=16 or no v=), only 0x13 (v=19) can be verified", errUnsupported)
	}
	return malformed("argon2", "version")
}

func parseDecimalIf(ok bool, s string, max uint64) (uint64, bool) {
	if !ok {
		return 0, false
	}
	return parseDecimal(s, max)
}

// parseCosts parses "m=<memory>,t=<time>,p=<threads>", in libargon2's order.
func (a *argon2Hash) parseCosts(s string) error {
	m, s, ok1 := strings.Cut(s, ",")
	t, p, ok2 := strings.Cut(s, ",")
	m, ok3 := strings.CutPrefix(m, "m=")
	t, ok4 := strings.CutPrefix(t, "t=")
	p, ok5 := strings.CutPrefix(p, "p=")
	memory, ok6 := parseDecimalIf(ok1 && ok3, m, math.MaxUint32)
	time, ok7 := parseDecimalIf(ok2 && ok4, t, math.MaxUint32)
	// libargon2 allows up to 2^24-1 lanes, x/crypto 255; no one has used more than a few.
	threads, ok8 := parseDecimalIf(ok5, p, math.MaxUint8)
	if !ok6 || !ok7 || !ok8 {
		return malformed("argon2", "parameters")
	}
	a.memory, a.time, a.threads = uint32(memory), uint32(time), uint8(threads) // #nosec G115 -- parseDecimal bounded each to its type above
	return nil
}

// check applies libargon2's minimums, which x/crypto would otherwise panic on or silently
// round, and l's maximums.
func (a *argon2Hash) check(l limits) error {
	switch {
	case a.time < 1 || a.threads < 1 || a.memory < 8*uint32(a.threads):
		return malformed("argon2", "parameters")
	case len(a.salt) < 8 || len(a.key) < 4:
		return malformed("argon2", "salt or hash length")
	case uint64(a.memory) > l.argon2Memory:
		return tooCostly("argon2", "memory")
	case uint64(a.time) > l.argon2Time:
		return tooCostly("argon2", "time")
	case uint64(a.memory)*uint64(a.time) > l.argon2Work:
		return tooCostly("argon2", "memory × time")
	}
	return nil
}
