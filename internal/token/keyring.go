package token

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// The key ring keeps the previous signing keys beside the key file, so that rotating the
// key never cuts off the tokens the old key signed. It is a file of PEM blocks, one per
// key, newest first: a PKCS#8 "PRIVATE KEY" (its algorithm follows from the key type) or
// an HMAC secret in a block of pemTypeHMAC, whose "Algorithm" header names it. Every
// block of the ring carries "Retired-At", when the key stopped signing (RFC 3339).
const (
	pemTypeHMAC     = "CIPHEMIC HMAC KEY"
	headerAlgorithm = "Algorithm"
	headerRetiredAt = "Retired-At"
)

// RetiredKey is a previous signing key: it signs nothing any more, and verifies the tokens
// it signed until they expire.
type RetiredKey struct {
	Key       *Key
	RetiredAt time.Time
}

// KeyRingPath returns the path of the ring of previous keys of the key file keyFile.
func KeyRingPath(keyFile string) string { return keyFile + ".previous" }

// ParseKeyFile reads the content of a key file that rotation may have written. A PKCS#8
// PEM private key is read with the algorithm of its type (RSA: RS256, P-256: ES256,
// Ed25519: EdDSA) and an armoured HMAC secret (MarshalKeyFile) with the algorithm of its
// header, whatever alg says, because a rotation may have changed the algorithm; anything
// else is a raw HMAC secret of alg, read by ParseKey.
func ParseKeyFile(alg string, data []byte) (*Key, error) {
	block, rest := pem.Decode(data)
	if block == nil || (block.Type != pemTypeHMAC && block.Type != pemTypePKCS8) {
		return ParseKey(alg, data)
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("unexpected data after the PEM block")
	}
	return parseKeyBlock(block)
}

// MarshalKeyFile returns the content of a key file holding k, which ParseKeyFile reads
// back: a PKCS#8 PEM private key, or the HMAC secret armoured in a PEM block that names
// its algorithm.
func MarshalKeyFile(k *Key) ([]byte, error) {
	block, err := keyBlock(k)
	if err != nil {
		return nil, err
	}
	if !isHMAC(k.Algorithm) {
		block.Headers = nil // a plain PKCS#8 file, as every other tool writes it
	}
	return pem.EncodeToMemory(block), nil
}

func parseKeyBlock(block *pem.Block) (*Key, error) {
	named := block.Headers[headerAlgorithm]
	if block.Type == pemTypeHMAC {
		if !isHMAC(named) {
			return nil, fmt.Errorf("%s block: the %s header %q is not HS256, HS384 or HS512", block.Type, headerAlgorithm, named)
		}
		return newHMACKey(named, block.Bytes)
	}
	if block.Type != pemTypePKCS8 {
		return nil, fmt.Errorf("unexpected PEM block %q", block.Type)
	}
	priv, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		// The parser's message names the structure that failed, never key material.
		return nil, fmt.Errorf("private key: %w", err)
	}
	alg := algorithmOf(priv)
	if alg == "" {
		return nil, fmt.Errorf("private key: unsupported key type %T", priv)
	}
	if named != "" && named != alg {
		return nil, fmt.Errorf("private key: the %s header %q does not match its %s key", headerAlgorithm, named, keyKind(priv))
	}
	return newAsymmetricKey(alg, priv)
}

// algorithmOf returns the one algorithm a private key of priv's type is used with.
func algorithmOf(priv any) string {
	switch priv.(type) {
	case *rsa.PrivateKey:
		return algRS256
	case *ecdsa.PrivateKey:
		return algES256
	case ed25519.PrivateKey:
		return algEdDSA
	}
	return ""
}

// keyBlock returns k as a PEM block with its Algorithm header.
func keyBlock(k *Key) (*pem.Block, error) {
	headers := map[string]string{headerAlgorithm: k.Algorithm}
	if secret, ok := k.signKey.([]byte); ok {
		return &pem.Block{Type: pemTypeHMAC, Headers: headers, Bytes: secret}, nil
	}
	der, err := x509.MarshalPKCS8PrivateKey(k.signKey)
	if err != nil {
		return nil, fmt.Errorf("key %s: %w", k.ID, err)
	}
	return &pem.Block{Type: pemTypePKCS8, Headers: headers, Bytes: der}, nil
}

// ParseKeyRing reads the content of a key ring file. An empty file is an empty ring.
func ParseKeyRing(data []byte) ([]RetiredKey, error) {
	var ring []RetiredKey
	rest := data
	for n := 1; ; n++ {
		var block *pem.Block
		block, rest = pem.Decode(rest)
		if block == nil {
			break
		}
		k, err := parseKeyBlock(block)
		if err != nil {
			return nil, fmt.Errorf("key ring entry %d: %w", n, err)
		}
		retired, err := time.Parse(time.RFC3339, block.Headers[headerRetiredAt])
		if err != nil {
			return nil, fmt.Errorf("key ring entry %d: want a %s header in RFC 3339", n, headerRetiredAt)
		}
		ring = append(ring, RetiredKey{Key: k, RetiredAt: retired})
	}
	if len(bytes.TrimSpace(rest)) != 0 {
		return nil, errors.New("key ring: data that is not a PEM block")
	}
	return ring, nil
}

