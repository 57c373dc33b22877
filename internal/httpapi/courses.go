package httpapi

import (
	"context"
	"net/http"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// courseStore is what the course handlers need of the database.
type courseStore interface {
	CreateCourse(ctx context.Context, c ciphemic.Course) (ciphemic.Course, error)
	Course(ctx context.Context, id int64) (ciphemic.Course, error)
	ListCourses(ctx context.Context, q ciphemic.ListQuery) ([]ciphemic.Course, int64, error)
	UpdateCourse(ctx context.Context, c ciphemic.Course) (ciphemic.Course, error)
	DeleteCourse(ctx context.Context, id int64) error
	CourseStudents(ctx context.Context, courseID int64, q ciphemic.ListQuery) ([]ciphemic.User, int64, error)
	// User looks up the teacher an admin names in teacher_id.
	User(ctx context.Context, id int64) (ciphemic.User, error)
}

// courseOrdering lists the fields ?ordering= accepts on courses.
var courseOrdering = []string{"id", "code", "title", "capacity", "created_at", "updated_at"}

// defaultCapacity is a new course's capacity when the body gives none.
const defaultCapacity = 30

// courseBody is a course as the API shows it.
type courseBody struct {
	ID          int64   `json:"id"`
	Code        string  `json:"code"`
	Title       string  `json:"title"`
	Description string  `json:"description"`
	TeacherID   *int64  `json:"teacher_id"`
	Capacity    int     `json:"capacity"`
	CreatedAt   *string `json:"created_at"`
	UpdatedAt   *string `json:"updated_at"`
}

func newCourseBody(c ciphemic.Course) courseBody {
	b := courseBody{
		ID: c.ID, Code: c.Code, Title: c.Title, Description: c.Description, Capacity: c.Capacity,
		CreatedAt: formatTime(c.CreatedAt), UpdatedAt: formatTime(c.UpdatedAt),
	}
	if c.TeacherID != 0 {
		b.TeacherID = &c.TeacherID
	}
	return b
}

// courseInput holds the writable fields a course body sent, valid; nil means not sent.
// A teacherID of 0 is an explicit null.
type courseInput struct {
	code, title, description *string
	capacity                 *int
	teacherID                *int64
}

// readCourse reads a course body; partial (PATCH) makes every field optional. Fields that
// are read-only (id, created_at, updated_at) are never read.
func readCourse(body formBody, partial bool) (courseInput, *fieldErrors) {
	errs := newFieldErrors()
	var in courseInput
	if s, ok := body.char(errs, "code", charRule{required: !partial, maxLen: 32}); ok {
		in.code = &s
	}
	if s, ok := body.char(errs, "title", charRule{required: !partial, maxLen: 200}); ok {
		in.title = &s
	}
	if s, ok := body.char(errs, "description", charRule{allowBlank: true}); ok {
		in.description = &s
	}
	if n, ok := body.integer(errs, "capacity", intRule{min: 1, max: maxIntegerField}); ok {
		in.capacity = n
	}
	if id, ok := body.primaryKey(errs, "teacher_id", pkRule{nullable: true}); ok {
		in.teacherID = &id
	}
	return in, errs
}

// apply writes the sent fields into c; teacher_id only when the caller is an admin, since
// it is read-only for a teacher.
func (in courseInput) apply(c *ciphemic.Course, admin bool) {
	setIf(&c.Code, in.code)
	setIf(&c.Title, in.title)
	setIf(&c.Description, in.description)
	setIf(&c.Capacity, in.capacity)
	if admin {
		setIf(&c.TeacherID, in.teacherID)
	}
}

func setIf[T any](dst *T, v *T) {
	if v != nil {
		*dst = *v
	}
}

// checkTeacher verifies the teacher an admin names: it must be a user with role teacher,
// as a DRF PrimaryKeyRelatedField over teachers would require.
func checkTeacher(ctx context.Context, users courseStore, p ciphemic.Principal, in courseInput, errs *fieldErrors) error {
	if !p.HasRole(ciphemic.RoleAdmin) || in.teacherID == nil || *in.teacherID == 0 {
		return nil
	}
	u, err := users.User(ctx, *in.teacherID)
	switch {
	case ciphemic.ErrorCode(err) == ciphemic.CodeNotFound, err == nil && u.Role != ciphemic.RoleTeacher:
		invalidPK(errs, "teacher_id", *in.teacherID)
		return nil
	}
	return err
}

// handleCourseList serves GET /api/school/courses/ (everyone authenticated).
func handleCourseList(courses courseStore, links linkBase) http.Handler {
	return apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		lr, err := parseList(r, courseOrdering)
		if err != nil {
			return err
		}
		fetch := func(q ciphemic.ListQuery) ([]ciphemic.Course, int64, error) {
			return courses.ListCourses(r.Context(), q)
		}
		servePage(w, r, links, lr, fetch, newCourseBody)
		return nil
	})
}

