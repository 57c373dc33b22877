package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// courseColumns is the column list scanCourse reads, in its order.
// It is unqualified, as RETURNING on SQLite must be, so queries that read it from a
// join cannot use it.
const courseColumns = `id, code, title, description, teacher_id, capacity, enrolled,
	created_at, updated_at`

var (
	errCodeTaken = ciphemic.Errorf(ciphemic.CodeConflict, "A course with this code already exists.")
	errCapacity  = ciphemic.Errorf(ciphemic.CodeConflict, "Capacity is below the number of enrolled students.")
	errCourseHas = ciphemic.Errorf(ciphemic.CodeConflict, "Course has enrollments; withdraw them first.")
)

func scanCourse(row scanner) (ciphemic.Course, error) {
	var (
		c                ciphemic.Course
		teacher          sql.NullInt64
		created, updated int64
	)
	err := row.Scan(&c.ID, &c.Code, &c.Title, &c.Description, &teacher, &c.Capacity, &c.Enrolled,
		&created, &updated)
	if err != nil {
		return ciphemic.Course{}, err
	}
	c.TeacherID = teacher.Int64
	c.CreatedAt, c.UpdatedAt = fromMicros(created), fromMicros(updated)
	return c, nil
}

// checkCourse refuses the fields of c that no stored course may have.
func checkCourse(c ciphemic.Course) error {
	switch {
	case c.Code == "":
		return ciphemic.Errorf(ciphemic.CodeInvalid, "code: This field may not be blank.")
	case c.Title == "":
		return ciphemic.Errorf(ciphemic.CodeInvalid, "title: This field may not be blank.")
	case c.Capacity < 1:
		return ciphemic.Errorf(ciphemic.CodeInvalid, "capacity: Ensure this value is greater than or equal to 1.")
	case c.TeacherID < 0:
		return errTeacher(c.TeacherID)
	}
	return nil
}

func errTeacher(id int64) error {
	return ciphemic.Errorf(ciphemic.CodeInvalid, "teacher_id: Invalid pk \"%d\" - object does not exist.", id)
}

// teacherArg is the stored form of a TeacherID: NULL for none.
func teacherArg(id int64) sql.NullInt64 {
	return sql.NullInt64{Int64: id, Valid: id != 0}
}

// courseWriteErr gives the unique and foreign-key violations of a course write their
// client-facing errors.
func (db *DB) courseWriteErr(err error, c ciphemic.Course) error {
	switch db.kind(err) {
	case KindUnique:
		return errCodeTaken
	case KindForeignKey:
		return errTeacher(c.TeacherID)
	}
	return err
}

// CreateCourse inserts c and returns it as stored: the store sets ID, Enrolled (0) and
// CreatedAt and UpdatedAt (its clock's now). A duplicate code is CodeConflict; a
// TeacherID that names no user, a blank code or title, or a capacity below 1 is
// CodeInvalid. A zero TeacherID stores a course without a teacher.
func (db *DB) CreateCourse(ctx context.Context, c ciphemic.Course) (ciphemic.Course, error) {
	if err := checkCourse(c); err != nil {
		return ciphemic.Course{}, db.fail("create course", err)
	}
	now := micros(db.clock())
	var out ciphemic.Course
	err := db.update(ctx, "create course", func(tx *sql.Tx) error {
		var err error
		out, err = scanCourse(tx.QueryRowContext(ctx, `INSERT INTO courses
			(code, title, description, teacher_id, capacity, enrolled, created_at, updated_at)
			VALUES ($1, $2, $3, $4, $5, 0, $6, $6) RETURNING `+courseColumns,
			c.Code, c.Title, c.Description, teacherArg(c.TeacherID), c.Capacity, now))
		return db.courseWriteErr(err, c)
	})
	if err != nil {
		return ciphemic.Course{}, err
	}
	return out, nil
}

// Course returns the course with the given id, or CodeNotFound.
func (db *DB) Course(ctx context.Context, id int64) (ciphemic.Course, error) {
	c, err := scanCourse(db.read.QueryRowContext(ctx,
		`SELECT `+courseColumns+` FROM courses WHERE id = $1`, id))
	if err != nil {
		return ciphemic.Course{}, db.fail("course", err)
	}
	return c, nil
}

