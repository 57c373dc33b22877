package httpapi

import (
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.json from the current responses")

// TestGoldenResponses holds one representative response of each resource, byte for byte
// once indented, to testdata/golden. Run `go test -run TestGoldenResponses -update` after
// an intended change and review the diff.
// goldenSchool is the school the golden files and the document's examples are answers
// of: newSchool, with a fixed clock, two courses and two enrollments, one graded.
// before runs after the school's users are made, for callers that add their own.
func goldenSchool(t *testing.T, before func(in *instance)) (in *instance, s *school, c ciphemic.Course, e ciphemic.Enrollment) {
	t.Helper()
	clock := &testClock{t: time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)}
	in = newInstance(t, options{clock: clock})
	s = newSchool(t, in)
	if before != nil {
		before(in)
	}
	c = in.mustCourse(t, "MATH101", s.teacher.user, 30)
	clock.Advance(90 * time.Second)
	e = in.mustEnroll(t, c, s.student.user)
	in.mustEnroll(t, in.mustCourse(t, "PHYS101", s.otherTeacher.user, 10), s.student.user)
	grade := 88
	if _, err := in.db.SetGrade(t.Context(), e.ID, &grade); err != nil {
		t.Fatal(err)
	}
	return in, s, c, e
}

func TestGoldenResponses(t *testing.T) {
	in, s, c, e := goldenSchool(t, nil)

	tests := []struct {
		name   string
		caller actor
		method string
		path   string
		body   any
		status int
	}{
		{"course", s.student, "GET", fmt.Sprintf("/api/school/courses/%d/", c.ID), nil, 200},
		{"course_create", s.teacher, "POST", "/api/school/courses/", map[string]any{"code": "BIO1", "title": "Biology", "description": "Cells."}, 201},
		{"course_list", s.student, "GET", "/api/school/courses/?page_size=1&ordering=-code&search=1", nil, 200},
		{"course_students", s.teacher, "GET", fmt.Sprintf("/api/school/courses/%d/students/", c.ID), nil, 200},
		{"enrollment", s.student, "GET", fmt.Sprintf("/api/school/enrollments/%d/", e.ID), nil, 200},
		{"enrollment_list", s.student, "GET", "/api/school/enrollments/?page=2&page_size=1", nil, 200},
		{"user", s.admin, "GET", fmt.Sprintf("/api/users/%d/", s.student.user.ID), nil, 200},
		{"user_list", s.admin, "GET", "/api/users/?page_size=2", nil, 200},
		{"user_validation", s.admin, "POST", "/api/users/", map[string]any{"username": "a b", "password": "123", "roles": []string{"dean"}}, 400},
		{"course_conflict", s.admin, "POST", "/api/school/courses/", map[string]any{"code": "MATH101", "title": "Again"}, 409},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := in.call(t, tt.caller, tt.method, tt.path, tt.body)
			if r.status != tt.status {
				t.Fatalf("%s %s = %d %s, want %d", tt.method, tt.path, r.status, r.body, tt.status)
			}
			checkGolden(t, tt.name, bytes.ReplaceAll(r.body, []byte(in.srv.URL), []byte("http://testserver")))
		})
	}
}

// checkGolden compares body, indented, with testdata/golden/<name>.json, or rewrites the
// file with -update.
func checkGolden(t *testing.T, name string, body []byte) {
	t.Helper()
	var indented bytes.Buffer
	if err := json.Indent(&indented, body, "", "  "); err != nil {
		t.Fatalf("response %q is not JSON: %v", body, err)
	}
	indented.WriteByte('\n')
	path := filepath.Join("testdata", "golden", name+".json")
	if *update {
		if err := os.WriteFile(path, indented.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got := indented.String(); got != string(want) {
		t.Errorf("response differs from %s:\n got: %s\nwant: %s", path, got, strings.TrimSpace(string(want)))
	}
}
