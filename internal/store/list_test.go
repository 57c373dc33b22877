package store

import (
	"context"
	"testing"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// TestListRefusesBeforeSQL: a bad ordering, offset or limit is refused before any SQL
// runs. The store has no database at all, so reaching SQL would panic.
func TestListRefusesBeforeSQL(t *testing.T) {
	db := New(nil, nil, Dialect{Name: "none"})
	ctx := context.Background()
	lists := map[string]func(q ciphemic.ListQuery) error{
		"ListCourses": func(q ciphemic.ListQuery) error { _, _, err := db.ListCourses(ctx, q); return err },
		"ListUsers":   func(q ciphemic.ListQuery) error { _, _, err := db.ListUsers(ctx, q); return err },
		"ListEnrollments": func(q ciphemic.ListQuery) error {
			_, _, err := db.ListEnrollments(ctx, ciphemic.EnrollmentFilter{}, q)
			return err
		},
		"CourseStudents": func(q ciphemic.ListQuery) error { _, _, err := db.CourseStudents(ctx, 1, q); return err },
	}
	bad := []ciphemic.ListQuery{
		{OrderBy: "id; DROP TABLE users"},
		{OrderBy: "password_hash"},
		{OrderBy: "-id"},
		{Offset: -1},
		{Limit: -1},
	}
	for name, list := range lists {
		for _, q := range bad {
			if err := list(q); ciphemic.ErrorCode(err) != ciphemic.CodeInvalid {
				t.Errorf("%s(%+v) = %v, want code %q", name, q, err, ciphemic.CodeInvalid)
			}
		}
	}
}

func TestOrderingsMapToColumns(t *testing.T) {
	for name, o := range map[string]orderings{"courses": courseOrderings, "users": userOrderings, "enrollments": enrollmentOrderings} {
		if o[""] != o["id"] {
			t.Errorf("%s orderings: \"\" = %q, want the id column %q", name, o[""], o["id"])
		}
	}
}

func TestEscapeLike(t *testing.T) {
	tests := []struct{ in, want string }{
		{"plain", "plain"},
		{"50%", `50\%`},
		{"a_b", `a\_b`},
		{`back\slash`, `back\\slash`},
		{`\%_`, `\\\%\_`},
	}
	for _, tc := range tests {
		if got := escapeLike(tc.in); got != tc.want {
			t.Errorf("escapeLike(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestASCIILower(t *testing.T) {
	// Only ASCII letters fold, as lower() does on the searched columns of both backends.
	if got, want := asciiLower("ÉcoLE Z"), "École z"; got != want {
		t.Errorf("asciiLower(%q) = %q, want %q", "ÉcoLE Z", got, want)
	}
}
