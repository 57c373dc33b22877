package storetest

import (
	"context"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/store"
)

func mustGetUser(t *testing.T, db *store.DB, id int64) ciphemic.User {
	t.Helper()
	u, err := db.User(context.Background(), id)
	if err != nil {
		t.Fatalf("User(%d) = %v", id, err)
	}
	return u
}

// changed returns u with every field UpdateUser writes changed.
func changed(u ciphemic.User, hash string) ciphemic.User {
	u.Username = "new-" + u.Username
	u.Email = "new-" + u.Email
	u.FirstName, u.LastName = "New", "Name"
	u.PasswordHash = hash
	u.Role = ciphemic.RoleTeacher
	u.IsActive = !u.IsActive
	return u
}

func testListUsers(t *testing.T, db *store.DB) {
	alice, bob := mustUser(t, db, "alice"), mustUser(t, db, "bob")
	got, n, err := db.ListUsers(context.Background(), ciphemic.ListQuery{})
	if err != nil || n != 2 || len(got) != 2 {
		t.Fatalf("ListUsers() = %v, %d, %v, want 2 users", got, n, err)
	}
	wantUser(t, "ListUsers()[0]", got[0], alice)
	wantUser(t, "ListUsers()[1]", got[1], bob)
}

// testUpdateUser: without revokeAt UpdateUser writes the user's fields and touches no token.
func testUpdateUser(t *testing.T, db *store.DB) {
	ctx := context.Background()
	u := mustUser(t, db, "alice")
	wantIs(t, "RecordLogin()", db.RecordLogin(ctx, u.ID, t0.Add(-time.Minute), ""), nil)
	u = mustGetUser(t, db, u.ID)
	rt := mustToken(t, db, u.ID, jti("a", 1))

	in := changed(u, "")                 // an empty hash keeps the stored one
	in.DateJoined, in.LastLogin = t0, t0 // not written by UpdateUser
	got, err := db.UpdateUser(ctx, in, time.Time{}, time.Time{})
	if err != nil {
		t.Fatalf("UpdateUser() = %v", err)
	}
	want := changed(u, u.PasswordHash)
	wantUser(t, "UpdateUser()", got, want)
	wantUser(t, "User() after UpdateUser()", mustGetUser(t, db, u.ID), want)
	if got := mustRefreshToken(t, db, rt.JTI); !reflect.DeepEqual(got, rt) {
		t.Errorf("refresh token after UpdateUser(no revokeAt) = %+v, want %+v", got, rt)
	}
	if rs := mustRevocations(t, db, time.Time{}); len(rs) != 0 {
		t.Errorf("RevocationsSince() after UpdateUser(no revokeAt) = %+v, want none", rs)
	}

	in = changed(want, "pbkdf2_sha256$1000000$salt$hash")
	got, err = db.UpdateUser(ctx, in, time.Time{}, time.Time{})
	if err != nil || got.PasswordHash != in.PasswordHash {
		t.Errorf("UpdateUser(new hash) = %+v, %v, want PasswordHash %q", got, err, in.PasswordHash)
	}
}

// testUpdateUserRevokes: with revokeAt UpdateUser also revokes as RevokeUser does.
func testUpdateUserRevokes(t *testing.T, db *store.DB) {
	ctx := context.Background()
	u := mustUser(t, db, "alice")
	bob := mustUser(t, db, "bob")
	rt := mustToken(t, db, u.ID, jti("a", 1))
	bobs := mustToken(t, db, bob.ID, jti("b", 1))
	revokeAt, until := t0.Add(-time.Second+1), t0.Add(time.Hour)
	in := u
	in.IsActive = false
	got, err := db.UpdateUser(ctx, in, revokeAt, until)
	if err != nil {
		t.Fatalf("UpdateUser(revokeAt) = %v", err)
	}
	want := in
	want.TokensValidAfter = revokeAt
	wantUser(t, "UpdateUser(revokeAt)", got, want)
	if got := mustRefreshToken(t, db, rt.JTI); !got.BlacklistedAt.Equal(stored(revokeAt)) {
		t.Errorf("refresh token BlacklistedAt = %v, want %v", got.BlacklistedAt, stored(revokeAt))
	}
	if got := mustRefreshToken(t, db, bobs.JTI); !got.BlacklistedAt.IsZero() {
		t.Errorf("another user's refresh token BlacklistedAt = %v, want zero", got.BlacklistedAt)
	}
	wantRevs := []ciphemic.Revocation{{UserID: u.ID, ValidAfter: stored(revokeAt), ExpiresAt: stored(until), CreatedAt: stored(t0)}}
	if got := mustRevocations(t, db, t0); !reflect.DeepEqual(got, wantRevs) {
		t.Errorf("RevocationsSince(t0) = %+v, want %+v", got, wantRevs)
	}
}

