package storetest

import (
	"context"
	"reflect"
	"sync"
	"testing"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/store"
)

func mustEnroll(t *testing.T, db *store.DB, courseID, studentID int64) ciphemic.Enrollment {
	t.Helper()
	e, err := db.Enroll(context.Background(), courseID, studentID)
	if err != nil {
		t.Fatalf("Enroll(%d, %d) = %v", courseID, studentID, err)
	}
	return e
}

func intp(v int) *int { return &v }

func testEnroll(t *testing.T, db *store.DB) {
	ctx := context.Background()
	c := mustCourse(t, db, "CS101", 0, 2)
	sam, sue := mustUser(t, db, "sam"), mustUser(t, db, "sue")
	got := mustEnroll(t, db, c.ID, sam.ID)
	want := ciphemic.Enrollment{ID: got.ID, CourseID: c.ID, StudentID: sam.ID, EnrolledAt: stored(t0)}
	if got.ID <= 0 || !reflect.DeepEqual(got, want) {
		t.Errorf("Enroll() = %+v, want %+v", got, want)
	}
	if byID, err := db.Enrollment(ctx, got.ID); err != nil || !reflect.DeepEqual(byID, want) {
		t.Errorf("Enrollment(%d) = %+v, %v, want %+v", got.ID, byID, err, want)
	}
	_, err := db.Enrollment(ctx, got.ID+100)
	wantCode(t, "Enrollment(missing)", err, ciphemic.CodeNotFound, "Not found.")

	_, err = db.Enroll(ctx, c.ID, sam.ID)
	wantCode(t, "Enroll(again)", err, ciphemic.CodeConflict, "Already enrolled in this course.")
	_, err = db.Enroll(ctx, c.ID, 999)
	wantCode(t, "Enroll(missing student)", err, ciphemic.CodeInvalid,
		`student_id: Invalid pk "999" - object does not exist.`)
	_, err = db.Enroll(ctx, c.ID+100, sam.ID)
	wantCode(t, "Enroll(missing course)", err, ciphemic.CodeNotFound, "Not found.")
	wantEnrolled(t, db, c.ID, 1) // the refused enrollments left no seat taken

	mustEnroll(t, db, c.ID, sue.ID)
	_, err = db.Enroll(ctx, c.ID, mustUser(t, db, "sid").ID)
	wantCode(t, "Enroll(full course)", err, ciphemic.CodeConflict, "Course is full.")
	_, err = db.Enroll(ctx, c.ID, sam.ID)
	wantCode(t, "Enroll(again, full course)", err, ciphemic.CodeConflict, "Already enrolled in this course.")
	wantEnrolled(t, db, c.ID, 2)
}

