package sqlite

import (
	"context"
	"database/sql"
	"sync"
	"time"
)

// SQLite copies the write-ahead log back into the database file in a checkpoint, and by
// default the connection whose commit takes the log past 1,000 pages runs it, inside that
// commit: a refresh that happens to cross the line waits for some 4 MB to be copied and
// the file to be synced, and housekeeping, which writes many pages, makes that happen
// often (it was most of refresh p99 during a sweep of a million rows, issue 7 goal 6).
// So checkpoints run here instead, on a connection of their own, in PASSIVE mode, which
// neither waits for nor blocks the writer or the readers. The writer keeps an automatic
// checkpoint at a much larger log (wal_autocheckpoint of writeParams: 10,000 pages, 40 MB)
// only as a bound on the log's size should these fall behind.

// checkpointInterval is how often the log is checkpointed. A checkpoint of a log with
// nothing new in it reads the log's index and returns.
const checkpointInterval = 200 * time.Millisecond

// checkpointParams are the checkpointer connection's DSN parameters.
const checkpointParams = "_busy_timeout=5000"

// checkpointer runs PASSIVE checkpoints every checkpointInterval until closed.
type checkpointer struct {
	conn *sql.DB
	stop context.CancelFunc
	done sync.WaitGroup
	once sync.Once
}

func startCheckpointer(path string) (*checkpointer, error) {
	conn, err := openPool(path, checkpointParams, 1)
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	c := &checkpointer{conn: conn, stop: stop}
	c.done.Go(func() { c.run(ctx) })
	return c, nil
}

func (c *checkpointer) run(ctx context.Context) {
	t := time.NewTicker(checkpointInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			// A failed checkpoint leaves the log as it was, for the next tick or, at worst,
			// the writer's own checkpoint: nothing is lost, so there is nothing to report.
			_, _ = c.conn.ExecContext(ctx, "PRAGMA wal_checkpoint(PASSIVE)")
		}
	}
}

// Close stops the checkpoints and closes their connection; it is safe to call twice.
func (c *checkpointer) Close() error {
	var err error
	c.once.Do(func() {
		c.stop()
		c.done.Wait()
		err = c.conn.Close()
	})
	return err
}
