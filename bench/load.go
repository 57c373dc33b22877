package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"time"
)

// worker makes one connection's requests and judges their answers. Every connection has
// its own worker, so a worker needs no locking.
type worker interface {
	// next returns the next request, serialised. counted is false for a request that is
	// not part of the measurement: a refresh chain logging in again after an error.
	next() (req []byte, counted bool)
	// answer judges the response to the request next returned last; false counts it as
	// an error.
	answer(status int, body []byte) bool
}

// resumer is a worker with state the server changes: a request cut off by the end of a
// round may have been served without the worker learning its answer (a refresh chain's
// rotated token), so it is told, and gets ready again before the next round, outside the
// measurement.
type resumer interface {
	cutOff()
	resume(ctx context.Context) error
}

// result is one load round against one server.
type result struct {
	ok, errs int
	elapsed  time.Duration
	// lat holds the latency of every counted request that got an answer, sorted.
	lat []time.Duration
	// firstErr describes one error, to say what went wrong when errs > 0.
	firstErr string
}

// rate is the 2xx answers per second: errors are reported separately, not as throughput.
func (r result) rate() float64 {
	if r.elapsed <= 0 {
		return 0
	}
	return float64(r.ok) / r.elapsed.Seconds()
}

// percentile returns the latency below which a fraction p of the answers came.
func (r result) percentile(p float64) time.Duration {
	if len(r.lat) == 0 {
		return 0
	}
	i := int(p*float64(len(r.lat))+0.999999) - 1
	return r.lat[max(0, min(i, len(r.lat)-1))]
}

// runLoad drives addr with one goroutine and one keep-alive connection per worker for d,
// then merges what they measured. Requests still in flight when d ends are not counted,
// as wrk does; every connection is closed before it returns.
func runLoad(ctx context.Context, addr string, workers []worker, d time.Duration) result {
	start := time.Now()
	end := start.Add(d)
	// One instant ends the round for the context, the dialer and the connections alike,
	// so that whatever the end cuts off is never mistaken for an error.
	ctx, cancel := context.WithDeadline(ctx, end)
	defer cancel()
	parts := make([]result, len(workers))
	var wg sync.WaitGroup
	for i, w := range workers {
		wg.Go(func() {
			c := &client{addr: addr, end: end}
			parts[i] = c.drive(ctx, w)
		})
	}
	wg.Wait()
	return merge(parts, min(d, time.Since(start)))
}

func merge(parts []result, elapsed time.Duration) result {
	total := result{elapsed: elapsed}
	for _, p := range parts {
		total.ok += p.ok
		total.errs += p.errs
		total.lat = append(total.lat, p.lat...)
		if total.firstErr == "" {
			total.firstErr = p.firstErr
		}
	}
	slices.Sort(total.lat)
	return total
}

// client is one connection of the load generator: a raw net.Conn, so that the load
// generator spends its CPU on little more than the system calls, as wrk does, and leaves
// the rest to the servers on the same cores.
type client struct {
	addr string
	end  time.Time
	mu   sync.Mutex // guards conn against interrupt; drive alone replaces it
	conn net.Conn
	r    *bufio.Reader
	buf  []byte
}

// drive sends w's requests one after the other until the round ends.
func (c *client) drive(ctx context.Context, w worker) result {
	stop := context.AfterFunc(ctx, c.interrupt)
	defer stop()
	defer c.close()
	res := result{lat: make([]time.Duration, 0, 1024)}
	for ctx.Err() == nil {
		req, counted := w.next()
		t0 := time.Now()
		resp, err := c.roundTrip(ctx, req)
		t1 := time.Now()
		if !t1.Before(c.end) || ctx.Err() != nil {
			if r, ok := w.(resumer); ok {
				r.cutOff()
			}
			break // cut off by the end of the round: neither an answer nor an error
		}
		if err != nil {
			if counted {
				res.addErr(err.Error())
			}
			pause(ctx, err)
			continue
		}
		good := w.answer(resp.status, resp.body)
		if !counted {
			continue
		}
		res.lat = append(res.lat, t1.Sub(t0))
		if good {
			res.ok++
		} else {
			res.addErr(fmt.Sprintf("HTTP %d: %.200s", resp.status, resp.body))
		}
	}
	return res
}

func (r *result) addErr(msg string) {
	r.errs++
	if r.firstErr == "" {
		r.firstErr = msg
	}
}

// pause waits a little after a failed dial, so that a server that is down costs errors,
// not a busy loop that starves the servers that are up.
func pause(ctx context.Context, err error) {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		t := time.NewTimer(10 * time.Millisecond)
		defer t.Stop()
		select {
		case <-ctx.Done():
		case <-t.C:
		}
	}
}

// roundTrip sends one request and reads its response, dialling first when the previous
// response closed the connection (gunicorn's sync workers close every one, so the
// connection set-up is part of each of their requests, as it is for their clients).
func (c *client) roundTrip(ctx context.Context, req []byte) (response, error) {
	if c.conn == nil {
		if err := c.dial(ctx); err != nil {
			return response{}, err
		}
	}
	if _, err := c.conn.Write(req); err != nil {
		c.close()
		return response{}, err
	}
	resp, err := readResponse(c.r, &c.buf)
	if err != nil || resp.close {
		c.close()
	}
	return resp, err
}

func (c *client) dial(ctx context.Context) error {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", c.addr)
	if err != nil {
		return err
	}
	if err := conn.SetDeadline(c.end); err != nil {
		_ = conn.Close() // the deadline's error is the one to report
		return err
	}
	if c.r == nil {
		c.r = bufio.NewReaderSize(conn, 16<<10)
	} else {
		c.r.Reset(conn)
	}
	c.mu.Lock()
	c.conn = conn
	c.mu.Unlock()
	if ctx.Err() != nil { // interrupted while dialling: interrupt did not see conn
		c.close()
		return ctx.Err()
	}
	return nil
}

func (c *client) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil {
		_ = c.conn.Close() // nothing is left to read from it
		c.conn = nil
	}
}

// interrupt makes a blocked read or write return at once, on Ctrl-C or at the end of the
// round.
func (c *client) interrupt() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.conn != nil {
		// It fails only on a closed connection, which has nothing left to interrupt.
		_ = c.conn.SetDeadline(time.Unix(1, 0))
	}
}
