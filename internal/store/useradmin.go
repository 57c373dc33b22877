package store

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// userColumnsU is userColumns qualified by the alias u, for queries that join users.
const userColumnsU = `u.id, u.username, u.email, u.first_name, u.last_name, u.password_hash,
	u.role, u.is_active, u.date_joined, u.last_login, u.tokens_valid_after`

// ListUsers returns one page of the users whose username or email contains q.Search
// (ASCII case-insensitively; %, _ and \ match themselves) and how many match in all.
// q.OrderBy is one of "", "id", "username", "email", "date_joined" and "last_login"
// (never-logged-in users last in ascending order), else CodeInvalid; ties are broken by
// id. A zero q.Limit means no limit.
func (db *DB) ListUsers(ctx context.Context, q ciphemic.ListQuery) ([]ciphemic.User, int64, error) {
	col, err := checkList(q, userOrderings)
	if err != nil {
		return nil, 0, db.fail("list users", err)
	}
	var l listSQL
	l.search(q.Search, userSearch)
	us, n, err := list(ctx, db, userColumnsU, "users u", &l, q, col, "u.id", scanUser)
	if err != nil {
		return nil, 0, db.fail("list users", err)
	}
	return us, n, nil
}

// checkUser refuses the fields of u that no stored user may have.
func checkUser(u ciphemic.User) error {
	if u.Username == "" {
		return ciphemic.Errorf(ciphemic.CodeInvalid, "username: This field may not be blank.")
	}
	_, err := ciphemic.ParseRole(string(u.Role))
	return err
}

// UpdateUser writes the Username, Email, FirstName, LastName, Role and IsActive of the
// user u.ID, and PasswordHash when it is not empty, and returns the user as stored. With a
// non-zero revokeAt it also revokes every token of the user exactly as
// RevokeUser(ctx, u.ID, revokeAt, until) does, in the same transaction, so that no
// deactivation, password or role change is ever stored without its revocation. A
// username already taken is CodeConflict, a blank username or an unknown role
// CodeInvalid, a missing user CodeNotFound. Demoting or deactivating the only active
// admin is CodeConflict "At least one active admin must remain.", decided in the same
// transaction, so that two admins demoting each other at once cannot both succeed.
func (db *DB) UpdateUser(ctx context.Context, u ciphemic.User, revokeAt, until time.Time) (ciphemic.User, error) {
	if err := checkUser(u); err != nil {
		return ciphemic.User{}, db.fail("update user", err)
	}
	var out ciphemic.User
	err := db.update(ctx, "update user", func(tx *sql.Tx) error {
		// A user left an active admin is no admin taken away: no lock, no check.
		if u.Role != ciphemic.RoleAdmin || !u.IsActive {
			if err := db.keepAdminTx(ctx, tx, u.ID); err != nil {
				return err
			}
		}
		if err := db.updateUserTx(ctx, tx, u); err != nil {
			return err
		}
		if !revokeAt.IsZero() {
			if err := db.revokeUserTx(ctx, tx, u.ID, revokeAt, until); err != nil {
				return err
			}
		}
		var err error
		out, err = userTx(ctx, tx, u.ID)
		return err
	})
	db.users.forget(u.ID)
	if err != nil {
		return ciphemic.User{}, err
	}
	return out, nil
}

// updateUserTx writes the fields UpdateUser writes.
func (db *DB) updateUserTx(ctx context.Context, tx *sql.Tx, u ciphemic.User) error {
	res, err := tx.ExecContext(ctx, `UPDATE users SET username = $1, email = $2,
		first_name = $3, last_name = $4, role = $5, is_active = $6,
		password_hash = COALESCE(NULLIF($7, ''), password_hash), changed_at = $9 WHERE id = $8`,
		u.Username, u.Email, u.FirstName, u.LastName, string(u.Role), u.IsActive,
		u.PasswordHash, u.ID, micros(db.clock()))
	if db.kind(err) == KindUnique {
		return errUsernameTaken
	}
	if err != nil {
		return err
	}
	return mustAffect(res)
}

// DeleteUser deletes the user id in one transaction: it gives back the seats of the
// user's enrollments and deletes them, deletes the user's refresh tokens, leaves the
// courses the user taught without a teacher, and logs a user-level revocation of every
// token issued up to revokeAt (now when zero) that matters until until, so that every
// instance stops the user's access tokens. A missing user is CodeNotFound; the only
// active admin is CodeConflict "At least one active admin must remain.", decided in the
// same transaction.
func (db *DB) DeleteUser(ctx context.Context, id int64, revokeAt, until time.Time) error {
	now := db.clock()
	if revokeAt.IsZero() {
		revokeAt = now
	}
	defer db.users.forget(id)
	return db.update(ctx, "delete user", func(tx *sql.Tx) error {
		// First, before the row lock below: see lockAdminsTx.
		if err := db.keepAdminTx(ctx, tx, id); err != nil {
			return err
		}
		// The lock makes a concurrent Enroll of this user wait and then fail on the
		// foreign key, rather than add an enrollment the cascade would delete without
		// giving its seat back.
		var locked int64
		err := tx.QueryRowContext(ctx, `SELECT id FROM users WHERE id = $1`+db.dialect.LockRows,
			id).Scan(&locked)
		if err != nil {
			return err
		}
		courses, err := withdrawAllTx(ctx, tx, id)
		if err != nil {
			return err
		}
		if err := freeSeatsTx(ctx, tx, courses); err != nil {
			return err
		}
		// The foreign keys delete the refresh tokens and clear courses.teacher_id.
		if _, err := tx.ExecContext(ctx, `DELETE FROM users WHERE id = $1`, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO revocations (user_id, valid_after, expires_at, created_at)
			VALUES ($1, $2, $3, $4)`, id, micros(revokeAt), micros(until), micros(now))
		return err
	})
}

// withdrawAllTx deletes every enrollment of the student and returns their courses, in
// ascending order. The
// courses are those of the rows this DELETE removed, so an enrollment a concurrent
// DeleteEnrollment removed first is not counted twice.
func withdrawAllTx(ctx context.Context, tx *sql.Tx, studentID int64) ([]int64, error) {
	rows, err := tx.QueryContext(ctx,
		`DELETE FROM enrollments WHERE student_id = $1 RETURNING course_id`, studentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var courses []int64
	for rows.Next() {
		var c int64
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		courses = append(courses, c)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	// One order for every writer that locks several courses, so that two of them
	// never wait for each other on PostgreSQL.
	slices.Sort(courses)
	return courses, nil
}
