// Package openapitest holds HTTP exchanges to the OpenAPI document the server serves: the
// handler and end-to-end suites pass every request and response through a Validator, so a
// body, status or header the document does not describe fails the test that produced it.
//
// It uses github.com/pb33f/libopenapi-validator, a maintained OpenAPI 3.1 validator (JSON
// Schema 2020-12), so the document is checked the way contract-testing tools read it,
// not the way this project wrote it.
package openapitest

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/helpers"
	"github.com/pb33f/libopenapi-validator/responses"
	"github.com/pb33f/libopenapi/datamodel/high/base"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"
	"github.com/pb33f/libopenapi/orderedmap"
)

// Validator checks exchanges against one OpenAPI document. It is safe for concurrent use.
type Validator struct {
	check validator.Validator
	model *v3.Document
	paths []documentedPath
	// components are the shared responses, for answers no operation describes.
	components *orderedmap.Map[string, *v3.Response]
	detail     *base.SchemaProxy // components/schemas/Detail: the body of a 405
}

// documentedPath is a path template of the document and what matches it.
type documentedPath struct {
	template string
	re       *regexp.Regexp
	item     *v3.PathItem
}

var (
	cacheMu sync.Mutex
	cache   = map[[32]byte]*Validator{}
)

// New returns the Validator of doc. Building one takes a while, and the suites start
// hundreds of servers with the same document, so it is built once per document.
func New(doc []byte) (*Validator, error) {
	key := sha256.Sum256(doc)
	cacheMu.Lock()
	defer cacheMu.Unlock()
	if v, ok := cache[key]; ok {
		return v, nil
	}
	v, err := build(doc)
	if err != nil {
		return nil, err
	}
	cache[key] = v
	return v, nil
}

func build(doc []byte) (*Validator, error) {
	parsed, err := libopenapi.NewDocument(doc)
	if err != nil {
		return nil, fmt.Errorf("openapitest: parse the document: %w", err)
	}
	model, err := parsed.BuildV3Model()
	if err != nil {
		return nil, fmt.Errorf("openapitest: build the document's model: %w", err)
	}
	check, errs := validator.NewValidator(parsed)
	if len(errs) > 0 {
		return nil, fmt.Errorf("openapitest: build the validator: %v", errs)
	}
	if ok, problems := check.ValidateDocument(); !ok {
		return nil, fmt.Errorf("openapitest: the document is not valid OpenAPI: %v", problems)
	}
	v := &Validator{check: check, model: &model.Model}
	for template, item := range model.Model.Paths.PathItems.FromOldest() {
		v.paths = append(v.paths, documentedPath{template: template, re: templateRE(template), item: item})
	}
	if c := model.Model.Components; c != nil {
		v.components = c.Responses
		v.detail = c.Schemas.GetOrZero("Detail")
	}
	if v.detail == nil {
		return nil, fmt.Errorf("openapitest: the document lacks components/schemas/Detail")
	}
	for _, name := range sharedAnswers {
		if v.components.GetOrZero(name) == nil {
			return nil, fmt.Errorf("openapitest: the document lacks components/responses/%s", name)
		}
	}
	return v, nil
}

// templateRE matches the request paths of a path template: each {name} is one segment.
func templateRE(template string) *regexp.Regexp {
	var b strings.Builder
	b.WriteString("^")
	for i, part := range strings.Split(template, "/") {
		if i > 0 {
			b.WriteString("/")
		}
		if strings.HasPrefix(part, "{") && strings.HasSuffix(part, "}") {
			b.WriteString("[^/]+")
		} else {
			b.WriteString(regexp.QuoteMeta(part))
		}
	}
	b.WriteString("$")
	return regexp.MustCompile(b.String())
}

// Exchange is one finished request and its answer, bodies read.
type Exchange struct {
	Request      *http.Request
	RequestBody  []byte
	Status       int
	Header       http.Header
	ResponseBody []byte
}

// Problems are what Check found: Errors the document does not allow, and Tolerated
// requests outside the document that the server accepted anyway.
type Problems struct {
	Errors, Tolerated []string
}

