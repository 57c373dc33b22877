package store

import (
	"context"
	"database/sql"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// auditColumns is the column list scanAuditEvent reads, in its order.
const auditColumns = `a.id, a.at, a.kind, a.actor_id, a.user_id, a.username, a.client_ip,
	a.request_id, a.detail`

// auditOrderings are the orderings of the audit list; "" is by id, as every list's.
var auditOrderings = orderings{"": "a.id", "id": "a.id", "at": "a.at"}

// auditSearch is the column the audit list's search matches: the username, which for a
// failed login is the name as typed.
var auditSearch = []string{"a.username"}

// recordAuditQuery inserts one event. An empty username is taken from the user row of
// user_id, when there is one, in the same statement, so that handlers which know only a
// user id (logout, a replayed refresh token) record the name without a read of their own.
const recordAuditQuery = `INSERT INTO audit_events
	(at, kind, actor_id, user_id, username, client_ip, request_id, detail)
	VALUES ($1, $2, $3, $4,
		COALESCE(NULLIF(CAST($5 AS TEXT), ''), (SELECT u.username FROM users u WHERE u.id = $4), ''),
		$6, $7, $8)`

// RecordAuditEvent appends e to the audit trail. A zero e.At is now; an empty e.Username
// is the username of e.UserID when that user exists; text fields are stored as
// e.Sanitized() leaves them. An unknown e.Kind is CodeInvalid.
//
// It is one INSERT outside an explicit transaction: a single statement is atomic by
// itself, and BEGIN and COMMIT would only add round trips to the request being audited.
func (db *DB) RecordAuditEvent(ctx context.Context, e ciphemic.AuditEvent) error {
	if !e.Kind.Valid() {
		return db.fail("record audit event", ciphemic.Errorf(ciphemic.CodeInvalid, "kind: %q is not a valid choice.", e.Kind))
	}
	if e.At.IsZero() {
		e.At = db.clock()
	}
	e = e.Sanitized()
	_, err := db.write.ExecContext(ctx, recordAuditQuery, auditArgs(e)...)
	if err != nil {
		return db.fail("record audit event", err)
	}
	return nil
}

// recordAuditTx appends e to the audit trail inside tx, beside the change it records.
func (db *DB) recordAuditTx(ctx context.Context, tx *sql.Tx, e ciphemic.AuditEvent) error {
	if e.At.IsZero() {
		e.At = db.clock()
	}
	_, err := db.txStmt(ctx, tx, recordAuditQuery).ExecContext(ctx, auditArgs(e.Sanitized())...)
	return err
}

// auditArgs are recordAuditQuery's arguments for e.
func auditArgs(e ciphemic.AuditEvent) []any {
	return []any{micros(e.At), string(e.Kind), nullID(e.ActorID), nullID(e.UserID),
		e.Username, e.ClientIP, e.RequestID, e.Detail}
}

// ListAuditEvents returns one page of the events f selects whose username contains
// q.Search (as ListUsers matches it), and how many there are in all. q.OrderBy is "" or
// "id" (by id) or "at"; ties are broken by id in the same direction, so that "-at" lists
// events of one instant newest first too. Anything else is CodeInvalid. A zero q.Limit
// means no limit.
func (db *DB) ListAuditEvents(ctx context.Context, f ciphemic.AuditFilter, q ciphemic.ListQuery) ([]ciphemic.AuditEvent, int64, error) {
	col, err := checkList(q, auditOrderings)
	if err != nil {
		return nil, 0, db.fail("list audit events", err)
	}
	var l listSQL
	if f.UserID != 0 {
		l.and("a.user_id = " + l.arg(f.UserID))
	}
	if f.Kind != "" {
		l.and("a.kind = " + l.arg(string(f.Kind)))
	}
	l.search(q.Search, auditSearch)
	const from = "audit_events a"
	total, err := db.count(ctx, from, &l)
	if err != nil {
		return nil, 0, db.fail("list audit events", err)
	}
	query := "SELECT " + auditColumns + " FROM " + from + l.where() + auditPage(&l, q, col)
	events, err := listRows(ctx, db, query, l.args, scanAuditEvent)
	if err != nil {
		return nil, 0, db.fail("list audit events", err)
	}
	return events, total, nil
}

// auditPage is listSQL.page for the audit list, whose tie-break by id follows the
// direction of the ordering. Its columns are never NULL.
func auditPage(l *listSQL, q ciphemic.ListQuery, col string) string {
	dir := " ASC"
	if q.Descending {
		dir = " DESC"
	}
	order := " ORDER BY " + col + dir
	if col != "a.id" {
		order += ", a.id" + dir
	}
	limit := int64(q.Limit)
	if limit == 0 {
		limit = 1<<63 - 1
	}
	return order + " LIMIT " + l.arg(limit) + " OFFSET " + l.arg(int64(q.Offset))
}

func scanAuditEvent(row scanner) (ciphemic.AuditEvent, error) {
	var (
		e             ciphemic.AuditEvent
		at            int64
		kind          string
		actor, userID sql.NullInt64
	)
	err := row.Scan(&e.ID, &at, &kind, &actor, &userID, &e.Username, &e.ClientIP, &e.RequestID, &e.Detail)
	if err != nil {
		return ciphemic.AuditEvent{}, err
	}
	e.At, e.Kind = fromMicros(at), ciphemic.AuditKind(kind)
	e.ActorID, e.UserID = actor.Int64, userID.Int64
	return e, nil
}

// PruneAuditEvents deletes the events recorded before before, and returns how many it
// deleted; the caller computes before from its retention setting.
func (db *DB) PruneAuditEvents(ctx context.Context, before time.Time) (int64, error) {
	var n int64
	err := db.update(ctx, "prune audit events", func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM audit_events WHERE at < $1`, micros(before))
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	return n, err
}

// nullID is the stored form of an optional id: NULL for 0.
func nullID(id int64) sql.NullInt64 {
	return sql.NullInt64{Int64: id, Valid: id != 0}
}
