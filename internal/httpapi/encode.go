package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"
)

// encode writes v as compact JSON with status. Encoding our own response types cannot
// fail, so a failure here is a programming error and is logged, not answered twice.
func encode(w http.ResponseWriter, r *http.Request, status int, v any) {
	body, err := marshal(v)
	if err != nil {
		loggerFrom(r.Context()).Error("encode response", "error", err.Error())
		status, body = http.StatusInternalServerError, []byte(`{"detail":"A server error occurred."}`)
	}
	writeJSON(w, r, status, body)
}

// writeJSON writes body, JSON already encoded, with status.
func writeJSON(w http.ResponseWriter, r *http.Request, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = jsonContentType // shared and never appended to, as in withSecurityHeaders
	// net/http writes the Content-Length of a body that fits its buffer by itself once the
	// handler has returned, without a header entry to clone, sort and check (1.4 % of a
	// cached GET /api/me/ under load). A larger body, which net/http would chunk, and a
	// HEAD answer, which writes no body, get it here: no JSON answer is ever chunked.
	if len(body) >= netHTTPBufferedBody || r.Method == http.MethodHead {
		h["Content-Length"] = contentLength(len(body))
	}
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write(body) // #nosec G705 -- JSON we marshalled, sent as application/json with nosniff
	}
}

var jsonContentType = []string{"application/json"}

// netHTTPBufferedBody is the size of the buffer in which net/http's HTTP/1 server holds
// a body until the handler returns (bufferBeforeChunkingSize): a body shorter than it is
// sent with the Content-Length net/http counts. HTTP/2's buffer is larger.
const netHTTPBufferedBody = 2048

// contentLength is the Content-Length header's value for a body of n bytes. Most bodies
// are small, and their values are made once (shared and never appended to, as
// jsonContentType): two allocations fewer on every such response.
func contentLength(n int) []string {
	if n >= 0 && n < len(smallContentLengths) {
		return smallContentLengths[n]
	}
	return []string{strconv.Itoa(n)}
}

var smallContentLengths = func() (v [2048][]string) {
	for n := range v {
		v[n] = []string{strconv.Itoa(n)}
	}
	return v
}()

// marshal is json.Marshal without HTML escaping, so that "&" in pagination links reads
// as DRF writes it (responses are application/json, never HTML; nosniff is always set).
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// formBody is a request body decoded from any of DRF's default parsers: a JSON object, a
// urlencoded form or a multipart form. Values keep their JSON types (json.Number for
// numbers); form values are strings. A key present with JSON null maps to nil.
type formBody map[string]any

// decodeBody reads the request body the way DRF's JSONParser, FormParser and
// MultiPartParser do. An empty body of any type is an empty object, so that missing fields
// are reported field by field.
func decodeBody(r *http.Request, jsonOnly bool) (formBody, error) {
	contentType := r.Header.Get("Content-Type")
	if r.ContentLength == 0 && contentType == "" {
		return formBody{}, nil
	}
	mediaType, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		mediaType = strings.TrimSpace(strings.SplitN(contentType, ";", 2)[0])
	}
	switch {
	case mediaType == "application/json":
		return decodeJSON(r)
	case jsonOnly:
		return nil, unsupportedMediaType(contentType)
	case mediaType == "application/x-www-form-urlencoded", mediaType == "multipart/form-data":
		return decodeForm(r, mediaType)
	}
	return nil, unsupportedMediaType(contentType)
}

func unsupportedMediaType(contentType string) error {
	return detailError{http.StatusUnsupportedMediaType,
		fmt.Sprintf("Unsupported media type %q in request.", contentType)}
}

func decodeJSON(r *http.Request) (formBody, error) {
	raw, err := io.ReadAll(r.Body)
	if err != nil {
		return nil, bodyReadError(err)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return formBody{}, nil
	}
	if !utf8.Valid(raw) {
		return nil, detailError{http.StatusBadRequest, "JSON parse error - invalid UTF-8"}
	}
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return nil, jsonParseError(err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, detailError{http.StatusBadRequest, "JSON parse error - Extra data after the JSON value"}
	}
	obj, ok := v.(map[string]any)
	if !ok {
		errs := newFieldErrors()
		errs.add("non_field_errors", "Invalid data. Expected a dictionary, but got "+jsonTypeName(v)+".")
		return nil, errs
	}
	return obj, nil
}

// jsonParseError words a decoder error like DRF: "JSON parse error - <reason>". The reason
// names a position, never echoes the body.
func jsonParseError(err error) error {
	var syntax *json.SyntaxError
	reason := "Invalid JSON"
	switch {
	case errors.As(err, &syntax):
		reason = fmt.Sprintf("%s (char %d)", syntax.Error(), syntax.Offset)
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		reason = "Unexpected end of JSON input"
	}
	return detailError{http.StatusBadRequest, "JSON parse error - " + reason}
}

// jsonTypeName names a decoded JSON value as Python would, for DRF's "Expected a
// dictionary, but got list." message.
func jsonTypeName(v any) string {
	switch v := v.(type) {
	case []any:
		return "list"
	case string:
		return "str"
	case bool:
		return "bool"
	case json.Number:
		if strings.ContainsAny(v.String(), ".eE") {
			return "float"
		}
		return "int"
	case nil:
		return "NoneType"
	}
	return "object"
}

func decodeForm(r *http.Request, mediaType string) (formBody, error) {
	var err error
	if mediaType == "multipart/form-data" {
		err = r.ParseMultipartForm(maxMultipartMemory) // #nosec G120 -- withBodyLimit caps the body (MaxBytesReader), Go caps the parts
	} else {
		err = r.ParseForm()
	}
	if err != nil {
		if tooLarge := bodyReadError(err); errors.Is(tooLarge, errBodyTooLarge) {
			return nil, tooLarge
		}
		return nil, detailError{http.StatusBadRequest, "Form parse error - malformed " + mediaType + " body"}
	}
	body := formBody{}
	for key, values := range r.PostForm {
		if len(values) > 0 {
			body[key] = values[len(values)-1] // Django's QueryDict.get returns the last value
		}
	}
	return body, nil
}

// maxMultipartMemory bounds what a multipart body may hold in memory; the body limit bounds
// the rest, and file parts are never read by any endpoint.
const maxMultipartMemory = 1 << 20

// bodyReadError tells an over-limit body from a broken connection.
func bodyReadError(err error) error {
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) || strings.Contains(err.Error(), "request body too large") {
		return errBodyTooLarge
	}
	return detailError{http.StatusBadRequest, "Could not read the request body."}
}

// stringField reads a DRF CharField: required, not null, a string (numbers are accepted as
// their text, as DRF does), and not blank. trim strips surrounding whitespace first, as DRF's
// CharField does by default; password fields keep it.
func (b formBody) stringField(errs *fieldErrors, name string, trim bool) string {
	v, present := b[name]
	if !present {
		errs.add(name, "This field is required.")
		return ""
	}
	var s string
	switch v := v.(type) {
	case nil:
		errs.add(name, "This field may not be null.")
		return ""
	case string:
		s = v
	case json.Number:
		s = v.String()
	default:
		errs.add(name, "Not a valid string.")
		return ""
	}
	if trim {
		s = strings.TrimSpace(s)
	}
	if strings.ContainsRune(s, 0) {
		errs.add(name, "Null characters are not allowed.")
		return ""
	}
	if s == "" {
		errs.add(name, "This field may not be blank.")
	}
	return s
}
