package storetest

import (
	"context"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/store"
)

// newCourse returns a course with every writable field set; teacherID may be 0.
func newCourse(code string, teacherID int64, capacity int) ciphemic.Course {
	return ciphemic.Course{
		Code:        code,
		Title:       "Title of " + code,
		Description: "About " + code,
		TeacherID:   teacherID,
		Capacity:    capacity,
	}
}

func mustCourse(t *testing.T, db *store.DB, code string, teacherID int64, capacity int) ciphemic.Course {
	t.Helper()
	c, err := db.CreateCourse(context.Background(), newCourse(code, teacherID, capacity))
	if err != nil {
		t.Fatalf("CreateCourse(%q) = %v", code, err)
	}
	return c
}

func mustGetCourse(t *testing.T, db *store.DB, id int64) ciphemic.Course {
	t.Helper()
	c, err := db.Course(context.Background(), id)
	if err != nil {
		t.Fatalf("Course(%d) = %v", id, err)
	}
	return c
}

// wantEnrolled fails t unless the course's Enrolled is want and equals the number of
// its enrollments.
func wantEnrolled(t *testing.T, db *store.DB, courseID int64, want int) {
	t.Helper()
	c := mustGetCourse(t, db, courseID)
	_, n, err := db.ListEnrollments(context.Background(), ciphemic.EnrollmentFilter{CourseID: courseID}, ciphemic.ListQuery{})
	if err != nil {
		t.Fatalf("ListEnrollments(course %d) = %v", courseID, err)
	}
	if c.Enrolled != want || n != int64(want) {
		t.Errorf("course %d: Enrolled = %d, %d enrollments, want %d of both", courseID, c.Enrolled, n, want)
	}
}

func testCreateCourse(t *testing.T, db *store.DB) {
	ctx := context.Background()
	teacher := mustUser(t, db, "tina", func(u *ciphemic.User) { u.Role = ciphemic.RoleTeacher })
	in := newCourse("CS101", teacher.ID, 30)
	in.ID, in.Enrolled = 99, 7 // set by the store, whatever the caller says
	in.CreatedAt, in.UpdatedAt = t0.Add(-time.Hour), t0.Add(-time.Hour)
	got, err := db.CreateCourse(ctx, in)
	if err != nil {
		t.Fatalf("CreateCourse() = %v", err)
	}
	want := newCourse("CS101", teacher.ID, 30)
	want.ID, want.CreatedAt, want.UpdatedAt = got.ID, stored(t0), stored(t0)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("CreateCourse() = %+v, want %+v", got, want)
	}
	if byID := mustGetCourse(t, db, got.ID); !reflect.DeepEqual(byID, want) {
		t.Errorf("Course(%d) = %+v, want %+v", got.ID, byID, want)
	}
	noTeacher := mustCourse(t, db, "CS102", 0, 1)
	if noTeacher.TeacherID != 0 || noTeacher.ID == got.ID {
		t.Errorf("CreateCourse(no teacher) = %+v, want TeacherID 0 and a new ID", noTeacher)
	}
	_, err = db.Course(ctx, noTeacher.ID+100)
	wantCode(t, "Course(missing)", err, ciphemic.CodeNotFound, "Not found.")
}

func testCreateCourseErrors(t *testing.T, db *store.DB) {
	ctx := context.Background()
	mustCourse(t, db, "CS101", 0, 10)
	edit := func(f func(*ciphemic.Course)) ciphemic.Course {
		c := newCourse("NEW1", 0, 10)
		f(&c)
		return c
	}
	tests := []struct {
		name string
		in   ciphemic.Course
		code ciphemic.Code
		msg  string
	}{
		{"duplicate code", edit(func(c *ciphemic.Course) { c.Code = "CS101" }), ciphemic.CodeConflict,
			"A course with this code already exists."},
		{"missing teacher", edit(func(c *ciphemic.Course) { c.TeacherID = 999 }), ciphemic.CodeInvalid,
			`teacher_id: Invalid pk "999" - object does not exist.`},
		{"capacity 0", edit(func(c *ciphemic.Course) { c.Capacity = 0 }), ciphemic.CodeInvalid, ""},
		{"capacity -1", edit(func(c *ciphemic.Course) { c.Capacity = -1 }), ciphemic.CodeInvalid, ""},
		{"blank code", edit(func(c *ciphemic.Course) { c.Code = "" }), ciphemic.CodeInvalid, ""},
		{"blank title", edit(func(c *ciphemic.Course) { c.Title = "" }), ciphemic.CodeInvalid, ""},
	}
	for _, tc := range tests {
		_, err := db.CreateCourse(ctx, tc.in)
		wantCode(t, "CreateCourse("+tc.name+")", err, tc.code, tc.msg)
	}
	if _, n, err := db.ListCourses(ctx, ciphemic.ListQuery{}); err != nil || n != 1 {
		t.Errorf("ListCourses() after refused creates: total %d, %v, want 1", n, err)
	}
}

