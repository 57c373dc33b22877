package store

import (
	"context"
	"database/sql"
	"slices"
	"sync"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
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
// and the next batch takes them all. A rotation in a batch makes every check that may
// refuse it (a spent token, an inactive user) before its first write (rotateCheckedTx),
// so one that is refused has written nothing and answers as it would have by itself,
// without a savepoint to undo it: a savepoint made SQLite copy each page a rotation
// touched into a statement journal first, a tenth of the writer's time. Exactly-once
// holds because a batch runs its rotations one after the other in one transaction, each
// seeing the ones before. No request waits for another to arrive: a lone rotation is a
// batch of one.
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

// commit runs batch in one transaction and answers every rotation in it. When a write of
// an admitted rotation fails, the transaction is rolled back, that rotation answers with
// the error, and the others run again without it: each answers as it would have alone.
// Every round answers at least one rotation, so commit ends.
func (b *rotationBatcher) commit(batch []*queuedRotation) {
	ctx, cancel := context.WithTimeout(context.Background(), rotationBatchTimeout)
	defer cancel()
	for len(batch) > 0 {
		batch = b.commitOnce(ctx, batch)
	}
}

// commitOnce runs batch in one transaction and answers its rotations, except those it
// returns, which were rolled back because another's write failed and must run again.
func (b *rotationBatcher) commitOnce(ctx context.Context, batch []*queuedRotation) (again []*queuedRotation) {
	if len(batch) == 1 { // alone: its own transaction undoes whatever it did
		q := batch[0]
		q.err = b.db.update(ctx, "rotate refresh token", func(tx *sql.Tx) error {
			if err := q.ctx.Err(); err != nil {
				return err
			}
			return b.db.rotateTx(ctx, tx, q.rot)
		})
		close(q.done)
		return nil
	}
	failed := -1
	err := b.db.update(ctx, "rotate refresh token", func(tx *sql.Tx) error {
		for i, q := range batch {
			if err := b.rotateInBatch(ctx, tx, q); err != nil {
				failed = i
				return err
			}
		}
		return nil
	})
	if failed >= 0 {
		batch[failed].err = err
		close(batch[failed].done)
		return slices.Delete(slices.Clone(batch), failed, failed+1)
	}
	for _, q := range batch {
		if err != nil { // the commit failed: nothing of the batch was stored
			q.err = err
		}
		close(q.done)
	}
	return nil
}

// rotateInBatch runs q's rotation in the batch's transaction tx and sets q.err: nil, or
// why it was refused, having written nothing. A request that has already gone is not
// run. The error it returns is that of a write after the rotation's spend, after which
// the transaction must not commit.
func (b *rotationBatcher) rotateInBatch(ctx context.Context, tx *sql.Tx, q *queuedRotation) error {
	q.err = nil
	if err := q.ctx.Err(); err != nil {
		q.err = b.db.fail("rotate refresh token", err)
		return nil
	}
	refused, err := b.db.rotateCheckedTx(ctx, tx, q.rot)
	if refused {
		q.err = b.db.fail("rotate refresh token", err)
		return nil
	}
	return err
}