// enrollAtOnce starts Enroll(courseID, students[i]) for every i together and returns
// their errors.
func enrollAtOnce(db *store.DB, courseID int64, students []int64) []error {
	errs := make([]error, len(students))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, s := range students {
		wg.Go(func() {
			<-start
			_, errs[i] = db.Enroll(context.Background(), courseID, s)
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// wantAdmitted fails t unless exactly want of errs are nil and the others carry the
// conflict message msg.
func wantAdmitted(t *testing.T, errs []error, want int, msg string) {
	t.Helper()
	admitted := 0
	for _, err := range errs {
		if err == nil {
			admitted++
			continue
		}
		wantCode(t, "concurrent Enroll()", err, ciphemic.CodeConflict, msg)
	}
	if admitted != want {
		t.Errorf("concurrent Enroll(): %d admitted, want %d", admitted, want)
	}
}

// testEnrollRace: of 20 students enrolling at once in a course of 3 seats, exactly 3 get in.
func testEnrollRace(t *testing.T, db *store.DB) {
	c := mustCourse(t, db, "CS101", 0, 3)
	var students []int64
	for i := range 20 {
		students = append(students, mustUser(t, db, jti("s", i)).ID)
	}
	wantAdmitted(t, enrollAtOnce(db, c.ID, students), 3, "Course is full.")
	wantEnrolled(t, db, c.ID, 3)
}

// testEnrollSameStudentRace: one student enrolling ten times at once is enrolled once.
func testEnrollSameStudentRace(t *testing.T, db *store.DB) {
	c := mustCourse(t, db, "CS101", 0, 3)
	sam := mustUser(t, db, "sam")
	students := make([]int64, 10)
	for i := range students {
		students[i] = sam.ID
	}
	wantAdmitted(t, enrollAtOnce(db, c.ID, students), 1, "Already enrolled in this course.")
	wantEnrolled(t, db, c.ID, 1)
}

func testDeleteEnrollment(t *testing.T, db *store.DB) {
	ctx := context.Background()
	c := mustCourse(t, db, "CS101", 0, 1)
	e := mustEnroll(t, db, c.ID, mustUser(t, db, "sam").ID)
	sue := mustUser(t, db, "sue")
	_, err := db.Enroll(ctx, c.ID, sue.ID)
	wantCode(t, "Enroll(full course)", err, ciphemic.CodeConflict, "Course is full.")
	wantIs(t, "DeleteEnrollment()", db.DeleteEnrollment(ctx, e.ID), nil)
	wantEnrolled(t, db, c.ID, 0)
	_, err = db.Enrollment(ctx, e.ID)
	wantCode(t, "Enrollment(deleted)", err, ciphemic.CodeNotFound, "Not found.")
	err = db.DeleteEnrollment(ctx, e.ID)
	wantCode(t, "DeleteEnrollment(deleted)", err, ciphemic.CodeNotFound, "Not found.")
	mustEnroll(t, db, c.ID, sue.ID) // the freed seat is taken
	wantEnrolled(t, db, c.ID, 1)
}

func testSetGrade(t *testing.T, db *store.DB) {
	ctx := context.Background()
	c := mustCourse(t, db, "CS101", 0, 1)
	e := mustEnroll(t, db, c.ID, mustUser(t, db, "sam").ID)
	tests := []struct {
		grade *int
		code  ciphemic.Code
		want  *int
	}{
		{intp(85), "", intp(85)},
		{intp(0), "", intp(0)},
		{intp(100), "", intp(100)},
		{nil, "", nil},
		{intp(70), "", intp(70)},
		{intp(-1), ciphemic.CodeInvalid, intp(70)},
		{intp(101), ciphemic.CodeInvalid, intp(70)},
	}
	for _, tc := range tests {
		got, err := db.SetGrade(ctx, e.ID, tc.grade)
		wantCode(t, "SetGrade()", err, tc.code, "")
		if err == nil && !reflect.DeepEqual(got.Grade, tc.want) {
			t.Errorf("SetGrade(%v).Grade = %v, want %v", fmtGrade(tc.grade), fmtGrade(got.Grade), fmtGrade(tc.want))
		}
		stored, _ := db.Enrollment(ctx, e.ID)
		if !reflect.DeepEqual(stored.Grade, tc.want) {
			t.Errorf("after SetGrade(%v): Enrollment().Grade = %v, want %v", fmtGrade(tc.grade), fmtGrade(stored.Grade), fmtGrade(tc.want))
		}
	}
	_, err := db.SetGrade(ctx, e.ID+100, intp(50))
	wantCode(t, "SetGrade(missing)", err, ciphemic.CodeNotFound, "Not found.")
}

func fmtGrade(g *int) any {
	if g == nil {
		return "nil"
	}
	return *g
}

func testListEnrollmentsFilter(t *testing.T, db *store.DB) {
	ctx := context.Background()
	tina := mustUser(t, db, "tina", func(u *ciphemic.User) { u.Role = ciphemic.RoleTeacher })
	tom := mustUser(t, db, "tom", func(u *ciphemic.User) { u.Role = ciphemic.RoleTeacher })
	c1, c2, c3 := mustCourse(t, db, "C1", tina.ID, 5), mustCourse(t, db, "C2", tina.ID, 5), mustCourse(t, db, "C3", tom.ID, 5)
	sam, sue := mustUser(t, db, "sam"), mustUser(t, db, "sue")
	e := []ciphemic.Enrollment{
		mustEnroll(t, db, c1.ID, sam.ID), mustEnroll(t, db, c2.ID, sam.ID),
		mustEnroll(t, db, c3.ID, sam.ID), mustEnroll(t, db, c1.ID, sue.ID),
	}
	ids := func(is ...int) []int64 {
		out := []int64{}
		for _, i := range is {
			out = append(out, e[i].ID)
		}
		return out
	}
	tests := []struct {
		f    ciphemic.EnrollmentFilter
		want []int64
	}{
		{ciphemic.EnrollmentFilter{}, ids(0, 1, 2, 3)},
		{ciphemic.EnrollmentFilter{StudentID: sam.ID}, ids(0, 1, 2)},
		{ciphemic.EnrollmentFilter{TeacherID: tina.ID}, ids(0, 1, 3)},
		{ciphemic.EnrollmentFilter{TeacherID: tom.ID}, ids(2)},
		{ciphemic.EnrollmentFilter{CourseID: c1.ID}, ids(0, 3)},
		{ciphemic.EnrollmentFilter{StudentID: sue.ID, TeacherID: tina.ID}, ids(3)},
		{ciphemic.EnrollmentFilter{StudentID: sue.ID, TeacherID: tom.ID}, ids()},
		{ciphemic.EnrollmentFilter{TeacherID: tina.ID, CourseID: c3.ID}, ids()},
		{ciphemic.EnrollmentFilter{TeacherID: sam.ID}, ids()},
	}
	for _, tc := range tests {
		got, n, err := db.ListEnrollments(ctx, tc.f, ciphemic.ListQuery{Search: "ignored"})
		if err != nil || n != int64(len(tc.want)) || !reflect.DeepEqual(enrollmentIDs(got), tc.want) {
			t.Errorf("ListEnrollments(%+v) = %v, %d, %v, want %v", tc.f, enrollmentIDs(got), n, err, tc.want)
		}
	}
	if got, _, _ := db.ListEnrollments(ctx, ciphemic.EnrollmentFilter{}, ciphemic.ListQuery{Limit: 1}); len(got) != 1 || !reflect.DeepEqual(got[0], e[0]) {
		t.Errorf("ListEnrollments(limit 1) = %+v, want [%+v]", got, e[0])
	}
}

func enrollmentIDs(es []ciphemic.Enrollment) []int64 {
	ids := []int64{}
	for _, e := range es {
		ids = append(ids, e.ID)
	}
	return ids
}