func testUpdateCourse(t *testing.T, db *store.DB) {
	ctx := context.Background()
	teacher := mustUser(t, db, "tina", func(u *ciphemic.User) { u.Role = ciphemic.RoleTeacher })
	c := mustCourse(t, db, "CS101", 0, 10)
	later := t0.Add(time.Minute)
	setNow(db, later)
	in := ciphemic.Course{ID: c.ID, Code: "CS201", Title: "New", Description: "Changed",
		TeacherID: teacher.ID, Capacity: 5, Enrolled: 4, CreatedAt: later}
	got, err := db.UpdateCourse(ctx, in)
	if err != nil {
		t.Fatalf("UpdateCourse() = %v", err)
	}
	want := in
	want.Enrolled, want.CreatedAt, want.UpdatedAt = 0, stored(t0), stored(later)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("UpdateCourse() = %+v, want %+v", got, want)
	}
	if byID := mustGetCourse(t, db, c.ID); !reflect.DeepEqual(byID, want) {
		t.Errorf("Course(%d) after update = %+v, want %+v", c.ID, byID, want)
	}
	// Clearing the teacher stores NULL.
	in.TeacherID = 0
	if got, err := db.UpdateCourse(ctx, in); err != nil || got.TeacherID != 0 {
		t.Errorf("UpdateCourse(TeacherID 0) = %+v, %v, want TeacherID 0", got, err)
	}
}

func testUpdateCourseErrors(t *testing.T, db *store.DB) {
	ctx := context.Background()
	mustCourse(t, db, "TAKEN", 0, 10)
	c := mustCourse(t, db, "CS101", 0, 3)
	for i := range 2 {
		mustEnroll(t, db, c.ID, mustUser(t, db, jti("s", i)).ID)
	}
	edit := func(f func(*ciphemic.Course)) ciphemic.Course {
		in := newCourse("CS101", 0, 3)
		in.ID = c.ID
		f(&in)
		return in
	}
	tests := []struct {
		name string
		in   ciphemic.Course
		code ciphemic.Code
		msg  string
	}{
		{"missing", edit(func(in *ciphemic.Course) { in.ID += 100 }), ciphemic.CodeNotFound, "Not found."},
		{"duplicate code", edit(func(in *ciphemic.Course) { in.Code = "TAKEN" }), ciphemic.CodeConflict,
			"A course with this code already exists."},
		{"below enrolled", edit(func(in *ciphemic.Course) { in.Capacity = 1 }), ciphemic.CodeConflict,
			"Capacity is below the number of enrolled students."},
		{"missing teacher", edit(func(in *ciphemic.Course) { in.TeacherID = 999 }), ciphemic.CodeInvalid,
			`teacher_id: Invalid pk "999" - object does not exist.`},
		{"capacity 0", edit(func(in *ciphemic.Course) { in.Capacity = 0 }), ciphemic.CodeInvalid, ""},
		{"blank code", edit(func(in *ciphemic.Course) { in.Code = "" }), ciphemic.CodeInvalid, ""},
	}
	for _, tc := range tests {
		_, err := db.UpdateCourse(ctx, tc.in)
		wantCode(t, "UpdateCourse("+tc.name+")", err, tc.code, tc.msg)
	}
	if got := mustGetCourse(t, db, c.ID); got.Capacity != 3 || got.Code != "CS101" {
		t.Errorf("Course after refused updates = %+v, want it unchanged", got)
	}
	// Capacity may drop to exactly the number enrolled.
	if got, err := db.UpdateCourse(ctx, edit(func(in *ciphemic.Course) { in.Capacity = 2 })); err != nil || got.Capacity != 2 {
		t.Errorf("UpdateCourse(capacity = enrolled) = %+v, %v, want capacity 2", got, err)
	}
	wantEnrolled(t, db, c.ID, 2)
}

func testDeleteCourse(t *testing.T, db *store.DB) {
	ctx := context.Background()
	c := mustCourse(t, db, "CS101", 0, 3)
	e := mustEnroll(t, db, c.ID, mustUser(t, db, "sam").ID)
	err := db.DeleteCourse(ctx, c.ID)
	wantCode(t, "DeleteCourse(with enrollments)", err, ciphemic.CodeConflict,
		"Course has enrollments; withdraw them first.")
	if _, err := db.Enrollment(ctx, e.ID); err != nil {
		t.Errorf("Enrollment(%d) after refused DeleteCourse = %v, want it kept", e.ID, err)
	}
	wantIs(t, "DeleteEnrollment()", db.DeleteEnrollment(ctx, e.ID), nil)
	wantIs(t, "DeleteCourse(without enrollments)", db.DeleteCourse(ctx, c.ID), nil)
	_, err = db.Course(ctx, c.ID)
	wantCode(t, "Course(deleted)", err, ciphemic.CodeNotFound, "Not found.")
	err = db.DeleteCourse(ctx, c.ID)
	wantCode(t, "DeleteCourse(deleted)", err, ciphemic.CodeNotFound, "Not found.")
}

