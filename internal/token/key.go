// Package token issues and verifies the server's JWTs: signing keys and their RFC 7638
// thumbprints, the JWK Set, access and refresh tokens in simplejwt's wire format with the
// algorithm pinned, and the in-memory revocation view that every instance keeps so that
// verifying a token never waits on I/O.
package token

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"

	"github.com/golang-jwt/jwt/v5"
)

// The supported algorithms, as written in a JWS header's "alg".
const (
	algHS256 = "HS256"
	algHS384 = "HS384"
	algHS512 = "HS512"
	algRS256 = "RS256"
	algES256 = "ES256"
	algEdDSA = "EdDSA"
)

const (
	// minHMACSecret is RFC 7518's floor for HS256 (a key as long as the hash output);
	// it is also enforced for HS384 and HS512, whose generated keys are longer anyway.
	minHMACSecret = 32
	minRSABits    = 2048
	genRSABits    = 3072
	genHMACBytes  = 64
	pemTypePKCS8  = "PRIVATE KEY"
)

var b64 = base64.RawURLEncoding

// ValidAlgorithm reports whether alg is one of the supported signing algorithms:
// HS256, HS384, HS512, RS256, ES256 and EdDSA.
func ValidAlgorithm(alg string) bool {
	return signingMethod(alg) != nil
}

func signingMethod(alg string) jwt.SigningMethod {
	switch alg {
	case algHS256:
		return jwt.SigningMethodHS256
	case algHS384:
		return jwt.SigningMethodHS384
	case algHS512:
		return jwt.SigningMethodHS512
	case algRS256:
		return jwt.SigningMethodRS256
	case algES256:
		return jwt.SigningMethodES256
	case algEdDSA:
		return jwt.SigningMethodEdDSA
	}
	return nil
}

func isHMAC(alg string) bool {
	return alg == algHS256 || alg == algHS384 || alg == algHS512
}

// Key is one signing key. ID is its RFC 7638 thumbprint, written into the "kid" header of
// every token it signs; Algorithm is the one algorithm it may be used with.
type Key struct {
	ID        string
	Algorithm string

	method    jwt.SigningMethod
	signKey   any // []byte, *rsa.PrivateKey, *ecdsa.PrivateKey or ed25519.PrivateKey
	verifyKey any // []byte, *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
	// jwk holds the public JWK members (nil for HMAC, whose key must never be published).
	jwk *jwk
	// header is the encoded JWS header segment, the same for every token of this key.
	header string
}

// jwk is one entry of a JWK Set. Its members are also the RFC 7638 thumbprint input when
// only the required ones are set, which is why the struct fields are in lexical order.
type jwk struct {
	Crv string `json:"crv,omitempty"`
	E   string `json:"e,omitempty"`
	K   string `json:"k,omitempty"`
	Kty string `json:"kty"`
	N   string `json:"n,omitempty"`
	X   string `json:"x,omitempty"`
	Y   string `json:"y,omitempty"`
	Kid string `json:"kid,omitempty"`
	Alg string `json:"alg,omitempty"`
	Use string `json:"use,omitempty"`
}

// ParseKey reads the content of a key file for alg. An HMAC key is the raw secret, with
// one trailing "\n" or "\r\n" trimmed because `echo secret > file` adds one; it must be at
// least 32 bytes. Any other key is a PKCS#8 PEM private key of the algorithm's type: RSA of
// at least 2048 bits for RS256, P-256 for ES256, Ed25519 for EdDSA.
func ParseKey(alg string, data []byte) (*Key, error) {
	if !ValidAlgorithm(alg) {
		return nil, fmt.Errorf("unsupported signing algorithm %q", alg)
	}
	if isHMAC(alg) {
		return parseHMACKey(alg, data)
	}
	block, rest := pem.Decode(data)
	if block == nil || block.Type != pemTypePKCS8 {
		return nil, fmt.Errorf("%s key: want a PEM block of type %q (PKCS#8, unencrypted)", alg, pemTypePKCS8)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, fmt.Errorf("%s key: unexpected data after the PEM block", alg)
	}
	priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		// The parser's message names the structure that failed, never key material.
		return nil, fmt.Errorf("%s key: %w", alg, err)
	}
	return newAsymmetricKey(alg, priv)
}

func parseHMACKey(alg string, data []byte) (*Key, error) {
	secret := data
	if bytes.HasSuffix(secret, []byte("\r\n")) {
		secret = secret[:len(secret)-2]
	} else if bytes.HasSuffix(secret, []byte("\n")) {
		secret = secret[:len(secret)-1]
	}
	return newHMACKey(alg, secret)
}

