package httpapi

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
)

// TestContentLength: the shared values of small lengths and the made ones of large
// lengths all say the length.
func TestContentLength(t *testing.T) {
	for _, n := range []int{0, 1, 9, 10, 255, 1023, 2047, 2048, 2049, 1 << 20} {
		if got := contentLength(n); len(got) != 1 || got[0] != strconv.Itoa(n) {
			t.Errorf("contentLength(%d) = %q, want [%q]", n, got, strconv.Itoa(n))
		}
	}
}

// TestWriteJSONIsNeverChunked: over a real HTTP/1.1 connection, a JSON answer of any size
// carries its Content-Length, whether net/http counts it (bodies that fit its buffer) or
// writeJSON sets it (larger ones, and HEAD answers, which write no body), through the
// whole middleware chain.
func TestWriteJSONIsNeverChunked(t *testing.T) {
	sizes := []int{0, 1, 160, netHTTPBufferedBody - 1, netHTTPBufferedBody, netHTTPBufferedBody + 1, 5000, 1 << 20}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, err := strconv.Atoi(r.URL.Query().Get("n"))
		if err != nil {
			t.Errorf("bad size %q", r.URL.RawQuery)
			return
		}
		writeJSON(w, r, http.StatusOK, []byte(`"` + strings.Repeat("x", max(0, n-2)) + `"`)[:n])
	})
	srv := httptest.NewServer(withMiddleware(Config{MaxBodyBytes: 1 << 20, AllowedHosts: []string{"127.0.0.1"}, Logger: slog.New(slog.DiscardHandler)}, nil, h))
	defer srv.Close()
	for _, method := range []string{http.MethodGet, http.MethodHead} {
		for _, n := range sizes {
			req, err := http.NewRequest(method, srv.URL+"/?n="+strconv.Itoa(n), nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("%s %d bytes: status %d: %s", method, n, resp.StatusCode, body)
			}
			if len(resp.TransferEncoding) > 0 || resp.ContentLength != int64(n) {
				t.Errorf("%s %d bytes: Transfer-Encoding %q, Content-Length %d", method, n, resp.TransferEncoding, resp.ContentLength)
			}
			if want := n; method == http.MethodHead {
				want = 0
				if len(body) != want {
					t.Errorf("HEAD %d bytes: got a body of %d", n, len(body))
				}
			} else if len(body) != want {
				t.Errorf("GET %d bytes: got %d", n, len(body))
			}
		}
	}
}
