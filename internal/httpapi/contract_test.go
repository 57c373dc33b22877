package httpapi

import (
	"net/http"
	"testing"

	"github.com/ciphemic/ciphemic/internal/openapitest"
)

// checkContract wraps a test server's handler so that every exchange of the test is held
// to the served OpenAPI document (internal/openapitest). Fuzz targets and benchmarks pass
// an F or a B, which may not report from a handler's goroutine; they run unchecked.
func checkContract(t testing.TB, h http.Handler) http.Handler {
	tt, ok := t.(*testing.T)
	if !ok {
		return h
	}
	v, err := openapitest.New(OpenAPIDocument())
	if err != nil {
		t.Fatal(err)
	}
	return openapitest.Handler(tt, v, h)
}
