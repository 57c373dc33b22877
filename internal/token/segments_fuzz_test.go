package token

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

// referenceCheckObject is checkObject as first written, on encoding/json's Decoder: slow,
// but obviously faithful to how encoding/json reads a document. The scanner must agree
// with it on every input.
func referenceCheckObject(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return errNotObject
	}
	seen := map[string]bool{}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return errNotObject
		}
		name := referenceFold(tok.(string))
		if seen[name] {
			return errDuplicate
		}
		seen[name] = true
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return errNotObject
		}
	}
	if _, err := dec.Token(); err != nil {
		return errNotObject
	}
	if _, err := dec.Token(); err != io.EOF {
		return errTrailing
	}
	return nil
}

// referenceFold maps each rune to the smallest rune of its simple folding orbit.
func referenceFold(s string) string {
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

func TestCheckObjectAgreesWithDecoder(t *testing.T) {
	for _, doc := range checkObjectSeeds() {
		got, want := checkObject([]byte(doc)), referenceCheckObject([]byte(doc))
		if (got == nil) != (want == nil) {
			t.Errorf("checkObject(%q) = %v, the decoder says %v", doc, got, want)
		}
	}
}

// checkObjectSeeds are documents on the edges of JSON's grammar and of name matching.
func checkObjectSeeds() []string {
	many := func(n int, last string) string {
		var b strings.Builder
		b.WriteString("{")
		for i := range n {
			fmt.Fprintf(&b, `"n%d":%d,`, i, i)
		}
		return b.String() + last + "}"
	}
	return []string{
		`{}`, ` {} `, "\t{\r\n}\n", `{"a":1}`, `{"a":1,}`, `{,"a":1}`, `{"a":1 "b":2}`, `{"a" 1}`,
		`{"a":-0.5e+10,"b":1E3,"c":0,"d":-1}`, `{"a":01}`, `{"a":1.}`, `{"a":.5}`, `{"a":1e}`,
		`{"a":-}`, `{"a":+1}`, `{"a":true,"b":false,"c":null}`, `{"a":tru}`, `{"a":nul}`,
		`{"a":truex}`, `{"a":[1,[2,{"b":[]}]],"b":{}}`, `{"a":[1,]}`, `{"a":[,1]}`, `{"a":{"b"}}`,
		`{"a":"\"\\\/\b\f\n\r\t\u00e9"}`, `{"a":"\x"}`, `{"a":"\u12"}`, `{"a":"\u12g4"}`,
		"{\"a\":\"\x01\"}", "{\"a\x7f\":1,\"A\x7f\":2}", `{"\ud83d\ude00":1,"😀":2}`,
		`{"\ud83d":1,"\ude00":2}`, `{"\ud83d\u0041":1,"\ufffdA":2}`, `{"\ud83dx":1,"\ufffdx":2}`,
		"{\"\xff\":1,\"\xfe\":2}", "{\"\xed\xa0\x80\":1,\"\ufffd\ufffd\ufffd\":2}",
		`{"é":1,"É":2}`, `{"ǅ":1,"ǆ":2}`, `{"ß":1,"ẞ":2}`, `{"Σ":1,"ς":2}`, `{"\u0000":1,"\u0000":2}`,
		`{"a":1}  x`, `{"a":1}}`, `{"a":"x}`, `{"a`, `{"a":`, `{`, `}`, ` `, `null`, `1`,
		strings.Repeat(`{"a":`, 50) + "1" + strings.Repeat("}", 50),
		many(40, `"n3":0`), many(40, `"N39":0`), many(40, `"x":0`), many(31, `"N0":0`),
	}
}

// FuzzCheckObject checks that the scanner never panics and agrees with encoding/json's
// Decoder on which documents are single objects with distinct member names.
func FuzzCheckObject(f *testing.F) {
	for _, doc := range checkObjectSeeds() {
		f.Add([]byte(doc))
	}
	f.Add([]byte(payload()))
	f.Fuzz(func(t *testing.T, data []byte) {
		got, want := checkObject(data), referenceCheckObject(data)
		if (got == nil) != (want == nil) {
			t.Fatalf("checkObject(%q) = %v, the decoder says %v", data, got, want)
		}
	})
}

func TestCheckObjectManyNames(t *testing.T) {
	var b strings.Builder
	for i := range 1000 {
		fmt.Fprintf(&b, `"m%d":%d,`, i, i)
	}
	doc := "{" + b.String() + `"last":0}`
	if err := checkObject([]byte(doc)); err != nil {
		t.Errorf("checkObject(1001 distinct names) = %v, want nil", err)
	}
	for _, dup := range []string{`"M0"`, `"m999"`, `"LAST"`, `"m5\u0030"`} {
		bad := strings.TrimSuffix(doc, "}") + "," + dup + ":1}"
		if err := checkObject([]byte(bad)); err == nil {
			t.Errorf("checkObject(1001 names + %s) = nil, want a duplicate", dup)
		}
	}
}

// TestCheckObjectAllocations keeps the check of a usual header and payload free of heap
// allocations: it runs on every authenticated request.
func TestCheckObjectAllocations(t *testing.T) {
	k := mustKey(t, "HS256", 0)
	for _, doc := range []string{header(k, ""), payload()} {
		data := []byte(doc)
		allocs := testing.AllocsPerRun(100, func() {
			if err := checkObject(data); err != nil {
				t.Fatal(err)
			}
		})
		if allocs != 0 {
			t.Errorf("checkObject(%s) made %v allocations, want 0", doc, allocs)
		}
	}
}

func TestFoldedName(t *testing.T) {
	tests := []struct {
		in, want string
	}{
		{"user_id", "USER_ID"},
		{"uſer_id", "USER_ID"},
		{"\u212a", "K"},
		{"é", "É"},
		{"ǅ", "Ǆ"},
		{"\ufffd", "\ufffd"},
		{"1-_", "1-_"},
		{`a\u0062\/`, "AB/"},
		{`\ud83d\ude00`, "😀"},
		{`\ud83d`, "\ufffd"},
		{"\xff", "\ufffd"},
	}
	for _, tc := range tests {
		if got := foldedName([]byte(tc.in)); got != tc.want || !utf8.ValidString(got) {
			t.Errorf("foldedName(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// BenchmarkCheckSegments measures the duplicate-member check of a usual access token, the
// part of Parse that runs before any signature check.
func BenchmarkCheckSegments(b *testing.B) {
	s := mustService(b, testConfig(), mustKey(b, "HS256", 0))
	raw, _ := mustIssueAccess(b, s, t0)
	b.ReportAllocs()
	for b.Loop() {
		if err := checkSegments(raw); err != nil {
			b.Fatal(err)
		}
	}
}
