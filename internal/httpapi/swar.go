package httpapi

// Tests of eight string bytes at once, for the scans every request makes over its token
// and its log line. Each is exact for the word as a whole: a borrow or carry between
// bytes only starts from a byte the test already caught.

// Every byte of a word set to one value.
const (
	bytes01 = 0x0101010101010101
	bytes20 = 0x2020202020202020
	bytes21 = 0x2121212121212121
	bytes22 = 0x2222222222222222
	bytes5c = 0x5c5c5c5c5c5c5c5c
	bytes80 = 0x8080808080808080
)

// wordAt is s[i:i+8] as a little-endian word; the compiler makes it one load.
func wordAt(s string, i int) uint64 {
	_ = s[i+7]
	return uint64(s[i]) | uint64(s[i+1])<<8 | uint64(s[i+2])<<16 | uint64(s[i+3])<<24 |
		uint64(s[i+4])<<32 | uint64(s[i+5])<<40 | uint64(s[i+6])<<48 | uint64(s[i+7])<<56
}

// hasByteBelow reports whether some byte of w is under n, for n ≤ 0x80: such a byte
// borrows when n is subtracted from it, setting a top bit its own byte did not have.
func hasByteBelow(w, nnnn uint64) bool { return (w-nnnn)&^w&bytes80 != 0 }

// hasByte reports whether some byte of w equals the byte repeated in cccc.
func hasByte(w, cccc uint64) bool { return hasByteBelow(w^cccc, bytes01) }

// printableWord reports whether each byte of w is in 0x21–0x7e: printable ASCII, no
// space. A byte of 0x7f or more has its top bit set once 1 is added, or had it already.
func printableWord(w uint64) bool {
	return !hasByteBelow(w, bytes21) && ((w+bytes01)|w)&bytes80 == 0
}

// plainJSONWord reports whether each byte of w is ASCII that JSON writes as it is: not a
// control character, '"' or '\\'.
func plainJSONWord(w uint64) bool {
	return w&bytes80 == 0 && !hasByteBelow(w, bytes20) && !hasByte(w, bytes22) && !hasByte(w, bytes5c)
}
