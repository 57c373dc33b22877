// Package username holds the one rule by which ciphemic compares usernames: Unicode
// normalization form NFKC, as Django's AbstractBaseUser.normalize_username applies it.
// Under it "ａdmin" (full-width) and "admin" are one name, so an account cannot be made
// to look like another. It is a package of its own because the HTTP API, the store's
// import and the command line all apply it, and the domain package has no dependencies.
package username

import "golang.org/x/text/unicode/norm"

// Normalize returns s in NFKC: every compatibility character (full-width and
// half-width forms, ligatures, super- and subscripts, …) replaced by its plain
// equivalent and every combining sequence composed. It is applied wherever a username
// is created, renamed, imported or looked up at login.
func Normalize(s string) string {
	return norm.NFKC.String(s)
}
