package store

import (
	"context"
	"database/sql"
	"errors"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// enrollmentColumns is the column list scanEnrollment reads, in its order.
// It is unqualified, as RETURNING on SQLite must be.
const enrollmentColumns = `id, course_id, student_id, enrolled_at, grade`

var (
	errCourseFull = ciphemic.Errorf(ciphemic.CodeConflict, "Course is full.")
	errEnrolled   = ciphemic.Errorf(ciphemic.CodeConflict, "Already enrolled in this course.")
)

func scanEnrollment(row scanner) (ciphemic.Enrollment, error) {
	var (
		e        ciphemic.Enrollment
		enrolled int64
		grade    sql.NullInt64
	)
	if err := row.Scan(&e.ID, &e.CourseID, &e.StudentID, &enrolled, &grade); err != nil {
		return ciphemic.Enrollment{}, err
	}
	e.EnrolledAt = fromMicros(enrolled)
	if grade.Valid {
		g := int(grade.Int64)
		e.Grade = &g
	}
	return e, nil
}

// Enroll admits the student studentID into the course courseID, at the store clock's
// now. Admission is one conditional UPDATE of the course's enrolled count, whose row
// count decides, then the INSERT, in one write transaction; so of many concurrent calls
// exactly as many succeed as the course has free seats, on SQLite and PostgreSQL alike.
// A missing course is CodeNotFound; a full one, or a student already enrolled,
// CodeConflict; a studentID that names no user CodeInvalid. On any error nothing is
// written.
func (db *DB) Enroll(ctx context.Context, courseID, studentID int64) (ciphemic.Enrollment, error) {
	var e ciphemic.Enrollment
	err := db.update(ctx, "enroll", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE courses SET enrolled = enrolled + 1
			WHERE id = $1 AND enrolled < capacity`, courseID)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n == 0 {
			return notAdmitted(ctx, tx, courseID, studentID)
		}
		e, err = scanEnrollment(tx.QueryRowContext(ctx, `INSERT INTO enrollments
			(course_id, student_id, enrolled_at) VALUES ($1, $2, $3) RETURNING `+enrollmentColumns,
			courseID, studentID, micros(db.clock())))
		switch db.kind(err) {
		case KindUnique:
			return errEnrolled
		case KindForeignKey:
			return ciphemic.Errorf(ciphemic.CodeInvalid,
				"student_id: Invalid pk \"%d\" - object does not exist.", studentID)
		}
		return err
	})
	if err != nil {
		return ciphemic.Enrollment{}, err
	}
	return e, nil
}

// notAdmitted explains why the course courseID took no one: it is missing, or full. A
// student already in a full course is told so rather than that it is full.
func notAdmitted(ctx context.Context, tx *sql.Tx, courseID, studentID int64) error {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM enrollments
		WHERE course_id = c.id AND student_id = $2) FROM courses c WHERE c.id = $1`,
		courseID, studentID).Scan(&n)
	switch {
	case err != nil:
		return err
	case n > 0:
		return errEnrolled
	}
	return errCourseFull
}

// Enrollment returns the enrollment with the given id, or CodeNotFound.
func (db *DB) Enrollment(ctx context.Context, id int64) (ciphemic.Enrollment, error) {
	e, err := scanEnrollment(db.read.QueryRowContext(ctx,
		`SELECT `+enrollmentColumns+` FROM enrollments WHERE id = $1`, id))
	if err != nil {
		return ciphemic.Enrollment{}, db.fail("enrollment", err)
	}
	return e, nil
}

// ListEnrollments returns one page of the enrollments f selects, and how many it selects
// in all. q.OrderBy is one of "", "id", "enrolled_at", "grade" (ungraded last in
// ascending order), "course_id" and "student_id", else CodeInvalid; ties are broken by
// id. q.Search is ignored. A zero q.Limit means no limit.
func (db *DB) ListEnrollments(ctx context.Context, f ciphemic.EnrollmentFilter, q ciphemic.ListQuery) ([]ciphemic.Enrollment, int64, error) {
	col, err := checkList(q, enrollmentOrderings)
	if err != nil {
		return nil, 0, db.fail("list enrollments", err)
	}
	var l listSQL
	if f.StudentID != 0 {
		l.and("e.student_id = " + l.arg(f.StudentID))
	}
	if f.TeacherID != 0 {
		l.and("e.course_id IN (SELECT id FROM courses WHERE teacher_id = " + l.arg(f.TeacherID) + ")")
	}
	if f.CourseID != 0 {
		l.and("e.course_id = " + l.arg(f.CourseID))
	}
	es, n, err := list(ctx, db, enrollmentColumns, "enrollments e", &l, q, col, "e.id", scanEnrollment)
	if err != nil {
		return nil, 0, db.fail("list enrollments", err)
	}
	return es, n, nil
}

// SetGrade sets the grade of the enrollment id, or clears it when grade is nil, and
// returns the enrollment. A grade outside 0–100 is CodeInvalid; a missing enrollment
// CodeNotFound.
func (db *DB) SetGrade(ctx context.Context, id int64, grade *int) (ciphemic.Enrollment, error) {
	var g sql.NullInt64
	if grade != nil {
		if err := checkGrade(*grade); err != nil {
			return ciphemic.Enrollment{}, db.fail("set grade", err)
		}
		g = sql.NullInt64{Int64: int64(*grade), Valid: true}
	}
	var e ciphemic.Enrollment
	err := db.update(ctx, "set grade", func(tx *sql.Tx) error {
		var err error
		e, err = scanEnrollment(tx.QueryRowContext(ctx, `UPDATE enrollments SET grade = $1
			WHERE id = $2 RETURNING `+enrollmentColumns, g, id))
		return err
	})
	if err != nil {
		return ciphemic.Enrollment{}, err
	}
	return e, nil
}

// checkGrade refuses a grade outside 0–100 with DRF's messages.
func checkGrade(g int) error {
	switch {
	case g < 0:
		return ciphemic.Errorf(ciphemic.CodeInvalid, "grade: Ensure this value is greater than or equal to 0.")
	case g > 100:
		return ciphemic.Errorf(ciphemic.CodeInvalid, "grade: Ensure this value is less than or equal to 100.")
	}
	return nil
}

// DeleteEnrollment deletes the enrollment id and frees its seat in one transaction. A
// missing enrollment is CodeNotFound.
func (db *DB) DeleteEnrollment(ctx context.Context, id int64) error {
	return db.update(ctx, "delete enrollment", func(tx *sql.Tx) error {
		var course int64
		err := tx.QueryRowContext(ctx,
			`DELETE FROM enrollments WHERE id = $1 RETURNING course_id`, id).Scan(&course)
		if err != nil {
			return err
		}
		return freeSeatsTx(ctx, tx, []int64{course})
	})
}

// freeSeatsTx gives back one seat in each of courses, whose enrollments the caller deleted.
func freeSeatsTx(ctx context.Context, tx *sql.Tx, courses []int64) error {
	for _, id := range courses {
		res, err := tx.ExecContext(ctx, `UPDATE courses SET enrolled = enrolled - 1 WHERE id = $1`, id)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err != nil {
			return err
		} else if n != 1 {
			return errors.New("freeing a seat: the enrollment's course is missing")
		}
	}
	return nil
}