// Check holds x to the document.
//
// Every answer is checked: its status must be documented for the operation, its body
// must match that status's schema and its headers theirs. The request is checked when the
// server accepted it (status below 400): the suites send invalid requests on purpose, and
// what the document promises for those is the error answer. An accepted request whose
// values the document does not allow (`page_size=abc`, `"capacity": "30"`, a username
// with surrounding spaces) is Tolerated, not an error: DRF coerces and trims such input,
// and the server does as DRF does. An accepted request of an undocumented media type or
// without the documented credentials is an error.
func (v *Validator) Check(x Exchange) Problems {
	path, found := v.find(x.Request.URL.Path)
	if x.Request.Method == http.MethodOptions && found != nil && x.Status < 300 {
		// OPTIONS (a CORS preflight, or a client asking for Allow) is answered for every
		// served path by the router: HTTP's, not an operation of the API.
		return Problems{}
	}
	if found == nil {
		return v.checkShared(x, http.StatusNotFound, false)
	}
	method := x.Request.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	op := found.item.GetOperations().GetOrZero(strings.ToLower(method))
	if op == nil {
		return v.checkShared(x, http.StatusMethodNotAllowed, v.protected(found.item))
	}
	if x.Request.Method == http.MethodHead {
		if op.Responses.FindResponseByCode(x.Status) == nil {
			return Problems{Errors: []string{fmt.Sprintf("HEAD %s answered %d, which GET %s does not document", x.Request.URL.Path, x.Status, found.template)}}
		}
		return Problems{}
	}
	req := x.request(path)
	var errs, tolerated []*validatorError
	if x.Status < 400 {
		if ok, reqErrs := v.check.ValidateHttpRequestSync(req); !ok {
			for _, e := range reqErrs {
				if e.ValidationType == helpers.ParameterValidation || e.ValidationSubType == helpers.Schema {
					tolerated = append(tolerated, wrap("request", e)...)
				} else {
					errs = append(errs, wrap("request", e)...)
				}
			}
		}
	}
	if ok, respErrs := v.check.ValidateHttpResponse(req, x.response()); !ok {
		errs = append(errs, wrap("response", respErrs...)...)
	}
	return Problems{Errors: describe(x, found.template, errs), Tolerated: describe(x, found.template, tolerated)}
}

// find returns the documented path a request path is served by. Every path is served
// with and without its trailing slash (API.md), and the document names one of the two.
func (v *Validator) find(path string) (string, *documentedPath) {
	candidates := []string{path}
	if trimmed, ok := strings.CutSuffix(path, "/"); ok && trimmed != "" {
		candidates = append(candidates, trimmed)
	} else {
		candidates = append(candidates, path+"/")
	}
	for _, p := range candidates {
		// A literal path wins over a template, as in the router: /api/docs/ is not
		// /api/docs/{asset}.
		var match *documentedPath
		for i := range v.paths {
			d := &v.paths[i]
			if !d.re.MatchString(p) {
				continue
			}
			if d.template == p {
				return p, d
			}
			if match == nil {
				match = d
			}
		}
		if match != nil {
			return p, match
		}
	}
	return path, nil
}

// sharedAnswers are the shared responses a request no operation describes may get: the
// router's 404, or what the middleware answers before routing. (The router's 405 has no
// component: see checkMethodNotAllowed.)
var sharedAnswers = map[int]string{
	http.StatusBadRequest:            "InvalidHost",
	http.StatusNotFound:              "NotFound",
	http.StatusRequestEntityTooLarge: "TooLarge",
	http.StatusInternalServerError:   "ServerError",
	http.StatusServiceUnavailable:    "Unavailable",
}

