package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// This file is the only place that turns errors into HTTP statuses and the contract's error
// bodies (API.md "Errors"). Handlers return or pass errors; writeError decides what the
// client sees.

// The contract's fixed messages, spelled exactly as DRF and simplejwt spell them.
const (
	msgNotAuthenticated = "Authentication credentials were not provided."
	msgTokenInvalid     = "Token is invalid or expired"
	msgNoActiveAccount  = "No active account found with the given credentials"
	msgForbidden        = "You do not have permission to perform this action."
	msgNotFound         = "Not found."
	msgUnavailable      = "Service temporarily unavailable, try again later."
	msgServerError      = "A server error occurred."
	msgBodyTooLarge     = "Request body too large."
	msgThrottled        = "Request was throttled."
	msgCSRFFailed       = "CSRF Failed: CSRF token missing or incorrect."
	msgInvalidHost      = "Invalid host header."
)

// errNotAuthenticated: a protected route was called without (recognisable) credentials.
var errNotAuthenticated = errors.New("not authenticated")

// errBadAuthorizationHeader: "Bearer" with no token, or with more than one.
var errBadAuthorizationHeader = errors.New("bad authorization header")

// errAccessTokenInvalid: the Bearer token failed verification or is revoked.
var errAccessTokenInvalid = errors.New("access token not valid")

// errBadCredentials: login failed, whatever the reason, with one answer for all reasons.
var errBadCredentials = errors.New("bad credentials")

// errUserNotFound: a valid token names a user that no longer exists.
var errUserNotFound = errors.New("user not found")

// errBodyTooLarge: the request body passed the configured limit.
var errBodyTooLarge = errors.New("request body too large")

// errInvalidPage: a list page that is not a number or lies past the end; DRF answers 404.
var errInvalidPage = errors.New("invalid page")

// errCSRFFailed: a request authenticated by the refresh cookie, or a login in cookie mode,
// failed the CSRF checks (csrf.go).
var errCSRFFailed = errors.New("CSRF check failed")

// errInvalidHost: the host the request addressed is not an allowed one (hosts.go).
var errInvalidHost = errors.New("invalid host header")

// tokenError is a refresh/verify/blacklist failure: 401 {"detail", "code": "token_not_valid"}.
type tokenError struct{ detail string }

func (e tokenError) Error() string { return "token not valid: " + e.detail }

// fieldErrors are DRF's validation errors: field name → messages, rendered in the order
// the fields were checked, as DRF renders them in declaration order.
type fieldErrors struct {
	order    []string
	messages map[string][]string
}

func newFieldErrors() *fieldErrors { return &fieldErrors{messages: map[string][]string{}} }

func (e *fieldErrors) Error() string { return "invalid fields" }

// add records a message for a field.
func (e *fieldErrors) add(field, message string) {
	if _, ok := e.messages[field]; !ok {
		e.order = append(e.order, field)
	}
	e.messages[field] = append(e.messages[field], message)
}

// empty reports whether no field has an error.
func (e *fieldErrors) empty() bool { return len(e.order) == 0 }

// errOrNil returns e as an error only when it holds something, so callers can write
// `if err := errs.errOrNil(); err != nil`.
func (e *fieldErrors) errOrNil() error {
	if e.empty() {
		return nil
	}
	return e
}

// MarshalJSON writes the fields in the order they were checked.
func (e *fieldErrors) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for i, field := range e.order {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(field)
		v, err := json.Marshal(e.messages[field])
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		b.Write(v)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}

// detailError answers with a status and {"detail": message} (parse errors, 415).
type detailError struct {
	status int
	detail string
}

func (e detailError) Error() string { return e.detail }

// methodNotAllowed answers 405 with the Allow header.
type methodNotAllowed struct {
	method string
	allow  string
}

func (e methodNotAllowed) Error() string { return "method not allowed" }

// throttledError answers 429 as DRF's Throttled(wait) does: Retry-After and the detail
// both give wait in whole seconds, rounded up.
type throttledError struct{ wait time.Duration }

func (e throttledError) Error() string { return "throttled" }

// seconds is wait rounded up to whole seconds, at least 1, as DRF's math.ceil(wait)
// (a zero Retry-After would invite an immediate retry).
func (e throttledError) seconds() int64 {
	return max(1, int64((e.wait+time.Second-1)/time.Second))
}

// detail is DRF's message, with its ngettext: "1 second", "N seconds".
func (e throttledError) detail() string {
	n := e.seconds()
	unit := " seconds."
	if n == 1 {
		unit = " second."
	}
	return msgThrottled + " Expected available in " + strconv.FormatInt(n, 10) + unit
}

type detailBody struct {
	Detail string `json:"detail"`
}

type codeBody struct {
	Detail string `json:"detail"`
	Code   string `json:"code"`
}

type accessTokenBody struct {
	Detail   string               `json:"detail"`
	Code     string               `json:"code"`
	Messages []accessTokenMessage `json:"messages"`
}

type accessTokenMessage struct {
	TokenClass string `json:"token_class"`
	TokenType  string `json:"token_type"`
	Message    string `json:"message"`
}

