package httpapi

import (
	"bytes"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// FuzzDecodeBody: whatever the content type and body, decoding answers a body or one of the
// contract's client errors — never a panic, never an error that would become a 500.
func FuzzDecodeBody(f *testing.F) {
	seeds := []struct{ contentType, body string }{
		{"application/json", `{"username":"a","password":"b"}`},
		{"application/json", `[1,2,3]`},
		{"application/json", `{"a":`},
		{"application/json; charset=utf-8", `{"a":1e999}`},
		{"application/x-www-form-urlencoded", "username=a&password=b"},
		{"application/x-www-form-urlencoded", "%zz=%"},
		{"multipart/form-data; boundary=x", "--x\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nb\r\n--x--\r\n"},
		{"multipart/form-data", "--x"},
		{"text/plain", "hello"},
		{"", "{}"},
		{"application/json;;;", "{}"},
	}
	for _, s := range seeds {
		f.Add(s.contentType, []byte(s.body))
	}
	f.Fuzz(func(t *testing.T, contentType string, body []byte) {
		req := httptest.NewRequest(http.MethodPost, "/api/token/", bytes.NewReader(body))
		req.Header.Set("Content-Type", contentType)
		req.Body = http.MaxBytesReader(httptest.NewRecorder(), req.Body, 1<<16)
		got, err := decodeBody(req, false)
		if err == nil {
			if got == nil {
				t.Fatalf("decodeBody(%q) = nil body and nil error", contentType)
			}
			return
		}
		var (
			fields *fieldErrors
			detail detailError
		)
		if !errors.As(err, &fields) && !errors.As(err, &detail) && !errors.Is(err, errBodyTooLarge) {
			t.Fatalf("decodeBody(%q) error %T %v is not a client error", contentType, err, err)
		}
	})
}

// FuzzTokenEndpoints posts arbitrary bodies to every auth endpoint of a real server and
// checks that no answer is a 5xx.
func FuzzTokenEndpoints(f *testing.F) {
	f.Add("/api/token/", "application/json", []byte(`{"username":"testuser","password":"password"}`))
	f.Add("/api/token/refresh/", "application/json", []byte(`{"refresh":"a.b.c"}`))
	f.Add("/api/token/verify/", "application/x-www-form-urlencoded", []byte(`token=eyJhbGciOiJub25lIn0.e30.`))
	f.Add("/api/token/blacklist/", "application/json", []byte(`{"refresh":12}`))
	f.Add("/login/", "multipart/form-data; boundary=b", []byte("--b\r\n"))
	in := newInstance(f, options{})
	paths := map[string]bool{"/api/token/": true, "/api/token/refresh/": true, "/api/token/verify/": true, "/api/token/blacklist/": true, "/login/": true}
	f.Fuzz(func(t *testing.T, path, contentType string, body []byte) {
		if !paths[path] || !validHeaderValue(contentType) {
			return // the client refuses to send such a header at all
		}
		r := in.do(t, http.MethodPost, path, contentType, bytes.NewReader(body))
		if r.status >= 500 {
			t.Fatalf("POST %s (%q) = %d %s, want no 5xx", path, contentType, r.status, r.body)
		}
	})
}

// validHeaderValue reports whether net/http's client would send v as a header value.
func validHeaderValue(v string) bool {
	return !strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 && r != '\t' || r == 0x7f })
}