// testDeleteCourseWhileEnrolling: a course deleted while students enroll is either
// deleted with no enrollment left behind, or kept with every admitted student counted.
func testDeleteCourseWhileEnrolling(t *testing.T, db *store.DB) {
	ctx := context.Background()
	var students []int64
	for i := range 6 {
		students = append(students, mustUser(t, db, jti("s", i)).ID)
	}
	for round := range 4 {
		c := mustCourse(t, db, jti("c", round), 0, 10)
		var deleteErr error
		errs := make([]error, len(students))
		var wg sync.WaitGroup
		start := make(chan struct{})
		wg.Go(func() {
			<-start
			deleteErr = db.DeleteCourse(ctx, c.ID)
		})
		for i, s := range students {
			wg.Go(func() {
				<-start
				_, errs[i] = db.Enroll(ctx, c.ID, s)
			})
		}
		close(start)
		wg.Wait()
		admitted := 0
		for _, err := range errs {
			if err == nil {
				admitted++
			} else {
				wantCode(t, "Enroll(course being deleted)", err, ciphemic.CodeNotFound, "")
			}
		}
		_, n, err := db.ListEnrollments(ctx, ciphemic.EnrollmentFilter{CourseID: c.ID}, ciphemic.ListQuery{})
		switch {
		case err != nil:
			t.Fatalf("ListEnrollments() = %v", err)
		case deleteErr == nil && (admitted != 0 || n != 0):
			t.Errorf("round %d: course deleted, yet %d admitted and %d enrollments left", round, admitted, n)
		case deleteErr != nil:
			wantCode(t, "DeleteCourse(while enrolling)", deleteErr, ciphemic.CodeConflict, "")
			wantEnrolled(t, db, c.ID, admitted)
		}
	}
}

func testCourseStudents(t *testing.T, db *store.DB) {
	ctx := context.Background()
	c := mustCourse(t, db, "CS101", 0, 10)
	other := mustCourse(t, db, "CS102", 0, 10)
	var want []int64
	for _, name := range []string{"carol", "alice", "bob"} {
		u := mustUser(t, db, name)
		mustEnroll(t, db, c.ID, u.ID)
		want = append(want, u.ID)
	}
	mustEnroll(t, db, other.ID, mustUser(t, db, "dave").ID)
	got, n, err := db.CourseStudents(ctx, c.ID, ciphemic.ListQuery{})
	if err != nil || n != 3 || !reflect.DeepEqual(userIDs(got), want) {
		t.Errorf("CourseStudents(%d) = %v, %d, %v, want %v, 3", c.ID, userIDs(got), n, err, want)
	}
	if len(got) > 0 && got[0].Username != "carol" || len(got) > 0 && got[0].PasswordHash == "" {
		t.Errorf("CourseStudents()[0] = %+v, want carol with every field read", got[0])
	}
	got, n, err = db.CourseStudents(ctx, c.ID, ciphemic.ListQuery{Search: "ALI"})
	if err != nil || n != 1 || len(got) != 1 || got[0].Username != "alice" {
		t.Errorf("CourseStudents(search ALI) = %v, %d, %v, want alice", userIDs(got), n, err)
	}
	got, _, err = db.CourseStudents(ctx, c.ID, ciphemic.ListQuery{OrderBy: "username", Descending: true})
	if wantNames := []int64{want[0], want[2], want[1]}; err != nil || !reflect.DeepEqual(userIDs(got), wantNames) {
		t.Errorf("CourseStudents(-username) = %v, %v, want %v", userIDs(got), err, wantNames)
	}
	_, _, err = db.CourseStudents(ctx, other.ID+100, ciphemic.ListQuery{})
	wantCode(t, "CourseStudents(missing course)", err, ciphemic.CodeNotFound, "Not found.")
	_, _, err = db.CourseStudents(ctx, c.ID, ciphemic.ListQuery{OrderBy: "code"})
	wantCode(t, "CourseStudents(ordering code)", err, ciphemic.CodeInvalid, "")
}

func userIDs(us []ciphemic.User) []int64 {
	ids := []int64{}
	for _, u := range us {
		ids = append(ids, u.ID)
	}
	return ids
}
