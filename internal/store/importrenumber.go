package store

import (
	"context"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// ImportUsersRenumbered is ImportUsers for a store whose ids the dump's pks may collide
// with (the admin the first serve creates is id 1, as Django's first superuser is pk 1):
// a new user gets a generated id instead of its pk, whichever ids are free. A user is
// still matched by username, and by the id its own earlier import gave it. Either way
// the pk is recorded as the user's Django id (DjangoUserID), so that a token the Django
// server issued resolves to the user it names.
func (db *DB) ImportUsersRenumbered(ctx context.Context, users []ciphemic.User, revokeAt, until time.Time) (ImportResult, error) {
	return db.importUsers(ctx, users, revokeAt, until, true)
}

// idTakenError refuses to import a user under the pk id that holder, another user,
// already has, and says the two ways out.
func idTakenError(id int64, holder string) error {
	return ciphemic.Errorf(ciphemic.CodeConflict,
		"id %d is taken by another user, %q: import into an empty database before the first serve, "+
			"or import with --renumber to give the imported users new ids", id, holder)
}
