package store

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// The savepoint of each rotation in a batch.
const (
	savepointQuery           = "SAVEPOINT rotation"
	rollbackToSavepointQuery = "ROLLBACK TO rotation"
	releaseSavepointQuery    = "RELEASE rotation"
)

// maxRotationBatch bounds how many rotations share one transaction.
const maxRotationBatch = 64

// rotationBatchTimeout bounds one batch's transaction, which no single request's
// cancellation may abort (it would roll back the others' rotations too).
const rotationBatchTimeout = 5 * time.Second

// rotationBatcher commits the refresh-token rotations of a store whose writes run one at
// a time (SQLite: one writer) several to a transaction. A rotation is a few short
// statements, and opening and committing the transaction (taking the write lock, writing
// the WAL) costs as much as all of them; while one batch commits the next requests queue,
// and the next batch takes them all. Each rotation runs in a savepoint of its own, so one
// that fails (a spent token, an inactive user) is undone alone and answers as it would
// have by itself; exactly-once holds because a batch runs its rotations one after the
// other in one transaction, each seeing the ones before. No request waits for another to
// arrive: a lone rotation is a batch of one.
type rotationBatcher struct {
	db *DB

	mu      sync.Mutex
	pending []*queuedRotation
	running bool // a goroutine is committing batches; it exits when pending is empty
}

type queuedRotation struct {
	ctx  context.Context
	rot  *rotation
	err  error
	done chan struct{}
}

// WithRotationBatching makes rotations share transactions (rotationBatcher); backends
// whose writes run one at a time use it.
func WithRotationBatching() Option {
	return func(db *DB) { db.rotations = &rotationBatcher{db: db} }
}

// rotate queues rot and waits for its batch to commit. It waits even when ctx ends
// meanwhile, since the rotation may already be committed and its answer is the truth.
func (b *rotationBatcher) rotate(ctx context.Context, rot *rotation) (ciphemic.User, error) {
	q := &queuedRotation{ctx: ctx, rot: rot, done: make(chan struct{})}
	b.mu.Lock()
	b.pending = append(b.pending, q)
	if !b.running {
		b.running = true
		go b.run()
	}
	b.mu.Unlock()
	<-q.done
	if q.err != nil {
		return ciphemic.User{}, q.err
	}
	return rot.user, nil
}

// run commits batches of what is pending until nothing is.
func (b *rotationBatcher) run() {
	for {
		b.mu.Lock()
		n := min(len(b.pending), maxRotationBatch)
		if n == 0 {
			b.running = false
			b.mu.Unlock()
			return
		}
		batch := b.pending[:n:n]
		b.pending = append([]*queuedRotation(nil), b.pending[n:]...)
		b.mu.Unlock()
		b.commit(batch)
	}
}

// commit runs batch in one transaction and answers every rotation in it.
func (b *rotationBatcher) commit(batch []*queuedRotation) {
	defer func() {
		for _, q := range batch {
			close(q.done)
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), rotationBatchTimeout)
	defer cancel()
	if len(batch) == 1 { // alone: its own transaction is its savepoint
		q := batch[0]
		q.err = b.db.update(ctx, "rotate refresh token", func(tx *sql.Tx) error {
			if err := q.ctx.Err(); err != nil {
				return err
			}
			return b.db.rotateTx(ctx, tx, q.rot)
		})
		return
	}
	err := b.db.update(ctx, "rotate refresh token", func(tx *sql.Tx) error {
		for _, q := range batch {
			if err := b.rotateInSavepoint(ctx, tx, q); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil { // the transaction failed as a whole: nothing of the batch was stored
		for _, q := range batch {
			q.err = err
		}
	}
}

// rotateInSavepoint runs q's rotation in a savepoint, undone alone if it fails, and sets
// q.err. A request that has already gone is not run: nothing is written for it. The
// error it returns is one the transaction cannot go on after (a savepoint statement
// failed), which fails the whole batch.
func (b *rotationBatcher) rotateInSavepoint(ctx context.Context, tx *sql.Tx, q *queuedRotation) error {
	if err := q.ctx.Err(); err != nil {
		q.err = b.db.fail("rotate refresh token", err)
		return nil
	}
	if _, err := b.db.txStmt(ctx, tx, savepointQuery).ExecContext(ctx); err != nil {
		return err
	}
	if err := b.db.rotateTx(ctx, tx, q.rot); err != nil {
		q.err = b.db.fail("rotate refresh token", err)
		if _, err := b.db.txStmt(ctx, tx, rollbackToSavepointQuery).ExecContext(ctx); err != nil {
			return err
		}
	}
	_, err := b.db.txStmt(ctx, tx, releaseSavepointQuery).ExecContext(ctx)
	return err
}
