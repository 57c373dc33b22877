package ciphemic

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed" // the two common-password lists
	"math"
	"slices"
	"sort"
	"strings"
	"sync"
)

// The common-password list is the union of two lists, each lowercased and stripped as
// Django's CommonPasswordValidator compares password.lower().strip():
//
//   - Django 3.2's django/contrib/auth/common-passwords.txt.gz, embedded byte for byte
//     (BSD licence, Django Software Foundation): Royce Williams' list of the 20,000 most
//     common passwords, lowercased and deduplicated into 19,727 entries. It is the very
//     list the article's Django system checks, so ciphemic refuses every password Django
//     refuses as too common.
//   - The "passwords" frequency list of github.com/trustelem/zxcvbn (pinned in go.mod; MIT
//     licence), the Go port of Dropbox's zxcvbn 4.4.2: the 30,000 most common passwords
//     of zxcvbn's leaked-password corpus, less those zxcvbn files under another of its
//     lists (English words, names) or finds too short for their rank.
//     zxcvbn-passwords.txt.gz is that list exactly as the pinned module holds it, one
//     entry a line in its order: TestZxcvbnListIsThePinnedModules compares the two, and
//     writes the file anew with -update-zxcvbn after the module is upgraded. It is
//     embedded rather than imported because importing zxcvbn's frequency package builds
//     all of its lists (some 100,000 strings, 1.5 MiB of heap that every garbage
//     collection scans) when the process starts, for the one list used here.
//
// Django's list alone is under issue 10's floor of 20,000; the union holds about 40,000.
// Being a superset, it refuses some passwords Django accepts (those only on zxcvbn's
// list); it never accepts one Django refuses as too common.

// commonPasswordsGz is Django 3.2's common-passwords.txt.gz.
//
//go:embed common-passwords.txt.gz
var commonPasswordsGz []byte

// zxcvbnPasswordsGz is zxcvbn's "passwords" frequency list (above).
//
//go:embed zxcvbn-passwords.txt.gz
var zxcvbnPasswordsGz []byte

// gzipLines returns the lines of a gzipped list embedded in the binary.
func gzipLines(name string, gz []byte) []string {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		panic("ciphemic: embedded " + name + ": " + err.Error())
	}
	var lines []string
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		panic("ciphemic: embedded " + name + ": " + err.Error())
	}
	return lines
}

// djangoCommonPasswords returns the entries of Django's list, stripped as Django reads it.
func djangoCommonPasswords() []string {
	pws := gzipLines("common-password list", commonPasswordsGz)
	for i, pw := range pws {
		pws[i] = strings.TrimSpace(pw)
	}
	return pws
}

// zxcvbnPasswords returns zxcvbn's list as the pinned module holds it.
func zxcvbnPasswords() []string {
	return gzipLines("zxcvbn password list", zxcvbnPasswordsGz)
}

// sortedSet is a set of strings in two allocations the garbage collector need not look
// into: the sorted entries back to back, and where each ends. The common-password list
// stays in memory once a password has been checked, and as a map of 40,000 strings it
// would be 40,000 pointers for every collection to follow.
type sortedSet struct {
	text string
	ends []uint32
}

func newSortedSet(entries []string) sortedSet {
	entries = slices.Clone(entries)
	slices.Sort(entries)
	entries = slices.Compact(entries)
	var b strings.Builder
	ends := make([]uint32, len(entries))
	for i, e := range entries {
		b.WriteString(e)
		n := b.Len()
		if n > math.MaxInt32 {
			panic("ciphemic: a sorted set of over 2 GiB")
		}
		ends[i] = uint32(n) // #nosec G115 -- bounded just above; the lists are some 400 KB
	}
	return sortedSet{text: b.String(), ends: ends}
}

func (s sortedSet) len() int { return len(s.ends) }

func (s sortedSet) at(i int) string {
	start := uint32(0)
	if i > 0 {
		start = s.ends[i-1]
	}
	return s.text[start:s.ends[i]]
}

func (s sortedSet) has(v string) bool {
	i := sort.Search(len(s.ends), func(i int) bool { return s.at(i) >= v })
	return i < len(s.ends) && s.at(i) == v
}

// commonPasswords is the union as a set, built on first use: a server that never sets a
// password never pays for it.
var commonPasswords = sync.OnceValue(func() sortedSet {
	zx := zxcvbnPasswords()
	if len(zx) == 0 {
		panic("ciphemic: zxcvbn's passwords frequency list is empty")
	}
	all := djangoCommonPasswords()
	for _, pw := range zx {
		if pw = pythonStrip(pythonLower(pw)); pw != "" {
			all = append(all, pw)
		}
	}
	return newSortedSet(all)
})

// IsCommonPassword reports whether pw, lowered and stripped, is on the common-password
// list, as Django's CommonPasswordValidator decides.
func IsCommonPassword(pw string) bool {
	return commonPasswords().has(pythonStrip(pythonLower(pw)))
}

// CommonPasswordCount is the number of passwords on the list.
func CommonPasswordCount() int {
	return commonPasswords().len()
}
