package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/store"
)

// The store serves the school endpoints.
var _ SchoolStore = (*store.DB)(nil)

// actor is a test user with a valid access token; the zero actor is anonymous.
type actor struct {
	name   string
	user   ciphemic.User
	access string
}

// mustActor creates an active user with role and signs an access token for it directly
// (no login), which keeps tests that need many users fast.
func (in *instance) mustActor(t testing.TB, username string, role ciphemic.Role) actor {
	t.Helper()
	u := in.mustCreateUser(t, username, "", role)
	return actor{name: username, user: u, access: in.mustAccess(t, u)}
}

// mustAccess signs a fresh access token for u at the current test time.
func (in *instance) mustAccess(t testing.TB, u ciphemic.User) string {
	t.Helper()
	access, _, err := in.tokens.IssueAccess(u.ID, []ciphemic.Role{u.Role}, in.clock.Now())
	if err != nil {
		t.Fatalf("IssueAccess(%d): %v", u.ID, err)
	}
	return access
}

// call sends method path as a, with body encoded as JSON (a string is sent verbatim, nil
// sends no body).
func (in *instance) call(t testing.TB, a actor, method, path string, body any, headers ...string) response {
	t.Helper()
	var (
		r           io.Reader
		contentType string
	)
	if body != nil {
		raw, ok := body.(string)
		if !ok {
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatalf("Marshal: %v", err)
			}
			raw = string(b)
		}
		r, contentType = strings.NewReader(raw), "application/json"
	}
	if a.access != "" {
		headers = append(headers, "Authorization: Bearer "+a.access)
	}
	return in.do(t, method, path, contentType, r, headers...)
}

// mustCall is call that fails the test unless the answer has status want; it returns the
// decoded body.
func (in *instance) mustCall(t testing.TB, a actor, method, path string, body any, want int) map[string]any {
	t.Helper()
	r := in.call(t, a, method, path, body)
	if r.status != want {
		t.Fatalf("%s %s as %q = %d %s, want %d", method, path, a.name, r.status, r.body, want)
	}
	if len(bytes.TrimSpace(r.body)) == 0 {
		return nil
	}
	return r.json(t)
}

// mustCourse creates a course directly in the store.
func (in *instance) mustCourse(t testing.TB, code string, teacher ciphemic.User, capacity int) ciphemic.Course {
	t.Helper()
	c, err := in.db.CreateCourse(context.Background(), ciphemic.Course{
		Code: code, Title: "Course " + code, TeacherID: teacher.ID, Capacity: capacity,
	})
	if err != nil {
		t.Fatalf("CreateCourse(%q): %v", code, err)
	}
	return c
}

// mustEnroll enrolls a student directly in the store.
func (in *instance) mustEnroll(t testing.TB, c ciphemic.Course, student ciphemic.User) ciphemic.Enrollment {
	t.Helper()
	e, err := in.db.Enroll(context.Background(), c.ID, student.ID)
	if err != nil {
		t.Fatalf("Enroll(%d, %d): %v", c.ID, student.ID, err)
	}
	return e
}

// school is the cast of the permission tests: an admin, a course's teacher and another
// teacher, an enrolled student and another student, and an anonymous caller.
type school struct {
	in                                                  *instance
	admin, teacher, otherTeacher, student, otherStudent actor
	anonymous                                           actor
	seq                                                 atomic.Int64
}

func newSchool(t testing.TB, in *instance) *school {
	t.Helper()
	return &school{
		in:           in,
		admin:        in.mustActor(t, "admin", ciphemic.RoleAdmin),
		teacher:      in.mustActor(t, "teacher", ciphemic.RoleTeacher),
		otherTeacher: in.mustActor(t, "teacher2", ciphemic.RoleTeacher),
		student:      in.mustActor(t, "student", ciphemic.RoleStudent),
		otherStudent: in.mustActor(t, "student2", ciphemic.RoleStudent),
		anonymous:    actor{name: "anonymous"},
	}
}

// actors lists the cast in the order of the permission matrix's columns.
func (s *school) actors() []actor {
	return []actor{s.admin, s.teacher, s.otherTeacher, s.student, s.otherStudent, s.anonymous}
}

// unique returns a fresh name with prefix, for codes and usernames.
func (s *school) unique(prefix string) string {
	return fmt.Sprintf("%s%d", prefix, s.seq.Add(1))
}

// course creates a fresh course taught by the teacher.
func (s *school) course(t testing.TB) ciphemic.Course {
	t.Helper()
	return s.in.mustCourse(t, s.unique("C"), s.teacher.user, 100)
}

// enrollment creates a fresh course taught by the teacher with the student enrolled.
func (s *school) enrollment(t testing.TB) ciphemic.Enrollment {
	t.Helper()
	return s.in.mustEnroll(t, s.course(t), s.student.user)
}

// user creates a fresh student who is no one in the cast.
func (s *school) user(t testing.TB) ciphemic.User {
	t.Helper()
	return s.in.mustCreateUser(t, s.unique("someone"), "", ciphemic.RoleStudent)
}

// session starts a session of userID directly in the store and returns its id.
func (s *school) session(t testing.TB, userID int64) string {
	t.Helper()
	id := s.unique("s")
	now := s.in.clock.Now()
	sess := ciphemic.Session{CreatedAt: now, LastUsedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := s.in.db.StartSession(t.Context(), sess, ciphemic.RefreshToken{JTI: id, UserID: userID, IssuedAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatalf("StartSession: %v", err)
	}
	return id
}

// errorBody is the contract's body for status, for the statuses the matrix expects.
func errorBody(status int) string {
	switch status {
	case http.StatusUnauthorized:
		return bodyNotProvided
	case http.StatusForbidden:
		return `{"detail":"You do not have permission to perform this action."}`
	case http.StatusNotFound:
		return `{"detail":"Not found."}`
	}
	return ""
}
