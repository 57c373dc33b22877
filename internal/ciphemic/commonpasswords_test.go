package ciphemic

import (
	"bytes"
	"compress/gzip"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/trustelem/zxcvbn/frequency"
)

var updateZxcvbn = flag.Bool("update-zxcvbn", false, "write zxcvbn-passwords.txt.gz from the zxcvbn module go.mod pins")

// TestZxcvbnListIsThePinnedModules: the embedded zxcvbn list is, entry for entry and in
// order, the "passwords" frequency list of the zxcvbn module that go.mod pins. After an
// upgrade of the module, `go test ./internal/ciphemic -run ZxcvbnList -update-zxcvbn`
// writes it anew.
func TestZxcvbnListIsThePinnedModules(t *testing.T) {
	want := frequency.FrequencyLists["passwords"]
	if len(want) == 0 {
		t.Fatal("the zxcvbn module has no passwords list")
	}
	if *updateZxcvbn {
		var text strings.Builder
		for _, pw := range want {
			if strings.ContainsAny(pw, "\r\n") {
				t.Fatalf("zxcvbn entry %q holds a line break: one entry a line cannot hold it", pw)
			}
			text.WriteString(pw + "\n")
		}
		var gz bytes.Buffer
		zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression) // the level is valid
		if _, err := zw.Write([]byte(text.String())); err != nil {
			t.Fatal(err)
		}
		if err := zw.Close(); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("zxcvbn-passwords.txt.gz", gz.Bytes(), 0o644); err != nil { // #nosec G306 -- a public word list in the source tree
			t.Fatal(err)
		}
		t.Logf("wrote zxcvbn-passwords.txt.gz: %d entries; rebuild to embed it", len(want))
		return
	}
	if got := zxcvbnPasswords(); !slices.Equal(got, want) {
		t.Fatalf("zxcvbn-passwords.txt.gz holds %d entries, the pinned module %d (or they differ): run this test with -update-zxcvbn", len(got), len(want))
	}
}

// TestCommonPasswordSet: the sorted set answers exactly its entries.
func TestCommonPasswordSet(t *testing.T) {
	entries := []string{"b", "a", "", "abc", "ab", "b", "zzz", "é"}
	s := newSortedSet(entries)
	if s.len() != 7 {
		t.Errorf("len = %d, want 7 (duplicates counted once)", s.len())
	}
	for _, e := range entries {
		if !s.has(e) {
			t.Errorf("has(%q) = false", e)
		}
	}
	for _, v := range []string{"aa", "abcd", "c", "zzzz", "e", " "} {
		if s.has(v) {
			t.Errorf("has(%q) = true", v)
		}
	}
	if newSortedSet(nil).has("") {
		t.Error("the empty set has the empty string")
	}
	// The whole list: every entry of either source, prepared as the validator compares
	// it, is in it, and it holds nothing else.
	set := commonPasswords()
	union := djangoCommonPasswords()
	for _, pw := range frequency.FrequencyLists["passwords"] {
		if pw = pythonStrip(pythonLower(pw)); pw != "" {
			union = append(union, pw)
		}
	}
	slices.Sort(union)
	union = slices.Compact(union)
	if set.len() != len(union) {
		t.Fatalf("the set holds %d entries, the union of the lists %d", set.len(), len(union))
	}
	for i, pw := range union {
		if set.at(i) != pw || !IsCommonPassword(pw) {
			t.Fatalf("entry %d: %q, want %q", i, set.at(i), pw)
		}
	}
}
