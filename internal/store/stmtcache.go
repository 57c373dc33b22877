package store

import (
	"context"
	"database/sql"
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

// close releases the statements; the pools close after.
func (c *stmtCache) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, stmt := range c.stmts {
		_ = stmt.Close() // closing the pool after closes whatever is left
	}
	c.stmts = nil
}
