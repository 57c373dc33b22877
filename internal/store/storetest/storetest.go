// Package storetest is the conformance suite every ciphemic store backend runs, so that
// SQLite and PostgreSQL behave the same for every method of store.DB.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/store"
)

// t0 is the suite's "now": every test sets the store's clock to it, or near it, and
// passes times relative to it. Its nanoseconds are not a whole microsecond on purpose.
var t0 = time.Date(2030, 1, 2, 3, 4, 5, 678901234, time.UTC)

// Run runs the suite. open must return a fresh, empty store (migrated or not) for t
// and close it when t ends; Run calls it once per subtest, in parallel subtests.
func Run(t *testing.T, open func(t *testing.T) *store.DB) {
	tests := []struct {
		name string
		fn   func(t *testing.T, db *store.DB)
	}{
		{"MigrateTwice", testMigrateTwice},
		{"HasSchema", testHasSchema},
		{"Ping", testPing},
		{"PoolStats", testPoolStats},
		{"CreateUser", testCreateUser},
		{"CreateUserConflict", testCreateUserConflict},
		{"CreateUserInvalidRole", testCreateUserInvalidRole},
		{"UserNotFound", testUserNotFound},
		{"UserByUsernameCase", testUserByUsernameCase},
		{"UserTimes", testUserTimes},
		{"CountUsers", testCountUsers},
		{"UserCacheLocal", testUserCacheLocal},
		{"RecordLogin", testRecordLogin},
		{"ChangePassword", testChangePassword},
		{"CreateRefreshToken", testCreateRefreshToken},
		{"CreateRefreshTokenErrors", testCreateRefreshTokenErrors},
		{"UseRefreshToken", testUseRefreshToken},
		{"RotateRefreshToken", testRotateRefreshToken},
		{"RotateWithoutBlacklist", testRotateWithoutBlacklist},
		{"RotateErrors", testRotateErrors},
		{"RotateUserChecksRollBack", testRotateUserChecksRollBack},
		{"RotateRace", testRotateRace},
		{"RotateMixedConcurrent", testRotateMixedConcurrent},
		{"BlacklistRefreshToken", testBlacklistRefreshToken},
		{"RevokeAccessToken", testRevokeAccessToken},
		{"RevokeUser", testRevokeUser},
		{"RevokeUserOnlyForward", testRevokeUserOnlyForward},
		{"RevokeUserNotFound", testRevokeUserNotFound},
		{"RevocationsSinceWindow", testRevocationsSinceWindow},
		{"FlushExpired", testFlushExpired},
		{"ConcurrentWrites", testConcurrentWrites},
		// School (issue 3): courses, enrollments, lists, user administration, import.
		{"CreateCourse", testCreateCourse},
		{"CreateCourseErrors", testCreateCourseErrors},
		{"UpdateCourse", testUpdateCourse},
		{"UpdateCourseErrors", testUpdateCourseErrors},
		{"DeleteCourse", testDeleteCourse},
		{"DeleteCourseWhileEnrolling", testDeleteCourseWhileEnrolling},
		{"CourseStudents", testCourseStudents},
		{"Enroll", testEnroll},
		{"EnrollRace", testEnrollRace},
		{"EnrollSameStudentRace", testEnrollSameStudentRace},
		{"DeleteEnrollment", testDeleteEnrollment},
		{"SetGrade", testSetGrade},
		{"ListEnrollmentsFilter", testListEnrollmentsFilter},
		{"ListCoursesOrdering", testListCoursesOrdering},
		{"ListUsersOrdering", testListUsersOrdering},
		{"ListEnrollmentsOrdering", testListEnrollmentsOrdering},
		{"ListPaging", testListPaging},
		{"ListSearch", testListSearch},
		{"ListBadOrdering", testListBadOrdering},
		{"ListUsers", testListUsers},
		{"UpdateUser", testUpdateUser},
		{"UpdateUserRevokes", testUpdateUserRevokes},
		{"UpdateUserErrors", testUpdateUserErrors},
		{"DeleteUser", testDeleteUser},
		{"DeleteUserWhileEnrolling", testDeleteUserWhileEnrolling},
		// Issue 12: the last active admin stays, also when two admins race.
		{"LastAdmin", testLastAdmin},
		{"LastAdminRace", testLastAdminRace},
		{"ImportUsers", testImportUsers},
		{"ImportUsersSequence", testImportUsersSequence},
		{"ImportUsersAllOrNothing", testImportUsersAllOrNothing},
		{"ImportUsersRevokes", testImportUsersRevokes},
		{"ImportUsersRevokesWithoutRecord", testImportUsersRevokesWithoutRecord},
		{"ImportUsersNFKC", testImportUsersNFKC},
		{"LoginFailures", testLoginFailures},
		{"LoginFailureWhileBlocked", testLoginFailureWhileBlocked},
		{"LoginFailuresForgotten", testLoginFailuresForgotten},
		{"ResetLoginFailures", testResetLoginFailures},
		{"LoginFailureOddNames", testLoginFailureOddNames},
		{"FlushLoginFailures", testFlushLoginFailures},
		{"ConcurrentLoginFailures", testConcurrentLoginFailures},
		{"SpentError", testSpentError},
		{"RotateFamilyMismatch", testRotateFamilyMismatch},
		{"LiveRefreshToken", testLiveRefreshToken},
		{"RevokeFamily", testRevokeFamily},
		{"ReuseRace", testReuseRace},
		// Audit trail (issue 4).
		{"RecordAuditEvent", testRecordAuditEvent},
		{"AuditUsername", testAuditUsername},
		{"AuditOutlivesUser", testAuditOutlivesUser},
		{"ListAuditEvents", testListAuditEvents},
		{"PruneAuditEvents", testPruneAuditEvents},
		// Housekeeping (issue 7).
		{"Sweep", testSweep},
		{"SweepBatches", testSweepBatches},
		{"SweepCancel", testSweepCancel},
		{"SweepAdapts", testSweepAdapts},
		// The cut-over from Django (issue 11).
		{"ImportDjangoTokens", testImportDjangoTokens},
		{"ImportDjangoTokensAllOrNothing", testImportDjangoTokensAllOrNothing},
		{"ImportUsersRenumbered", testImportUsersRenumbered},
		{"RotateDjangoRefreshToken", testRotateDjangoRefreshToken},
		{"BlacklistDjangoRefreshToken", testBlacklistDjangoRefreshToken},
		{"RotateDjangoRace", testRotateDjangoRace},
		{"UseDjangoRefreshToken", testUseDjangoRefreshToken},
	}
	tests = append(tests, sessionTests...)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			db := open(t)
			mustMigrate(t, db)
			setNow(db, t0)
			tc.fn(t, db)
		})
	}
}

