package ciphemic

import "time"

// Course is a course of the school API. TeacherID is 0 when the course has no teacher
// (its teacher's account was deleted).
type Course struct {
	ID          int64
	Code        string // unique
	Title       string
	Description string
	TeacherID   int64
	Capacity    int // at least 1
	// Enrolled counts the course's enrollments; the store keeps it in step so that
	// admission is one conditional UPDATE (enrolled < capacity).
	Enrolled  int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Enrollment is a student's place in a course. Grade is nil until the course's teacher
// (or an admin) sets it; otherwise 0–100.
type Enrollment struct {
	ID         int64
	CourseID   int64
	StudentID  int64
	EnrolledAt time.Time
	Grade      *int
}

// ListQuery selects one page of a list. OrderBy names a documented field of the listed
// type (never SQL: the store maps it through a fixed table and refuses anything else);
// "" means by id. Search is matched case-insensitively as a substring of the documented
// search fields.
type ListQuery struct {
	Offset     int
	Limit      int
	Search     string
	OrderBy    string
	Descending bool
}

// EnrollmentFilter restricts a list of enrollments. Each non-zero field keeps only the
// enrollments it names: StudentID those of that student, TeacherID those of the courses
// that teacher teaches, CourseID those of that course.
type EnrollmentFilter struct {
	StudentID, TeacherID, CourseID int64
}
