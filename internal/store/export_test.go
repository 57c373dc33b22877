package store

import (
	"context"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
)

// BatchRotation is one rotation of RotateInOneBatch.
type BatchRotation struct {
	Old   string
	Next  ciphemic.RefreshToken
	Audit ciphemic.AuditEvent
}

// RotateInOneBatch commits rots as one batch of the rotation batcher, in order, as
// concurrent refreshes on SQLite may be, and returns each one's error. Tests use it to
// put rotations that fail in different ways into one transaction for certain.
func (db *DB) RotateInOneBatch(rots []BatchRotation) []error {
	batch := make([]*queuedRotation, len(rots))
	for i, r := range rots {
		next, err := db.prepareToken(r.Next)
		if err != nil {
			panic(err)
		}
		rot := &rotation{oldJTI: r.Old, next: next, wantFamily: r.Next.FamilyID, blacklist: true, now: db.clock(), audit: r.Audit}
		batch[i] = &queuedRotation{ctx: context.Background(), rot: rot, done: make(chan struct{})}
	}
	db.rotations.commit(batch)
	errs := make([]error, len(batch))
	for i, q := range batch {
		<-q.done
		errs[i] = q.err
	}
	return errs
}