// newHMACKey returns the HMAC key of secret, exactly as given.
func newHMACKey(alg string, secret []byte) (*Key, error) {
	if len(secret) < minHMACSecret {
		return nil, fmt.Errorf("%s key: the secret must be at least %d bytes", alg, minHMACSecret)
	}
	secret = bytes.Clone(secret)
	thumb := &jwk{K: b64.EncodeToString(secret), Kty: "oct"}
	return newKey(alg, secret, secret, thumb, nil)
}

func newAsymmetricKey(alg string, priv any) (*Key, error) {
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		if alg != algRS256 {
			break
		}
		if bits := k.N.BitLen(); bits < minRSABits {
			return nil, fmt.Errorf("%s key: RSA key has %d bits, want at least %d", alg, bits, minRSABits)
		}
		pub := &k.PublicKey
		e := big.NewInt(int64(pub.E)).Bytes()
		thumb := &jwk{E: b64.EncodeToString(e), Kty: "RSA", N: b64.EncodeToString(pub.N.Bytes())}
		return newKey(alg, k, pub, thumb, thumb)
	case *ecdsa.PrivateKey:
		if alg != algES256 {
			break
		}
		if k.Curve != elliptic.P256() {
			return nil, fmt.Errorf("%s key: want an EC key on curve P-256", alg)
		}
		point, err := k.PublicKey.Bytes()
		if err != nil {
			return nil, fmt.Errorf("%s key: %w", alg, err)
		}
		// point is 0x04 || X || Y with both coordinates padded to 32 bytes, as RFC 7518 wants.
		thumb := &jwk{Crv: "P-256", Kty: "EC", X: b64.EncodeToString(point[1:33]), Y: b64.EncodeToString(point[33:])}
		return newKey(alg, k, &k.PublicKey, thumb, thumb)
	case ed25519.PrivateKey:
		if alg != algEdDSA {
			break
		}
		pub := k.Public().(ed25519.PublicKey)
		thumb := &jwk{Crv: "Ed25519", Kty: "OKP", X: b64.EncodeToString(pub)}
		return newKey(alg, k, pub, thumb, thumb)
	}
	return nil, fmt.Errorf("%s key: the PEM file holds a %s key", alg, keyKind(priv))
}

func keyKind(priv any) string {
	switch priv.(type) {
	case *rsa.PrivateKey:
		return "RSA"
	case *ecdsa.PrivateKey:
		return "EC"
	case ed25519.PrivateKey:
		return "Ed25519"
	}
	return "unsupported"
}

// newKey computes the thumbprint from thumb (only the RFC 7638 required members are set)
// and, for public keys, keeps a copy of pub completed with kid, alg and use for the JWKS.
func newKey(alg string, sign, verify any, thumb, pub *jwk) (*Key, error) {
	id, err := thumbprint(thumb)
	if err != nil {
		return nil, err
	}
	k := &Key{ID: id, Algorithm: alg, method: signingMethod(alg), signKey: sign, verifyKey: verify}
	if pub != nil {
		entry := *pub
		entry.Kid, entry.Alg, entry.Use = k.ID, alg, "sig"
		k.jwk = &entry
	}
	// Keys sorted like PyJWT's header, so tokens look the same whichever server signed them.
	header, err := json.Marshal(struct {
		Alg string `json:"alg"`
		Kid string `json:"kid"`
		Typ string `json:"typ"`
	}{alg, k.ID, "JWT"})
	if err != nil {
		return nil, err
	}
	k.header = b64.EncodeToString(header)
	return k, nil
}

// thumbprint returns the RFC 7638 thumbprint of the required members set in j: SHA-256 of
// their JSON in lexical order without whitespace, base64url-encoded without padding.
func thumbprint(j *jwk) (string, error) {
	canon, err := json.Marshal(j)
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(canon)
	return b64.EncodeToString(sum[:]), nil
}

// GenerateKey returns the content of a new key file for alg: for HMAC, 64 random bytes
// written as 86 base64url characters without a newline (so ParseKey trims nothing); for
// RS256 a 3072-bit RSA key, for ES256 a P-256 key, for EdDSA an Ed25519 key, each as a
// PKCS#8 PEM private key.
func GenerateKey(alg string) ([]byte, error) {
	var priv any
	var err error
	switch alg {
	case algHS256, algHS384, algHS512:
		secret := make([]byte, genHMACBytes)
		if _, err := rand.Read(secret); err != nil {
			return nil, err
		}
		return []byte(b64.EncodeToString(secret)), nil
	case algRS256:
		priv, err = rsa.GenerateKey(rand.Reader, genRSABits)
	case algES256:
		priv, err = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	case algEdDSA:
		_, priv, err = ed25519.GenerateKey(rand.Reader)
	default:
		return nil, fmt.Errorf("unsupported signing algorithm %q", alg)
	}
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", alg, err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(priv)
	if err != nil {
		return nil, fmt.Errorf("generate %s key: %w", alg, err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemTypePKCS8, Bytes: der}), nil
}
