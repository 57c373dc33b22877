package httpapi

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

func TestCourseCreate(t *testing.T) {
	in := newInstance(t, options{})
	s := newSchool(t, in)

	t.Run("teacher becomes the teacher", func(t *testing.T) {
		got := in.mustCall(t, s.teacher, "POST", "/api/school/courses/", map[string]any{
			"code": " BIO1 ", "title": "Biology", "teacher_id": s.otherTeacher.user.ID,
		}, 201)
		if got["teacher_id"] != float64(s.teacher.user.ID) || got["code"] != "BIO1" ||
			got["capacity"] != float64(30) || got["description"] != "" {
			t.Errorf("POST course as teacher = %v, want teacher_id %d, code BIO1, capacity 30", got, s.teacher.user.ID)
		}
	})
	t.Run("admin names a teacher", func(t *testing.T) {
		got := in.mustCall(t, s.admin, "POST", "/api/school/courses/", map[string]any{
			"code": "BIO2", "title": "Biology 2", "teacher_id": s.otherTeacher.user.ID, "capacity": "12",
		}, 201)
		if got["teacher_id"] != float64(s.otherTeacher.user.ID) || got["capacity"] != float64(12) {
			t.Errorf("POST course as admin = %v, want teacher_id %d, capacity 12", got, s.otherTeacher.user.ID)
		}
	})
	t.Run("admin without teacher", func(t *testing.T) {
		got := in.mustCall(t, s.admin, "POST", "/api/school/courses/", map[string]any{"code": "BIO3", "title": "B", "teacher_id": nil}, 201)
		if got["teacher_id"] != nil {
			t.Errorf("teacher_id = %v, want null", got["teacher_id"])
		}
	})
	t.Run("read-only fields are ignored", func(t *testing.T) {
		got := in.mustCall(t, s.admin, "POST", "/api/school/courses/", map[string]any{
			"code": "RO1", "title": "R", "id": 999, "created_at": "2000-01-01T00:00:00Z", "updated_at": "2000-01-01T00:00:00Z",
		}, 201)
		want := *formatTime(in.clock.Now())
		if got["id"] == float64(999) || got["created_at"] != want || got["updated_at"] != want {
			t.Errorf("POST with read-only fields = %v, want a new id and created_at %s", got, want)
		}
	})
	t.Run("duplicate code", func(t *testing.T) {
		wantStatusBody(t, in.call(t, s.admin, "POST", "/api/school/courses/", map[string]any{"code": "BIO1", "title": "again"}),
			409, `{"detail":"A course with this code already exists."}`)
	})
}