// writeError writes err as the contract's error response.
func writeError(w http.ResponseWriter, r *http.Request, err error) {
	var (
		fields *fieldErrors
		tokErr tokenError
		detErr detailError
		method methodNotAllowed
		thr    throttledError
	)
	switch {
	case errors.As(err, &fields):
		encode(w, r, http.StatusBadRequest, fields)
	case errors.As(err, &tokErr):
		writeUnauthorized(w, r, true, codeBody{Detail: tokErr.detail, Code: "token_not_valid"})
	case errors.As(err, &detErr):
		encode(w, r, detErr.status, detailBody{detErr.detail})
	case errors.As(err, &method):
		w.Header().Set("Allow", method.allow)
		encode(w, r, http.StatusMethodNotAllowed, detailBody{`Method "` + method.method + `" not allowed.`})
	case errors.Is(err, errNotAuthenticated):
		writeUnauthorized(w, r, false, detailBody{msgNotAuthenticated})
	case errors.Is(err, errBadAuthorizationHeader):
		writeUnauthorized(w, r, true, codeBody{
			Detail: "Authorization header must contain two space-delimited values",
			Code:   "bad_authorization_header",
		})
	case errors.Is(err, errAccessTokenInvalid):
		writeUnauthorized(w, r, true, accessTokenBody{
			Detail: "Given token not valid for any token type",
			Code:   "token_not_valid",
			Messages: []accessTokenMessage{{
				TokenClass: "AccessToken", TokenType: "access", Message: msgTokenInvalid,
			}},
		})
	case errors.Is(err, errBadCredentials):
		writeUnauthorized(w, r, false, detailBody{msgNoActiveAccount})
	case errors.Is(err, errUserNotFound):
		writeUnauthorized(w, r, true, codeBody{Detail: "User not found", Code: "user_not_found"})
	case errors.Is(err, ciphemic.ErrUserInactive):
		writeUnauthorized(w, r, true, codeBody{Detail: "User is inactive", Code: "user_inactive"})
	case errors.Is(err, ciphemic.ErrTokenBlacklisted), errors.Is(err, ciphemic.ErrTokenUnknown):
		writeUnauthorized(w, r, true, codeBody{Detail: ciphemic.ErrorMessage(err), Code: "token_not_valid"})
	case errors.Is(err, errBodyTooLarge):
		encode(w, r, http.StatusRequestEntityTooLarge, detailBody{msgBodyTooLarge})
	case errors.As(err, &thr):
		w.Header().Set("Retry-After", strconv.FormatInt(thr.seconds(), 10))
		encode(w, r, http.StatusTooManyRequests, detailBody{thr.detail()})
	case errors.Is(err, errCSRFFailed):
		encode(w, r, http.StatusForbidden, detailBody{msgCSRFFailed})
	case errors.Is(err, errInvalidHost):
		encode(w, r, http.StatusBadRequest, detailBody{msgInvalidHost})
	case errors.Is(err, errInvalidPage):
		encode(w, r, http.StatusNotFound, detailBody{"Invalid page."})
	default:
		writeCodedError(w, r, err)
	}
}

// writeCodedError maps a ciphemic.Error code to its status. Internal errors are logged with
// the request id and shown as a generic message, so internals never leak.
func writeCodedError(w http.ResponseWriter, r *http.Request, err error) {
	switch ciphemic.ErrorCode(err) {
	case ciphemic.CodeInvalid:
		encode(w, r, http.StatusBadRequest, detailBody{ciphemic.ErrorMessage(err)})
	case ciphemic.CodeUnauthorized:
		writeUnauthorized(w, r, false, detailBody{ciphemic.ErrorMessage(err)})
	case ciphemic.CodeForbidden:
		encode(w, r, http.StatusForbidden, detailBody{msgForbidden})
	case ciphemic.CodeNotFound:
		encode(w, r, http.StatusNotFound, detailBody{msgNotFound})
	case ciphemic.CodeConflict:
		encode(w, r, http.StatusConflict, detailBody{ciphemic.ErrorMessage(err)})
	case ciphemic.CodeThrottled:
		encode(w, r, http.StatusTooManyRequests, detailBody{msgThrottled})
	case ciphemic.CodeUnavailable:
		w.Header().Set("Retry-After", "1")
		encode(w, r, http.StatusServiceUnavailable, detailBody{msgUnavailable})
	default:
		loggerFrom(r.Context()).LogAttrs(r.Context(), slog.LevelError, "internal error",
			slog.String("error", err.Error()))
		encode(w, r, http.StatusInternalServerError, detailBody{msgServerError})
	}
}

// asFieldError turns a store's invalid error worded "<field>: <message>" into DRF's field
// shape {"<field>": ["<message>"]}, so that a check the store makes on behalf of a field
// (a foreign key gone missing in a race) answers like the handler's own checks.
func asFieldError(err error, fields ...string) error {
	if ciphemic.ErrorCode(err) != ciphemic.CodeInvalid {
		return err
	}
	field, msg, ok := strings.Cut(ciphemic.ErrorMessage(err), ": ")
	if !ok || !slices.Contains(fields, field) {
		return err
	}
	errs := newFieldErrors()
	errs.add(field, msg)
	return errs
}

// writeUnauthorized answers 401 with the RFC 6750 challenge every 401 must carry.
func writeUnauthorized(w http.ResponseWriter, r *http.Request, invalidToken bool, body any) {
	challenge := `Bearer realm="api"`
	if invalidToken {
		challenge += `, error="invalid_token"`
	}
	w.Header().Set("WWW-Authenticate", challenge)
	encode(w, r, http.StatusUnauthorized, body)
}

// allowHeader renders methods as DRF does ("GET, HEAD, OPTIONS").
func allowHeader(methods []string) string {
	return strings.Join(methods, ", ")
}
