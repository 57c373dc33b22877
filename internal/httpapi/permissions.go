package httpapi

import (
	"net/http"
	"strconv"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// The school and user handlers decide permissions from the principal, in the order DRF's
// views do: authentication (the router's guard), then the view's permission by role
// (403), then the object (404 when it is missing or outside what the caller may see),
// then the object's permission (403).

// errForbidden is DRF's 403; its message is fixed by errors.go.
var errForbidden = ciphemic.Errorf(ciphemic.CodeForbidden, "permission denied")

// errInvalidID answers a path id that is not a positive integer.
var errInvalidID = ciphemic.Errorf(ciphemic.CodeInvalid, "Invalid id.")

// apiHandler is a handler that returns its error instead of answering it, so that every
// failure goes through writeError. It must not return an error after writing a response.
type apiHandler func(w http.ResponseWriter, r *http.Request) error

func (h apiHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if err := h(w, r); err != nil {
		writeError(w, r, err)
	}
}

// requireRole returns the principal when it holds one of roles, and errForbidden otherwise.
func requireRole(r *http.Request, roles ...ciphemic.Role) (ciphemic.Principal, error) {
	p, err := principalFrom(r)
	if err != nil {
		return p, err
	}
	for _, role := range roles {
		if p.HasRole(role) {
			return p, nil
		}
	}
	return p, errForbidden
}

// adminOnly lets only admins through. As a route guard (after authentication) it also
// answers 403 before a 405, as DRF checks permissions before the method.
func adminOnly(next http.Handler) http.Handler {
	return apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		if _, err := requireRole(r, ciphemic.RoleAdmin); err != nil {
			return err
		}
		next.ServeHTTP(w, r)
		return nil
	})
}

// pathID reads the {id} of the route: a positive decimal integer, nothing else.
func pathID(r *http.Request) (int64, error) {
	s := r.PathValue("id")
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, errInvalidID
		}
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		return 0, errInvalidID
	}
	return id, nil
}

// noContent answers 204 with no body (deletes).
func noContent(w http.ResponseWriter) {
	w.WriteHeader(http.StatusNoContent)
}