// handleCourseGet serves GET /api/school/courses/{id}/ (everyone authenticated).
func handleCourseGet(courses courseStore) http.Handler {
	return apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r)
		if err != nil {
			return err
		}
		c, err := courses.Course(r.Context(), id)
		if err != nil {
			return err
		}
		encode(w, r, http.StatusOK, newCourseBody(c))
		return nil
	})
}

// handleCourseCreate serves POST /api/school/courses/: an admin or a teacher; a teacher
// becomes the course's teacher whatever the body says.
func handleCourseCreate(courses courseStore) http.Handler {
	return apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		p, err := requireRole(r, ciphemic.RoleAdmin, ciphemic.RoleTeacher)
		if err != nil {
			return err
		}
		body, err := decodeBody(r, true)
		if err != nil {
			return err
		}
		in, errs := readCourse(body, false)
		if err := checkTeacher(r.Context(), courses, p, in, errs); err != nil {
			return err
		}
		if err := errs.errOrNil(); err != nil {
			return err
		}
		c := ciphemic.Course{Capacity: defaultCapacity}
		admin := p.HasRole(ciphemic.RoleAdmin)
		in.apply(&c, admin)
		if !admin {
			c.TeacherID = p.UserID
		}
		created, err := courses.CreateCourse(r.Context(), c)
		if err != nil {
			return asFieldError(err, "teacher_id")
		}
		encode(w, r, http.StatusCreated, newCourseBody(created))
		return nil
	})
}

// handleCourseUpdate serves PUT (partial=false) and PATCH /api/school/courses/{id}/: an
// admin, or the course's own teacher.
func handleCourseUpdate(courses courseStore, partial bool) http.Handler {
	return apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		p, c, err := ownCourse(r, courses)
		if err != nil {
			return err
		}
		body, err := decodeBody(r, true)
		if err != nil {
			return err
		}
		in, errs := readCourse(body, partial)
		if err := checkTeacher(r.Context(), courses, p, in, errs); err != nil {
			return err
		}
		if err := errs.errOrNil(); err != nil {
			return err
		}
		in.apply(&c, p.HasRole(ciphemic.RoleAdmin))
		updated, err := courses.UpdateCourse(r.Context(), c)
		if err != nil {
			return asFieldError(err, "teacher_id")
		}
		encode(w, r, http.StatusOK, newCourseBody(updated))
		return nil
	})
}

// ownCourse loads the course of the path for an admin or its teacher: a student is refused
// before the lookup, another teacher after it.
func ownCourse(r *http.Request, courses courseStore) (ciphemic.Principal, ciphemic.Course, error) {
	p, err := requireRole(r, ciphemic.RoleAdmin, ciphemic.RoleTeacher)
	if err != nil {
		return p, ciphemic.Course{}, err
	}
	id, err := pathID(r)
	if err != nil {
		return p, ciphemic.Course{}, err
	}
	c, err := courses.Course(r.Context(), id)
	if err != nil {
		return p, c, err
	}
	if !p.HasRole(ciphemic.RoleAdmin) && c.TeacherID != p.UserID {
		return p, c, errForbidden
	}
	return p, c, nil
}

// handleCourseDelete serves DELETE /api/school/courses/{id}/: admins only. A course with
// enrollments is refused by the store (409), so grades never vanish as a side effect.
func handleCourseDelete(courses courseStore) http.Handler {
	return apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		if _, err := requireRole(r, ciphemic.RoleAdmin); err != nil {
			return err
		}
		id, err := pathID(r)
		if err != nil {
			return err
		}
		if err := courses.DeleteCourse(r.Context(), id); err != nil {
			return err
		}
		noContent(w)
		return nil
	})
}

// handleCourseStudents serves GET /api/school/courses/{id}/students/: the users enrolled
// in the course, for an admin or its teacher.
func handleCourseStudents(courses courseStore, links linkBase) http.Handler {
	return apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		_, c, err := ownCourse(r, courses)
		if err != nil {
			return err
		}
		lr, err := parseList(r, userOrdering)
		if err != nil {
			return err
		}
		fetch := func(q ciphemic.ListQuery) ([]ciphemic.User, int64, error) {
			return courses.CourseStudents(r.Context(), c.ID, q)
		}
		servePage(w, r, links, lr, fetch, newUserBody)
		return nil
	})
}