// ListCourses returns one page of the courses whose code or title contains q.Search
// (ASCII case-insensitively; %, _ and \ match themselves) and how many match in all.
// q.OrderBy is one of "", "id", "code", "title", "capacity", "created_at" and
// "updated_at", else CodeInvalid; ties are broken by id. A zero q.Limit means no limit.
func (db *DB) ListCourses(ctx context.Context, q ciphemic.ListQuery) ([]ciphemic.Course, int64, error) {
	col, err := checkList(q, courseOrderings)
	if err != nil {
		return nil, 0, db.fail("list courses", err)
	}
	var l listSQL
	l.search(q.Search, courseSearch)
	cs, n, err := list(ctx, db, courseColumns, "courses c", &l, q, col, "c.id", scanCourse)
	if err != nil {
		return nil, 0, db.fail("list courses", err)
	}
	return cs, n, nil
}

// UpdateCourse writes the Code, Title, Description, TeacherID and Capacity of the course
// c.ID, sets its UpdatedAt to now, and returns it as stored. A capacity below the course's
// current Enrolled is CodeConflict, decided in the UPDATE itself so that a concurrent
// enrollment cannot slip past it. Errors are otherwise CreateCourse's, and CodeNotFound
// for a missing course.
func (db *DB) UpdateCourse(ctx context.Context, c ciphemic.Course) (ciphemic.Course, error) {
	if err := checkCourse(c); err != nil {
		return ciphemic.Course{}, db.fail("update course", err)
	}
	var out ciphemic.Course
	err := db.update(ctx, "update course", func(tx *sql.Tx) error {
		var err error
		out, err = scanCourse(tx.QueryRowContext(ctx, `UPDATE courses SET code = $1, title = $2,
			description = $3, teacher_id = $4, capacity = $5, updated_at = $6
			WHERE id = $7 AND enrolled <= $5 RETURNING `+courseColumns,
			c.Code, c.Title, c.Description, teacherArg(c.TeacherID), c.Capacity,
			micros(db.clock()), c.ID))
		if errors.Is(err, sql.ErrNoRows) {
			return courseMissingOr(ctx, tx, c.ID, errCapacity)
		}
		return db.courseWriteErr(err, c)
	})
	if err != nil {
		return ciphemic.Course{}, err
	}
	return out, nil
}

// courseMissingOr explains a conditional write to course id that touched no row: the
// course is missing (CodeNotFound) or the condition failed (otherwise).
func courseMissingOr(ctx context.Context, tx *sql.Tx, id int64, otherwise error) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM courses WHERE id = $1`, id).Scan(&one)
	if err != nil {
		return err
	}
	return otherwise
}

// DeleteCourse deletes the course with the given id. A course with enrollments is
// CodeConflict, so that grades never vanish as a side effect; a missing one CodeNotFound.
func (db *DB) DeleteCourse(ctx context.Context, id int64) error {
	return db.update(ctx, "delete course", func(tx *sql.Tx) error {
		// enrolled, not a look at enrollments, decides: PostgreSQL re-reads the row's
		// columns after waiting for a concurrent Enroll, but not a subquery's snapshot.
		res, err := tx.ExecContext(ctx, `DELETE FROM courses WHERE id = $1 AND enrolled = 0`, id)
		if db.kind(err) == KindForeignKey {
			return errCourseHas
		}
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil || n == 1 {
			return err
		}
		return courseMissingOr(ctx, tx, id, errCourseHas)
	})
}

// CourseStudents returns one page of the users enrolled in the course courseID, and how
// many match in all, searched and ordered as ListUsers. A missing course is CodeNotFound.
func (db *DB) CourseStudents(ctx context.Context, courseID int64, q ciphemic.ListQuery) ([]ciphemic.User, int64, error) {
	col, err := checkList(q, userOrderings)
	if err != nil {
		return nil, 0, db.fail("course students", err)
	}
	if _, err := db.Course(ctx, courseID); err != nil {
		return nil, 0, db.fail("course students", err)
	}
	var l listSQL
	l.and("e.course_id = " + l.arg(courseID))
	l.search(q.Search, userSearch)
	us, n, err := list(ctx, db, userColumnsU, "enrollments e JOIN users u ON u.id = e.student_id",
		&l, q, col, "u.id", scanUser)
	if err != nil {
		return nil, 0, db.fail("course students", err)
	}
	return us, n, nil
}
