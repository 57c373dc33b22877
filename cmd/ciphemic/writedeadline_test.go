package main

import (
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"testing"
	"time"
)

// coalescingPair returns the server side of a real TCP connection accepted through the
// coalescing listener, and the client side.
func coalescingPair(t *testing.T, slack time.Duration) (*coalescingConn, net.Conn) {
	t.Helper()
	raw, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln := coalescedWriteDeadlines(raw, slack)
	defer ln.Close()
	client, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { client.Close() })
	c, err := ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	cc, ok := c.(*coalescingConn)
	if !ok {
		t.Fatalf("accepted a %T, want *coalescingConn", c)
	}
	return cc, client
}

// TestCoalescedWriteDeadlineNeverLater: over a random sequence of deadlines (later, a
// little later, earlier, none, through SetWriteDeadline and SetDeadline), the deadline in
// force is never later than the one last asked for, at most slack earlier, and none only
// when none was asked for.
func TestCoalescedWriteDeadlineNeverLater(t *testing.T) {
	const slack = time.Second
	c, _ := coalescingPair(t, slack)
	base := time.Now().Add(time.Hour)
	rng := rand.New(rand.NewPCG(1, 2))
	skipped := 0
	for i := range 2000 {
		var asked time.Time
		if rng.IntN(10) != 0 {
			asked = base.Add(time.Duration(rng.Int64N(int64(10 * time.Second))))
		}
		before := c.write
		var err error
		if rng.IntN(5) == 0 {
			err = c.SetDeadline(asked)
		} else {
			err = c.SetWriteDeadline(asked)
		}
		if err != nil {
			t.Fatal(err)
		}
		if c.write.Equal(before) && !before.Equal(asked) {
			skipped++
		}
		switch {
		case asked.IsZero() && !c.write.IsZero():
			t.Fatalf("step %d: no deadline asked, %v in force", i, c.write)
		case !asked.IsZero() && (c.write.IsZero() || c.write.After(asked) || asked.Sub(c.write) > slack):
			t.Fatalf("step %d: asked %v, %v in force", i, asked, c.write)
		}
		base = base.Add(time.Duration(rng.Int64N(int64(300 * time.Millisecond))))
	}
	if skipped == 0 {
		t.Fatal("no deadline was coalesced")
	}
}

// TestCoalescedWriteDeadlineTakesEffect: the deadline the wrapper leaves in force is the
// socket's: an earlier one, even just after a later one, cuts the next write at once, and
// a later one beyond the slack lifts it.
func TestCoalescedWriteDeadlineTakesEffect(t *testing.T) {
	c, client := coalescingPair(t, time.Second)
	go func() { _, _ = io.Copy(io.Discard, client) }()
	if err := c.SetWriteDeadline(time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatalf("write before the deadline: %v", err)
	}
	if err := c.SetWriteDeadline(time.Now().Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("x")); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("write after an earlier deadline: %v, want a deadline error", err)
	}
	if err := c.SetWriteDeadline(time.Now().Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Write([]byte("x")); err != nil {
		t.Fatalf("write after the deadline was lifted: %v", err)
	}
}

// TestCoalescingConnKeepsTCPMethods: net/http half-closes and sends files through the
// connection's own methods, which the wrapper must not hide.
func TestCoalescingConnKeepsTCPMethods(t *testing.T) {
	c, _ := coalescingPair(t, time.Second)
	var conn net.Conn = c
	if _, ok := conn.(interface{ CloseWrite() error }); !ok {
		t.Error("the wrapped connection has no CloseWrite")
	}
	if _, ok := conn.(io.ReaderFrom); !ok {
		t.Error("the wrapped connection is not an io.ReaderFrom")
	}
}