// MarshalKeyRing returns the content of a key ring file holding ring, in its order.
func MarshalKeyRing(ring []RetiredKey) ([]byte, error) {
	var buf bytes.Buffer
	for _, rk := range ring {
		block, err := keyBlock(rk.Key)
		if err != nil {
			return nil, err
		}
		block.Headers[headerRetiredAt] = rk.RetiredAt.UTC().Format(time.RFC3339Nano)
		if err := pem.Encode(&buf, block); err != nil {
			return nil, err
		}
	}
	return buf.Bytes(), nil
}

// PruneRetired returns the keys of ring retired at most maxAge before now: a key retired
// longer ago signed no token that is still valid, when maxAge is the longest token
// lifetime plus the leeway.
func PruneRetired(ring []RetiredKey, now time.Time, maxAge time.Duration) []RetiredKey {
	var kept []RetiredKey
	for _, rk := range ring {
		if now.Sub(rk.RetiredAt) <= maxAge {
			kept = append(kept, rk)
		}
	}
	return kept
}

// LoadKeySet reads the key file keyFile (ParseKeyFile with alg) and, when there is one,
// its key ring, keeping the previous keys retired at most r.Retention before now. Each
// ring key verifies only within the limits of r, measured from the retirement time the
// ring records, so every instance reading the same files decides alike, and a restart
// changes nothing. The current key is always the key file's: a ring entry equal to it is
// skipped, as when a rotation has written the ring but not yet the key file.
func LoadKeySet(keyFile, alg string, now time.Time, r Retirement) (*KeySet, error) {
	current, err := readKeyFileAny(keyFile, alg)
	if err != nil {
		return nil, err
	}
	ring, err := readKeyRing(KeyRingPath(keyFile))
	if err != nil {
		return nil, err
	}
	seen := map[string]bool{current.ID: true}
	var previous []RetiredKey
	for _, rk := range PruneRetired(ring, now, r.Retention) {
		if !seen[rk.Key.ID] {
			seen[rk.Key.ID] = true
			previous = append(previous, rk)
		}
	}
	return newKeySet(current, nil, previous, r)
}

// RotateKeyFile makes a new key of newAlg ("" keeps the current key's algorithm) the
// current key of keyFile, and moves the old current key to the head of the key ring,
// dropping the ring's keys retired more than maxAge ago. alg is the algorithm of a raw
// HMAC secret in keyFile (ParseKeyFile). The ring is replaced before the key file, each
// atomically, so that a server reloading at any moment finds the old key in one of them.
// The old key's retirement time is read from now once the new key exists, just before
// the files are written: generating an RSA key takes seconds, during which the servers
// still sign with the old key, and the retirement time bounds what they may sign.
func RotateKeyFile(keyFile, alg, newAlg string, now func() time.Time, maxAge time.Duration) (*Key, []RetiredKey, error) {
	old, err := readKeyFileAny(keyFile, alg)
	if err != nil {
		return nil, nil, err
	}
	ringPath := KeyRingPath(keyFile)
	ring, err := readKeyRing(ringPath)
	if err != nil {
		return nil, nil, err
	}
	if newAlg == "" {
		newAlg = old.Algorithm
	}
	next, content, err := newKeyFile(newAlg)
	if err != nil {
		return nil, nil, err
	}
	retired := now()
	kept := []RetiredKey{{Key: old, RetiredAt: retired}}
	for _, rk := range PruneRetired(ring, retired, maxAge) {
		if rk.Key.ID != old.ID {
			kept = append(kept, rk)
		}
	}
	ringData, err := MarshalKeyRing(kept)
	if err != nil {
		return nil, nil, err
	}
	if err := replaceFile(ringPath, ringData); err != nil {
		return nil, nil, err
	}
	if err := replaceFile(keyFile, content); err != nil {
		return nil, nil, err
	}
	return next, kept, nil
}

// newKeyFile generates a key of alg and returns it with its key file content.
func newKeyFile(alg string) (*Key, []byte, error) {
	generated, err := GenerateKey(alg)
	if err != nil {
		return nil, nil, err
	}
	k, err := ParseKey(alg, generated)
	if err != nil {
		return nil, nil, err
	}
	content, err := MarshalKeyFile(k)
	if err != nil {
		return nil, nil, err
	}
	return k, content, nil
}

func readKeyFileAny(path, alg string) (*Key, error) {
	data, err := os.ReadFile(path) // #nosec G304 -- the operator's --signing-key-file
	if err != nil {
		return nil, fmt.Errorf("read key file: %w", err)
	}
	k, err := ParseKeyFile(alg, data)
	if err != nil {
		return nil, fmt.Errorf("key file %s: %w", path, err)
	}
	return k, nil
}

// readKeyRing reads the ring at path; a missing file is an empty ring.
func readKeyRing(path string) ([]RetiredKey, error) {
	data, err := os.ReadFile(path) // #nosec G304 -- the ring beside the operator's --signing-key-file
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read key ring: %w", err)
	}
	ring, err := ParseKeyRing(data)
	if err != nil {
		return nil, fmt.Errorf("key ring %s: %w", path, err)
	}
	return ring, nil
}

// replaceFile replaces path with content atomically: a reader sees the old file or the
// new one, never a part of it. The file gets mode 0600, as os.CreateTemp makes it.
func replaceFile(path string, content []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".key-*.tmp")
	if err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	defer os.Remove(tmp.Name()) // fails harmlessly once renamed
	if err := writeAndClose(tmp, content); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("replace %s: %w", path, err)
	}
	// Syncing the directory makes the rename survive a crash; not every system can.
	if d, err := os.Open(dir); err == nil { // #nosec G304 -- the key file's own directory
		_ = d.Sync()
		_ = d.Close()
	}
	return nil
}
