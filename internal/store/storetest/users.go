package storetest

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/store"
)

// stored is t as a store keeps it: microsecond precision, UTC.
func stored(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return time.UnixMicro(t.UnixMicro()).UTC()
}

// wantUser fails t unless got equals want with want's times as stored.
func wantUser(t *testing.T, call string, got, want ciphemic.User) {
	t.Helper()
	want.DateJoined = stored(want.DateJoined)
	want.LastLogin = stored(want.LastLogin)
	want.TokensValidAfter = stored(want.TokensValidAfter)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s = %+v, want %+v", call, got, want)
	}
}

func testCreateUser(t *testing.T, db *store.DB) {
	ctx := context.Background()
	in := newUser("alice")
	in.Role = ciphemic.RoleTeacher
	got, err := db.CreateUser(ctx, in)
	if err != nil {
		t.Fatalf("CreateUser() = %v", err)
	}
	if got.ID <= 0 {
		t.Fatalf("CreateUser().ID = %d, want > 0", got.ID)
	}
	in.ID = got.ID
	wantUser(t, "CreateUser()", got, in)
	byID, err := db.User(ctx, got.ID)
	wantIs(t, "User()", err, nil)
	wantUser(t, "User()", byID, in)
	byName, err := db.UserByUsername(ctx, "alice")
	wantIs(t, "UserByUsername()", err, nil)
	wantUser(t, `UserByUsername("alice")`, byName, in)

	// A zero DateJoined is stamped with the store's clock.
	bob := newUser("bob")
	bob.DateJoined = time.Time{}
	got, err = db.CreateUser(ctx, bob)
	wantIs(t, "CreateUser(bob)", err, nil)
	if !got.DateJoined.Equal(stored(t0)) {
		t.Errorf("CreateUser(zero DateJoined).DateJoined = %v, want %v", got.DateJoined, stored(t0))
	}
	if got.ID == in.ID {
		t.Errorf("CreateUser(bob).ID = %d, the same as alice's", got.ID)
	}
}

func testCreateUserConflict(t *testing.T, db *store.DB) {
	mustUser(t, db, "alice")
	_, err := db.CreateUser(context.Background(), newUser("alice"))
	wantCode(t, `CreateUser("alice") again`, err, ciphemic.CodeConflict,
		"A user with that username already exists.")
	n, err := db.CountUsers(context.Background())
	if err != nil || n != 1 {
		t.Errorf("CountUsers() after conflict = %d, %v, want 1, nil", n, err)
	}
}

func testCreateUserInvalidRole(t *testing.T, db *store.DB) {
	for _, role := range []ciphemic.Role{"", "superuser", "Admin"} {
		u := newUser("alice")
		u.Role = role
		_, err := db.CreateUser(context.Background(), u)
		wantCode(t, "CreateUser(role "+string(role)+")", err, ciphemic.CodeInvalid, "")
	}
}

func testUserNotFound(t *testing.T, db *store.DB) {
	ctx := context.Background()
	_, err := db.User(ctx, 12345)
	wantCode(t, "User(12345)", err, ciphemic.CodeNotFound, "Not found.")
	_, err = db.UserByUsername(ctx, "nobody")
	wantCode(t, `UserByUsername("nobody")`, err, ciphemic.CodeNotFound, "Not found.")
}

// testUserByUsernameCase: usernames are case-sensitive, as in Django.
func testUserByUsernameCase(t *testing.T, db *store.DB) {
	ctx := context.Background()
	lower := mustUser(t, db, "bob")
	upper := mustUser(t, db, "Bob")
	tests := []struct {
		username string
		wantID   int64
	}{
		{"bob", lower.ID},
		{"Bob", upper.ID},
		{"BOB", 0},
		{"bob ", 0},
	}
	for _, tc := range tests {
		u, err := db.UserByUsername(ctx, tc.username)
		if tc.wantID == 0 {
			wantCode(t, "UserByUsername("+tc.username+")", err, ciphemic.CodeNotFound, "")
			continue
		}
		if err != nil || u.ID != tc.wantID {
			t.Errorf("UserByUsername(%q) = %d, %v, want %d", tc.username, u.ID, err, tc.wantID)
		}
	}
}