// checkShared checks the answer to a request no operation describes (an unknown path, or
// a method the path is not served with, want being the router's status for it) against
// the document's shared response for its status. On a path whose every operation needs
// the bearer token, authentication and the role guard answer before the router, as in
// DRF, so 401 and 403 are its answers too.
func (v *Validator) checkShared(x Exchange, want int, protected bool) Problems {
	name := sharedAnswers[x.Status]
	switch {
	case x.Status == http.StatusNotFound && want != http.StatusNotFound,
		x.Status == http.StatusMethodNotAllowed && want != http.StatusMethodNotAllowed:
		name = ""
	case protected && x.Status == http.StatusUnauthorized:
		name = "NotAuthenticated"
	case protected && x.Status == http.StatusForbidden:
		name = "Forbidden"
	}
	if x.Status == http.StatusMethodNotAllowed && want == http.StatusMethodNotAllowed {
		return v.checkMethodNotAllowed(x)
	}
	shared := v.components.GetOrZero(name)
	if shared == nil {
		return Problems{Errors: []string{fmt.Sprintf("%s %s: no operation documents it, so the answer must be %d (or a shared answer of the middleware), got %d %s",
			x.Request.Method, x.Request.URL.Path, want, x.Status, clip(x.ResponseBody))}}
	}
	if x.Request.Method == http.MethodHead {
		return Problems{}
	}
	media := shared.Content.GetOrZero("application/json")
	if media == nil || media.Schema == nil {
		return Problems{Errors: []string{"components/responses/" + name + " has no application/json schema"}}
	}
	if ct := x.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		return Problems{Errors: []string{fmt.Sprintf("%s %s: %d answered with Content-Type %q, want application/json (components/responses/%s)",
			x.Request.Method, x.Request.URL.Path, x.Status, ct, name)}}
	}
	ok, errs := responses.ValidateResponseSchema(&responses.ValidateResponseSchemaInput{
		Request: x.Request, Response: x.response(), Schema: media.Schema.Schema(), Version: 3.1,
	})
	if ok {
		return Problems{}
	}
	return Problems{Errors: describe(x, "components/responses/"+name, wrap("response", errs...))}
}

// checkMethodNotAllowed checks the router's 405, which the document describes in its
// introduction (no operation can list it): the one error shape, and an Allow header.
func (v *Validator) checkMethodNotAllowed(x Exchange) Problems {
	if x.Header.Get("Allow") == "" {
		return Problems{Errors: []string{fmt.Sprintf("%s %s: 405 without an Allow header", x.Request.Method, x.Request.URL.Path)}}
	}
	if x.Request.Method == http.MethodHead {
		return Problems{}
	}
	ok, errs := responses.ValidateResponseSchema(&responses.ValidateResponseSchemaInput{
		Request: x.Request, Response: x.response(), Schema: v.detail.Schema(), Version: 3.1,
	})
	if ok {
		return Problems{}
	}
	return Problems{Errors: describe(x, "components/schemas/Detail", wrap("response", errs...))}
}

// protected tells whether every operation of item needs the bearer token.
func (v *Validator) protected(item *v3.PathItem) bool {
	for _, op := range item.GetOperations().FromOldest() {
		security := op.Security
		if security == nil {
			security = v.model.Security
		}
		if len(security) == 0 {
			return false
		}
		for _, req := range security {
			if req.ContainsEmptyRequirement || orderedmap.Len(req.Requirements) == 0 {
				return false
			}
		}
	}
	return true
}

// request is a copy of the exchange's request at the documented path, with its body.
func (x Exchange) request(path string) *http.Request {
	r := x.Request.Clone(x.Request.Context())
	r.URL.Path, r.URL.RawPath = path, ""
	r.Body = io.NopCloser(bytes.NewReader(x.RequestBody))
	r.ContentLength = int64(len(x.RequestBody))
	return r
}

func (x Exchange) response() *http.Response {
	return &http.Response{
		StatusCode: x.Status, Status: strconv.Itoa(x.Status) + " " + http.StatusText(x.Status),
		Header: x.Header, Body: io.NopCloser(bytes.NewReader(x.ResponseBody)), Request: x.Request,
	}
}

// validatorError is one problem the library reported, with which half of the exchange
// it is about.
type validatorError struct {
	side, text string
}

func wrap[E error](side string, errs ...E) []*validatorError {
	out := make([]*validatorError, 0, len(errs))
	for _, e := range errs {
		out = append(out, &validatorError{side: side, text: e.Error()})
	}
	return out
}

// describe turns problems into messages that name the exchange, so a failing test says
// what was sent and what came back.
func describe(x Exchange, where string, problems []*validatorError) []string {
	if len(problems) == 0 {
		return nil
	}
	out := make([]string, 0, len(problems))
	for _, p := range problems {
		out = append(out, fmt.Sprintf("%s %s (documented as %s) -> %d: %s does not satisfy the OpenAPI document: %s\n  request body: %s\n  response body: %s",
			x.Request.Method, x.Request.URL.RequestURI(), where, x.Status, p.side, p.text, clip(x.RequestBody), clip(x.ResponseBody)))
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func clip(b []byte) string {
	const limit = 600
	if len(b) > limit {
		return strconv.Quote(string(b[:limit])) + "…"
	}
	return strconv.Quote(string(b))
}
