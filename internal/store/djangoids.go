package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// The Django pk of every imported user is recorded in django_users, because a token the
// Django server issued names its user by that pk. Without --renumber the pk is the
// user's ciphemic id; with it, the pk may be another ciphemic user's id, and taking a
// Django token's user_id at face value would let it act as that other user.

// djangoIDsQ reads every recorded Django pk and the ciphemic id it maps to.
func djangoIDsQ(ctx context.Context, tx *sql.Tx) (map[int64]int64, error) {
	ids := map[int64]int64{}
	rows, err := tx.QueryContext(ctx, `SELECT django_id, user_id FROM django_users`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var djangoID, userID int64
		if err := rows.Scan(&djangoID, &userID); err != nil {
			return nil, err
		}
		ids[djangoID] = userID
	}
	return ids, rows.Err()
}

// recordDjangoIDTx records that the Django pk djangoID is the user userID, replacing what
// an earlier import recorded for either.
func recordDjangoIDTx(ctx context.Context, tx *sql.Tx, djangoID, userID int64) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM django_users WHERE django_id = $1 OR user_id = $2`,
		djangoID, userID); err != nil {
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO django_users (django_id, user_id) VALUES ($1, $2)`,
		djangoID, userID)
	return err
}

// errDjangoUserUnknown refuses a Django token whose user no import recorded.
var errDjangoUserUnknown = fmt.Errorf("%w (its Django user was not imported)", ciphemic.ErrTokenUnknown)

// DjangoUserID returns the ciphemic id of the user whose Django pk is djangoID, for a
// token the Django server issued. Before any import has recorded a pk it is djangoID
// itself, as before imports recorded them. Once one has, only a recorded pk resolves; any
// other is ErrTokenUnknown, never whichever ciphemic user holds that number.
func (db *DB) DjangoUserID(ctx context.Context, djangoID int64) (int64, error) {
	var userID sql.NullInt64
	var anyRecorded bool
	err := db.read.QueryRowContext(ctx, `SELECT
		(SELECT user_id FROM django_users WHERE django_id = $1),
		EXISTS (SELECT 1 FROM django_users)`, djangoID).Scan(&userID, &anyRecorded)
	switch {
	case err != nil:
		return 0, db.fail("django user id", err)
	case userID.Valid:
		return userID.Int64, nil
	case anyRecorded:
		return 0, db.fail("django user id", errDjangoUserUnknown)
	}
	return djangoID, nil
}

// resolveDjangoID is DjangoUserID over ids, as djangoIDsQ read them.
func resolveDjangoID(ids map[int64]int64, djangoID int64) (int64, bool) {
	if len(ids) == 0 {
		return djangoID, true
	}
	id, ok := ids[djangoID]
	return id, ok
}

// userExistsTx reports whether the user id exists.
func userExistsTx(ctx context.Context, tx *sql.Tx, id int64) (bool, error) {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM users WHERE id = $1`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}
