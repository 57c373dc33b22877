package httpapi

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io"
	"net/http"
	"strconv"
	"strings"
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

// docsFiles is the documentation page: Swagger UI (docs/swagger-ui/, the swagger-ui-dist
// release docs/package-lock.json pins, copied by docs/refresh.sh) and the few lines that
// point it at /api/schema/. It is served from the binary because the machines that run
// ciphemic may have no internet: no CDN, no external fonts.
//
// Swagger UI's two files are kept gzip-compressed (refresh.sh writes them so): the
// script is 1.7 MB as it is, 0.45 MB compressed, in the repository, in the binary and on
// the wire.
//
//go:generate sh docs/refresh.sh
//go:embed docs/index.html docs/init.js docs/docs.css docs/swagger-ui/swagger-ui-bundle.js.gz docs/swagger-ui/swagger-ui.css.gz
var docsFiles embed.FS

// docsAsset is a file of /api/docs/: where it is embedded, its media type, and whether
// the embedded file is gzip-compressed.
type docsAsset struct {
	path, media string
	gzipped     bool
}

// docsAssets are the files of /api/docs/ by name ("" is the page itself); anything else
// under /api/docs/ is not found.
var docsAssets = map[string]docsAsset{
	"":                     {"docs/index.html", "text/html; charset=utf-8", false},
	"init.js":              {"docs/init.js", "text/javascript; charset=utf-8", false},
	"docs.css":             {"docs/docs.css", "text/css; charset=utf-8", false},
	"swagger-ui-bundle.js": {"docs/swagger-ui/swagger-ui-bundle.js.gz", "text/javascript; charset=utf-8", true},
	"swagger-ui.css":       {"docs/swagger-ui/swagger-ui.css.gz", "text/css; charset=utf-8", true},
}

// docsCSP confines the page to its own origin: scripts, styles, the schema and every
// "Try it out" request go to this server only, and no inline script runs, so a schema
// text that looked like markup could not execute even if it reached the page as HTML.
// Images may also be data: URLs, which Swagger UI's style sheet draws its icons with.
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

// handleDocs serves GET /api/docs/ (the page) and GET /api/docs/{asset} (its scripts and
// style sheets).
func handleDocs() http.Handler {
	type file struct {
		body        []byte
		etag, media string
		gzipped     bool
	}
	files := map[string]file{}
	for name, asset := range docsAssets {
		body, err := docsFiles.ReadFile(asset.path)
		if err != nil {
			panic("httpapi: docs asset missing from the binary: " + asset.path)
		}
		files[name] = file{body: body, etag: contentETag(body), media: asset.media, gzipped: asset.gzipped}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f, ok := files[r.PathValue("asset")]
		if !ok {
			encode(w, r, http.StatusNotFound, detailBody{msgNotFound})
			return
		}
		w.Header().Set("Content-Security-Policy", docsCSP)
		if !f.gzipped {
			serveStatic(w, r, f.media, f.etag, f.body)
			return
		}
		w.Header().Add("Vary", "Accept-Encoding")
		if acceptsGzip(r) {
			w.Header().Set("Content-Encoding", "gzip")
			serveStatic(w, r, f.media, f.etag, f.body)
			return
		}
		// A client that takes no gzip (no browser): decompressed for it alone, under an
		// ETag of its own, since the two answers are different representations.
		body, err := gunzip(f.body)
		if err != nil {
			writeError(w, r, err)
			return
		}
		serveStatic(w, r, f.media, identityETag(f.etag), body)
	})
}

// acceptsGzip reports whether r's Accept-Encoding takes gzip (RFC 9110 §12.5.3): gzip
// listed with a non-zero q, or, when gzip is not named, "*" with one.
func acceptsGzip(r *http.Request) bool {
	gzipQ, anyQ := -1.0, -1.0
	for _, field := range r.Header.Values("Accept-Encoding") {
		for part := range strings.SplitSeq(field, ",") {
			coding, params, _ := strings.Cut(part, ";")
			q := 1.0
			for param := range strings.SplitSeq(params, ";") {
				if v, ok := strings.CutPrefix(strings.ToLower(strings.TrimSpace(param)), "q="); ok {
					if f, err := strconv.ParseFloat(v, 64); err == nil && f >= 0 && f <= 1 {
						q = f
					} else {
						q = 0 // a q that is not one is no acceptance
					}
				}
			}
			switch strings.ToLower(strings.TrimSpace(coding)) {
			case "gzip", "x-gzip":
				gzipQ = q
			case "*":
				anyQ = q
			}
		}
	}
	if gzipQ >= 0 {
		return gzipQ > 0
	}
	return anyQ > 0
}

func gunzip(b []byte) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	return io.ReadAll(zr)
}

// identityETag is the ETag of the decompressed answer of a file whose gzip answer has etag.
func identityETag(etag string) string { return strings.TrimSuffix(etag, `"`) + `-identity"` }

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
