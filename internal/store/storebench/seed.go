// Package storebench is the refresh-path benchmark both store backends run: it fills a
// store with the refresh-token rows a year of traffic leaves behind, then times refresh
// rotations against it, with and without housekeeping deleting the expired rows at the
// same time. Benchmarks only: store/sqlite and store/postgres call it from their
// bench_test.go, and `go test` runs it only when -bench asks.
package storebench

import (
	"context"
	"database/sql"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Traffic is what a seeded store holds: Users users and, spread over them, refresh-token
// rows of three kinds. Expired rows are past their expiry, most of them rotated (spent)
// before that, as long-finished sessions leave them: what housekeeping deletes. Spent
// rows were rotated within the last day and have not expired: reuse detection still needs
// them. Live rows are the current tokens of live sessions, each the head of a family that
// holds Spent/Live of the spent rows, and the benchmarks rotate them.
type Traffic struct {
	Users                int
	Expired, Spent, Live int
}

// familyLen is how many rotations an expired session made before it ended.
const familyLen = 8

// rotateEvery is the time between two rotations of a session in the seeded history.
const rotateEvery = 5 * time.Minute

// lifetime is the seeded refresh-token lifetime (the default --refresh-token-lifetime).
const lifetime = 24 * time.Hour

// row is one refresh_tokens row, instants in unix microseconds as the store keeps them.
type row struct {
	jti, family     string
	user            int64
	issued, expires int64
	blacklisted     sql.NullInt64
	replacedBy      sql.NullString
}

// Seed fills the migrated, empty store behind raw (a pool on the same database) with
// traffic as of now, in one transaction of INSERTs of chunk rows each, and returns the
// live tokens' JTIs. The rows are the same for the same traffic, so runs compare.
func Seed(ctx context.Context, raw *sql.DB, chunk int, traffic Traffic, now time.Time) ([]string, error) {
	rng := rand.New(rand.NewPCG(1, 2)) // #nosec G404 -- seeded on purpose: the same rows every run
	tx, err := raw.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	users, err := seedUsers(ctx, tx, chunk, traffic.Users, now)
	if err != nil {
		return nil, fmt.Errorf("seed users: %w", err)
	}
	ins := &inserter{ctx: ctx, tx: tx, chunk: chunk}
	expiredRows(rng, users, traffic.Expired, now, ins.add)
	heads := liveRows(rng, users, traffic.Spent, traffic.Live, now, ins.add)
	if err := ins.flush(); err != nil {
		return nil, fmt.Errorf("seed refresh tokens: %w", err)
	}
	return heads, tx.Commit()
}

// seedUsers inserts n users and returns their ids.
func seedUsers(ctx context.Context, tx *sql.Tx, chunk, n int, now time.Time) ([]int64, error) {
	for start := 0; start < n; start += chunk {
		k := min(chunk, n-start)
		args := make([]any, 0, 4*k)
		for i := range k {
			args = append(args, fmt.Sprintf("user%07d", start+i), "!", true, now.UnixMicro())
		}
		// #nosec G202 -- placeholders makes only "($1, …)" groups: the values are arguments
		q := `INSERT INTO users (username, password_hash, is_active, date_joined, role) VALUES ` +
			placeholders(k, 4, "'student'")
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return nil, err
		}
	}
	rows, err := tx.QueryContext(ctx, `SELECT id FROM users ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	ids := make([]int64, 0, n)
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// expiredRows makes n rows of sessions that began over the past year and ended at least
// a day ago: families of familyLen rotations, every token but the last spent by the next.
// They are made in the order of their start, as a server inserts them, so that the
// table's order follows the expiries, as it does in a real database.
func expiredRows(rng *rand.Rand, users []int64, n int, now time.Time, add func(row) error) {
	year := int64(365 * 24 * time.Hour / time.Microsecond)
	first := now.UnixMicro() - 2*int64(lifetime/time.Microsecond) - year
	families := int64(n+familyLen-1) / familyLen
	for made, j := 0, int64(0); made < n; j++ {
		start := first + j*year/families
		made += family(rng, users[rng.IntN(len(users))], start, min(familyLen, n-made), add)
	}
}

// liveRows makes live sessions, each a family of its spent share of the spent rows
// followed by its live head, and returns the heads.
func liveRows(rng *rand.Rand, users []int64, spent, live int, now time.Time, add func(row) error) []string {
	heads := make([]string, 0, live)
	for i := range live {
		k := spent/live + 1
		if i < spent%live {
			k++
		}
		start := now.UnixMicro() - int64(k)*int64(rotateEvery/time.Microsecond)
		var head string
		family(rng, users[rng.IntN(len(users))], start, k, func(r row) error {
			head = r.jti
			return add(r)
		})
		heads = append(heads, head)
	}
	return heads
}

// family adds k rows of one session of user that began at start (unix µs), one every
// rotateEvery, each but the last spent by the next, and returns k. Whether the last is
// live or expired depends on start alone.
func family(rng *rand.Rand, user, start int64, k int, add func(row) error) int {
	step := int64(rotateEvery / time.Microsecond)
	jtis := make([]string, k)
	for i := range jtis {
		jtis[i] = jtiAt(rng, start+int64(i)*step)
	}
	for i, jti := range jtis {
		issued := start + int64(i)*step
		r := row{jti: jti, family: jtis[0], user: user, issued: issued, expires: issued + int64(lifetime/time.Microsecond)}
		if i < k-1 {
			r.blacklisted = sql.NullInt64{Int64: issued + step, Valid: true}
			r.replacedBy = sql.NullString{String: jtis[i+1], Valid: true}
		}
		_ = add(r) // the inserter keeps its first error for flush
	}
	return k
}

// jtiAt is a jti issued at the unix microsecond at, shaped as the token service makes
// them (internal/token's newJTI): a UUIDv7 in 32 lowercase hex digits, 48 bits of unix
// milliseconds, then random bits. That the jtis of later tokens sort later matters here:
// the primary-key index then grows at its end, as it does in a real database, instead of
// at random places.
func jtiAt(rng *rand.Rand, at int64) string {
	ms := uint64(at / 1000) // #nosec G115 -- a positive instant
	var u [16]byte
	binary.BigEndian.PutUint64(u[:8], ms<<16|rng.Uint64()&0xffff)
	binary.BigEndian.PutUint64(u[8:], rng.Uint64())
	u[6] = 0x70 | u[6]&0x0f // version 7
	u[8] = 0x80 | u[8]&0x3f // variant 10
	return hex.EncodeToString(u[:])
}

// inserter batches rows into multi-row INSERTs of chunk rows, through one prepared
// statement.
type inserter struct {
	ctx   context.Context
	tx    *sql.Tx
	chunk int
	full  *sql.Stmt
	rows  []row
	err   error
}

const (
	tokenCols  = 7
	insertHead = `INSERT INTO refresh_tokens
		(jti, family_id, user_id, issued_at, expires_at, blacklisted_at, replaced_by) VALUES `
)

func (in *inserter) add(r row) error {
	in.rows = append(in.rows, r)
	if len(in.rows) == in.chunk {
		return in.write()
	}
	return in.err
}

func (in *inserter) flush() error {
	if len(in.rows) > 0 {
		return in.write()
	}
	return in.err
}

func (in *inserter) write() error {
	if in.err == nil {
		args := make([]any, 0, tokenCols*len(in.rows))
		for _, r := range in.rows {
			args = append(args, r.jti, r.family, r.user, r.issued, r.expires, r.blacklisted, r.replacedBy)
		}
		in.err = in.exec(args)
	}
	in.rows = in.rows[:0]
	return in.err
}

func (in *inserter) exec(args []any) error {
	if len(in.rows) < in.chunk {
		_, err := in.tx.ExecContext(in.ctx, insertHead+placeholders(len(in.rows), tokenCols, ""), args...)
		return err
	}
	if in.full == nil {
		stmt, err := in.tx.PrepareContext(in.ctx, insertHead+placeholders(in.chunk, tokenCols, ""))
		if err != nil {
			return err
		}
		in.full = stmt
	}
	_, err := in.full.ExecContext(in.ctx, args...)
	return err
}

// placeholders returns "($1, …, $cols[, extra]), (…)" for n rows.
func placeholders(n, cols int, extra string) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteByte('(')
		for j := range cols {
			if j > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "$%d", i*cols+j+1)
		}
		if extra != "" {
			b.WriteString(", " + extra)
		}
		b.WriteByte(')')
	}
	return b.String()
}
