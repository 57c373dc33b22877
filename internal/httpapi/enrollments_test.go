package httpapi

import (
	"fmt"
	"net/http"
	"sync"
	"testing"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

func TestEnrollmentCreate(t *testing.T) {
	in := newInstance(t, options{})
	s := newSchool(t, in)
	c := in.mustCourse(t, "ENR", s.teacher.user, 2)
	const path = "/api/school/enrollments/"

	got := in.mustCall(t, s.student, "POST", path, map[string]any{
		"course_id": c.ID, "grade": 100, "id": 999, "enrolled_at": "2000-01-01T00:00:00Z",
	}, 201)
	if got["course_id"] != float64(c.ID) || got["student_id"] != float64(s.student.user.ID) || got["grade"] != nil ||
		got["id"] == float64(999) || got["enrolled_at"] != *formatTime(in.clock.Now()) {
		t.Errorf("POST enrollment = %v, want the student enrolled, no grade, read-only fields ignored", got)
	}
	wantStatusBody(t, in.call(t, s.student, "POST", path, map[string]any{"course_id": c.ID}), 409,
		`{"detail":"Already enrolled in this course."}`)
	in.mustCall(t, s.otherStudent, "POST", path, map[string]any{"course_id": c.ID, "student_id": s.otherStudent.user.ID}, 201)
	third := in.mustActor(t, "third", ciphemic.RoleStudent)
	wantStatusBody(t, in.call(t, third, "POST", path, map[string]any{"course_id": c.ID}), 409, `{"detail":"Course is full."}`)

	other := in.mustCourse(t, "ENR2", s.teacher.user, 5)
	tests := []struct {
		name   string
		caller actor
		body   string
		status int
		want   string
	}{
		{"student for another", s.student, fmt.Sprintf(`{"course_id":%d,"student_id":%d}`, other.ID, s.otherStudent.user.ID), 403, errorBody(403)},
		{"student id not a pk", s.student, fmt.Sprintf(`{"course_id":%d,"student_id":"me"}`, other.ID), 400,
			`{"student_id":["Incorrect type. Expected pk value, received str."]}`},
		{"no course", s.student, `{}`, 400, `{"course_id":["This field is required."]}`},
		{"null course", s.student, `{"course_id":null}`, 400, `{"course_id":["This field may not be null."]}`},
		{"unknown course", s.student, `{"course_id":999}`, 400, `{"course_id":["Invalid pk \"999\" - object does not exist."]}`},
		{"admin without student", s.admin, fmt.Sprintf(`{"course_id":%d}`, other.ID), 400, `{"student_id":["This field is required."]}`},
		{"admin with a teacher", s.admin, fmt.Sprintf(`{"course_id":%d,"student_id":%d}`, other.ID, s.teacher.user.ID), 400,
			fmt.Sprintf(`{"student_id":["Invalid pk \"%d\" - object does not exist."]}`, s.teacher.user.ID)},
		{"admin with nobody", s.admin, fmt.Sprintf(`{"course_id":%d,"student_id":999}`, other.ID), 400,
			`{"student_id":["Invalid pk \"999\" - object does not exist."]}`},
		{"teacher", s.teacher, fmt.Sprintf(`{"course_id":%d}`, other.ID), 403, errorBody(403)},
		{"malformed", s.student, `{"course_id":`, 400, `{"detail":"JSON parse error - Unexpected end of JSON input"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantStatusBody(t, in.call(t, tt.caller, "POST", path, tt.body), tt.status, tt.want)
		})
	}
	got = in.mustCall(t, s.admin, "POST", path, map[string]any{"course_id": other.ID, "student_id": s.otherStudent.user.ID}, 201)
	if got["student_id"] != float64(s.otherStudent.user.ID) {
		t.Errorf("admin POST enrollment = %v, want student %d", got, s.otherStudent.user.ID)
	}
}

func TestEnrollmentVisibility(t *testing.T) {
	in := newInstance(t, options{})
	s := newSchool(t, in)
	mine := in.mustCourse(t, "MINE", s.teacher.user, 5)
	theirs := in.mustCourse(t, "THEIRS", s.otherTeacher.user, 5)
	in.mustEnroll(t, mine, s.student.user)
	in.mustEnroll(t, mine, s.otherStudent.user)
	in.mustEnroll(t, theirs, s.student.user)
	tests := []struct {
		caller actor
		query  string
		count  int64
	}{
		{s.admin, "", 3},
		{s.teacher, "", 2},
		{s.otherTeacher, "", 1},
		{s.student, "", 2},
		{s.otherStudent, "", 1},
		{s.admin, fmt.Sprintf("?course_id=%d", theirs.ID), 1},
		{s.student, fmt.Sprintf("?course_id=%d", mine.ID), 1},
		{s.teacher, fmt.Sprintf("?course_id=%d", theirs.ID), 0},
	}
	for _, tt := range tests {
		p := mustPage(t, in.call(t, tt.caller, "GET", "/api/school/enrollments/"+tt.query, nil))
		if p.Count != tt.count || len(p.Results) != int(tt.count) {
			t.Errorf("GET enrollments%s as %s = count %d, want %d", tt.query, tt.caller.name, p.Count, tt.count)
		}
		for _, e := range p.Results {
			if tt.caller.user.Role == ciphemic.RoleStudent && e["student_id"] != float64(tt.caller.user.ID) {
				t.Errorf("%s sees enrollment %v of another student", tt.caller.name, e)
			}
		}
	}
	wantStatusBody(t, in.call(t, s.admin, "GET", "/api/school/enrollments/?course_id=x", nil), 400, `{"course_id":["Enter a whole number."]}`)
	p := mustPage(t, in.call(t, s.admin, "GET", "/api/school/enrollments/?ordering=-course_id&page_size=1", nil))
	if p.Results[0]["course_id"] != float64(theirs.ID) {
		t.Errorf("ordering=-course_id first = %v, want course %d", p.Results[0], theirs.ID)
	}
}

func TestEnrollmentGrade(t *testing.T) {
	in := newInstance(t, options{})
	s := newSchool(t, in)
	e := s.enrollment(t)
	path := fmt.Sprintf("/api/school/enrollments/%d/", e.ID)
	tests := []struct {
		body   string
		status int
		want   string
	}{
		{`{"grade":101}`, 400, `{"grade":["Ensure this value is less than or equal to 100."]}`},
		{`{"grade":-1}`, 400, `{"grade":["Ensure this value is greater than or equal to 0."]}`},
		{`{"grade":"A"}`, 400, `{"grade":["A valid integer is required."]}`},
		{`{"grade":[90]}`, 400, `{"grade":["A valid integer is required."]}`},
		{`{"grade":"90"}`, 200, fmt.Sprintf(`{"id":%d,"course_id":%d,"student_id":%d,"enrolled_at":%q,"grade":90}`,
			e.ID, e.CourseID, e.StudentID, *formatTime(e.EnrolledAt))},
		{`{}`, 200, fmt.Sprintf(`{"id":%d,"course_id":%d,"student_id":%d,"enrolled_at":%q,"grade":90}`,
			e.ID, e.CourseID, e.StudentID, *formatTime(e.EnrolledAt))},
		{fmt.Sprintf(`{"grade":0,"course_id":%d,"student_id":%d,"enrolled_at":"2000-01-01T00:00:00Z","id":5}`, e.CourseID+1, s.otherStudent.user.ID), 200,
			fmt.Sprintf(`{"id":%d,"course_id":%d,"student_id":%d,"enrolled_at":%q,"grade":0}`,
				e.ID, e.CourseID, e.StudentID, *formatTime(e.EnrolledAt))},
		{`{"grade":null}`, 200, fmt.Sprintf(`{"id":%d,"course_id":%d,"student_id":%d,"enrolled_at":%q,"grade":null}`,
			e.ID, e.CourseID, e.StudentID, *formatTime(e.EnrolledAt))},
	}
	for _, tt := range tests {
		wantStatusBody(t, in.call(t, s.teacher, "PATCH", path, tt.body), tt.status, tt.want)
	}
	r := in.do(t, "PATCH", path, "text/plain", nil, "Authorization: Bearer "+s.teacher.access)
	wantStatusBody(t, r, 415, `{"detail":"Unsupported media type \"text/plain\" in request."}`)
	in.mustCall(t, s.admin, "PATCH", path, map[string]any{"grade": 75}, 200)
	got := in.mustCall(t, s.student, "GET", path, nil, 200)
	if got["grade"] != float64(75) {
		t.Errorf("student sees grade %v, want 75", got["grade"])
	}
}

func TestEnrollmentWithdrawFreesTheSeat(t *testing.T) {
	in := newInstance(t, options{})
	s := newSchool(t, in)
	c := in.mustCourse(t, "ONE", s.teacher.user, 1)
	e := in.mustEnroll(t, c, s.student.user)
	body := map[string]any{"course_id": c.ID}
	wantStatusBody(t, in.call(t, s.otherStudent, "POST", "/api/school/enrollments/", body), 409, `{"detail":"Course is full."}`)
	in.mustCall(t, s.student, "DELETE", fmt.Sprintf("/api/school/enrollments/%d", e.ID), nil, 204)
	in.mustCall(t, s.otherStudent, "POST", "/api/school/enrollments/", body, 201)
}

// TestEnrollConcurrentlyThroughHTTP checks that admission is decided by the store, not by
// a read-then-write in the handler: 20 students racing for 5 seats get exactly 5.
func TestEnrollConcurrentlyThroughHTTP(t *testing.T) {
	in := newInstance(t, options{})
	s := newSchool(t, in)
	c := in.mustCourse(t, "RACE", s.teacher.user, 5)
	students := make([]actor, 20)
	for i := range students {
		students[i] = in.mustActor(t, fmt.Sprintf("racer%d", i), ciphemic.RoleStudent)
	}
	statuses := race(t, len(students), func(i int) response {
		return in.call(t, students[i], "POST", "/api/school/enrollments/", map[string]any{"course_id": c.ID})
	}, `{"detail":"Course is full."}`)
	if statuses[http.StatusCreated] != 5 || statuses[http.StatusConflict] != 15 {
		t.Errorf("20 students enrolling in 5 seats: %v, want 5×201 and 15×409", statuses)
	}
	p := mustPage(t, in.call(t, s.admin, "GET", fmt.Sprintf("/api/school/enrollments/?course_id=%d", c.ID), nil))
	if p.Count != 5 {
		t.Errorf("enrollments of the course = %d, want 5", p.Count)
	}
}

// TestEnrollSameStudentConcurrently checks that one student posting the same enrollment
// many times at once is enrolled once.
func TestEnrollSameStudentConcurrently(t *testing.T) {
	in := newInstance(t, options{})
	s := newSchool(t, in)
	c := in.mustCourse(t, "TWICE", s.teacher.user, 30)
	statuses := race(t, 10, func(int) response {
		return in.call(t, s.student, "POST", "/api/school/enrollments/", map[string]any{"course_id": c.ID})
	}, `{"detail":"Already enrolled in this course."}`)
	if statuses[http.StatusCreated] != 1 || statuses[http.StatusConflict] != 9 {
		t.Errorf("10 identical enrollments: %v, want 1×201 and 9×409", statuses)
	}
	p := mustPage(t, in.call(t, s.admin, "GET", fmt.Sprintf("/api/school/enrollments/?course_id=%d", c.ID), nil))
	if p.Count != 1 {
		t.Errorf("enrollments of the course = %d, want 1", p.Count)
	}
}

// race runs n requests at once (released together) and counts their statuses; every 409
// must carry conflictBody.
func race(t *testing.T, n int, send func(i int) response, conflictBody string) map[int]int {
	t.Helper()
	var (
		wg       sync.WaitGroup
		start    = make(chan struct{})
		results  = make([]response, n)
		statuses = map[int]int{}
	)
	for i := range n {
		wg.Go(func() {
			<-start
			results[i] = send(i)
		})
	}
	close(start)
	wg.Wait()
	for _, r := range results {
		statuses[r.status]++
		if r.status == http.StatusConflict && string(r.body) != conflictBody {
			t.Errorf("409 body = %s, want %s", r.body, conflictBody)
		}
	}
	return statuses
}