// testUserTimes checks that instants round-trip with microsecond precision, in UTC, and
// that the zero time round-trips as "never".
func testUserTimes(t *testing.T, db *store.DB) {
	paris := time.FixedZone("CET", 3600)
	tests := []struct {
		name                          string
		joined, lastLogin, validAfter time.Time
	}{
		{"zero", t0, time.Time{}, time.Time{}},
		{"nanoseconds", t0, t0.Add(time.Nanosecond * 999), t0.Add(time.Microsecond + 1)},
		{"zone", t0.In(paris), t0.In(paris).Add(time.Minute), t0.In(paris).Add(-time.Minute)},
		{"epoch", time.Unix(0, 0), time.Unix(0, 1000), time.Unix(1, 0)},
		{"far", time.Date(2999, 12, 31, 23, 59, 59, 999999000, time.UTC), time.Time{}, time.Date(1970, 1, 1, 0, 0, 0, 1000, time.UTC)},
	}
	for i, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			in := newUser(jti("user", i))
			in.DateJoined, in.LastLogin, in.TokensValidAfter = tc.joined, tc.lastLogin, tc.validAfter
			created, err := db.CreateUser(context.Background(), in)
			if err != nil {
				t.Fatalf("CreateUser() = %v", err)
			}
			in.ID = created.ID
			got, err := db.User(context.Background(), created.ID)
			wantIs(t, "User()", err, nil)
			wantUser(t, "User()", got, in)
			wantUser(t, "CreateUser()", created, in)
		})
	}
}

func testCountUsers(t *testing.T, db *store.DB) {
	ctx := context.Background()
	for i := range 3 {
		n, err := db.CountUsers(ctx)
		if err != nil || n != int64(i) {
			t.Fatalf("CountUsers() = %d, %v, want %d", n, err, i)
		}
		mustUser(t, db, jti("user", i), func(u *ciphemic.User) { u.IsActive = i%2 == 0 })
	}
}

func testRecordLogin(t *testing.T, db *store.DB) {
	ctx := context.Background()
	u := mustUser(t, db, "alice")
	at := t0.Add(123456789 * time.Nanosecond)
	wantIs(t, "RecordLogin(keep hash)", db.RecordLogin(ctx, u.ID, at, ""), nil)
	got, _ := db.User(ctx, u.ID)
	if !got.LastLogin.Equal(stored(at)) || got.PasswordHash != u.PasswordHash {
		t.Errorf("after RecordLogin(%v, \"\"): LastLogin %v, hash changed %t; want %v, unchanged",
			at, got.LastLogin, got.PasswordHash != u.PasswordHash, stored(at))
	}
	const upgraded = "argon2$argon2id$v=19$m=65536,t=3,p=1$bmV3$bmV3"
	later := at.Add(time.Hour)
	wantIs(t, "RecordLogin(new hash)", db.RecordLogin(ctx, u.ID, later, upgraded), nil)
	got, _ = db.User(ctx, u.ID)
	if !got.LastLogin.Equal(stored(later)) || got.PasswordHash != upgraded {
		t.Errorf("after RecordLogin(new hash): LastLogin %v, hash upgraded %t; want %v, true",
			got.LastLogin, got.PasswordHash == upgraded, stored(later))
	}
	err := db.RecordLogin(ctx, u.ID+1000, at, upgraded)
	wantCode(t, "RecordLogin(missing user)", err, ciphemic.CodeNotFound, "Not found.")
}

func testChangePassword(t *testing.T, db *store.DB) {
	ctx := context.Background()
	u := mustUser(t, db, "alice")
	other := mustUser(t, db, "bob")
	mustToken(t, db, u.ID, jti("alice", 1))
	mustToken(t, db, other.ID, jti("bob", 1))
	const hash = "argon2$argon2id$v=19$m=65536,t=2,p=1$bmV3$Y2hhbmdlZA"
	validAfter, until := t0.Add(-time.Second), t0.Add(time.Hour)
	wantIs(t, "ChangePassword()", db.ChangePassword(ctx, u.ID, hash, validAfter, until), nil)

	got, _ := db.User(ctx, u.ID)
	if got.PasswordHash != hash || !got.TokensValidAfter.Equal(stored(validAfter)) {
		t.Errorf("after ChangePassword(): hash changed %t, TokensValidAfter %v; want true, %v",
			got.PasswordHash == hash, got.TokensValidAfter, stored(validAfter))
	}
	_, err := db.UseRefreshToken(ctx, jti("alice", 1), t0)
	wantIs(t, "UseRefreshToken(alice's token after ChangePassword)", err, ciphemic.ErrTokenBlacklisted)
	_, err = db.UseRefreshToken(ctx, jti("bob", 1), t0)
	wantIs(t, "UseRefreshToken(bob's token)", err, nil)
	rs, _ := db.RevocationsSince(ctx, t0)
	if len(rs) != 1 || rs[0].UserID != u.ID || rs[0].JTI != "" {
		t.Errorf("RevocationsSince() after ChangePassword() = %+v, want one user-level revocation of %d", rs, u.ID)
	}

	err = db.ChangePassword(ctx, u.ID+1000, hash, validAfter, until)
	wantCode(t, "ChangePassword(missing user)", err, ciphemic.CodeNotFound, "Not found.")
}
