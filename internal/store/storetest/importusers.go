package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/store"
)

// djangoUser returns a user as an import from Django has it: the Django pk as ID and a
// Django password hash.
func djangoUser(id int64, username string) ciphemic.User {
	u := newUser(username)
	u.ID = id
	u.PasswordHash = "pbkdf2_sha256$870000$c2FsdHNhbHQ$" + username
	u.LastLogin = t0.Add(-time.Hour)
	return u
}

func mustImport(t *testing.T, db *store.DB, users []ciphemic.User, wantCreated, wantUpdated int) {
	t.Helper()
	created, updated, err := db.ImportUsers(context.Background(), users)
	if err != nil || created != wantCreated || updated != wantUpdated {
		t.Fatalf("ImportUsers(%d users) = %d, %d, %v, want %d, %d, nil", len(users), created, updated, err, wantCreated, wantUpdated)
	}
}

func testImportUsers(t *testing.T, db *store.DB) {
	ctx := context.Background()
	// carol, without an id, comes first: she must not take an id another record names.
	carol := djangoUser(0, "carol")
	carol.DateJoined = time.Time{}
	in := []ciphemic.User{carol, djangoUser(1, "alice"), djangoUser(7, "bob")}
	mustImport(t, db, in, 3, 0)
	for _, want := range in[1:] {
		wantUser(t, "User() of imported "+want.Username, mustGetUser(t, db, want.ID), want)
	}
	gotCarol, err := db.UserByUsername(ctx, "carol")
	if err != nil || gotCarol.ID <= 7 {
		t.Errorf("UserByUsername(carol) = %+v, %v, want an id above 7", gotCarol, err)
	}
	carol.ID, carol.DateJoined = gotCarol.ID, t0
	wantUser(t, "UserByUsername(carol)", gotCarol, carol)

	// A second run updates every imported field and keeps the ids.
	again := []ciphemic.User{djangoUser(1, "alice"), djangoUser(0, "carol"), djangoUser(99, "bob")}
	for i := range again {
		again[i].Email = "changed@example.com"
		again[i].FirstName, again[i].LastName = "Changed", "Again"
		again[i].PasswordHash += "-changed"
		again[i].Role = ciphemic.RoleTeacher
		again[i].IsActive = false
		again[i].DateJoined = t0.Add(-time.Duration(i+1) * time.Hour)
		again[i].LastLogin = time.Time{}
	}
	mustImport(t, db, again, 0, 3)
	if n, err := db.CountUsers(ctx); err != nil || n != 3 {
		t.Errorf("CountUsers() after second import = %d, %v, want 3", n, err)
	}
	for i, id := range []int64{1, gotCarol.ID, 7} {
		want := again[i]
		want.ID = id
		wantUser(t, "User() after second import", mustGetUser(t, db, id), want)
	}

	// Users created afterwards get ids above every imported one.
	dave := mustUser(t, db, "dave")
	if dave.ID <= gotCarol.ID {
		t.Errorf("CreateUser(after import).ID = %d, want above %d", dave.ID, gotCarol.ID)
	}
	mustImport(t, db, []ciphemic.User{djangoUser(0, "erin")}, 1, 0)
	if erin, _ := db.UserByUsername(ctx, "erin"); erin.ID <= dave.ID {
		t.Errorf("imported erin's ID = %d, want above %d", erin.ID, dave.ID)
	}
}

// testImportUsersSequence: after explicit ids above every generated one, new users
// get ids above them (PostgreSQL's identity sequence must be moved).
func testImportUsersSequence(t *testing.T, db *store.DB) {
	first := mustUser(t, db, "first")
	mustImport(t, db, []ciphemic.User{djangoUser(first.ID+1, "a"), djangoUser(first.ID+2, "b")}, 2, 0)
	for i := range 3 {
		u := mustUser(t, db, jti("new", i))
		if u.ID <= first.ID+2+int64(i) {
			t.Errorf("CreateUser(#%d after import).ID = %d, want above %d", i, u.ID, first.ID+2+int64(i))
		}
	}
}

// testImportUsersAllOrNothing: a refused record leaves the store as it was, the records
// before it included.
func testImportUsersAllOrNothing(t *testing.T, db *store.DB) {
	ctx := context.Background()
	mustImport(t, db, []ciphemic.User{djangoUser(1, "alice"), djangoUser(2, "bob")}, 2, 0)
	before := []ciphemic.User{mustGetUser(t, db, 1), mustGetUser(t, db, 2)}

	changedAlice := djangoUser(1, "alice")
	changedAlice.Email = "changed@example.com"
	badRole := djangoUser(0, "frank")
	badRole.Role = "superuser"
	tests := []struct {
		name  string
		users []ciphemic.User
		code  ciphemic.Code
		msg   string
	}{
		{"id taken", []ciphemic.User{changedAlice, djangoUser(5, "erin"), djangoUser(0, "dave"), djangoUser(2, "frank")},
			ciphemic.CodeConflict, "record frank: id 2 is taken by another user"},
		{"bad role", []ciphemic.User{changedAlice, djangoUser(5, "erin"), badRole}, ciphemic.CodeInvalid, ""},
		{"blank username", []ciphemic.User{changedAlice, djangoUser(0, "")}, ciphemic.CodeInvalid,
			"record #2: username: This field may not be blank."},
	}
	for _, tc := range tests {
		created, updated, err := db.ImportUsers(ctx, tc.users)
		wantCode(t, "ImportUsers("+tc.name+")", err, tc.code, tc.msg)
		if created != 0 || updated != 0 {
			t.Errorf("ImportUsers(%s) counts = %d, %d, want 0, 0", tc.name, created, updated)
		}
		if n, err := db.CountUsers(ctx); err != nil || n != 2 {
			t.Errorf("CountUsers() after ImportUsers(%s) = %d, %v, want 2", tc.name, n, err)
		}
		for _, want := range before {
			wantUser(t, "User() after ImportUsers("+tc.name+")", mustGetUser(t, db, want.ID), want)
		}
	}
}
