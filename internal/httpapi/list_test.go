package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/netip"
	"testing"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// listPage is a decoded paginated answer.
type listPage struct {
	Count    int64            `json:"count"`
	Next     *string          `json:"next"`
	Previous *string          `json:"previous"`
	Results  []map[string]any `json:"results"`
}

func mustPage(t testing.TB, r response) listPage {
	t.Helper()
	if r.status != http.StatusOK {
		t.Fatalf("list = %d %s, want 200", r.status, r.body)
	}
	var p listPage
	if err := json.Unmarshal(r.body, &p); err != nil || p.Results == nil {
		t.Fatalf("list body %s is not a page: %v", r.body, err)
	}
	return p
}

func strOrNil(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return *s
}

// codes lists the "code" of each result.
func (p listPage) codes() []string {
	var out []string
	for _, r := range p.Results {
		out = append(out, fmt.Sprint(r["code"]))
	}
	return out
}

func TestPagination(t *testing.T) {
	in := newInstance(t, options{})
	s := newSchool(t, in)
	for i := 1; i <= 45; i++ {
		in.mustCourse(t, fmt.Sprintf("C%02d", i), s.teacher.user, 10)
	}
	base := in.srv.URL + "/api/school/courses/"
	tests := []struct {
		query          string
		count, results int
		next, previous string
	}{
		{"", 45, 20, base + "?page=2", "<nil>"},
		{"?page=1", 45, 20, base + "?page=2", "<nil>"},
		{"?page=2", 45, 20, base + "?page=3", base},
		{"?page=3", 45, 5, "<nil>", base + "?page=2"},
		{"?page=last", 45, 5, "<nil>", base + "?page=2"},
		{"?page=", 45, 20, base + "?page=2", "<nil>"},
		{"?page_size=10&page=2", 45, 10, base + "?page=3&page_size=10", base + "?page_size=10"},
		{"?page_size=1000", 45, 45, "<nil>", "<nil>"},
		{"?page_size=0", 45, 20, base + "?page=2&page_size=0", "<nil>"},
		{"?page_size=abc", 45, 20, base + "?page=2&page_size=abc", "<nil>"},
		{"?page_size=-5", 45, 20, base + "?page=2&page_size=-5", "<nil>"},
		{"?page_size=44&page=2", 45, 1, "<nil>", base + "?page_size=44"},
		{"?search=C0&ordering=-code&page=1&page_size=5", 9, 5, base + "?ordering=-code&page=2&page_size=5&search=C0", "<nil>"},
		{"?search=nothing-matches", 0, 0, "<nil>", "<nil>"},
		{"?search=nothing-matches&page=last", 0, 0, "<nil>", "<nil>"},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			p := mustPage(t, in.call(t, s.student, "GET", "/api/school/courses/"+tt.query, nil))
			if p.Count != int64(tt.count) || len(p.Results) != tt.results ||
				strOrNil(p.Next) != tt.next || strOrNil(p.Previous) != tt.previous {
				t.Errorf("GET %s = count %d, %d results, next %s, previous %s; want %d, %d, %s, %s", tt.query,
					p.Count, len(p.Results), strOrNil(p.Next), strOrNil(p.Previous), tt.count, tt.results, tt.next, tt.previous)
			}
		})
	}

	t.Run("page 3 holds the last courses", func(t *testing.T) {
		got := mustPage(t, in.call(t, s.student, "GET", "/api/school/courses/?page=3", nil)).codes()
		want := []string{"C41", "C42", "C43", "C44", "C45"}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("page 3 = %v, want %v", got, want)
		}
	})

	for _, q := range []string{"?page=0", "?page=-1", "?page=abc", "?page=1.0", "?page=4", "?page=99999999999999999999", "?search=nothing-matches&page=2"} {
		t.Run(q, func(t *testing.T) {
			wantStatusBody(t, in.call(t, s.student, "GET", "/api/school/courses/"+q, nil), 404, `{"detail":"Invalid page."}`)
		})
	}
}

func TestPaginationForwardedHeaders(t *testing.T) {
	tests := []struct {
		name    string
		proxies string
		want    func(in *instance) string
	}{
		{"trusted proxy", "127.0.0.0/8", func(*instance) string { return "https://api.example.com/api/school/courses/?page=2" }},
		{"untrusted peer", "10.0.0.0/8", func(in *instance) string { return in.srv.URL + "/api/school/courses/?page=2" }},
		{"no proxies", "", func(in *instance) string { return in.srv.URL + "/api/school/courses/?page=2" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var proxies []netip.Prefix
			if tt.proxies != "" {
				proxies = []netip.Prefix{netip.MustParsePrefix(tt.proxies)}
			}
			in := newInstance(t, options{cfg: &Config{TrustedProxies: proxies, AllowedHosts: []string{"api.example.com", "127.0.0.1"}}})
			s := newSchool(t, in)
			for i := range 3 {
				in.mustCourse(t, fmt.Sprintf("F%d", i), s.teacher.user, 10)
			}
			r := in.call(t, s.student, "GET", "/api/school/courses/?page_size=1", nil,
				"X-Forwarded-Proto: https", "X-Forwarded-Host: api.example.com")
			p := mustPage(t, r)
			want := tt.want(in) + "&page_size=1"
			if got := strOrNil(p.Next); got != want {
				t.Errorf("next = %s, want %s", got, want)
			}
		})
	}
}

