package main

import (
	"net/http"
	"testing"

	"github.com/ciphemic/ciphemic/internal/httpapi"
	"github.com/ciphemic/ciphemic/internal/openapitest"
)

// contractClient is the client of the end-to-end helpers: every exchange it makes with a
// server started through run() is held to the OpenAPI document that server serves
// (internal/openapitest), and a mismatch fails the test.
func contractClient(t testing.TB) *http.Client {
	t.Helper()
	v, err := openapitest.New(httpapi.OpenAPIDocument())
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Transport: openapitest.Transport(t, v, http.DefaultTransport)}
}
