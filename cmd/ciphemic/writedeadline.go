package main

import (
	"net"
	"sync"
	"time"
)

// writeDeadlineSlack is how much earlier than asked a connection's write deadline may
// fall: with serve's write timeout of 30 s, a response may be cut off after 29 s instead
// of 30.
const writeDeadlineSlack = time.Second

// coalescedWriteDeadlines wraps the API's listener so that its connections move their
// write deadline only when it would move by more than slack. net/http sets a connection's
// write deadline to now + WriteTimeout on every request; each of those moves a runtime
// timer, which under load was about 2 % of the server's CPU for a cached GET /api/me/.
// Nothing is ever allowed later than asked: a deadline earlier than the one in force, or
// none, is set at once; only a deadline at most slack later than the one in force is
// left as it is, so it comes at most slack early.
func coalescedWriteDeadlines(ln net.Listener, slack time.Duration) net.Listener {
	return coalescingListener{Listener: ln, slack: slack}
}

type coalescingListener struct {
	net.Listener
	slack time.Duration
}

func (l coalescingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return c, err
	}
	if tc, ok := c.(*net.TCPConn); ok {
		// Embedding the *net.TCPConn keeps the methods net/http looks for on it (CloseWrite,
		// ReadFrom for sendfile).
		return &coalescingConn{TCPConn: tc, slack: l.slack}, nil
	}
	return c, nil
}

type coalescingConn struct {
	*net.TCPConn
	slack time.Duration

	mu sync.Mutex
	// write is the write deadline in force on the connection; zero: none.
	write time.Time
}

func (c *coalescingConn) SetWriteDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.write.IsZero() && !t.Before(c.write) && t.Sub(c.write) <= c.slack {
		return nil
	}
	if err := c.TCPConn.SetWriteDeadline(t); err != nil {
		return err
	}
	c.write = t
	return nil
}

func (c *coalescingConn) SetDeadline(t time.Time) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := c.TCPConn.SetDeadline(t); err != nil {
		return err
	}
	c.write = t
	return nil
}
