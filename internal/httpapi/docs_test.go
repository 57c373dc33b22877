package httpapi

import (
	"net/http"
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
		{"/api/docs/", "text/html; charset=utf-8", `<script src="/api/docs/docs.js"`},
		{"/api/docs", "text/html; charset=utf-8", `<script src="/api/docs/docs.js"`},
		{"/api/docs/docs.js", "text/javascript; charset=utf-8", `fetch("/api/schema/"`},
		{"/api/docs/docs.css", "text/css; charset=utf-8", ".operation"},
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
	for _, path := range []string{"/api/docs/index.html", "/api/docs/openapi.json", "/api/docs/..%2fschema.go", "/api/docs/docs.js/x"} {
		if r := in.get(t, path, ""); r.status != http.StatusNotFound {
			t.Errorf("GET %s = %d %s, want 404", path, r.status, r.body)
		}
	}
}

// TestDocsCSP: the policy allows this origin only and no inline code; the page keeps to it
// (no inline script or style, no URL of another host), or browsers would block it.
func TestDocsCSP(t *testing.T) {
	for _, directive := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "object-src 'none'", "frame-ancestors 'none'"} {
		if !strings.Contains(docsCSP, directive+";") && !strings.HasSuffix(docsCSP, directive) {
			t.Errorf("docsCSP = %q, want %q", docsCSP, directive)
		}
	}
	if strings.Contains(docsCSP, "unsafe-") {
		t.Errorf("docsCSP = %q allows unsafe sources", docsCSP)
	}
	inlineScript := regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`)
	inlineStyle := regexp.MustCompile(`<style|\sstyle=|\son[a-z]+=`)
	external := regexp.MustCompile(`(?i)(https?:)?//[a-z0-9.-]+\.[a-z]{2,}|@import|url\(`)
	for name := range docsAssets {
		path := "docs/" + name
		if name == "" {
			path = "docs/index.html"
		}
		body, err := docsFiles.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if path == "docs/index.html" && (inlineScript.Match(body) || inlineStyle.Match(body)) {
			t.Errorf("%s has inline script or style, which the CSP blocks", path)
		}
		if m := external.Find(body); m != nil {
			t.Errorf("%s refers to another host or resource (%q): the machines have no internet", path, m)
		}
	}
}
