package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// sessionOrderings are the orderings of a session list; "" is by login.
var sessionOrderings = orderings{
	"": "s.created_at", "created_at": "s.created_at", "last_used_at": "s.last_used_at",
}

// sessionColumns are the columns scanSession reads, of sessions s.
const sessionColumns = `s.id, s.user_id, s.created_at, s.last_used_at, s.expires_at, s.user_agent, s.client_ip`

// sessionFrom is the FROM clause of the live-session queries: a session's liveness
// depends on its user's tokens_valid_after (revoke-all, password change).
const sessionFrom = `sessions s JOIN users u ON u.id = s.user_id`

// liveTokenCond holds for a session with a refresh token that may still be used at the
// instant of placeholder now; it is what a refresh would check.
func liveTokenCond(now string) string {
	return `EXISTS (SELECT 1 FROM refresh_tokens t WHERE t.family_id = s.id AND t.user_id = s.user_id
		AND t.blacklisted_at IS NULL AND t.expires_at > ` + now + `
		AND (u.tokens_valid_after IS NULL OR t.issued_at > u.tokens_valid_after))`
}

// sessionConds adds the conditions of f to l.
func sessionConds(l *listSQL, f ciphemic.SessionFilter) {
	l.and("s.user_id = " + l.arg(f.UserID))
	l.and(liveTokenCond(l.arg(micros(f.Now))))
	if !f.IdleSince.IsZero() {
		l.and("s.last_used_at > " + l.arg(micros(f.IdleSince)))
	}
	if !f.CreatedSince.IsZero() {
		l.and("s.created_at > " + l.arg(micros(f.CreatedSince)))
	}
}

func scanSession(row scanner) (ciphemic.Session, error) {
	var (
		s                      ciphemic.Session
		created, used, expires int64
	)
	err := row.Scan(&s.ID, &s.UserID, &created, &used, &expires, &s.UserAgent, &s.ClientIP)
	s.CreatedAt, s.LastUsedAt, s.ExpiresAt = fromMicros(created), fromMicros(used), fromMicros(expires)
	return s, err
}

// StartSession records a login: its first refresh token t and its session s, in one
// transaction, so that no session exists without its token nor a token without its
// session. s.ID is t's family (t.JTI when t starts one).
func (db *DB) StartSession(ctx context.Context, s ciphemic.Session, t ciphemic.RefreshToken) error {
	t, err := db.prepareToken(t)
	if err != nil {
		return db.fail("start session", err)
	}
	s.ID, s.UserID = t.FamilyID, t.UserID
	return db.update(ctx, "start session", func(tx *sql.Tx) error {
		if err := db.insertTokenTx(ctx, tx, t); err != nil {
			return err
		}
		return db.upsertSessionTx(ctx, tx, s)
	})
}

// TouchSession records a refresh of session s: its last use, newest refresh-token expiry
// and client. A session not recorded yet (a family older than sessions, or imported) is
// recorded with s.CreatedAt as its login.
func (db *DB) TouchSession(ctx context.Context, s ciphemic.Session) error {
	return db.update(ctx, "touch session", func(tx *sql.Tx) error {
		return db.upsertSessionTx(ctx, tx, s)
	})
}

// upsertSessionQuery records a session's refresh; it runs in every rotation, so it is one
// of the prepared hotWrites.
const upsertSessionQuery = `INSERT INTO sessions
		(id, user_id, created_at, last_used_at, expires_at, user_agent, client_ip)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (id) DO UPDATE SET last_used_at = excluded.last_used_at,
			expires_at = excluded.expires_at, user_agent = excluded.user_agent,
			client_ip = excluded.client_ip`

func (db *DB) upsertSessionTx(ctx context.Context, tx *sql.Tx, s ciphemic.Session) error {
	_, err := db.txStmt(ctx, tx, upsertSessionQuery).ExecContext(ctx,
		s.ID, s.UserID, micros(s.CreatedAt), micros(s.LastUsedAt), micros(s.ExpiresAt),
		ciphemic.TruncateRunes(s.UserAgent, ciphemic.UserAgentMax), s.ClientIP)
	return err
}

// sessionQuery reads one session by id. Every refresh runs it, through a prepared
// statement (queryRowRead): parsing it cost SQLite more than running it.
const sessionQuery = `SELECT ` + sessionColumns + ` FROM sessions s WHERE s.id = $1`

// Session returns the record of session id, live or not, or CodeNotFound.
func (db *DB) Session(ctx context.Context, id string) (ciphemic.Session, error) {
	s, err := scanSession(db.queryRowRead(ctx, sessionQuery, id))
	if err != nil {
		return ciphemic.Session{}, db.fail("session", err)
	}
	return s, nil
}

// LiveSession returns session id when it is one of the live sessions f selects, and
// CodeNotFound otherwise: another user's session is as unknown as a missing one.
func (db *DB) LiveSession(ctx context.Context, f ciphemic.SessionFilter, id string) (ciphemic.Session, error) {
	var l listSQL
	sessionConds(&l, f)
	l.and("s.id = " + l.arg(id))
	s, err := scanSession(db.read.QueryRowContext(ctx, `SELECT `+sessionColumns+` FROM `+sessionFrom+l.where(), l.args...))
	if err != nil {
		return ciphemic.Session{}, db.fail("live session", err)
	}
	return s, nil
}

// ListSessions returns one page of the live sessions f selects, and how many there are.
func (db *DB) ListSessions(ctx context.Context, f ciphemic.SessionFilter, q ciphemic.ListQuery) ([]ciphemic.Session, int64, error) {
	col, err := checkList(q, sessionOrderings)
	if err != nil {
		return nil, 0, db.fail("list sessions", err)
	}
	var l listSQL
	sessionConds(&l, f)
	rows, total, err := list(ctx, db, sessionColumns, sessionFrom, &l, q, col, "s.id", scanSession)
	if err != nil {
		return nil, 0, db.fail("list sessions", err)
	}
	return rows, total, nil
}

// EndOtherSessions ends, as of at, every session of userID but keep, as RevokeFamily
// ends one, in one transaction, and returns the sessions it ended. A session counts
// while it may still have an access token alive: a refresh token of it expires after
// the revocation window (until - at) before at.
func (db *DB) EndOtherSessions(ctx context.Context, userID int64, keep string, at, until time.Time) ([]string, error) {
	var ended []string
	err := db.update(ctx, "end other sessions", func(tx *sql.Tx) error {
		var err error
		ended, err = otherFamiliesTx(ctx, tx, userID, keep, at.Add(-until.Sub(at)))
		if err != nil {
			return err
		}
		for _, id := range ended {
			if err := db.revokeFamilyTx(ctx, tx, id, userID, at, until); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return ended, nil
}

// otherFamiliesTx returns the families of userID but keep with a refresh token expiring
// after cut, read in full before the caller writes in the same transaction.
func otherFamiliesTx(ctx context.Context, tx *sql.Tx, userID int64, keep string, cut time.Time) ([]string, error) {
	rows, err := tx.QueryContext(ctx, `SELECT DISTINCT family_id FROM refresh_tokens
		WHERE user_id = $1 AND family_id <> $2 AND expires_at > $3 ORDER BY family_id`,
		userID, keep, micros(cut))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// sweepSessions is Sweep's batch delete of the sessions whose newest refresh token has
// expired: nothing can refresh them again.
var sweepSessions = sweepTable{"sessions", `DELETE FROM sessions WHERE id IN
	(SELECT id FROM sessions WHERE expires_at >= $3 AND expires_at <= $1
		ORDER BY expires_at LIMIT $2)
	RETURNING expires_at`}
