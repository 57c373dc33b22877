package password

import (
	"errors"
	"strings"
	"testing"
)

// Parts of the encodings below that no error message may repeat.
const (
	secretSalt = "c2VjcmV0c2FsdHNhbHQ"                                   // "secretsaltsalt"
	secretHash = "QUJDREVGR0hJSktMTU5PUA"                                // 16 bytes
	secretPad  = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="          // 32 bytes, padded
	bcryptTail = "secretsaltsecretsaltsecretsaltsecretsaltsecretsaltsec" // 53 characters
)

func TestVerifyMalformed(t *testing.T) {
	h := NewHasher(cheapParams)
	tests := []struct {
		name, encoded string
		want          error
	}{
		{"no dollar", "secretvalue", errUnsupported},
		{"unknown algorithm", "sha512$salt$hash", errUnsupported},
		{"django md5", "md5$salt$0123456789abcdef0123456789abcdef", errUnsupported},
		{"django scrypt", "scrypt$16384$salt$8$1$hash", errUnsupported},
		{"argon2d", "argon2$argon2d$v=19$m=64,t=1,p=1$" + secretSalt + "$" + secretHash, errUnsupported},
		{"argon2 v=16", "argon2$argon2id$v=16$m=64,t=1,p=1$" + secretSalt + "$" + secretHash, errUnsupported},
		{"argon2 truncated", "argon2$argon2id$v=19$m=64,t=1,p=1$" + secretSalt, errMalformed},
		{"argon2 extra field", "argon2$argon2id$v=19$m=64,t=1,p=1$x$" + secretSalt + "$" + secretHash, errMalformed},
		{"argon2 bad version", "argon2$argon2id$v=2x$m=64,t=1,p=1$" + secretSalt + "$" + secretHash, errMalformed},
		{"argon2 version 20", "argon2$argon2id$v=20$m=64,t=1,p=1$" + secretSalt + "$" + secretHash, errMalformed},
		{"argon2 params order", "argon2$argon2id$v=19$t=1,m=64,p=1$" + secretSalt + "$" + secretHash, errMalformed},
		{"argon2 leading zero", "argon2$argon2id$v=19$m=064,t=1,p=1$" + secretSalt + "$" + secretHash, errMalformed},
		{"argon2 sign", "argon2$argon2id$v=19$m=+64,t=1,p=1$" + secretSalt + "$" + secretHash, errMalformed},
		{"argon2 overflow", "argon2$argon2id$v=19$m=4294967296,t=1,p=1$" + secretSalt + "$" + secretHash, errMalformed},
		{"argon2 p=256", "argon2$argon2id$v=19$m=4096,t=1,p=256$" + secretSalt + "$" + secretHash, errMalformed},
		{"argon2 t=0", "argon2$argon2id$v=19$m=64,t=0,p=1$" + secretSalt + "$" + secretHash, errMalformed},
		{"argon2 p=0", "argon2$argon2id$v=19$m=64,t=1,p=0$" + secretSalt + "$" + secretHash, errMalformed},
		{"argon2 m<8p", "argon2$argon2id$v=19$m=15,t=1,p=2$" + secretSalt + "$" + secretHash, errMalformed},
		{"argon2 padded salt", "argon2$argon2id$v=19$m=64,t=1,p=1$" + secretSalt + "=$" + secretHash, errMalformed},
		{"argon2 bad base64", "argon2$argon2id$v=19$m=64,t=1,p=1$" + secretSalt + "$" + secretHash + "!", errMalformed},
		{"argon2 newline", "argon2$argon2id$v=19$m=64,t=1,p=1$" + secretSalt + "$" + secretHash[:11] + "\n" + secretHash[11:], errMalformed},
		{"argon2 short salt", "argon2$argon2id$v=19$m=64,t=1,p=1$c2hvcnQ$" + secretHash, errMalformed},
		{"argon2 short hash", "argon2$argon2id$v=19$m=64,t=1,p=1$" + secretSalt + "$QUJD", errMalformed},
		{"pbkdf2 truncated", "pbkdf2_sha256$1000$secretsalt", errMalformed},
		{"pbkdf2 empty salt", "pbkdf2_sha256$1000$$" + secretPad, errMalformed},
		{"pbkdf2 zero iterations", "pbkdf2_sha256$0$secretsalt$" + secretPad, errMalformed},
		{"pbkdf2 negative", "pbkdf2_sha256$-1000$secretsalt$" + secretPad, errMalformed},
		{"pbkdf2 huge number", "pbkdf2_sha256$99999999999999999999999$secretsalt$" + secretPad, errMalformed},
		{"pbkdf2 unpadded", "pbkdf2_sha256$1000$secretsalt$" + strings.TrimSuffix(secretPad, "="), errMalformed},
		{"pbkdf2 wrong length", "pbkdf2_sha1$1000$secretsalt$" + secretPad, errMalformed},
		{"pbkdf2 dollar in hash", "pbkdf2_sha256$1000$secretsalt$" + secretPad + "$", errMalformed},
		{"bcrypt truncated", "bcrypt_sha256$$2b$05$" + bcryptTail[:20], errMalformed},
		{"bcrypt no prefix", "bcrypt$2b$05$" + bcryptTail, errMalformed},
		{"bcrypt 2x", "bcrypt$$2x$05$" + bcryptTail, errMalformed},
		{"bcrypt cost 03", "bcrypt$$2b$03$" + bcryptTail, errMalformed},
		{"bcrypt cost 99", "bcrypt$$2b$99$" + bcryptTail, errMalformed},
		{"bcrypt bad char", "bcrypt$$2b$05$" + bcryptTail[:52] + "!", errMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(tt.encoded, "hunter2pw")
			if ok || rehash || !errors.Is(err, tt.want) {
				t.Fatalf("Verify(%q) = %v, %v, %v; want false, false, %v", tt.encoded, ok, rehash, err, tt.want)
			}
			mustNotLeak(t, err, tt.encoded)
		})
	}
}

