package httpapi

import (
	"strconv"
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