func TestSearchAndOrdering(t *testing.T) {
	in := newInstance(t, options{})
	s := newSchool(t, in)
	for _, c := range []struct{ code, title string }{
		{"MATH101", "Algebra"}, {"MATH201", "Linear algebra"}, {"PHYS101", "Mechanics"}, {"CS100", "100% fun_stuff"},
	} {
		if _, err := in.db.CreateCourse(context.Background(), ciphemic.Course{Code: c.code, Title: c.title, Capacity: 5}); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		query string
		want  []string
	}{
		{"?search=algebra", []string{"MATH101", "MATH201"}},
		{"?search=ALGEBRA&ordering=-code", []string{"MATH201", "MATH101"}},
		{"?search=math", []string{"MATH101", "MATH201"}},
		{"?search=%25", []string{"CS100"}},
		{"?search=_", []string{"CS100"}},
		{"?search=++phys++", []string{"PHYS101"}},
		{"?ordering=code", []string{"CS100", "MATH101", "MATH201", "PHYS101"}},
		{"?ordering=-title", []string{"PHYS101", "MATH201", "MATH101", "CS100"}},
		{"?ordering=", []string{"MATH101", "MATH201", "PHYS101", "CS100"}},
	}
	for _, tt := range tests {
		got := mustPage(t, in.call(t, s.student, "GET", "/api/school/courses/"+tt.query, nil)).codes()
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("GET courses%s = %v, want %v", tt.query, got, tt.want)
		}
	}
}

func TestOrderingRefusesUnknownFields(t *testing.T) {
	in := newInstance(t, options{})
	s := newSchool(t, in)
	lists := []struct {
		path    string
		allowed string
	}{
		{"/api/school/courses/", "id, code, title, capacity, created_at, updated_at"},
		{"/api/school/enrollments/", "id, enrolled_at, grade, course_id, student_id"},
		{"/api/users/", "id, username, email, date_joined, last_login"},
		{fmt.Sprintf("/api/school/courses/%d/students/", s.course(t).ID), "id, username, email, date_joined, last_login"},
	}
	bad := []string{"id;DROP%20TABLE%20users", "password_hash", "-", "--id", "code,title", "id%20DESC", "(SELECT%201)", "enrolled"}
	for _, l := range lists {
		want := `{"ordering":["Invalid ordering. Order by one of: ` + l.allowed + `; prefix a field with \"-\" for descending order."]}`
		for _, o := range bad {
			wantStatusBody(t, in.call(t, s.admin, "GET", l.path+"?ordering="+o, nil), 400, want)
		}
	}
	n, err := in.db.CountUsers(context.Background())
	if err != nil || n != 5 {
		t.Errorf("CountUsers after injection attempts = %d, %v; want 5", n, err)
	}
	for _, l := range lists {
		if r := in.call(t, s.admin, "GET", l.path+"?ordering=-id", nil); r.status != 200 {
			t.Errorf("GET %s?ordering=-id = %d %s, want 200", l.path, r.status, r.body)
		}
	}
}

func TestUserListSearchAndOrdering(t *testing.T) {
	in := newInstance(t, options{})
	s := newSchool(t, in)
	in.mustCreateUserWith(t, ciphemic.User{Username: "zed", Email: "zed@physics.example", Role: ciphemic.RoleStudent, IsActive: true}, "")
	tests := []struct {
		query string
		want  []string
	}{
		{"?search=physics", []string{"zed"}},
		{"?search=TEACHER", []string{"teacher", "teacher2"}},
		{"?ordering=-username&page_size=3", []string{"zed", "teacher2", "teacher"}},
		{"?search=student&ordering=-id", []string{"student2", "student"}},
	}
	for _, tt := range tests {
		p := mustPage(t, in.call(t, s.admin, "GET", "/api/users/"+tt.query, nil))
		var got []string
		for _, r := range p.Results {
			got = append(got, fmt.Sprint(r["username"]))
		}
		if fmt.Sprint(got) != fmt.Sprint(tt.want) {
			t.Errorf("GET users%s = %v, want %v", tt.query, got, tt.want)
		}
	}
}

// TestPageLogic checks the page arithmetic without HTTP.
func TestPageLogic(t *testing.T) {
	for _, tt := range []struct {
		count int64
		size  int
		want  int
	}{{0, 20, 1}, {1, 20, 1}, {20, 20, 1}, {21, 20, 2}, {45, 20, 3}, {100, 100, 1}} {
		if got := lastPage(tt.count, tt.size); got != tt.want {
			t.Errorf("lastPage(%d, %d) = %d, want %d", tt.count, tt.size, got, tt.want)
		}
	}
	for _, tt := range []struct {
		in   string
		want int
	}{{"", 20}, {"5", 5}, {"100", 100}, {"101", 100}, {"1000", 100}, {"0", 20}, {"-1", 20}, {"x", 20}} {
		if got := parsePageSize(tt.in); got != tt.want {
			t.Errorf("parsePageSize(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
}
