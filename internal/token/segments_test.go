package token

import (
	"strings"
	"testing"
)

func TestCheckObject(t *testing.T) {
	tests := []struct {
		json string
		ok   bool
	}{
		{`{}`, true},
		{`{"a":1,"b":{"a":1,"a":2},"c":[1,1]}`, true}, // only top-level names must be distinct
		{` {"a":"x"} `, true},
		{`{"a":1,"a":1}`, false},
		{`{"a":1,"A":2}`, false},
		{`{"s":1,"ſ":2}`, false},
		{`{"k":1,"\u212a":2}`, false},
		{`{"a\u0062":1,"ab":2}`, false}, // escapes are compared decoded
		{`{"a":1}{}`, false},
		{`{"a":1} x`, false},
		{`{"a":1`, false},
		{`{"a":}`, false},
		{`[1]`, false},
		{`"x"`, false},
		{``, false},
	}
	for _, tc := range tests {
		if err := checkObject([]byte(tc.json)); (err == nil) != tc.ok {
			t.Errorf("checkObject(%s) = %v, want ok=%v", tc.json, err, tc.ok)
		}
	}
}

func TestCheckSegments(t *testing.T) {
	obj := seg(`{"a":1}`) // 10 characters: its last one has unused bits
	tests := map[string]bool{
		obj + "." + obj + ".sig":                             true,
		obj + "." + obj + ".":                                true, // the signature is the parser's business
		obj + "." + obj:                                      false,
		obj + "." + obj + ".sig.x":                           false,
		obj + "==." + obj + ".sig":                           false,
		obj + "." + nonCanonical(t, obj) + ".sig":            false,
		nonCanonical(t, obj) + "." + obj + ".sig":            false,
		obj + "." + seg(`{"a":1,"a":2}`) + ".sig":            false,
		seg(`{"a":1,"a":2}`) + "." + obj + ".sig":            false,
		obj + "." + seg(`{"a":1}trailing`) + ".x":            false,
		obj + "." + strings.ReplaceAll(obj, "e", "+") + ".x": false,
	}
	for raw, ok := range tests {
		if err := checkSegments(raw); (err == nil) != ok {
			t.Errorf("checkSegments(%q) = %v, want ok=%v", raw, err, ok)
		}
	}
}
