package httpapi

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"regexp"
	"strings"
	"testing"
)

// TestDocsAssets: the page and its assets are served from the binary with their media
// types, without credentials, each under the page's Content-Security-Policy; other names
// under /api/docs/ are the contract's 404.
func TestDocsAssets(t *testing.T) {
	in := newInstance(t, options{})
	tests := []struct {
		path, media, contains string
	}{
		{"/api/docs/", "text/html; charset=utf-8", `<script src="/api/docs/swagger-ui-bundle.js"`},
		{"/api/docs", "text/html; charset=utf-8", `<script src="/api/docs/init.js"`},
		{"/api/docs/init.js", "text/javascript; charset=utf-8", `url: "/api/schema/"`},
		{"/api/docs/docs.css", "text/css; charset=utf-8", "body"},
		{"/api/docs/swagger-ui-bundle.js", "text/javascript; charset=utf-8", "SwaggerUIBundle"},
		{"/api/docs/swagger-ui.css", "text/css; charset=utf-8", ".swagger-ui"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			r := in.get(t, tt.path, "")
			if r.status != http.StatusOK || !strings.Contains(string(r.body), tt.contains) {
				t.Fatalf("GET %s = %d, want 200 containing %q", tt.path, r.status, tt.contains)
			}
			if ct := r.header.Get("Content-Type"); ct != tt.media {
				t.Errorf("GET %s Content-Type = %q, want %q", tt.path, ct, tt.media)
			}
			if csp := r.header.Get("Content-Security-Policy"); csp != docsCSP {
				t.Errorf("GET %s Content-Security-Policy = %q, want %q", tt.path, csp, docsCSP)
			}
		})
	}
	for _, path := range []string{"/api/docs/index.html", "/api/docs/openapi.json", "/api/docs/..%2fschema.go",
		"/api/docs/init.js/x", "/api/docs/swagger-ui/LICENSE", "/api/docs/package.json"} {
		if r := in.get(t, path, ""); r.status != http.StatusNotFound {
			t.Errorf("GET %s = %d %s, want 404", path, r.status, r.body)
		}
	}
}

// TestDocsAssetsDocumented: /api/docs/{asset} names exactly the assets it serves.
func TestDocsAssetsDocumented(t *testing.T) {
	var doc struct {
		Paths map[string]struct {
			Get struct {
				Parameters []struct {
					Name   string
					Schema struct{ Enum []string }
				}
			}
		}
	}
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	params := doc.Paths["/api/docs/{asset}"].Get.Parameters
	if len(params) != 1 || params[0].Name != "asset" {
		t.Fatalf("GET /api/docs/{asset} parameters = %+v, want one, asset", params)
	}
	documented := map[string]bool{}
	for _, name := range params[0].Schema.Enum {
		documented[name] = true
		if _, ok := docsAssets[name]; !ok || name == "" {
			t.Errorf("openapi.json names asset %q, which is not served", name)
		}
	}
	for name := range docsAssets {
		if name != "" && !documented[name] {
			t.Errorf("asset %q is served but not in the enum of /api/docs/{asset}", name)
		}
	}
}

// TestDocsCSP: the policy allows this origin only and no inline code; the page's own
// files keep to it (no inline script or style, no URL of another host), or browsers would
// block them. Swagger UI's bundle is held to the policy by the browser test.
func TestDocsCSP(t *testing.T) {
	for _, directive := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "connect-src 'self'",
		"img-src 'self' data:", "object-src 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(docsCSP, directive+";") && !strings.HasSuffix(docsCSP, directive) {
			t.Errorf("docsCSP = %q, want %q", docsCSP, directive)
		}
	}
	if strings.Contains(docsCSP, "unsafe-") || strings.Contains(docsCSP, "*") || strings.Contains(docsCSP, "http") {
		t.Errorf("docsCSP = %q allows unsafe sources or other origins", docsCSP)
	}
	inlineScript := regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`)
	inlineStyle := regexp.MustCompile(`<style|\sstyle=|\son[a-z]+=`)
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}|@import|url\(`)
	for _, name := range []string{"", "init.js", "docs.css"} {
		body, err := docsFiles.ReadFile(docsAssets[name].path)
		if err != nil {
			t.Fatal(err)
		}
		if name == "" && (inlineScript.Match(body) || inlineStyle.Match(body)) {
			t.Errorf("%s has inline script or style, which the CSP blocks", docsAssets[name].path)
		}
		if m := external.Find(body); m != nil {
			t.Errorf("%s refers to another host or resource (%q): the machines have no internet", docsAssets[name].path, m)
		}
	}
}

