package httpapi

import (
	"net/http"
	"slices"
	"strings"
)

// router registers routes on a ServeMux the way API.md wants them: every path with and
// without its trailing slash (no redirect), a JSON 405 with Allow for other methods, and a
// JSON 404 for unknown paths.
type router struct {
	mux   *http.ServeMux
	paths map[string]*pathRoutes
	order []string
}

type pathRoutes struct {
	methods []string
	// guard runs before the 405 answer: DRF authenticates before it checks the method, so
	// a protected path answers 401 to an anonymous caller whatever the method.
	guard func(http.Handler) http.Handler
}

func newRouter(mux *http.ServeMux) *router {
	return &router{mux: mux, paths: map[string]*pathRoutes{}}
}

// handle registers h for method and path ("/api/token/"). guard, if not nil, is the
// authentication the path's routes share; it also guards the 405 answer.
func (rt *router) handle(method, path string, guard func(http.Handler) http.Handler, h http.Handler) {
	pr, ok := rt.paths[path]
	if !ok {
		pr = &pathRoutes{guard: guard}
		rt.paths[path] = pr
		rt.order = append(rt.order, path)
	}
	pr.methods = append(pr.methods, method)
	if guard != nil {
		h = guard(h)
	}
	h = labelRoute(path, h)
	for _, p := range pathVariants(path) {
		rt.mux.Handle(method+" "+p, h)
	}
}

// route is one registered method and path, as routes.go names it ("/api/token/");
// protected when the path authenticates its callers.
type route struct {
	method, path string
	protected    bool
}

// routes lists what handle registered, in order, so that a test can hold the OpenAPI
// document (openapi.json) to the routes actually served.
func (rt *router) routes() []route {
	var all []route
	for _, path := range rt.order {
		pr := rt.paths[path]
		for _, m := range pr.methods {
			all = append(all, route{method: m, path: path, protected: pr.guard != nil})
		}
	}
	return all
}

// finish adds the 405 and 404 answers once every route is known.
func (rt *router) finish() {
	for _, path := range rt.order {
		pr := rt.paths[path]
		allow := allowedMethods(pr.methods)
		var notAllowed http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			writeError(w, r, methodNotAllowed{method: r.Method, allow: allow})
		})
		if pr.guard != nil {
			notAllowed = pr.guard(notAllowed)
		}
		// OPTIONS is answered without credentials: browsers send it without them.
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodOptions {
				w.Header().Set("Allow", allow)
				w.WriteHeader(http.StatusNoContent)
				return
			}
			notAllowed.ServeHTTP(w, r)
		})
		for _, p := range pathVariants(path) {
			rt.mux.Handle(p, labelRoute(path, h))
		}
	}
	rt.mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		encode(w, r, http.StatusNotFound, detailBody{msgNotFound})
	}))
}

// pathVariants returns the exact-match patterns of path with and without its slash.
func pathVariants(path string) []string {
	trimmed := strings.TrimSuffix(path, "/")
	return []string{trimmed + "/{$}", trimmed}
}

// allowedMethods lists methods as DRF does, adding HEAD for GET (ServeMux serves it) and
// OPTIONS.
func allowedMethods(methods []string) string {
	all := slices.Clone(methods)
	if slices.Contains(all, http.MethodGet) {
		all = append(all, http.MethodHead)
	}
	all = append(all, http.MethodOptions)
	return allowHeader(all)
}
