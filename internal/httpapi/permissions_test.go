package httpapi

import (
	"fmt"
	"net/http"
	"testing"
)

// endpointCase is one row of the permission matrix: a request built afresh for each
// caller (so that a delete in one column does not change the next), and the status each
// caller must get, in the order of school.actors: admin, teacher (of the course), other
// teacher, student (enrolled), other student, anonymous.
type endpointCase struct {
	name    string
	method  string
	request func(t *testing.T, s *school, caller actor) (path string, body any)
	want    [6]int
}

func permissionMatrix() []endpointCase {
	courses := func(t *testing.T, s *school, _ actor) (string, any) { return "/api/school/courses/", nil }
	course := func(t *testing.T, s *school, _ actor) (string, any) {
		return fmt.Sprintf("/api/school/courses/%d/", s.course(t).ID), nil
	}
	newCourse := func(t *testing.T, s *school, _ actor) (string, any) {
		return "/api/school/courses/", map[string]any{"code": s.unique("N"), "title": "New"}
	}
	putCourse := func(t *testing.T, s *school, _ actor) (string, any) {
		return fmt.Sprintf("/api/school/courses/%d/", s.course(t).ID), map[string]any{"code": s.unique("P"), "title": "Put"}
	}
	patchCourse := func(t *testing.T, s *school, _ actor) (string, any) {
		return fmt.Sprintf("/api/school/courses/%d/", s.course(t).ID), map[string]any{"title": "Patched"}
	}
	students := func(t *testing.T, s *school, _ actor) (string, any) {
		return fmt.Sprintf("/api/school/courses/%d/students/", s.course(t).ID), nil
	}
	enrollments := func(t *testing.T, s *school, _ actor) (string, any) { return "/api/school/enrollments/", nil }
	enroll := func(t *testing.T, s *school, caller actor) (string, any) {
		body := map[string]any{"course_id": s.course(t).ID}
		if caller.name == s.admin.name {
			body["student_id"] = s.student.user.ID
		}
		return "/api/school/enrollments/", body
	}
	enrollment := func(t *testing.T, s *school, _ actor) (string, any) {
		return fmt.Sprintf("/api/school/enrollments/%d/", s.enrollment(t).ID), nil
	}
	grade := func(t *testing.T, s *school, _ actor) (string, any) {
		return fmt.Sprintf("/api/school/enrollments/%d/", s.enrollment(t).ID), map[string]any{"grade": 90}
	}
	users := func(t *testing.T, s *school, _ actor) (string, any) { return "/api/users/", nil }
	newUser := func(t *testing.T, s *school, _ actor) (string, any) {
		return "/api/users/", map[string]any{"username": s.unique("new"), "password": "a-long-passphrase", "roles": []string{"student"}}
	}
	user := func(t *testing.T, s *school, _ actor) (string, any) {
		return fmt.Sprintf("/api/users/%d/", s.user(t).ID), nil
	}
	patchUser := func(t *testing.T, s *school, _ actor) (string, any) {
		return fmt.Sprintf("/api/users/%d/", s.user(t).ID), map[string]any{"first_name": "Ada"}
	}
	revoke := func(t *testing.T, s *school, _ actor) (string, any) {
		return fmt.Sprintf("/api/users/%d/revoke/", s.user(t).ID), nil
	}
	userSessions := func(t *testing.T, s *school, _ actor) (string, any) {
		return fmt.Sprintf("/api/users/%d/sessions/", s.user(t).ID), nil
	}
	userSession := func(t *testing.T, s *school, _ actor) (string, any) {
		u := s.user(t)
		return fmt.Sprintf("/api/users/%d/sessions/%s/", u.ID, s.session(t, u.ID)), nil
	}
	mySessions := func(t *testing.T, s *school, _ actor) (string, any) { return "/api/me/sessions/", nil }
	othersSession := func(t *testing.T, s *school, _ actor) (string, any) {
		return "/api/me/sessions/" + s.session(t, s.user(t).ID) + "/", nil
	}
	const (
		ok, created, gone        = http.StatusOK, http.StatusCreated, http.StatusNoContent
		no, missing, anon, wrong = http.StatusForbidden, http.StatusNotFound, http.StatusUnauthorized, http.StatusMethodNotAllowed
	)
	return []endpointCase{
		{"list courses", "GET", courses, [6]int{ok, ok, ok, ok, ok, anon}},
		{"create course", "POST", newCourse, [6]int{created, created, created, no, no, anon}},
		{"get course", "GET", course, [6]int{ok, ok, ok, ok, ok, anon}},
		{"put course", "PUT", putCourse, [6]int{ok, ok, no, no, no, anon}},
		{"patch course", "PATCH", patchCourse, [6]int{ok, ok, no, no, no, anon}},
		{"delete course", "DELETE", course, [6]int{gone, no, no, no, no, anon}},
		{"course students", "GET", students, [6]int{ok, ok, no, no, no, anon}},
		{"list enrollments", "GET", enrollments, [6]int{ok, ok, ok, ok, ok, anon}},
		{"enroll", "POST", enroll, [6]int{created, no, no, created, created, anon}},
		{"get enrollment", "GET", enrollment, [6]int{ok, ok, missing, ok, missing, anon}},
		{"grade enrollment", "PATCH", grade, [6]int{ok, ok, missing, no, no, anon}},
		{"withdraw enrollment", "DELETE", enrollment, [6]int{gone, no, no, gone, missing, anon}},
		{"put enrollment", "PUT", enrollment, [6]int{wrong, wrong, wrong, wrong, wrong, anon}},
		{"list users", "GET", users, [6]int{ok, no, no, no, no, anon}},
		{"create user", "POST", newUser, [6]int{created, no, no, no, no, anon}},
		{"get user", "GET", user, [6]int{ok, no, no, no, no, anon}},
		{"patch user", "PATCH", patchUser, [6]int{ok, no, no, no, no, anon}},
		{"delete user", "DELETE", user, [6]int{gone, no, no, no, no, anon}},
		{"revoke user", "POST", revoke, [6]int{ok, no, no, no, no, anon}},
		// DRF checks permissions before the method: only an admin learns that PUT is not allowed.
		{"put user", "PUT", patchUser, [6]int{wrong, no, no, no, no, anon}},
		{"user sessions", "GET", userSessions, [6]int{ok, no, no, no, no, anon}},
		{"end user session", "DELETE", userSession, [6]int{gone, no, no, no, no, anon}},
		{"my sessions", "GET", mySessions, [6]int{ok, ok, ok, ok, ok, anon}},
		// Another user's session is unknown to every caller, the admin too: the admin ends
		// it under its user's path.
		{"end another's session as mine", "DELETE", othersSession, [6]int{missing, missing, missing, missing, missing, anon}},
	}
}

