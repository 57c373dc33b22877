package httpapi

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// Lists are paginated as DRF's PageNumberPagination with page_size_query_param and
// max_page_size set, searched as SearchFilter and ordered as OrderingFilter restricted to
// ordering_fields (API.md "School resources").
const (
	defaultPageSize = 20
	maxPageSize     = 100
	// maxPage bounds the page number so that the offset cannot overflow; no list here
	// has that many pages, so such a page is simply past the end.
	maxPage = 1 << 30
)

// listRequest is a parsed list query string.
type listRequest struct {
	page int // 0 means DRF's "last"
	size int
	q    ciphemic.ListQuery
}

// pageBody is DRF's paginated answer.
type pageBody[T any] struct {
	Count    int64   `json:"count"`
	Next     *string `json:"next"`
	Previous *string `json:"previous"`
	Results  []T     `json:"results"`
}

// parseList reads ?page=, ?page_size=, ?search= and ?ordering= of r. ordering lists the
// fields a client may order by; the store receives only one of those names, never the
// client's text.
func parseList(r *http.Request, ordering []string) (listRequest, error) {
	values := queryValues(r)
	page, err := parsePage(values.get("page"))
	if err != nil {
		return listRequest{}, err
	}
	field, desc, err := parseOrdering(values.get("ordering"), ordering)
	if err != nil {
		return listRequest{}, err
	}
	if strings.ContainsRune(values.get("search"), 0) {
		return listRequest{}, ciphemic.Errorf(ciphemic.CodeInvalid, "Null characters are not allowed.")
	}
	return listRequest{
		page: page,
		size: parsePageSize(values.get("page_size")),
		q: ciphemic.ListQuery{
			Search:     strings.TrimSpace(values.get("search")),
			OrderBy:    field,
			Descending: desc,
		},
	}, nil
}

// query is a parsed query string.
type query url.Values

// queryValues parses r's query string as Django does: only "&" separates parameters, so a
// ";" stays inside its value (net/url would drop the whole pair, silently ignoring
// "?ordering=id;DROP TABLE users" instead of refusing it), and a badly escaped part is
// kept as sent.
func queryValues(r *http.Request) query {
	q := query{}
	for _, part := range strings.Split(r.URL.RawQuery, "&") {
		if part == "" {
			continue
		}
		key, value, _ := strings.Cut(part, "=")
		key, value = unescapeQuery(key), unescapeQuery(value)
		q[key] = append(q[key], value)
	}
	return q
}

func unescapeQuery(s string) string {
	if u, err := url.QueryUnescape(s); err == nil {
		return u
	}
	return s
}

// get returns the last value of key, as Django's QueryDict does.
func (q query) get(key string) string {
	if v := q[key]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// parsePage reads the page number as Django's Paginator does: missing or empty is 1,
// "last" is the last page, anything else must be an integer of at least 1.
func parsePage(s string) (int, error) {
	switch s {
	case "":
		return 1, nil
	case "last":
		return 0, nil
	}
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 {
		return 0, errInvalidPage
	}
	return min(n, maxPage), nil
}

// parsePageSize reads page_size as DRF does: anything but a positive integer falls back to
// the default, and larger sizes are capped.
func parsePageSize(s string) int {
	n, err := strconv.Atoi(strings.TrimSpace(s))
	if err != nil || n < 1 {
		return defaultPageSize
	}
	return min(n, maxPageSize)
}

// parseOrdering reads "field" or "-field"; only the allowed fields are accepted.
func parseOrdering(s string, allowed []string) (string, bool, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", false, nil
	}
	field, desc := strings.CutPrefix(s, "-")
	for _, a := range allowed {
		if field == a {
			return a, desc, nil
		}
	}
	errs := newFieldErrors()
	errs.add("ordering", "Invalid ordering. Order by one of: "+strings.Join(allowed, ", ")+
		`; prefix a field with "-" for descending order.`)
	return "", false, errs
}

// servePage fetches the requested page through fetch and answers with it, each item
// rendered by render. A page past the end (other than page 1 of an empty list) is DRF's
// 404 "Invalid page.".
func servePage[T, R any](w http.ResponseWriter, r *http.Request, links linkBase, lr listRequest,
	fetch func(ciphemic.ListQuery) ([]T, int64, error), render func(T) R) {
	items, count, err := fetchPage(lr, fetch)
	if err != nil {
		writeError(w, r, err)
		return
	}
	body := pageBody[R]{Count: count, Results: make([]R, 0, len(items))}
	for _, it := range items {
		body.Results = append(body.Results, render(it))
	}
	page := lr.page
	if page == 0 {
		page = lastPage(count, lr.size)
	}
	if page < lastPage(count, lr.size) {
		body.Next = pageURL(r, links, page+1)
	}
	if page > 1 {
		body.Previous = pageURL(r, links, page-1)
	}
	encode(w, r, http.StatusOK, body)
}

// fetchPage runs the store query for lr's page. The last page needs the count first, so
// it costs a second query.
func fetchPage[T any](lr listRequest, fetch func(ciphemic.ListQuery) ([]T, int64, error)) ([]T, int64, error) {
	page := max(lr.page, 1)
	q := lr.q
	q.Limit, q.Offset = lr.size, (page-1)*lr.size
	items, count, err := fetch(q)
	if err != nil {
		return nil, 0, err
	}
	last := lastPage(count, lr.size)
	if lr.page == 0 && last > 1 {
		q.Offset = (last - 1) * lr.size
		return fetch(q)
	}
	if page > last {
		return nil, 0, errInvalidPage
	}
	return items, count, nil
}

// lastPage is the number of pages of count items; an empty list still has page 1.
func lastPage(count int64, size int) int {
	if count <= 0 {
		return 1
	}
	return int((count + int64(size) - 1) / int64(size))
}

// pageURL is the absolute URL of page of this list, keeping the other query parameters
// (sorted, as DRF's replace_query_param leaves them). Page 1 has no page parameter, as
// DRF's previous link of page 2.
func pageURL(r *http.Request, links linkBase, page int) *string {
	values := url.Values(queryValues(r))
	if page == 1 {
		values.Del("page")
	} else {
		values.Set("page", strconv.Itoa(page))
	}
	u := links.baseURL(r) + r.URL.EscapedPath()
	if enc := values.Encode(); enc != "" {
		u += "?" + enc
	}
	return &u
}
