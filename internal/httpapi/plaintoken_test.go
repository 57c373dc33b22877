package httpapi

import (
	"strings"
	"testing"
)

// plainTokenBytewise is plainToken's rule, one byte at a time: the reference the word-wise
// version must agree with.
func plainTokenBytewise(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] >= 0x7f {
			return false
		}
	}
	return s != ""
}

// TestPlainTokenEveryByte puts each of the 256 byte values at every position of words and
// tails of several lengths, among printable neighbours and beside the extremes (0x21,
// 0x7e, 0xff) that carries and borrows could confuse.
func TestPlainTokenEveryByte(t *testing.T) {
	for _, fill := range []byte{'a', 0x21, 0x7e} {
		for _, n := range []int{1, 7, 8, 9, 16, 17, 394} {
			for pos := 0; pos < n && pos < 24; pos++ {
				for c := 0; c < 256; c++ {
					for _, neighbour := range []int{-1, 0x00, 0x20, 0x7f, 0xff} {
						b := []byte(strings.Repeat(string(fill), n))
						b[pos] = byte(c)
						if neighbour >= 0 && pos+1 < n {
							b[pos+1] = byte(neighbour)
						}
						s := string(b)
						if got, want := plainToken(s), plainTokenBytewise(s); got != want {
							t.Fatalf("plainToken(%q) = %v, want %v", s, got, want)
						}
					}
				}
			}
		}
	}
	if plainToken("") {
		t.Error(`plainToken("") = true, want false`)
	}
}

func FuzzPlainToken(f *testing.F) {
	f.Add("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln")
	f.Add("abc\x7fdefgh ij")
	f.Add("\xff\xfe!!!!!!!!")
	f.Fuzz(func(t *testing.T, s string) {
		if got, want := plainToken(s), plainTokenBytewise(s); got != want {
			t.Fatalf("plainToken(%q) = %v, want %v", s, got, want)
		}
	})
}

// plainJSONBytewise is plainJSONWord's rule, one byte at a time.
func plainJSONBytewise(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c >= 0x80 || c == '"' || c == '\\' {
			return false
		}
	}
	return true
}

// TestPlainJSONWordEveryByte puts each byte value at each position of a word, beside
// neighbours at the edges of the rule.
func TestPlainJSONWordEveryByte(t *testing.T) {
	for _, fill := range []byte{'a', 0x20, 0x7f, 0x23, 0x5b, 0x5d} {
		for pos := range 8 {
			for c := range 256 {
				for _, neighbour := range []int{-1, 0x00, 0x1f, 0x21, 0x22, 0x5c, 0x80, 0xff} {
					b := []byte(strings.Repeat(string(fill), 8))
					b[pos] = byte(c)
					if neighbour >= 0 {
						b[(pos+1)%8] = byte(neighbour)
					}
					if got, want := plainJSONWord(wordAt(string(b), 0)), plainJSONBytewise(b); got != want {
						t.Fatalf("plainJSONWord(%q) = %v, want %v", b, got, want)
					}
				}
			}
		}
	}
}