// TestDocsViewerPinned: the embedded Swagger UI is the release package-lock.json pins, so
// `docs/refresh.sh` is the only way it changes.
func TestDocsViewerPinned(t *testing.T) {
	var lock struct {
		Packages map[string]struct{ Version string } `json:"packages"`
	}
	raw, err := os.ReadFile("docs/package-lock.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &lock); err != nil {
		t.Fatal(err)
	}
	var pkg struct{ Dependencies map[string]string }
	raw, err = os.ReadFile("docs/package.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &pkg); err != nil {
		t.Fatal(err)
	}
	pinned := lock.Packages["node_modules/swagger-ui-dist"].Version
	if want := pkg.Dependencies["swagger-ui-dist"]; pinned == "" || want != pinned {
		t.Fatalf("package.json wants swagger-ui-dist %q, the lock pins %q: pin an exact version", want, pinned)
	}
	embedded, err := os.ReadFile("docs/swagger-ui/VERSION")
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(string(embedded)); got != pinned {
		t.Errorf("docs/swagger-ui/ holds swagger-ui-dist %s, the lock pins %s: run docs/refresh.sh", got, pinned)
	}
}

// TestDocsGzip: Swagger UI's files, embedded compressed, go as they are to a client that
// takes gzip (every browser) and decompressed, byte for byte the package's file, under an
// ETag of their own, to one that does not; both vary by Accept-Encoding.
func TestDocsGzip(t *testing.T) {
	in := newInstance(t, options{})
	for asset, file := range map[string]string{"swagger-ui-bundle.js": "docs/swagger-ui/swagger-ui-bundle.js", "swagger-ui.css": "docs/swagger-ui/swagger-ui.css"} {
		compressed, err := os.ReadFile(file + ".gz")
		if err != nil {
			t.Fatal(err)
		}
		want, err := gunzip(compressed)
		if err != nil || len(want) < len(compressed) {
			t.Fatalf("%s.gz does not decompress: %d bytes, %v", file, len(want), err)
		}
		path := "/api/docs/" + asset
		// Named, so that Go's client does not ask for gzip and decompress behind the test.
		plain := in.do(t, "GET", path, "", nil, "Accept-Encoding: identity")
		if plain.status != http.StatusOK || !bytes.Equal(plain.body, want) || plain.header.Get("Content-Encoding") != "" {
			t.Errorf("GET %s, Accept-Encoding identity = %d, Content-Encoding %q, %d bytes; want 200, none, %s's %d bytes",
				path, plain.status, plain.header.Get("Content-Encoding"), len(plain.body), file, len(want))
		}
		for _, accept := range []string{"gzip", "gzip, deflate, br", "br;q=1.0, gzip;q=0.8", "*", "identity;q=0.5, *;q=0.1"} {
			r := in.do(t, "GET", path, "", nil, "Accept-Encoding: "+accept)
			if r.header.Get("Content-Encoding") != "gzip" {
				t.Errorf("GET %s, Accept-Encoding %q: Content-Encoding %q, want gzip", path, accept, r.header.Get("Content-Encoding"))
				continue
			}
			zr, err := gzip.NewReader(bytes.NewReader(r.body))
			if err != nil {
				t.Fatal(err)
			}
			if got, err := io.ReadAll(zr); err != nil || !bytes.Equal(got, want) {
				t.Errorf("GET %s, Accept-Encoding %q: the gzip body does not decompress to %s (%v)", path, accept, file, err)
			}
			if r.header.Get("ETag") == plain.header.Get("ETag") {
				t.Errorf("GET %s: the gzip and plain answers share the ETag %s", path, r.header.Get("ETag"))
			}
			if r.header.Get("Vary") != "Accept-Encoding" || plain.header.Get("Vary") != "Accept-Encoding" {
				t.Errorf("GET %s: Vary %q and %q, want Accept-Encoding on both", path, r.header.Get("Vary"), plain.header.Get("Vary"))
			}
		}
		for _, refuse := range []string{"gzip;q=0", "br", "*;q=0", "gzip;q=0, *", "gzip;q=abc", "identity"} {
			if r := in.do(t, "GET", path, "", nil, "Accept-Encoding: "+refuse); r.header.Get("Content-Encoding") != "" || !bytes.Equal(r.body, want) {
				t.Errorf("GET %s, Accept-Encoding %q: Content-Encoding %q, want the plain file", path, refuse, r.header.Get("Content-Encoding"))
			}
		}
		etag := plain.header.Get("ETag")
		if r := in.do(t, "GET", path, "", nil, "Accept-Encoding: identity", "If-None-Match: "+etag); r.status != http.StatusNotModified {
			t.Errorf("GET %s, If-None-Match its own ETag = %d, want 304", path, r.status)
		}
	}
}
