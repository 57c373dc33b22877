package storetest

import (
	"context"
	"fmt"
	"reflect"
	"slices"
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

// importUntil is how long the revocations of the suite's imports matter.
var importUntil = t0.Add(time.Hour)

// mustImport imports users at t0 and returns the names of the users it revoked.
func mustImport(t *testing.T, db *store.DB, users []ciphemic.User, wantCreated, wantUpdated int) []string {
	t.Helper()
	res, err := db.ImportUsers(context.Background(), users, time.Time{}, importUntil)
	if err != nil || res.Created != wantCreated || res.Updated != wantUpdated {
		t.Fatalf("ImportUsers(%d users) = %+v, %v, want %d created, %d updated", len(users), res, err, wantCreated, wantUpdated)
	}
	return res.Revoked
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
	if revoked := mustImport(t, db, again, 0, 3); !slices.Equal(revoked, []string{"alice", "bob", "carol"}) {
		t.Errorf("ImportUsers(new hash, role and is_active) revoked %q, want every user, ids first", revoked)
	}
	if n, err := db.CountUsers(ctx); err != nil || n != 3 {
		t.Errorf("CountUsers() after second import = %d, %v, want 3", n, err)
	}
	for i, id := range []int64{1, gotCarol.ID, 7} {
		want := again[i]
		want.ID, want.TokensValidAfter = id, t0
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
			ciphemic.CodeConflict, `record frank: id 2 is taken by another user, "bob": import into an empty database before the first serve, or import with --renumber to give the imported users new ids`},
		{"bad role", []ciphemic.User{changedAlice, djangoUser(5, "erin"), badRole}, ciphemic.CodeInvalid, ""},
		{"blank username", []ciphemic.User{changedAlice, djangoUser(0, "")}, ciphemic.CodeInvalid,
			"record #2: username: This field may not be blank."},
	}
	for _, tc := range tests {
		res, err := db.ImportUsers(ctx, tc.users, time.Time{}, importUntil)
		wantCode(t, "ImportUsers("+tc.name+")", err, tc.code, tc.msg)
		if !reflect.DeepEqual(res, store.ImportResult{}) {
			t.Errorf("ImportUsers(%s) = %+v, want nothing done", tc.name, res)
		}
		if n, err := db.CountUsers(ctx); err != nil || n != 2 {
			t.Errorf("CountUsers() after ImportUsers(%s) = %d, %v, want 2", tc.name, n, err)
		}
		for _, want := range before {
			wantUser(t, "User() after ImportUsers("+tc.name+")", mustGetUser(t, db, want.ID), want)
		}
	}
}

// testImportUsersRevokes: a re-import that changes a user's role, deactivates them or
// brings a new password hash ends their tokens as UpdateUser does; one that changes
// nothing of that (a hash ciphemic upgraded at a login included) ends none.
func testImportUsersRevokes(t *testing.T, db *store.DB) {
	ctx := context.Background()
	names := []string{"alice", "bob", "carol", "dave", "erin", "frank"}
	first := make([]ciphemic.User, len(names))
	for i, name := range names {
		first[i] = djangoUser(int64(i+1), name)
	}
	first[5].IsActive = false
	mustImport(t, db, first, 6, 0)
	tokens := make([]ciphemic.RefreshToken, len(names))
	for i := range names {
		tokens[i] = mustToken(t, db, int64(i+1), jti("imp", i))
	}
	const upgraded = "argon2$argon2id$v=19$m=65536,t=2,p=1$dXBncmFkZWQ$aGFzaA"
	wantIs(t, "RecordLogin(upgrade dave)", db.RecordLogin(ctx, 4, t0, upgraded), nil)

	second := slices.Clone(first)
	second[0].PasswordHash += "-new"       // alice: a new password
	second[1].Role = ciphemic.RoleAdmin    // bob: a new role
	second[2].IsActive = false             // carol: deactivated
	second[4].Email = "erin@elsewhere.org" // erin: nothing that matters to tokens
	second[5].IsActive = true              // frank: reactivated
	// Refused, the import revokes nobody: its revocations are in its transaction.
	_, err := db.ImportUsers(ctx, append(slices.Clone(second), djangoUser(1, "gina")), time.Time{}, importUntil)
	wantCode(t, "ImportUsers(second dump, gina on alice's id)", err, ciphemic.CodeConflict, `record gina: id 1 is taken by another user, "alice": import into an empty database before the first serve, or import with --renumber to give the imported users new ids`)
	if got := mustRevocations(t, db, time.Time{}); len(got) != 0 {
		t.Errorf("RevocationsSince() after a refused import = %+v, want none", got)
	}
	_, err = db.ImportUsers(ctx, second, t0, t0)
	wantCode(t, "ImportUsers(until = revokeAt)", err, ciphemic.CodeInvalid, "")

	if revoked := mustImport(t, db, second, 0, 6); !slices.Equal(revoked, names[:3]) {
		t.Errorf("second ImportUsers() revoked %q, want %q", revoked, names[:3])
	}
	var wantRevs []ciphemic.Revocation
	for i := range names {
		rt, u := mustRefreshToken(t, db, tokens[i].JTI), mustGetUser(t, db, int64(i+1))
		revoked := i < 3
		if revoked {
			wantRevs = append(wantRevs, ciphemic.Revocation{UserID: u.ID, ValidAfter: stored(t0), ExpiresAt: stored(importUntil), CreatedAt: stored(t0)})
		}
		if !rt.BlacklistedAt.IsZero() != revoked || !u.TokensValidAfter.IsZero() != revoked {
			t.Errorf("%s after second import: refresh token blacklisted at %v, TokensValidAfter %v; want revoked %t",
				names[i], rt.BlacklistedAt, u.TokensValidAfter, revoked)
		}
	}
	if got := mustRevocations(t, db, time.Time{}); !reflect.DeepEqual(got, wantRevs) {
		t.Errorf("RevocationsSince() after second import = %+v, want %+v", got, wantRevs)
	}
	if got := mustGetUser(t, db, 4).PasswordHash; got != upgraded {
		t.Errorf("dave's hash after re-importing the hash he logged in with = %q, want the upgraded %q kept", got, upgraded)
	}
	if got := mustGetUser(t, db, 1).PasswordHash; got != second[0].PasswordHash {
		t.Errorf("alice's hash after importing a new one = %q, want %q", got, second[0].PasswordHash)
	}

	// The same dump again changes nothing that matters to tokens.
	if revoked := mustImport(t, db, second, 0, 6); len(revoked) != 0 {
		t.Errorf("ImportUsers(same dump again) revoked %q, want none", revoked)
	}
	if got := mustRevocations(t, db, time.Time{}); len(got) != len(wantRevs) {
		t.Errorf("RevocationsSince() after the same dump again = %+v, want only the %d before", got, len(wantRevs))
	}
}

