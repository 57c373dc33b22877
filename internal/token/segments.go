package token

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"
)

// strictB64 refuses padding and non-zero trailing bits, so that a token has exactly one
// encoding and its text cannot be varied without breaking the signature.
var strictB64 = b64.Strict()

// checkSegments checks, before the parser trusts them, that raw has three segments and
// that its header and payload are canonical base64url of JSON objects without duplicate
// members. Go's JSON decoder keeps the last of duplicate members (and matches struct
// fields case-insensitively) while other parsers may keep the first; refusing duplicates
// means every reader sees the same claims.
func checkSegments(raw string) error {
	header, rest, ok := strings.Cut(raw, ".")
	payload, sig, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || strings.Contains(sig, ".") {
		return reason("not three segments")
	}
	for _, seg := range []string{header, payload} {
		data, err := strictB64.DecodeString(seg)
		if err != nil {
			return reason("segment is not canonical base64url")
		}
		if err := checkObject(data); err != nil {
			return err
		}
	}
	return nil
}

// checkObject reports whether data is one JSON object whose members have distinct names,
// comparing names the way encoding/json matches them to struct fields.
func checkObject(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return reason("segment is not a JSON object")
	}
	seen := make(map[string]struct{}, 8)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return reason("segment is not a JSON object")
		}
		name := foldName(tok.(string)) // the decoder guarantees a member name here
		if _, dup := seen[name]; dup {
			return reason("duplicate JSON member")
		}
		seen[name] = struct{}{}
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return reason("segment is not a JSON object")
		}
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return reason("segment is not a JSON object")
	}
	if _, err := dec.Token(); err != io.EOF {
		return reason("data after the JSON object")
	}
	return nil
}

// foldName maps every name to the same string as the names it equals under Unicode simple
// case folding (strings.EqualFold), so that "user_id", "USER_ID" and "uſer_id" (with a
// long s) collide: each rune becomes the smallest rune of its folding orbit.
func foldName(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToUpper(s) // in ASCII the upper-case letter is the smallest of its orbit
	}
	var b strings.Builder
	for _, r := range s {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		b.WriteRune(least)
	}
	return b.String()
}