func TestCourseValidation(t *testing.T) {
	in := newInstance(t, options{})
	s := newSchool(t, in)
	long := func(n int) string { return strings.Repeat("x", n) }
	tests := []struct {
		name string
		body string
		want string
	}{
		{"empty", `{}`, `{"code":["This field is required."],"title":["This field is required."]}`},
		{"blank", `{"code":"  ","title":""}`, `{"code":["This field may not be blank."],"title":["This field may not be blank."]}`},
		{"null", `{"code":null,"title":"t"}`, `{"code":["This field may not be null."]}`},
		{"not a string", `{"code":["x"],"title":{"a":1}}`, `{"code":["Not a valid string."],"title":["Not a valid string."]}`},
		{"code too long", `{"code":"` + long(33) + `","title":"t"}`, `{"code":["Ensure this field has no more than 32 characters."]}`},
		{"title too long", `{"code":"c","title":"` + long(201) + `"}`, `{"title":["Ensure this field has no more than 200 characters."]}`},
		{"capacity zero", `{"code":"c","title":"t","capacity":0}`, `{"capacity":["Ensure this value is greater than or equal to 1."]}`},
		{"capacity negative", `{"code":"c","title":"t","capacity":"-3"}`, `{"capacity":["Ensure this value is greater than or equal to 1."]}`},
		{"capacity huge", `{"code":"c","title":"t","capacity":99999999999999999999999}`, `{"capacity":["Ensure this value is less than or equal to 2147483647."]}`},
		{"capacity text", `{"code":"c","title":"t","capacity":"abc"}`, `{"capacity":["A valid integer is required."]}`},
		{"capacity fraction", `{"code":"c","title":"t","capacity":1.5}`, `{"capacity":["A valid integer is required."]}`},
		{"capacity bool", `{"code":"c","title":"t","capacity":true}`, `{"capacity":["A valid integer is required."]}`},
		{"capacity null", `{"code":"c","title":"t","capacity":null}`, `{"capacity":["This field may not be null."]}`},
		{"teacher is a student", fmt.Sprintf(`{"code":"c","title":"t","teacher_id":%d}`, s.student.user.ID),
			fmt.Sprintf(`{"teacher_id":["Invalid pk \"%d\" - object does not exist."]}`, s.student.user.ID)},
		{"teacher unknown", `{"code":"c","title":"t","teacher_id":999}`, `{"teacher_id":["Invalid pk \"999\" - object does not exist."]}`},
		{"teacher not a pk", `{"code":"c","title":"t","teacher_id":"abc"}`, `{"teacher_id":["Incorrect type. Expected pk value, received str."]}`},
		{"teacher bool", `{"code":"c","title":"t","teacher_id":true}`, `{"teacher_id":["Incorrect type. Expected pk value, received bool."]}`},
		{"list body", `[1]`, `{"non_field_errors":["Invalid data. Expected a dictionary, but got list."]}`},
		{"malformed", `{"code":`, `{"detail":"JSON parse error - Unexpected end of JSON input"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantStatusBody(t, in.call(t, s.admin, "POST", "/api/school/courses/", tt.body), 400, tt.want)
		})
	}
	t.Run("form body", func(t *testing.T) {
		r := in.do(t, "POST", "/api/school/courses/", "application/x-www-form-urlencoded", strings.NewReader("code=c&title=t"),
			"Authorization: Bearer "+s.admin.access)
		wantStatusBody(t, r, 415, `{"detail":"Unsupported media type \"application/x-www-form-urlencoded\" in request."}`)
	})
}

func TestCourseUpdate(t *testing.T) {
	in := newInstance(t, options{})
	s := newSchool(t, in)
	c := in.mustCourse(t, "UPD1", s.teacher.user, 10)
	path := fmt.Sprintf("/api/school/courses/%d/", c.ID)

	in.clock.Advance(time.Minute)
	got := in.mustCall(t, s.teacher, "PATCH", path, map[string]any{
		"title": "New title", "teacher_id": s.otherTeacher.user.ID, "id": 999, "created_at": "2000-01-01T00:00:00Z",
	}, 200)
	if got["title"] != "New title" || got["teacher_id"] != float64(s.teacher.user.ID) || got["code"] != "UPD1" ||
		got["capacity"] != float64(10) || got["id"] != float64(c.ID) || got["created_at"] != *formatTime(c.CreatedAt) ||
		got["updated_at"] != *formatTime(in.clock.Now()) {
		t.Errorf("teacher PATCH = %v, want only the title changed and updated_at bumped", got)
	}

	wantStatusBody(t, in.call(t, s.teacher, "PUT", path, map[string]any{"title": "only"}), 400, `{"code":["This field is required."]}`)
	got = in.mustCall(t, s.teacher, "PUT", path, map[string]any{"code": "UPD2", "title": "Put"}, 200)
	if got["code"] != "UPD2" || got["capacity"] != float64(10) || got["description"] != "" {
		t.Errorf("PUT = %v, want code UPD2 and the capacity kept", got)
	}

	got = in.mustCall(t, s.admin, "PATCH", path, map[string]any{"teacher_id": s.otherTeacher.user.ID}, 200)
	if got["teacher_id"] != float64(s.otherTeacher.user.ID) {
		t.Errorf("admin PATCH teacher_id = %v, want %d", got["teacher_id"], s.otherTeacher.user.ID)
	}
	// The course changed hands: its former teacher may no longer change it.
	wantStatusBody(t, in.call(t, s.teacher, "PATCH", path, map[string]any{"title": "x"}), 403, errorBody(403))
	in.mustCall(t, s.otherTeacher, "PATCH", path, map[string]any{"title": "mine now"}, 200)

	got = in.mustCall(t, s.admin, "PATCH", path, map[string]any{"teacher_id": nil}, 200)
	if got["teacher_id"] != nil {
		t.Errorf("admin PATCH teacher_id null = %v, want null", got["teacher_id"])
	}

	wantStatusBody(t, in.call(t, s.admin, "PATCH", path, map[string]any{"capacity": 0}), 400,
		`{"capacity":["Ensure this value is greater than or equal to 1."]}`)
	in.mustCourse(t, "TAKEN", s.teacher.user, 5)
	wantStatusBody(t, in.call(t, s.admin, "PATCH", path, map[string]any{"code": "TAKEN"}), 409,
		`{"detail":"A course with this code already exists."}`)
	wantStatusBody(t, in.call(t, s.admin, "PATCH", path, `{"title":`), 400, `{"detail":"JSON parse error - Unexpected end of JSON input"}`)

	full := in.mustCourse(t, "FULL", s.teacher.user, 2)
	in.mustEnroll(t, full, s.student.user)
	in.mustEnroll(t, full, s.otherStudent.user)
	wantStatusBody(t, in.call(t, s.teacher, "PATCH", fmt.Sprintf("/api/school/courses/%d", full.ID), map[string]any{"capacity": 1}),
		409, `{"detail":"Capacity is below the number of enrolled students."}`)
}

func TestCourseDelete(t *testing.T) {
	in := newInstance(t, options{})
	s := newSchool(t, in)
	busy := in.mustCourse(t, "BUSY", s.teacher.user, 5)
	e := in.mustEnroll(t, busy, s.student.user)
	busyPath := fmt.Sprintf("/api/school/courses/%d/", busy.ID)
	wantStatusBody(t, in.call(t, s.admin, "DELETE", busyPath, nil), 409, `{"detail":"Course has enrollments; withdraw them first."}`)
	in.mustCall(t, s.student, "DELETE", fmt.Sprintf("/api/school/enrollments/%d/", e.ID), nil, 204)
	in.mustCall(t, s.admin, "DELETE", busyPath, nil, 204)
	wantStatusBody(t, in.call(t, s.admin, "GET", busyPath, nil), 404, errorBody(404))
	wantStatusBody(t, in.call(t, s.admin, "DELETE", busyPath, nil), 404, errorBody(404))
}

func TestCourseStudents(t *testing.T) {
	in := newInstance(t, options{})
	s := newSchool(t, in)
	c := in.mustCourse(t, "STU", s.teacher.user, 5)
	in.mustEnroll(t, c, s.student.user)
	in.mustEnroll(t, c, s.otherStudent.user)
	r := in.call(t, s.teacher, "GET", fmt.Sprintf("/api/school/courses/%d/students/?ordering=-username", c.ID), nil)
	p := mustPage(t, r)
	if p.Count != 2 || p.Results[0]["username"] != "student2" || p.Results[1]["username"] != "student" {
		t.Errorf("students = %s, want student2 then student", r.body)
	}
	if strings.Contains(string(r.body), "password") {
		t.Errorf("students = %s, leaks a password field", r.body)
	}
	wantStatusBody(t, in.call(t, s.teacher, "GET", "/api/school/courses/999/students/", nil), 404, errorBody(404))
	other := in.mustCourse(t, "OTHER", s.otherTeacher.user, 5)
	wantStatusBody(t, in.call(t, s.teacher, "GET", fmt.Sprintf("/api/school/courses/%d/students/", other.ID), nil), 403, errorBody(403))
}

// TestCourseOfDeletedTeacher checks that a course outlives its teacher with teacher_id null.
func TestCourseOfDeletedTeacher(t *testing.T) {
	in := newInstance(t, options{})
	s := newSchool(t, in)
	gone := in.mustCreateUser(t, "leaving", "", ciphemic.RoleTeacher)
	c := in.mustCourse(t, "ORPHAN", gone, 5)
	in.mustCall(t, s.admin, "DELETE", fmt.Sprintf("/api/users/%d/", gone.ID), nil, 204)
	got := in.mustCall(t, s.student, "GET", fmt.Sprintf("/api/school/courses/%d/", c.ID), nil, 200)
	if got["teacher_id"] != nil {
		t.Errorf("course of a deleted teacher has teacher_id %v, want null", got["teacher_id"])
	}
	if r := in.call(t, s.student, "HEAD", fmt.Sprintf("/api/school/courses/%d/", c.ID), nil); r.status != 200 || len(r.body) != 0 {
		t.Errorf("HEAD course = %d %q, want 200 and no body", r.status, r.body)
	}
}
