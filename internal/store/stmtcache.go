package store

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
)

// stmtCache holds the read pool's prepared statements for the queries on hot paths (the
// user lookups of every /api/me/ and login). Preparing is a large share of a small read
// with SQLite; a *sql.Stmt re-prepares itself on each pooled connection once and reuses it.
type stmtCache struct {
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
}

// queryRowRead runs a one-row read through a cached prepared statement. If preparing
// fails (a closed pool, say), the query runs unprepared so the caller sees the real error.
func (db *DB) queryRowRead(ctx context.Context, query string, args ...any) *sql.Row {
	stmt, err := db.stmts.get(ctx, db.read, query)
	if err != nil {
		return db.read.QueryRowContext(ctx, query, args...)
	}
	return stmt.QueryRowContext(ctx, args...)
}

func (c *stmtCache) get(ctx context.Context, pool *sql.DB, query string) (*sql.Stmt, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if stmt, ok := c.stmts[query]; ok {
		return stmt, nil
	}
	stmt, err := pool.PrepareContext(ctx, query)
	if err != nil {
		return nil, err
	}
	if c.stmts == nil {
		c.stmts = map[string]*sql.Stmt{}
	}
	c.stmts[query] = stmt
	return stmt, nil
}

// lookup returns the statement of query if it was prepared.
func (c *stmtCache) lookup(query string) (*sql.Stmt, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	stmt, ok := c.stmts[query]
	return stmt, ok
}

// close releases the statements; the pools close after.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, stmt := range c.stmts {
		_ = stmt.Close() // closing the pool after closes whatever is left
	}
	c.stmts = nil
}

// hotWrites are the statements of the refresh path, prepared on the write pool when the
// store is migrated: parsing and planning a statement costs SQLite as much as running it,
// and a rotation runs five.
var hotWrites = []string{rotateQuery, rotateBlacklistQuery, rotateAdmittedQuery, rotateAdmittedBlacklistQuery,
	tokenUserQuery, insertTokenQuery, recordAuditQuery, upsertSessionQuery}

// prepareWrites prepares hotWrites on the write pool. It must run outside any
// transaction: SQLite's write pool has one connection, which a transaction holds.
func (db *DB) prepareWrites(ctx context.Context) error {
	for _, q := range hotWrites {
		if _, err := db.writeStmts.get(ctx, db.write, q); err != nil {
			return fmt.Errorf("prepare: %w", err)
		}
	}
	return nil
}

// txStmt returns query bound to tx: prepared, when prepareWrites prepared it (the
// statement is reused by every transaction on the connection), else as text.
func (db *DB) txStmt(ctx context.Context, tx *sql.Tx, query string) txQuerier {
	stmt, ok := db.writeStmts.lookup(query)
	if !ok {
		return unprepared{tx: tx, query: query}
	}
	return tx.StmtContext(ctx, stmt)
}

// txQuerier is a statement bound to a transaction: a *sql.Stmt, or the query text
// itself when preparing it failed.
type txQuerier interface {
	ExecContext(ctx context.Context, args ...any) (sql.Result, error)
	QueryRowContext(ctx context.Context, args ...any) *sql.Row
}

type unprepared struct {
	tx    *sql.Tx
	query string
}

func (u unprepared) ExecContext(ctx context.Context, args ...any) (sql.Result, error) {
	return u.tx.ExecContext(ctx, u.query, args...)
}

func (u unprepared) QueryRowContext(ctx context.Context, args ...any) *sql.Row {
	return u.tx.QueryRowContext(ctx, u.query, args...)
}