// testHasSchema: asking whether a database holds ciphemic's schema creates nothing, so a
// command refusing an empty database leaves it empty.
func testHasSchema(t *testing.T, db *store.DB) {
	ctx := context.Background()
	if has, err := db.HasSchema(ctx); err != nil || !has {
		t.Errorf("HasSchema() after Migrate() = %t, %v; want true", has, err)
	}
}

func testMigrateTwice(t *testing.T, db *store.DB) {
	ctx := context.Background()
	u := mustUser(t, db, "alice")
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate() = %v, want nil", err)
	}
	// An operator is told "the schema was current", not that something was applied.
	if applied, err := db.MigrateApplied(ctx); err != nil || len(applied) != 0 {
		t.Errorf("MigrateApplied() on a current schema = %q, %v; want none", applied, err)
	}
	if _, err := db.User(ctx, u.ID); err != nil {
		t.Errorf("User(%d) after second Migrate() = %v, want the user kept", u.ID, err)
	}
}

func testPing(t *testing.T, db *store.DB) {
	if err := db.Ping(context.Background()); err != nil {
		t.Errorf("Ping() = %v, want nil", err)
	}
}

func mustMigrate(t *testing.T, db *store.DB) {
	t.Helper()
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate() = %v", err)
	}
}

// setNow fixes the store's clock at now.
func setNow(db *store.DB, now time.Time) {
	db.SetNow(func() time.Time { return now })
}

// newUser returns an active student named username with every field set.
func newUser(username string) ciphemic.User {
	return ciphemic.User{
		Username:     username,
		Email:        username + "@example.com",
		FirstName:    "First " + username,
		LastName:     "Last " + username,
		PasswordHash: "argon2$argon2id$v=19$m=65536,t=2,p=1$c2FsdA$aGFzaA", // #nosec G101 -- a fake hash ("salt", "hash") of no password
		Role:         ciphemic.RoleStudent,
		IsActive:     true,
		DateJoined:   t0.Add(-48 * time.Hour),
	}
}

// mustUser creates newUser(username), changed by each edit.
func mustUser(t *testing.T, db *store.DB, username string, edits ...func(*ciphemic.User)) ciphemic.User {
	t.Helper()
	u := newUser(username)
	for _, edit := range edits {
		edit(&u)
	}
	created, err := db.CreateUser(context.Background(), u)
	if err != nil {
		t.Fatalf("CreateUser(%q) = %v", username, err)
	}
	return created
}

// mustToken records a refresh token of userID issued an hour before t0 that expires a
// day after t0.
func mustToken(t *testing.T, db *store.DB, userID int64, jti string) ciphemic.RefreshToken {
	t.Helper()
	rt := ciphemic.RefreshToken{
		JTI:       jti,
		UserID:    userID,
		IssuedAt:  t0.Add(-time.Hour),
		ExpiresAt: t0.Add(24 * time.Hour),
	}
	if err := db.CreateRefreshToken(context.Background(), rt); err != nil {
		t.Fatalf("CreateRefreshToken(%q) = %v", jti, err)
	}
	return mustRefreshToken(t, db, jti)
}

func mustRefreshToken(t *testing.T, db *store.DB, jti string) ciphemic.RefreshToken {
	t.Helper()
	rt, err := db.RefreshToken(context.Background(), jti)
	if err != nil {
		t.Fatalf("RefreshToken(%q) = %v", jti, err)
	}
	return rt
}

// wantIs fails t unless err matches want (nil for success).
func wantIs(t *testing.T, call string, err, want error) {
	t.Helper()
	if want == nil && err != nil || want != nil && !errors.Is(err, want) {
		t.Errorf("%s = %v, want %v", call, err, want)
	}
}

// wantCode fails t unless err carries code and, when message is set, that message.
func wantCode(t *testing.T, call string, err error, code ciphemic.Code, message string) {
	t.Helper()
	if got := ciphemic.ErrorCode(err); got != code {
		t.Errorf("%s = %v (code %q), want code %q", call, err, got, code)
		return
	}
	if got := ciphemic.ErrorMessage(err); message != "" && got != message {
		t.Errorf("%s message = %q, want %q", call, got, message)
	}
}

// jti returns a distinct token id for the ith token of a test.
func jti(prefix string, i int) string {
	return fmt.Sprintf("%s%030d", prefix, i)
}
