package httpapi

import (
	"context"
	"net/http"
	"strconv"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// enrollmentStore is what the enrollment handlers need of the database.
type enrollmentStore interface {
	Enroll(ctx context.Context, courseID, studentID int64) (ciphemic.Enrollment, error)
	Enrollment(ctx context.Context, id int64) (ciphemic.Enrollment, error)
	ListEnrollments(ctx context.Context, f ciphemic.EnrollmentFilter, q ciphemic.ListQuery) ([]ciphemic.Enrollment, int64, error)
	SetGrade(ctx context.Context, id int64, grade *int) (ciphemic.Enrollment, error)
	DeleteEnrollment(ctx context.Context, id int64) error
	// Course tells a teacher's enrollments from another teacher's.
	Course(ctx context.Context, id int64) (ciphemic.Course, error)
	// User checks that the student an admin enrolls is a student.
	User(ctx context.Context, id int64) (ciphemic.User, error)
}

// enrollmentOrdering lists the fields ?ordering= accepts on enrollments.
var enrollmentOrdering = []string{"id", "enrolled_at", "grade", "course_id", "student_id"}

// enrollmentBody is an enrollment as the API shows it.
type enrollmentBody struct {
	ID         int64   `json:"id"`
	CourseID   int64   `json:"course_id"`
	StudentID  int64   `json:"student_id"`
	EnrolledAt *string `json:"enrolled_at"`
	Grade      *int    `json:"grade"`
}

func newEnrollmentBody(e ciphemic.Enrollment) enrollmentBody {
	return enrollmentBody{
		ID: e.ID, CourseID: e.CourseID, StudentID: e.StudentID,
		EnrolledAt: formatTime(e.EnrolledAt), Grade: e.Grade,
	}
}

// enrollmentScope is the part of the enrollments the principal may see: an admin all, a
// teacher those of own courses, anyone else only their own.
func enrollmentScope(p ciphemic.Principal) ciphemic.EnrollmentFilter {
	switch {
	case p.HasRole(ciphemic.RoleAdmin):
		return ciphemic.EnrollmentFilter{}
	case p.HasRole(ciphemic.RoleTeacher):
		return ciphemic.EnrollmentFilter{TeacherID: p.UserID}
	}
	return ciphemic.EnrollmentFilter{StudentID: p.UserID}
}

// visibleEnrollment loads enrollment id if the principal may see it. One it may not see is
// not found, as in DRF with a filtered queryset, so its existence does not leak.
func visibleEnrollment(ctx context.Context, st enrollmentStore, p ciphemic.Principal, id int64) (ciphemic.Enrollment, error) {
	e, err := st.Enrollment(ctx, id)
	if err != nil {
		return e, err
	}
	scope := enrollmentScope(p)
	switch {
	case scope.StudentID != 0 && e.StudentID != scope.StudentID:
		return ciphemic.Enrollment{}, errNotFound
	case scope.TeacherID != 0:
		c, err := st.Course(ctx, e.CourseID)
		if err != nil {
			return ciphemic.Enrollment{}, err
		}
		if c.TeacherID != scope.TeacherID {
			return ciphemic.Enrollment{}, errNotFound
		}
	}
	return e, nil
}

// enrollmentFromPath loads the enrollment the path names, for a caller holding one of roles
// (any role when none are given) who may see it: 403, then 400 for a bad id, then 404, in
// DRF's order of checks.
func enrollmentFromPath(r *http.Request, st enrollmentStore, roles ...ciphemic.Role) (ciphemic.Enrollment, error) {
	p, err := principalFrom(r)
	if err == nil && len(roles) > 0 {
		p, err = requireRole(r, roles...)
	}
	if err != nil {
		return ciphemic.Enrollment{}, err
	}
	id, err := pathID(r)
	if err != nil {
		return ciphemic.Enrollment{}, err
	}
	return visibleEnrollment(r.Context(), st, p, id)
}

// errNotFound is DRF's 404 for an object outside the caller's queryset.
var errNotFound = ciphemic.Errorf(ciphemic.CodeNotFound, "Not found.")

// handleEnrollmentList serves GET /api/school/enrollments/, limited to what the caller may
// see; ?course_id= narrows it to one course.
func handleEnrollmentList(st enrollmentStore, links linkBase) http.Handler {
	return apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		p, err := principalFrom(r)
		if err != nil {
			return err
		}
		lr, err := parseList(r, enrollmentOrdering)
		if err != nil {
			return err
		}
		f := enrollmentScope(p)
		if f.CourseID, err = courseFilter(r); err != nil {
			return err
		}
		fetch := func(q ciphemic.ListQuery) ([]ciphemic.Enrollment, int64, error) {
			return st.ListEnrollments(r.Context(), f, q)
		}
		servePage(w, r, links, lr, fetch, newEnrollmentBody)
		return nil
	})
}

