package token

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// strictB64 refuses padding and non-zero trailing bits, so that a token has exactly one
// encoding and its text cannot be varied without breaking the signature.
var strictB64 = b64.Strict()

// segmentBuf is the size of the stack buffer a segment is decoded into; our headers and
// payloads are a few hundred bytes, larger ones spill to the heap.
const segmentBuf = 512

// checkSegments checks, before the parser trusts them, that raw has three segments and
// that its header and payload are canonical base64url of JSON objects without duplicate
// members. Go's JSON decoder keeps the last of duplicate members (and matches struct
// fields case-insensitively) while other parsers may keep the first; refusing duplicates
// means every reader sees the same claims.
func checkSegments(raw string) error {
	if strings.ContainsAny(raw, "\r\n") {
		return reason("line break in a segment")
	}
	header, rest, ok := strings.Cut(raw, ".")
	payload, sig, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || strings.Contains(sig, ".") {
		return reason("not three segments")
	}
	var buf [segmentBuf]byte
	for _, seg := range []string{header, payload} {
		data, err := strictB64.AppendDecode(buf[:0], []byte(seg))
		if err != nil {
			return reason("segment is not canonical base64url")
		}
		if err := checkObject(data); err != nil {
			return err
		}
	}
	return nil
}

// linearNames is how many member names are compared one by one before a map is used, so
// that a payload of thousands of names costs linear time, not quadratic.
const linearNames = 32

const (
	errNotObject = reason("segment is not a JSON object")
	errDuplicate = reason("duplicate JSON member")
	errTrailing  = reason("data after the JSON object")
)

// checkObject reports whether data is one JSON object (RFC 8259, as encoding/json reads
// it) whose top-level members have distinct names, comparing names the way encoding/json
// matches them to struct fields: after unescaping, case-insensitively with Unicode simple
// folding. It scans data once and, for the usual few members, allocates nothing.
func checkObject(data []byte) error {
	var names nameSet
	sc := scanner{data: data}
	sc.skipSpace()
	if !sc.consume('{') {
		return errNotObject
	}
	sc.skipSpace()
	if !sc.consume('}') {
		if err := sc.members(&names); err != nil {
			return err
		}
	}
	sc.skipSpace()
	if sc.pos != len(sc.data) {
		return errTrailing
	}
	return nil
}

// members scans the members of the top-level object up to and including its closing
// brace, recording each name in names.
func (sc *scanner) members(names *nameSet) error {
	for {
		sc.skipSpace()
		start := sc.pos
		if !sc.str() {
			return errNotObject
		}
		if !names.add(sc.data, start+1, sc.pos-1) { // the name without its quotes
			return errDuplicate
		}
		sc.skipSpace()
		if !sc.consume(':') || !sc.value(1) {
			return errNotObject
		}
		sc.skipSpace()
		if sc.consume('}') {
			return nil
		}
		if !sc.consume(',') {
			return errNotObject
		}
	}
}

// nameSet holds the names seen so far: the first linearNames as where they are written
// in the document (offsets, not slices, so that the document stays on the stack), which
// are compared rune by rune, the others folded, in a map.
type nameSet struct {
	spans [linearNames][2]int
	n     int
	set   map[string]struct{}
}

// add records the name written as data[start:end] (escapes unresolved), reporting false
// when an equal name was recorded before.
func (ns *nameSet) add(data []byte, start, end int) bool {
	raw := data[start:end]
	for _, sp := range ns.spans[:ns.n] {
		if sameName(data[sp[0]:sp[1]], raw) {
			return false
		}
	}
	if ns.n < linearNames {
		ns.spans[ns.n] = [2]int{start, end}
		ns.n++
		return true
	}
	if ns.set == nil {
		ns.set = make(map[string]struct{}, 2*linearNames)
	}
	key := foldedName(raw)
	if _, dup := ns.set[key]; dup {
		return false
	}
	ns.set[key] = struct{}{}
	return true
}

// sameName reports whether the names written as a and b decode to strings that are equal
// under simple folding.
func sameName(a, b []byte) bool {
	if string(a) == string(b) {
		return true
	}
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		ra, na := nameRune(a[i:])
		rb, nb := nameRune(b[j:])
		if fold(ra) != fold(rb) {
			return false
		}
		i, j = i+na, j+nb
	}
	return i == len(a) && j == len(b)
}

// foldedName returns the name written as raw, decoded and folded.
func foldedName(raw []byte) string {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		r, n := nameRune(raw[i:])
		out = utf8.AppendRune(out, fold(r))
		i += n
	}
	return string(out)
}

// nameRune decodes the first rune of a member name's text as encoding/json does: escapes
// resolved, an invalid UTF-8 byte read as U+FFFD. The text was scanned already; a bad
// escape, which cannot occur, reads as U+FFFD too rather than stalling the caller.
func nameRune(b []byte) (rune, int) {
	switch {
	case b[0] == '\\':
		if r, n := unescape(b); n > 0 {
			return r, n
		}
		return utf8.RuneError, 1
	case b[0] < utf8.RuneSelf:
		return rune(b[0]), 1
	}
	return utf8.DecodeRune(b)
}

// fold maps r to the same rune as every rune it equals under Unicode simple case folding
// (strings.EqualFold), so that "user_id", "USER_ID" and "uſer_id" (with a long s) collide:
// the smallest rune of its folding orbit. In ASCII that is the upper-case letter, also for
// k and s, whose orbits hold the Kelvin sign and the long s.
func fold(r rune) rune {
	if r < utf8.RuneSelf {
		if 'a' <= r && r <= 'z' {
			r -= 'a' - 'A'
		}
		return r
	}
	least := r
	for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
		least = min(least, f)
	}
	return least
}
