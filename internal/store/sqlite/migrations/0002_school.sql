-- Schema v2: the school resources. Instants are BIGINT unix microseconds.
-- The PostgreSQL file of the same name differs only where the dialects must.

-- enrolled counts the course's enrollments, kept in step by the store, so that
-- admission is one conditional UPDATE (enrolled < capacity).
CREATE TABLE courses (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    code        TEXT    NOT NULL UNIQUE,
    title       TEXT    NOT NULL,
    description TEXT    NOT NULL DEFAULT '',
    teacher_id  BIGINT  REFERENCES users (id) ON DELETE SET NULL,
    capacity    INTEGER NOT NULL CHECK (capacity >= 1),
    enrolled    INTEGER NOT NULL DEFAULT 0 CHECK (enrolled >= 0 AND enrolled <= capacity),
    created_at  BIGINT  NOT NULL,
    updated_at  BIGINT  NOT NULL
);
CREATE INDEX courses_teacher_id ON courses (teacher_id);

-- No cascade from courses: a course with enrollments cannot be deleted, so that grades
-- never vanish as a side effect. Deleting a student cascades, after the store has given
-- back the seats.
CREATE TABLE enrollments (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    course_id   BIGINT  NOT NULL REFERENCES courses (id),
    student_id  BIGINT  NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    enrolled_at BIGINT  NOT NULL,
    grade       INTEGER CHECK (grade BETWEEN 0 AND 100),
    UNIQUE (course_id, student_id)
);
CREATE INDEX enrollments_student_id ON enrollments (student_id);