// testImportUsersRevokesWithoutRecord: for a user no import has written (ciphemic created
// it, or an import before the record was kept), only a hash other than the stored one is
// a new password.
func testImportUsersRevokesWithoutRecord(t *testing.T, db *store.DB) {
	gina := mustUser(t, db, "gina")
	hank := mustUser(t, db, "hank")
	ginaToken, hankToken := mustToken(t, db, gina.ID, jti("gina", 1)), mustToken(t, db, hank.ID, jti("hank", 1))
	sameHash, newHash := djangoUser(0, "gina"), djangoUser(0, "hank")
	sameHash.PasswordHash = gina.PasswordHash
	if revoked := mustImport(t, db, []ciphemic.User{sameHash, newHash}, 0, 2); !slices.Equal(revoked, []string{"hank"}) {
		t.Errorf("ImportUsers(gina's own hash, a new hash for hank) revoked %q, want [hank]", revoked)
	}
	if rt := mustRefreshToken(t, db, ginaToken.JTI); !rt.BlacklistedAt.IsZero() {
		t.Errorf("gina's refresh token after importing her own hash: blacklisted at %v, want live", rt.BlacklistedAt)
	}
	if rt := mustRefreshToken(t, db, hankToken.JTI); rt.BlacklistedAt.IsZero() {
		t.Errorf("hank's refresh token after importing a new hash: live, want blacklisted")
	}
}

// testImportUsersNFKC: an import stores usernames in NFKC and never merges a look-alike
// into another account: a record NFKC-equal to another user's username, or to an earlier
// record's, is refused naming both. A username stored before names were normalised is
// updated by the record that spells it so, and renamed to its NFKC form.
func testImportUsersNFKC(t *testing.T, db *store.DB) {
	ctx := context.Background()
	admin := mustUser(t, db, "admin")
	bob := mustUser(t, db, "ｂob") // as an older ciphemic stored it
	carol1, carol2 := mustUser(t, db, "carol"), mustUser(t, db, "ｃarol")
	refused := []struct {
		name  string
		users []ciphemic.User
		msg   string
	}{
		{"look-alike of admin", []ciphemic.User{djangoUser(50, "ａdmin")},
			fmt.Sprintf(`record ａdmin: username is NFKC-equal to "admin", the username of user %d`, admin.ID)},
		{"third spelling of bob", []ciphemic.User{djangoUser(0, "bｏb")},
			fmt.Sprintf(`record bｏb: username is NFKC-equal to "ｂob", the username of user %d`, bob.ID)},
		{"two carols stored", []ciphemic.User{djangoUser(0, "ｃarol")},
			fmt.Sprintf(`record ｃarol: username is NFKC-equal to "carol", the username of user %d, and to "ｃarol", the username of user %d`, carol1.ID, carol2.ID)},
		{"two records", []ciphemic.User{djangoUser(60, "ｄave"), djangoUser(61, "dave")},
			`record dave: username is NFKC-equal to "dave", the username an earlier record of this import gave user 60`},
		{"same record twice", []ciphemic.User{djangoUser(0, "erin"), djangoUser(0, "erin")}, ""},
	}
	for _, tc := range refused {
		res, err := db.ImportUsers(ctx, tc.users, time.Time{}, importUntil)
		wantCode(t, "ImportUsers("+tc.name+")", err, ciphemic.CodeConflict, tc.msg)
		if n, _ := db.CountUsers(ctx); n != 4 || res.Created+res.Updated != 0 {
			t.Errorf("ImportUsers(%s) = %+v; %d users after, want nothing done and 4", tc.name, res, n)
		}
	}

	mustImport(t, db, []ciphemic.User{djangoUser(0, "ｂob"), djangoUser(70, "ｅrin"), djangoUser(0, "admin")}, 1, 2)
	for name, id := range map[string]int64{"bob": bob.ID, "erin": 70, "admin": admin.ID} {
		if u, err := db.UserByUsername(ctx, name); err != nil || u.ID != id {
			t.Errorf("UserByUsername(%q) after import = %d, %v, want user %d", name, u.ID, err, id)
		}
	}
	// erin's own record again (same pk) updates her; without its pk it could be anyone.
	mustImport(t, db, []ciphemic.User{djangoUser(70, "ｅrin")}, 0, 1)
	_, err := db.ImportUsers(ctx, []ciphemic.User{djangoUser(0, "ｅrin")}, time.Time{}, importUntil)
	wantCode(t, "ImportUsers(ｅrin without pk)", err, ciphemic.CodeConflict,
		`record ｅrin: username is NFKC-equal to "erin", the username of user 70`)
}
