package token

import (
	"unicode"
	"unicode/utf16"
)

// maxNesting is encoding/json's limit on the depth of a value, so that this check and
// the decoder that runs after it refuse the same documents.
const maxNesting = 10000

// scanner reads JSON from data at pos. Each method either consumes what it names and
// reports true, or reports false; none reads past the end of data.
type scanner struct {
	data []byte
	pos  int
}

func (sc *scanner) skipSpace() {
	for sc.pos < len(sc.data) {
		switch sc.data[sc.pos] {
		case ' ', '\t', '\n', '\r':
			sc.pos++
		default:
			return
		}
	}
}

// consume skips c if it is the next byte.
func (sc *scanner) consume(c byte) bool {
	if sc.pos < len(sc.data) && sc.data[sc.pos] == c {
		sc.pos++
		return true
	}
	return false
}

// value scans one JSON value nested depth levels deep.
func (sc *scanner) value(depth int) bool {
	sc.skipSpace()
	if sc.pos >= len(sc.data) {
		return false
	}
	switch sc.data[sc.pos] {
	case '"':
		return sc.str()
	case '{':
		return depth <= maxNesting && sc.object(depth)
	case '[':
		return depth <= maxNesting && sc.array(depth)
	case 't':
		return sc.literal("true")
	case 'f':
		return sc.literal("false")
	case 'n':
		return sc.literal("null")
	}
	return sc.number()
}

// object scans a nested object, whose names need not be distinct.
func (sc *scanner) object(depth int) bool {
	sc.pos++ // '{'
	sc.skipSpace()
	if sc.consume('}') {
		return true
	}
	for {
		sc.skipSpace()
		if !sc.str() {
			return false
		}
		sc.skipSpace()
		if !sc.consume(':') || !sc.value(depth+1) {
			return false
		}
		sc.skipSpace()
		if sc.consume('}') {
			return true
		}
		if !sc.consume(',') {
			return false
		}
	}
}

func (sc *scanner) array(depth int) bool {
	sc.pos++ // '['
	sc.skipSpace()
	if sc.consume(']') {
		return true
	}
	for {
		if !sc.value(depth + 1) {
			return false
		}
		sc.skipSpace()
		if sc.consume(']') {
			return true
		}
		if !sc.consume(',') {
			return false
		}
	}
}

func (sc *scanner) literal(word string) bool {
	end := sc.pos + len(word)
	if end > len(sc.data) || string(sc.data[sc.pos:end]) != word {
		return false
	}
	sc.pos = end
	return true
}

// number scans -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?; what follows it is the
// caller's to check.
func (sc *scanner) number() bool {
	d, i := sc.data, sc.pos
	if i < len(d) && d[i] == '-' {
		i++
	}
	switch {
	case i < len(d) && d[i] == '0':
		i++
	case i < len(d) && d[i] >= '1' && d[i] <= '9':
		i = digits(d, i)
	default:
		return false
	}
	if i < len(d) && d[i] == '.' {
		j := digits(d, i+1)
		if j == i+1 {
			return false
		}
		i = j
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		j := digits(d, i)
		if j == i {
			return false
		}
		i = j
	}
	sc.pos = i
	return true
}

// digits returns the index of the first non-digit of d at or after i.
func digits(d []byte, i int) int {
	for i < len(d) && d[i] >= '0' && d[i] <= '9' {
		i++
	}
	return i
}

// str scans a string, checking its escapes (what they decode to is nameRune's business).
func (sc *scanner) str() bool {
	d, i := sc.data, sc.pos
	if i >= len(d) || d[i] != '"' {
		return false
	}
	for i++; i < len(d); {
		switch c := d[i]; {
		case c == '"':
			sc.pos = i + 1
			return true
		case c < 0x20:
			return false
		case c == '\\':
			_, n := unescape(d[i:])
			if n == 0 {
				return false
			}
			i += n
		default:
			i++ // bytes of invalid UTF-8 are allowed, as encoding/json allows them
		}
	}
	return false
}

// unescape decodes the escape sequence at the start of b, returning the rune and the
// length of the sequence, or a length of 0 when it is not a valid escape.
func unescape(b []byte) (rune, int) {
	if len(b) < 2 {
		return 0, 0
	}
	switch b[1] {
	case '"', '\\', '/':
		return rune(b[1]), 2
	case 'b':
		return '\b', 2
	case 'f':
		return '\f', 2
	case 'n':
		return '\n', 2
	case 'r':
		return '\r', 2
	case 't':
		return '\t', 2
	case 'u':
		r := hex4(b[2:])
		if r < 0 {
			return 0, 0
		}
		if !utf16.IsSurrogate(r) {
			return r, 6
		}
		if len(b) >= 12 && b[6] == '\\' && b[7] == 'u' {
			if pair := utf16.DecodeRune(r, hex4(b[8:])); pair != unicode.ReplacementChar {
				return pair, 12
			}
		}
		return unicode.ReplacementChar, 6
	}
	return 0, 0
}

// hex4 decodes four hex digits at the start of b, or returns -1.
func hex4(b []byte) rune {
	if len(b) < 4 {
		return -1
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case '0' <= c && c <= '9':
			c -= '0'
		case 'a' <= c && c <= 'f':
			c -= 'a' - 10
		case 'A' <= c && c <= 'F':
			c -= 'A' - 10
		default:
			return -1
		}
		r = r<<4 | rune(c)
	}
	return r
}