// mustNotLeak fails if err's message repeats the password or any part of the encoding
// other than the algorithm names.
func mustNotLeak(t *testing.T, err error, encoded string) {
	t.Helper()
	msg := err.Error()
	for _, s := range []string{"hunter2pw", "secret", secretSalt, secretHash, secretPad} {
		if strings.Contains(msg, s) {
			t.Errorf("Verify(%q) error %q contains %q", encoded, msg, s)
		}
	}
	for _, part := range strings.Split(encoded, "$") {
		if len(part) > 16 && strings.Contains(msg, part) {
			t.Errorf("Verify(%q) error %q contains %q", encoded, msg, part)
		}
	}
}

// TestVerifyCostLimits uses hashes whose costs are one over each limit; they are refused
// before any work, and without the limit each would take seconds and gigabytes and then
// report a mismatch instead of the error.
func TestVerifyCostLimits(t *testing.T) {
	h := NewHasher(cheapParams)
	calls := countingKDF(h)
	tests := []struct{ name, encoded string }{
		{"pbkdf2_sha256 iterations", "pbkdf2_sha256$10000001$secretsalt$" + secretPad},
		{"pbkdf2_sha1 iterations", "pbkdf2_sha1$2147483647$secretsalt$QUJDREVGR0hJSktMTU5PUFFSU1Q="},
		{"argon2 memory", "argon2$argon2id$v=19$m=1048577,t=1,p=1$" + secretSalt + "$" + secretHash},
		{"argon2 time", "argon2$argon2i$v=19$m=64,t=101,p=1$" + secretSalt + "$" + secretHash},
		{"argon2 memory × time", "argon2$argon2id$v=19$m=1048576,t=5,p=1$" + secretSalt + "$" + secretHash},
		{"bcrypt cost", "bcrypt$$2b$17$" + bcryptTail},
		{"bcrypt_sha256 cost", "bcrypt_sha256$$2b$31$" + bcryptTail},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, rehash, err := h.Verify(tt.encoded, "hunter2pw")
			if ok || rehash || !errors.Is(err, errTooCostly) {
				t.Fatalf("Verify(%q) = %v, %v, %v; want false, false, %v", tt.encoded, ok, rehash, err, errTooCostly)
			}
			mustNotLeak(t, err, tt.encoded)
		})
	}
	if len(*calls) != 0 {
		t.Errorf("argon2 ran %d times on hashes over the limits, want 0", len(*calls))
	}
}

// TestVerifyAtCostLimits checks the limits are not lower than promised: a hash exactly at
// a limit is verified (only the cheap ones are computed here).
func TestVerifyAtCostLimits(t *testing.T) {
	h := NewHasher(cheapParams)
	h.kdf = func(a *argon2Hash, _ []byte) []byte { return make([]byte, len(a.key)) }
	for _, encoded := range []string{
		"argon2$argon2id$v=19$m=1048576,t=4,p=1$" + secretSalt + "$AAAAAAAAAAAAAAAAAAAAAA",
		"argon2$argon2id$v=19$m=800,t=100,p=100$" + secretSalt + "$AAAAAAAAAAAAAAAAAAAAAA",
	} {
		if ok, _, err := h.Verify(encoded, "x"); !ok || err != nil {
			t.Errorf("Verify(%q) with a stub argon2 = %v, %v; want true, nil", encoded, ok, err)
		}
	}
}

// fuzzLimits keep every hash the fuzzer builds cheap to verify.
var fuzzLimits = limits{
	pbkdf2Iterations: 2000,
	argon2Memory:     256,
	argon2Time:       2,
	argon2Work:       512,
	bcryptCost:       5,
	maxSaltKeyLen:    64,
}

func FuzzVerify(f *testing.F) {
	h := newHasher(Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 8, KeyLen: 16}, fuzzLimits)
	for _, seed := range []string{
		"", "!", "argon2$argon2id$v=19$m=64,t=1,p=1$c2Vhc2FsdHNlYXNhbHQ$2LTY4HGn6x6TSk3/71QXDg",
		"argon2$argon2i$m=64,t=1,p=1$c2Vhc2FsdHNlYXNhbHQ$2LTY4HGn6x6TSk3/71QXDg",
		"pbkdf2_sha1$1000$ouW5prvPrANLZi5cBdFtrS$BnOq+ULE88WXDGTdj93puRwnzJk=",
		"bcrypt_sha256$$2b$05$3YPcO7Dob1UR/Ns34ELi9uTj7E6w5OyhAzSTepmC.jBLSkEusIfhu",
		mustHash(f, h, "lètmein"),
	} {
		f.Add(seed, "lètmein")
	}
	f.Fuzz(func(t *testing.T, encoded, password string) {
		ok, rehash, err := h.Verify(encoded, password)
		if err != nil && (ok || rehash) {
			t.Errorf("Verify(%q, %q) = %v, %v, %v; want false, false with an error", encoded, password, ok, rehash, err)
		}
		if rehash && !ok {
			t.Errorf("Verify(%q, %q) = false, true, nil; want needsRehash only on a match", encoded, password)
		}
	})
}