// testUpdateUserErrors: a refused update writes nothing, its revocation included.
func testUpdateUserErrors(t *testing.T, db *store.DB) {
	ctx := context.Background()
	u := mustUser(t, db, "alice")
	mustUser(t, db, "bob")
	rt := mustToken(t, db, u.ID, jti("a", 1))
	edit := func(f func(*ciphemic.User)) ciphemic.User {
		in := changed(u, "")
		f(&in)
		return in
	}
	tests := []struct {
		name string
		in   ciphemic.User
		code ciphemic.Code
		msg  string
	}{
		{"duplicate username", edit(func(in *ciphemic.User) { in.Username = "bob" }), ciphemic.CodeConflict,
			"A user with that username already exists."},
		{"missing", edit(func(in *ciphemic.User) { in.ID += 100 }), ciphemic.CodeNotFound, "Not found."},
		{"bad role", edit(func(in *ciphemic.User) { in.Role = "superuser" }), ciphemic.CodeInvalid, ""},
		{"blank username", edit(func(in *ciphemic.User) { in.Username = "" }), ciphemic.CodeInvalid, ""},
	}
	for _, tc := range tests {
		_, err := db.UpdateUser(ctx, tc.in, t0, t0.Add(time.Hour))
		wantCode(t, "UpdateUser("+tc.name+")", err, tc.code, tc.msg)
	}
	wantUser(t, "User() after refused updates", mustGetUser(t, db, u.ID), u)
	if got := mustRefreshToken(t, db, rt.JTI); !got.BlacklistedAt.IsZero() {
		t.Errorf("refresh token after refused updates: BlacklistedAt = %v, want zero", got.BlacklistedAt)
	}
	if rs := mustRevocations(t, db, time.Time{}); len(rs) != 0 {
		t.Errorf("RevocationsSince() after refused updates = %+v, want none", rs)
	}
}

func testDeleteUser(t *testing.T, db *store.DB) {
	ctx := context.Background()
	sam := mustUser(t, db, "sam")
	tina := mustUser(t, db, "tina", func(u *ciphemic.User) { u.Role = ciphemic.RoleTeacher })
	full, other := mustCourse(t, db, "FULL", 0, 1), mustCourse(t, db, "OTHER", tina.ID, 5)
	e1, e2 := mustEnroll(t, db, full.ID, sam.ID), mustEnroll(t, db, other.ID, sam.ID)
	sues := mustEnroll(t, db, other.ID, mustUser(t, db, "sue").ID)
	mustToken(t, db, sam.ID, jti("s", 1))
	mustToken(t, db, tina.ID, jti("t", 1))

	revokeAt, until := t0.Add(-time.Second+1), t0.Add(time.Hour)
	wantIs(t, "DeleteUser(sam)", db.DeleteUser(ctx, sam.ID, revokeAt, until), nil)
	_, err := db.User(ctx, sam.ID)
	wantCode(t, "User(deleted)", err, ciphemic.CodeNotFound, "Not found.")
	for _, e := range []ciphemic.Enrollment{e1, e2} {
		_, err := db.Enrollment(ctx, e.ID)
		wantCode(t, fmt.Sprintf("Enrollment(%d) of deleted user", e.ID), err, ciphemic.CodeNotFound, "")
	}
	_, err = db.RefreshToken(ctx, jti("s", 1))
	wantCode(t, "RefreshToken(of deleted user)", err, ciphemic.CodeNotFound, "")
	wantEnrolled(t, db, full.ID, 0)
	wantEnrolled(t, db, other.ID, 1)
	if _, err := db.Enrollment(ctx, sues.ID); err != nil {
		t.Errorf("Enrollment(another student's) = %v, want it kept", err)
	}
	mustEnroll(t, db, full.ID, mustUser(t, db, "sid").ID) // the freed seat is taken
	want := []ciphemic.Revocation{{UserID: sam.ID, ValidAfter: stored(revokeAt), ExpiresAt: stored(until), CreatedAt: stored(t0)}}
	if got := mustRevocations(t, db, t0); !reflect.DeepEqual(got, want) {
		t.Errorf("RevocationsSince(t0) = %+v, want %+v", got, want)
	}

	// A zero revokeAt revokes as of now.
	wantIs(t, "DeleteUser(tina)", db.DeleteUser(ctx, tina.ID, time.Time{}, until), nil)
	if got := mustGetCourse(t, db, other.ID); got.TeacherID != 0 || got.Enrolled != 1 {
		t.Errorf("course of deleted teacher = %+v, want TeacherID 0 and Enrolled 1", got)
	}
	_, err = db.RefreshToken(ctx, jti("t", 1))
	wantCode(t, "RefreshToken(of deleted teacher)", err, ciphemic.CodeNotFound, "")

	err = db.DeleteUser(ctx, sam.ID, revokeAt, until)
	wantCode(t, "DeleteUser(deleted)", err, ciphemic.CodeNotFound, "Not found.")
	want = append(want, ciphemic.Revocation{UserID: tina.ID, ValidAfter: stored(t0), ExpiresAt: stored(until), CreatedAt: stored(t0)})
	if got := mustRevocations(t, db, t0); !reflect.DeepEqual(got, want) {
		t.Errorf("RevocationsSince(t0) = %+v, want the two deletions' only: %+v", got, want)
	}
}

// testDeleteUserWhileEnrolling deletes a student while the student enrolls in several
// courses at once: whatever wins, every course's Enrolled must match its enrollments.
func testDeleteUserWhileEnrolling(t *testing.T, db *store.DB) {
	ctx := context.Background()
	const rounds, courses = 4, 6
	var ids []int64
	for i := range courses {
		ids = append(ids, mustCourse(t, db, jti("c", i), 0, 100).ID)
	}
	for round := range rounds {
		s := mustUser(t, db, jti("s", round))
		mustEnroll(t, db, ids[0], s.ID)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for _, c := range ids[1:] {
			wg.Go(func() {
				<-start
				_, err := db.Enroll(ctx, c, s.ID)
				if code := ciphemic.ErrorCode(err); err != nil && code != ciphemic.CodeInvalid {
					t.Errorf("Enroll(%d, deleted student) = %v, want nil or invalid", c, err)
				}
			})
		}
		wg.Go(func() {
			<-start
			if err := db.DeleteUser(ctx, s.ID, t0, t0.Add(time.Hour)); err != nil {
				t.Errorf("DeleteUser() = %v", err)
			}
		})
		close(start)
		wg.Wait()
	}
	for _, c := range ids {
		wantEnrolled(t, db, c, 0)
	}
}
