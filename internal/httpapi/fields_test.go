package httpapi

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
)

// mustBody decodes a JSON object as decodeJSON would (numbers as json.Number).
func mustBody(t *testing.T, raw string) formBody {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(raw))
	dec.UseNumber()
	var b formBody
	if err := dec.Decode(&b); err != nil {
		t.Fatalf("decode %s: %v", raw, err)
	}
	return b
}

func TestIntegerField(t *testing.T) {
	rule := intRule{nullable: true, min: 0, max: 100}
	tests := []struct {
		raw  string
		want string // the value, "null", or the error message
	}{
		{`{"v":7}`, "7"},
		{`{"v":"7"}`, "7"},
		{`{"v":" 7 "}`, "7"},
		{`{"v":"12.0"}`, "12"},
		{`{"v":12.00}`, "12"},
		{`{"v":"+5"}`, "5"},
		{`{"v":null}`, "null"},
		{`{"v":1.5}`, msgInteger},
		{`{"v":"1e2"}`, msgInteger},
		{`{"v":""}`, msgInteger},
		{`{"v":false}`, msgInteger},
		{`{"v":{}}`, msgInteger},
		{`{"v":101}`, "Ensure this value is less than or equal to 100."},
		{`{"v":-1}`, "Ensure this value is greater than or equal to 0."},
		{`{"v":-99999999999999999999}`, "Ensure this value is greater than or equal to 0."},
	}
	for _, tt := range tests {
		errs := newFieldErrors()
		v, ok := mustBody(t, tt.raw).integer(errs, "v", rule)
		got := fmt.Sprint(errs.messages["v"])
		switch {
		case ok && v == nil:
			got = "null"
		case ok:
			got = fmt.Sprint(*v)
		default:
			got = strings.Trim(got, "[]")
		}
		if got != tt.want {
			t.Errorf("integer(%s) = %s, want %s", tt.raw, got, tt.want)
		}
	}
}

func TestBooleanField(t *testing.T) {
	for raw, want := range map[string]string{
		`{"v":true}`: "true", `{"v":"yes"}`: "true", `{"v":"on"}`: "true", `{"v":1}`: "true", `{"v":"True"}`: "true",
		`{"v":false}`: "false", `{"v":"0"}`: "false", `{"v":"off"}`: "false", `{"v":"N"}`: "false",
		`{"v":"maybe"}`: msgBoolean, `{"v":2}`: msgBoolean, `{"v":[]}`: msgBoolean, `{"v":null}`: msgNull,
	} {
		errs := newFieldErrors()
		v, ok := mustBody(t, raw).boolean(errs, "v")
		got := fmt.Sprint(v)
		if !ok {
			got = strings.Trim(fmt.Sprint(errs.messages["v"]), "[]")
		}
		if got != want {
			t.Errorf("boolean(%s) = %s, want %s", raw, got, want)
		}
	}
}

func TestValidEmail(t *testing.T) {
	for s, want := range map[string]bool{
		"a@example.com": true, "first.last+tag@sub.example.org": true, "x@localhost": true,
		"nope": false, "@example.com": false, "a@": false, "a@b": false, "a@@example.com": false,
		"a b@example.com": false, "a@example..com": false, ".a@example.com": false, "a@-example.com": false,
	} {
		if got := validEmail(s); got != want {
			t.Errorf("validEmail(%q) = %v, want %v", s, got, want)
		}
	}
}

func TestUsernameField(t *testing.T) {
	for name, want := range map[string]bool{
		"ada": true, "a.b@c+d-e_f": true, "Zoë": true, "用户": true, "12": true,
		"a b": false, "a/b": false, "a!": false, "a\x00": false,
	} {
		errs := newFieldErrors()
		_, ok := formBody{"username": name}.username(errs, "username", true)
		if ok != want {
			t.Errorf("username(%q) ok = %v, want %v (%v)", name, ok, want, errs.messages)
		}
	}
}
