package ciphemic

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed" // the common-password list
	"strings"
	"sync"
)

// commonPasswordsGz is Django 3.2's django/contrib/auth/common-passwords.txt.gz, byte for
// byte (BSD licence, Django Software Foundation): Royce Williams' list of the 20,000 most
// common passwords, lowercased and deduplicated into 19,727 entries. It is the very list the
// article's Django system checks, so both refuse the same passwords.
//
//go:embed common-passwords.txt.gz
var commonPasswordsGz []byte

// commonPasswords is the list as a set, read on first use: a server that never sets a
// password never pays for it.
var commonPasswords = sync.OnceValue(func() map[string]struct{} {
	zr, err := gzip.NewReader(bytes.NewReader(commonPasswordsGz))
	if err != nil {
		panic("ciphemic: embedded common-password list: " + err.Error())
	}
	set := make(map[string]struct{}, 20000)
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		set[strings.TrimSpace(sc.Text())] = struct{}{}
	}
	if err := sc.Err(); err != nil {
		panic("ciphemic: embedded common-password list: " + err.Error())
	}
	return set
})

// IsCommonPassword reports whether pw, lowered and stripped, is on the common-password
// list, as Django's CommonPasswordValidator decides.
func IsCommonPassword(pw string) bool {
	_, ok := commonPasswords()[pythonStrip(pythonLower(pw))]
	return ok
}

// CommonPasswordCount is the number of passwords on the list.
func CommonPasswordCount() int {
	return len(commonPasswords())
}
