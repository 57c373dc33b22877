package storetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/store"
)

// msgLastAdmin is the conflict that refuses taking away the last active admin.
const msgLastAdmin = "At least one active admin must remain."

// adminRemoval is one way of taking the active admin role away from a user, as the user
// administration endpoints do it (with the revocation in the same transaction).
type adminRemoval struct {
	name string
	do   func(ctx context.Context, db *store.DB, u ciphemic.User) error
}

var adminRemovals = []adminRemoval{
	{"demote", func(ctx context.Context, db *store.DB, u ciphemic.User) error {
		u.Role = ciphemic.RoleTeacher
		_, err := db.UpdateUser(ctx, u, t0, t0.Add(time.Hour))
		return err
	}},
	{"deactivate", func(ctx context.Context, db *store.DB, u ciphemic.User) error {
		u.IsActive = false
		_, err := db.UpdateUser(ctx, u, t0, t0.Add(time.Hour))
		return err
	}},
	{"delete", func(ctx context.Context, db *store.DB, u ciphemic.User) error {
		return db.DeleteUser(ctx, u.ID, t0, t0.Add(time.Hour))
	}},
	// A re-run of import-users whose dump no longer makes the user a superuser.
	{"re-import as teacher", func(ctx context.Context, db *store.DB, u ciphemic.User) error {
		u.Role = ciphemic.RoleTeacher
		_, err := db.ImportUsers(ctx, []ciphemic.User{u}, t0, t0.Add(time.Hour))
		return err
	}},
}

func asAdmin(u *ciphemic.User) { u.Role = ciphemic.RoleAdmin }

// testLastAdmin: the only active admin can be neither demoted, deactivated nor deleted,
// and a refused change writes nothing, its revocation included. Inactive admins do not
// count; changes that keep the admin an active admin go through.
func testLastAdmin(t *testing.T, db *store.DB) {
	ctx := context.Background()
	root := mustUser(t, db, "root", asAdmin)
	retired := mustUser(t, db, "retired", asAdmin, func(u *ciphemic.User) { u.IsActive = false })
	rt := mustToken(t, db, root.ID, jti("r", 1))
	for _, r := range adminRemovals {
		wantCode(t, r.name+"(the last active admin)", r.do(ctx, db, root), ciphemic.CodeConflict, msgLastAdmin)
	}
	wantUser(t, "last active admin after refused changes", mustGetUser(t, db, root.ID), root)
	if got := mustRefreshToken(t, db, rt.JTI); !got.BlacklistedAt.IsZero() {
		t.Errorf("last admin's refresh token after refused changes: BlacklistedAt = %v, want zero", got.BlacklistedAt)
	}
	if rs := mustRevocations(t, db, time.Time{}); len(rs) != 0 {
		t.Errorf("RevocationsSince() after refused changes = %+v, want none", rs)
	}
	renamed := root
	renamed.FirstName = "Root"
	if _, err := db.UpdateUser(ctx, renamed, time.Time{}, time.Time{}); err != nil {
		t.Errorf("UpdateUser(last admin, renamed) = %v, want nil", err)
	}

	// A second active admin lets the first one go, and is then the last one.
	second := mustUser(t, db, "second", asAdmin)
	wantIs(t, "demote(root, with a second active admin)", adminRemovals[0].do(ctx, db, root), nil)
	wantIs(t, "delete(an inactive admin)", adminRemovals[2].do(ctx, db, retired), nil)
	wantCode(t, "delete(second, now the last)", adminRemovals[2].do(ctx, db, second), ciphemic.CodeConflict, msgLastAdmin)
	// Refusing a missing user is not the rule's business.
	err := adminRemovals[2].do(ctx, db, ciphemic.User{ID: second.ID + 100})
	wantCode(t, "delete(missing user)", err, ciphemic.CodeNotFound, "")
}

// testLastAdminRace runs raceLastAdmins on one store.
func testLastAdminRace(t *testing.T, db *store.DB) {
	raceLastAdmins(t, db, db, 6)
}

// raceLastAdmins has the only two active admins take the role away from each other at
// the same moment, the first through a and the second through b, rounds times for every
// pair of removals (demote, deactivate, delete): each time exactly one must win and the
// other get the conflict, so that exactly one active admin, the loser's target, remains.
// Each round adds a fresh admin to the one that remains.
func raceLastAdmins(t *testing.T, a, b *store.DB, rounds int) {
	t.Helper()
	survivor := mustUser(t, a, "admin-0", asAdmin)
	n := 0
	for _, ra := range adminRemovals {
		for _, rb := range adminRemovals {
			for range rounds {
				n++
				fresh := mustUser(t, a, fmt.Sprintf("admin-%d", n), asAdmin)
				targets := [2]ciphemic.User{fresh, survivor}
				errs := atOnce(
					func() error { return ra.do(context.Background(), a, fresh) },
					func() error { return rb.do(context.Background(), b, survivor) })
				name := fmt.Sprintf("round %d (%s %s, %s %s)", n, ra.name, fresh.Username, rb.name, survivor.Username)
				survivor = raceSurvivor(t, a, name, targets, errs)
			}
		}
	}
}

// atOnce runs the functions together, released at one moment, and returns their errors.
func atOnce(fns ...func() error) []error {
	errs := make([]error, len(fns))
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Go(func() {
			<-start
			errs[i] = fn()
		})
	}
	close(start)
	wg.Wait()
	return errs
}

// raceSurvivor checks a round of raceLastAdmins, in which errs[i] is the error of the
// removal of targets[i], and returns the one active admin left.
func raceSurvivor(t *testing.T, db *store.DB, round string, targets [2]ciphemic.User, errs []error) ciphemic.User {
	t.Helper()
	var loser []int
	for i, err := range errs {
		switch ciphemic.ErrorCode(err) {
		case "":
		case ciphemic.CodeConflict:
			wantCode(t, round, err, ciphemic.CodeConflict, msgLastAdmin)
			loser = append(loser, i)
		default:
			t.Errorf("%s: removing %s = %v, want nil or conflict", round, targets[i].Username, err)
		}
	}
	admins := activeAdmins(t, db)
	if len(loser) != 1 || len(admins) != 1 || admins[0].ID != targets[loser[0]].ID {
		var names []string
		for _, u := range admins {
			names = append(names, u.Username)
		}
		t.Fatalf("%s: errors %v leave active admins %v, want exactly one conflict and its target the only active admin",
			round, errs, names)
	}
	return admins[0]
}

// activeAdmins returns every active admin.
func activeAdmins(t *testing.T, db *store.DB) []ciphemic.User {
	t.Helper()
	users, _, err := db.ListUsers(context.Background(), ciphemic.ListQuery{})
	if err != nil {
		t.Fatalf("ListUsers() = %v", err)
	}
	var admins []ciphemic.User
	for _, u := range users {
		if u.Role == ciphemic.RoleAdmin && u.IsActive {
			admins = append(admins, u)
		}
	}
	return admins
}
