package httpapi

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"net/http"
	"time"
)

// openAPIDocument is the OpenAPI 3.1 description of routes.go, written by hand;
// schema_test.go fails when a route and the document disagree.
//
//go:embed openapi.json
var openAPIDocument []byte

// OpenAPIDocument returns the document GET /api/schema/ serves, for the contract tests of
// other packages and the lint step of CI. The caller must not modify it.
func OpenAPIDocument() []byte { return openAPIDocument }

// docsFiles is the documentation page. It is served from the binary because the machines
// that run ciphemic may have no internet: no CDN, no external fonts.
//
//go:embed docs/index.html docs/docs.js docs/docs.css
var docsFiles embed.FS

// docsAssets are the files of /api/docs/ by name, with their media types; anything else
// under /api/docs/ is not found.
var docsAssets = map[string]string{
	"":         "text/html; charset=utf-8",
	"docs.js":  "text/javascript; charset=utf-8",
	"docs.css": "text/css; charset=utf-8",
}

// docsCSP confines the page to its own origin: scripts, styles and the schema fetch come
// from this server only, and no inline script or style runs, so a schema text that looked
// like markup could not execute even if it reached the page as HTML.
const docsCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// staticCache lets clients and proxies keep the schema and the page briefly: they change
// only with the binary, and the ETag makes revalidation cheap.
const staticCache = "public, max-age=300"

// handleSchema serves GET /api/schema/: the OpenAPI document.
func handleSchema() http.Handler {
	etag := contentETag(openAPIDocument)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		serveStatic(w, r, "application/vnd.oai.openapi+json", etag, openAPIDocument)
	})
}

// handleDocs serves GET /api/docs/ (the page) and GET /api/docs/{asset} (its script and
// style sheet).
func handleDocs() http.Handler {
	type file struct {
		body        []byte
		etag, media string
	}
	files := map[string]file{}
	for name, media := range docsAssets {
		path := "docs/" + name
		if name == "" {
			path = "docs/index.html"
		}
		body, err := docsFiles.ReadFile(path)
		if err != nil {
			panic("httpapi: docs asset missing from the binary: " + path)
		}
		files[name] = file{body: body, etag: contentETag(body), media: media}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := files[r.PathValue("asset")]
		if !ok {
			encode(w, r, http.StatusNotFound, detailBody{msgNotFound})
			return
		}
		w.Header().Set("Content-Security-Policy", docsCSP)
		serveStatic(w, r, f.media, f.etag, f.body)
	})
}

// serveStatic answers with an embedded file, honouring If-None-Match and HEAD.
func serveStatic(w http.ResponseWriter, r *http.Request, media, etag string, body []byte) {
	h := w.Header()
	h.Set("Content-Type", media)
	h.Set("Cache-Control", staticCache)
	h.Set("ETag", etag)
	http.ServeContent(w, r, "", time.Time{}, bytes.NewReader(body))
}

// contentETag is a strong validator derived from the content.
func contentETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:8]) + `"`
}
