//go:build unix

package main

import (
	"os"
	"syscall"

	"github.com/ciphemic/ciphemic/internal/token"
)

// checkKeyFileMode refuses a signing-key file (or its ring of previous keys) that others
// may read, as ssh refuses an unprotected private key: whoever reads it can sign tokens for
// any user. Access for the group is refused too when the file is the server's own; a file
// of another owner (root's, mode 0640, group of the service) is how a key is shared with a
// service account on purpose, and sshd accepts that as well.
func checkKeyFileMode(file string) error {
	for _, p := range []string{file, token.KeyRingPath(file)} {
		info, err := os.Stat(p)
		if err != nil {
			continue // a missing file is LoadKeySet's to report (the ring is optional)
		}
		bad := os.FileMode(0o007)
		if st, ok := info.Sys().(*syscall.Stat_t); ok && int(st.Uid) == os.Getuid() {
			bad = 0o077
		}
		if perm := info.Mode().Perm(); perm&bad != 0 {
			return invalid("signing-key-file", "%s has mode %04o: a signing key must be private to its owner; run chmod 600 %s", p, perm, p)
		}
	}
	return nil
}
