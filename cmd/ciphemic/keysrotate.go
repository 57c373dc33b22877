package main

import (
	"fmt"
	"time"

	"github.com/ciphemic/ciphemic/internal/token"
)

// runKeysRotate is `ciphemic keys rotate`: a new key becomes current in the key file and
// the old one moves to the key ring beside it, where it keeps verifying the tokens it
// signed until they expire. Running servers pick the change up without a restart.
func runKeysRotate(args []string, e env) error {
	var file, alg, currentAlg string
	ts := tokenSettings{}
	fs := newFlagSet("keys rotate")
	fs.StringVar(&file, "signing-key-file", "", "key file to rotate: the FILE serve reads as --signing-key-file")
	fs.StringVar(&alg, "algorithm", "", "algorithm of the new key: HS256, HS384, HS512, RS256, ES256 or EdDSA (default: that of the current key)")
	fs.StringVar(&currentAlg, "current-algorithm", "", "algorithm of the current key when the file holds a raw HMAC secret (default: --algorithm when it is HMAC, else HS256)")
	fs.DurationVar(&ts.refreshLifetime, "refresh-token-lifetime", 24*time.Hour, "refresh token lifetime of the servers: previous keys retired longer ago (plus leeway) are pruned")
	fs.DurationVar(&ts.leeway, "leeway", 0, "leeway of the servers")
	if err := parseFlags(fs, args, e); err != nil {
		return err
	}
	switch {
	case file == "":
		return invalid("signing-key-file", "a file name is required")
	case alg != "" && !token.ValidAlgorithm(alg):
		return invalid("algorithm", "%q is not one of HS256, HS384, HS512, RS256, ES256, EdDSA", alg)
	case currentAlg != "" && !isHMACAlgorithm(currentAlg):
		return invalid("current-algorithm", "%q is not one of HS256, HS384, HS512", currentAlg)
	case ts.refreshLifetime <= 0:
		return invalid("refresh-token-lifetime", "must be positive")
	case ts.leeway < 0:
		return invalid("leeway", "must not be negative")
	}
	if currentAlg == "" {
		currentAlg = "HS256"
		if isHMACAlgorithm(alg) {
			currentAlg = alg
		}
	}
	key, ring, err := token.RotateKeyFile(file, currentAlg, alg, time.Now, keyRetention(ts))
	if err != nil {
		return invalid("signing-key-file", "%v", err)
	}
	fmt.Fprintf(e.stdout, "Rotated %s: a new %s key (kid %s) signs from now on; %d previous key(s) in %s keep verifying.\n",
		file, key.Algorithm, key.ID, len(ring), token.KeyRingPath(file))
	fmt.Fprintln(e.stdout, "Running servers load it within seconds (or at once on SIGHUP).")
	return nil
}

func isHMACAlgorithm(alg string) bool {
	return alg == "HS256" || alg == "HS384" || alg == "HS512"
}
