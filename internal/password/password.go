// Package password hashes new passwords with argon2id and verifies the hashes that a Django
// deployment stored (pbkdf2_sha256, pbkdf2_sha1, argon2, bcrypt_sha256, bcrypt), so that a
// team leaving Django keeps its users' passwords. New hashes use Django's own argon2
// encoding, so the move can be undone too.
package password

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"
	"sync/atomic"
	"time"
)

// Params are argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
	SaltLen uint32
	KeyLen  uint32
}

// DefaultParams are OWASP's argon2id minimum: m=19 MiB, t=2, p=1.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Errors of Verify. They name the algorithm and the field at fault, never a value, because
// an encoded hash is as sensitive as the password it protects.
var (
	errMalformed   = errors.New("password: malformed hash encoding")
	errUnsupported = errors.New("password: unsupported hash encoding")
	errTooCostly   = errors.New("password: hash cost parameters over the limit")
)

func malformed(alg, field string) error {
	return fmt.Errorf("%w: %s %s", errMalformed, alg, field)
}

func tooCostly(alg, field string) error {
	return fmt.Errorf("%w: %s %s", errTooCostly, alg, field)
}

// limits cap the cost parameters of imported hashes: a hostile row in the users table must
// not make one login burn minutes of CPU or gigabytes of memory. Tests lower them.
type limits struct {
	pbkdf2Iterations uint64
	argon2Memory     uint64 // KiB
	argon2Time       uint64
	argon2Work       uint64 // memory × time, KiB-passes: caps m and t both near their maximum
	bcryptCost       int
	maxSaltKeyLen    int // bytes, argon2 salt and hash
}

// defaultLimits allow every cost Django has ever defaulted to (pbkdf2_sha256 1,000,000 in
// Django 5.2, argon2 m=100 MiB t=2 p=8, bcrypt 12) with a wide margin, while one verification
// stays within a few seconds and 1 GiB.
var defaultLimits = limits{
	pbkdf2Iterations: 10_000_000,
	argon2Memory:     1 << 20,
	argon2Time:       100,
	argon2Work:       4 << 20,
	bcryptCost:       16,
	maxSaltKeyLen:    1024,
}

// Hasher hashes new passwords with argon2id and verifies stored hashes. It is safe for
// concurrent use.
type Hasher struct {
	params Params
	limits limits
	// dummy is a hash of a random password made with params; VerifyDummy verifies against
	// it so that an unknown username costs what a wrong password costs.
	dummy string
	// kdf computes argon2; tests replace it to see which parameters were used.
	kdf func(a *argon2Hash, password []byte) []byte
	// slots bounds the argon2 computations running at once. Each holds its memory cost
	// (19 MiB by default) for tens of milliseconds, so a flood of logins from many
	// addresses would otherwise grow memory without limit; past the bound, logins wait.
	slots chan struct{}
	// observe, when set, is told how long each Hash, Verify and VerifyDummy took
	// (SetObserver).
	observe atomic.Pointer[func(time.Duration)]
}

// SetObserver makes h call observe with the duration of every Hash, Verify and
// VerifyDummy, waiting for a free computation slot included: the cost a login pays, which
// an operator watches to size the hashing parameters and the CPUs. observe must be quick;
// nil stops observing.
func (h *Hasher) SetObserver(observe func(time.Duration)) {
	if observe == nil {
		h.observe.Store(nil)
		return
	}
	h.observe.Store(&observe)
}

// timed tells the observer how long since start the calling method took.
func (h *Hasher) timed(start time.Time) {
	if observe := h.observe.Load(); observe != nil {
		(*observe)(time.Since(start))
	}
}

// maxConcurrentHashes is how many argon2 computations may run at once: one per CPU keeps
// every core busy (an argon2id computation with one lane is one thread's work) while
// bounding memory (with the default parameters, at most GOMAXPROCS × 19 MiB). More would
// add memory, not throughput.
func maxConcurrentHashes() int {
	return runtime.GOMAXPROCS(0)
}

// derive runs the argon2 computation of a within the bound on concurrent computations.
func (h *Hasher) derive(a *argon2Hash, password []byte) []byte {
	h.slots <- struct{}{}
	defer func() { <-h.slots }()
	return h.kdf(a, password)
}

// NewHasher returns a Hasher that makes new hashes with p. It computes one hash to prepare
// VerifyDummy. It panics if p is outside what argon2 allows (Time, Threads ≥ 1, Memory ≥
// 8×Threads KiB, SaltLen ≥ 8, KeyLen ≥ 4) or above the limits imposed on stored hashes
// (Memory ≤ 1 GiB, Time ≤ 100, Memory×Time ≤ 4 GiB), since its own hashes could not be
// verified then.
func NewHasher(p Params) *Hasher {
	return newHasher(p, defaultLimits)
}

func newHasher(p Params, l limits) *Hasher {
	if err := checkParams(p, l); err != nil {
		panic(err)
	}
	h := &Hasher{params: p, limits: l, kdf: deriveArgon2, slots: make(chan struct{}, maxConcurrentHashes())}
	dummy, err := h.Hash(rand.Text())
	if err != nil {
		panic(err)
	}
	h.dummy = dummy
	return h
}