func TestPermissionMatrix(t *testing.T) {
	in := newInstance(t, options{})
	s := newSchool(t, in)
	for _, tt := range permissionMatrix() {
		for i, caller := range s.actors() {
			t.Run(tt.name+"/"+caller.name, func(t *testing.T) {
				path, body := tt.request(t, s, caller)
				r := in.call(t, caller, tt.method, path, body)
				if r.status != tt.want[i] {
					t.Fatalf("%s %s as %s = %d %s, want %d", tt.method, path, caller.name, r.status, r.body, tt.want[i])
				}
				if want := errorBody(r.status); want != "" && string(r.body) != want {
					t.Errorf("%s %s as %s body = %s, want %s", tt.method, path, caller.name, r.body, want)
				}
				if r.status == http.StatusNoContent && len(r.body) != 0 {
					t.Errorf("%s %s as %s: 204 with body %q", tt.method, path, caller.name, r.body)
				}
			})
		}
	}
}

// TestPermissionBeforeObject checks the order of DRF's checks: a caller whose role may not
// use an endpoint at all gets 403 even for an object that does not exist, while one whose
// role may gets the 404.
func TestPermissionBeforeObject(t *testing.T) {
	in := newInstance(t, options{})
	s := newSchool(t, in)
	tests := []struct {
		caller actor
		method string
		path   string
		status int
	}{
		{s.student, "PATCH", "/api/school/courses/999/", http.StatusForbidden},
		{s.teacher, "PATCH", "/api/school/courses/999/", http.StatusNotFound},
		{s.teacher, "DELETE", "/api/school/courses/999/", http.StatusForbidden},
		{s.admin, "DELETE", "/api/school/courses/999/", http.StatusNotFound},
		{s.student, "PATCH", "/api/school/enrollments/999/", http.StatusForbidden},
		{s.teacher, "DELETE", "/api/school/enrollments/999/", http.StatusForbidden},
		{s.student, "DELETE", "/api/school/enrollments/999/", http.StatusNotFound},
		{s.teacher, "GET", "/api/users/999/", http.StatusForbidden},
		{s.admin, "GET", "/api/users/999/", http.StatusNotFound},
		{s.admin, "POST", "/api/users/999/revoke/", http.StatusNotFound},
	}
	for _, tt := range tests {
		r := in.call(t, tt.caller, tt.method, tt.path, map[string]any{})
		if r.status != tt.status || string(r.body) != errorBody(tt.status) {
			t.Errorf("%s %s as %s = %d %s, want %d %s", tt.method, tt.path, tt.caller.name, r.status, r.body, tt.status, errorBody(tt.status))
		}
	}
}

// TestPathIDs checks that a path id must be a positive integer (400) and name something
// (404), on every resource and with or without the trailing slash.
func TestPathIDs(t *testing.T) {
	in := newInstance(t, options{})
	s := newSchool(t, in)
	bases := []string{"/api/school/courses/", "/api/school/enrollments/", "/api/users/"}
	tests := []struct {
		id     string
		status int
		body   string
	}{
		{"abc", 400, `{"detail":"Invalid id."}`},
		{"0", 400, `{"detail":"Invalid id."}`},
		{"-1", 400, `{"detail":"Invalid id."}`},
		{"1.5", 400, `{"detail":"Invalid id."}`},
		{"+1", 400, `{"detail":"Invalid id."}`},
		{"99999999999999999999", 400, `{"detail":"Invalid id."}`},
		{"999", 404, `{"detail":"Not found."}`},
	}
	for _, base := range bases {
		for _, tt := range tests {
			for _, path := range []string{base + tt.id + "/", base + tt.id} {
				wantStatusBody(t, in.call(t, s.admin, "GET", path, nil), tt.status, tt.body)
			}
		}
	}
	c := s.course(t)
	for _, path := range []string{
		"/api/school/courses", "/api/school/enrollments", "/api/users",
		fmt.Sprintf("/api/school/courses/%d", c.ID), fmt.Sprintf("/api/school/courses/%d/students", c.ID),
	} {
		if r := in.call(t, s.admin, "GET", path, nil); r.status != http.StatusOK {
			t.Errorf("GET %s = %d %s, want 200", path, r.status, r.body)
		}
	}
}