// courseFilter reads ?course_id= as django-filter's NumberFilter would; absent is 0.
func courseFilter(r *http.Request) (int64, error) {
	s := queryValues(r).get("course_id")
	if s == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(s, 10, 64)
	if err != nil || id < 1 {
		errs := newFieldErrors()
		errs.add("course_id", "Enter a whole number.")
		return 0, errs
	}
	return id, nil
}

// handleEnrollmentGet serves GET /api/school/enrollments/{id}/.
func handleEnrollmentGet(st enrollmentStore) http.Handler {
	return apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		e, err := enrollmentFromPath(r, st)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusOK, newEnrollmentBody(e))
		return nil
	})
}

// handleEnrollmentCreate serves POST /api/school/enrollments/: a student enrolls self, an
// admin enrolls any student; teachers do not enroll.
func handleEnrollmentCreate(st enrollmentStore) http.Handler {
	return apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		p, err := requireRole(r, ciphemic.RoleAdmin, ciphemic.RoleStudent)
		if err != nil {
			return err
		}
		body, err := decodeBody(r, true)
		if err != nil {
			return err
		}
		courseID, studentID, err := readEnrollment(r.Context(), st, p, body)
		if err != nil {
			return err
		}
		e, err := st.Enroll(r.Context(), courseID, studentID)
		if ciphemic.ErrorCode(err) == ciphemic.CodeNotFound {
			errs := newFieldErrors()
			invalidPK(errs, "course_id", courseID)
			return errs
		}
		if err != nil {
			return asFieldError(err, "course_id", "student_id")
		}
		encode(w, r, http.StatusCreated, newEnrollmentBody(e))
		return nil
	})
}

// readEnrollment reads the course and the student of a new enrollment. A student may name
// only themself; an admin must name a user with role student.
func readEnrollment(ctx context.Context, st enrollmentStore, p ciphemic.Principal, body formBody) (int64, int64, error) {
	errs := newFieldErrors()
	admin := p.HasRole(ciphemic.RoleAdmin)
	courseID, _ := body.primaryKey(errs, "course_id", pkRule{required: true})
	studentID, sent := body.primaryKey(errs, "student_id", pkRule{required: admin})
	if err := errs.errOrNil(); err != nil {
		return 0, 0, err
	}
	if !admin {
		if sent && studentID != p.UserID {
			return 0, 0, errForbidden
		}
		return courseID, p.UserID, nil
	}
	u, err := st.User(ctx, studentID)
	switch {
	case ciphemic.ErrorCode(err) == ciphemic.CodeNotFound, err == nil && u.Role != ciphemic.RoleStudent:
		invalidPK(errs, "student_id", studentID)
		return 0, 0, errs
	case err != nil:
		return 0, 0, err
	}
	return courseID, studentID, nil
}

// handleEnrollmentGrade serves PATCH /api/school/enrollments/{id}/: only the grade is
// writable, by the course's teacher or an admin.
func handleEnrollmentGrade(st enrollmentStore) http.Handler {
	return apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		e, err := enrollmentFromPath(r, st, ciphemic.RoleAdmin, ciphemic.RoleTeacher)
		if err != nil {
			return err
		}
		body, err := decodeBody(r, true)
		if err != nil {
			return err
		}
		errs := newFieldErrors()
		grade, sent := body.integer(errs, "grade", intRule{nullable: true, min: 0, max: 100})
		if err := errs.errOrNil(); err != nil {
			return err
		}
		if sent {
			if e, err = st.SetGrade(r.Context(), e.ID, grade); err != nil {
				return err
			}
		}
		encode(w, r, http.StatusOK, newEnrollmentBody(e))
		return nil
	})
}

// handleEnrollmentDelete serves DELETE /api/school/enrollments/{id}/: a student withdraws
// from own enrollments, an admin removes any; teachers may not.
func handleEnrollmentDelete(st enrollmentStore) http.Handler {
	return apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		e, err := enrollmentFromPath(r, st, ciphemic.RoleAdmin, ciphemic.RoleStudent)
		if err != nil {
			return err
		}
		if err := st.DeleteEnrollment(r.Context(), e.ID); err != nil {
			return err
		}
		noContent(w)
		return nil
	})
}