func checkParams(p Params, l limits) error {
	if p.SaltLen > uint32(l.maxSaltKeyLen) || p.KeyLen > uint32(l.maxSaltKeyLen) { // #nosec G115 -- maxSaltKeyLen is a small constant of this package
		return errors.New("password: invalid params: salt or key too long")
	}
	a := argon2Hash{
		variant: argon2id, version: argon2Version,
		memory: p.Memory, time: p.Time, threads: p.Threads,
		salt: make([]byte, p.SaltLen), key: make([]byte, p.KeyLen),
	}
	if err := a.check(l); err != nil {
		return fmt.Errorf("password: invalid params: %w", err)
	}
	return nil
}

// Hash returns a new hash of password in Django's Argon2PasswordHasher encoding,
// "argon2$argon2id$v=19$m=…,t=…,p=…$<salt>$<hash>" with unpadded standard base64, exactly
// as Django with argon2-cffi writes it. It fails only if the random source does.
func (h *Hasher) Hash(password string) (string, error) {
	defer h.timed(time.Now())
	salt := make([]byte, h.params.SaltLen)
	if _, err := io.ReadFull(rand.Reader, salt); err != nil {
		return "", fmt.Errorf("password: read salt: %w", err)
	}
	a := &argon2Hash{
		variant: argon2id, version: argon2Version,
		memory: h.params.Memory, time: h.params.Time, threads: h.params.Threads,
		salt: salt, key: make([]byte, h.params.KeyLen),
	}
	a.key = h.derive(a, []byte(password))
	return a.encode(), nil
}

// Verify checks password against an encoded hash. ok is true only on a match. needsRehash
// is true when ok and the hash is not argon2id with h's params (any pbkdf2, bcrypt or
// argon2i hash, or argon2id with other costs or lengths), so the caller should store
// h.Hash(password) in its place. err is non-nil only for a malformed or unsupported
// encoding, or one whose costs exceed the limits; it never contains the password or any
// part of the hash. An unusable Django password (starting with "!") and an empty encoding
// give ok=false and err=nil, after the same work as VerifyDummy.
func (h *Hasher) Verify(encoded, password string) (ok, needsRehash bool, err error) {
	defer h.timed(time.Now())
	return h.verify(encoded, password)
}

// verify is Verify without the observer, so that a verification is observed once.
func (h *Hasher) verify(encoded, password string) (ok, needsRehash bool, err error) {
	if encoded == "" || strings.HasPrefix(encoded, "!") {
		// Django fakes the runtime here too: an account without a usable password must
		// not be told apart from one with a wrong password by the time a login takes.
		_, _, _ = h.verify(h.dummy, password)
		return false, false, nil
	}
	alg, rest, _ := strings.Cut(encoded, "$")
	switch alg {
	case "argon2":
		return h.verifyArgon2(rest, password)
	case pbkdf2SHA256.name:
		ok, err = h.verifyPBKDF2(pbkdf2SHA256, rest, password)
	case pbkdf2SHA1.name:
		ok, err = h.verifyPBKDF2(pbkdf2SHA1, rest, password)
	case "bcrypt_sha256":
		ok, err = h.verifyBcrypt(alg, rest, password, true)
	case "bcrypt":
		ok, err = h.verifyBcrypt(alg, rest, password, false)
	default:
		return false, false, unsupportedAlgorithm(alg)
	}
	// Every format but argon2id is legacy, so every match of one is worth upgrading.
	return ok, ok, err
}

// VerifyDummy costs the same as verifying a wrong password against a hash made by h; call
// it when the username does not exist, so that timing does not reveal which usernames do.
func (h *Hasher) VerifyDummy(password string) {
	defer h.timed(time.Now())
	_, _, _ = h.verify(h.dummy, password)
}

// djangoUnsupported are Django's other hashers. Naming them in the error tells an operator
// what the import met; any other prefix is reported without echoing it.
var djangoUnsupported = []string{"scrypt", "sha1", "md5", "unsalted_sha1", "unsalted_md5", "crypt"}

func unsupportedAlgorithm(alg string) error {
	for _, name := range djangoUnsupported {
		if alg == name {
			return fmt.Errorf("%w: Django's %s hasher", errUnsupported, name)
		}
	}
	return fmt.Errorf("%w: unknown algorithm", errUnsupported)
}

// parseDecimal parses a canonical decimal number (digits only, no sign, no leading zero),
// the only form Django and libargon2 write, up to max.
func parseDecimal(s string, max uint64) (n uint64, ok bool) {
	if s == "" || len(s) > 20 || (s[0] == '0' && len(s) > 1) {
		return 0, false
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if n > (max-d)/10 {
			return 0, false
		}
		n = n*10 + d
	}
	return n, true
}

// decodeBase64 accepts only the canonical encoding, as Django does by comparing encoded
// strings: Go's decoder alone would also take line breaks and stray padding bits.
func decodeBase64(enc *base64.Encoding, s string) ([]byte, bool) {
	b, err := enc.DecodeString(s)
	if err != nil || enc.EncodeToString(b) != s {
		return nil, false
	}
	return b, true
}
