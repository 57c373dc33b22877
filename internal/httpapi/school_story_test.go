package httpapi

import (
	"fmt"
	"testing"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// TestSchoolStory is issue 3 told end to end through HTTP: an admin creates a teacher and
// students, the teacher creates a course, students enroll until it is full, the teacher
// grades them, and every forbidden step on the way is refused with the documented answer.
func TestSchoolStory(t *testing.T) {
	in := newInstance(t, options{})
	in.mustCreateUser(t, "root", "root-passphrase", ciphemic.RoleAdmin)
	admin := loggedIn(t, in, "root", "root-passphrase")
	const forbidden = `{"detail":"You do not have permission to perform this action."}`

	// The admin creates the people of the story.
	newUser := func(username, role string) actor {
		in.mustCall(t, admin, "POST", "/api/users/", map[string]any{
			"username": username, "password": username + "-passphrase", "email": username + "@school.example",
			"roles": []string{role},
		}, 201)
		return loggedIn(t, in, username, username+"-passphrase")
	}
	teacher := newUser("smith", "teacher")
	otherTeacher := newUser("jones", "teacher")
	alice, bob, carol := newUser("alice", "student"), newUser("bob", "student"), newUser("carol", "student")
	wantStatusBody(t, in.call(t, alice, "POST", "/api/users/", map[string]any{"username": "mallory"}), 403, forbidden)
	wantStatusBody(t, in.call(t, actor{}, "GET", "/api/users/", nil), 401, bodyNotProvided)

	// The teacher creates a course; a student may not.
	course := in.mustCall(t, teacher, "POST", "/api/school/courses/", map[string]any{
		"code": "HIST101", "title": "History", "capacity": 2, "teacher_id": otherTeacher.user.ID,
	}, 201)
	if course["teacher_id"] != float64(teacher.user.ID) {
		t.Fatalf("course teacher = %v, want %d", course["teacher_id"], teacher.user.ID)
	}
	courseID := int64(course["id"].(float64))
	wantStatusBody(t, in.call(t, alice, "POST", "/api/school/courses/", map[string]any{"code": "X", "title": "X"}), 403, forbidden)

	// Students enroll until the course is full; a teacher does not enroll.
	enroll := map[string]any{"course_id": courseID}
	aliceIn := in.mustCall(t, alice, "POST", "/api/school/enrollments/", enroll, 201)
	bobIn := in.mustCall(t, bob, "POST", "/api/school/enrollments/", enroll, 201)
	wantStatusBody(t, in.call(t, carol, "POST", "/api/school/enrollments/", enroll), 409, `{"detail":"Course is full."}`)
	wantStatusBody(t, in.call(t, alice, "POST", "/api/school/enrollments/", enroll), 409, `{"detail":"Already enrolled in this course."}`)
	wantStatusBody(t, in.call(t, teacher, "POST", "/api/school/enrollments/", enroll), 403, forbidden)
	wantStatusBody(t, in.call(t, carol, "POST", "/api/school/enrollments/",
		map[string]any{"course_id": courseID, "student_id": alice.user.ID}), 403, forbidden)

	// The teacher grades; students and other teachers may not.
	alicePath := fmt.Sprintf("/api/school/enrollments/%v/", aliceIn["id"])
	bobPath := fmt.Sprintf("/api/school/enrollments/%v/", bobIn["id"])
	wantStatusBody(t, in.call(t, alice, "PATCH", alicePath, map[string]any{"grade": 100}), 403, forbidden)
	wantStatusBody(t, in.call(t, otherTeacher, "PATCH", alicePath, map[string]any{"grade": 0}), 404, `{"detail":"Not found."}`)
	wantStatusBody(t, in.call(t, bob, "GET", alicePath, nil), 404, `{"detail":"Not found."}`)
	in.mustCall(t, teacher, "PATCH", alicePath, map[string]any{"grade": 93}, 200)
	in.mustCall(t, teacher, "PATCH", bobPath, map[string]any{"grade": 78}, 200)
	if got := in.mustCall(t, alice, "GET", alicePath, nil, 200); got["grade"] != float64(93) {
		t.Errorf("alice's grade = %v, want 93", got["grade"])
	}
	grades := mustPage(t, in.call(t, teacher, "GET", "/api/school/enrollments/?ordering=-grade", nil))
	if grades.Count != 2 || grades.Results[0]["grade"] != float64(93) || grades.Results[1]["grade"] != float64(78) {
		t.Errorf("teacher's enrollments = %+v, want grades 93 then 78", grades.Results)
	}
	if p := mustPage(t, in.call(t, carol, "GET", "/api/school/enrollments/", nil)); p.Count != 0 {
		t.Errorf("carol sees %d enrollments, want 0", p.Count)
	}
	students := mustPage(t, in.call(t, teacher, "GET", fmt.Sprintf("/api/school/courses/%d/students/", courseID), nil))
	if students.Count != 2 {
		t.Errorf("course students = %d, want 2", students.Count)
	}

	// The course cannot go: not by its teacher, and not while it has enrollments.
	coursePath := fmt.Sprintf("/api/school/courses/%d/", courseID)
	wantStatusBody(t, in.call(t, teacher, "DELETE", coursePath, nil), 403, forbidden)
	wantStatusBody(t, in.call(t, admin, "DELETE", coursePath, nil), 409, `{"detail":"Course has enrollments; withdraw them first."}`)

	// Bob withdraws, which frees his seat for Carol; deactivating Alice ends her session.
	in.mustCall(t, bob, "DELETE", bobPath, nil, 204)
	in.mustCall(t, carol, "POST", "/api/school/enrollments/", enroll, 201)
	in.mustCall(t, admin, "PATCH", fmt.Sprintf("/api/users/%d/", alice.user.ID), map[string]any{"is_active": false}, 200)
	wantStatusBody(t, in.call(t, alice, "GET", alicePath, nil), 401, bodyAccessBad)
}

// loggedIn logs username in through the API and returns it as an actor.
func loggedIn(t *testing.T, in *instance, username, pw string) actor {
	t.Helper()
	access, _ := in.login(t, username, pw)
	u := mustUserByName(t, in, username)
	return actor{name: username, user: u, access: access}
}
