package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestReadResponse reads the framings the servers under test use: Go's Content-Length and
// chunked answers, gunicorn's Connection: close, and bodies that end with the connection.
func TestReadResponse(t *testing.T) {
	tests := []struct {
		name, raw  string
		status     int
		body       string
		wantClosed bool
	}{
		{"content-length", "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 8\r\n\r\n{\"id\":1}",
			200, `{"id":1}`, false},
		{"chunked with extension and trailer",
			"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n\r\n4;ext=1\r\n{\"a\"\r\n3\r\n:1}\r\n0\r\nX-Trailer: v\r\n\r\n",
			201, `{"a":1}`, false},
		{"chunked, lower-case header and size", "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip, chunked\r\n\r\na\r\n0123456789\r\n0\r\n\r\n",
			200, "0123456789", false},
		{"connection close (gunicorn)", "HTTP/1.1 401 Unauthorized\r\nServer: gunicorn\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}",
			401, "{}", true},
		{"HTTP/1.0 without keep-alive", "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n{}", 200, "{}", true},
		{"HTTP/1.0 with keep-alive", "HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\nContent-Length: 2\r\n\r\n{}", 200, "{}", false},
		{"body to end of connection", "HTTP/1.1 200 OK\r\n\r\nuntil EOF", 200, "until EOF", true},
		{"no content", "HTTP/1.1 204 No Content\r\n\r\n", 204, "", false},
		{"bare LF line ends", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", 200, "ok", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf []byte
			resp, err := readResponse(bufio.NewReader(strings.NewReader(tt.raw)), &buf)
			if err != nil {
				t.Fatalf("readResponse(%q): %v", tt.raw, err)
			}
			if resp.status != tt.status || string(resp.body) != tt.body || resp.close != tt.wantClosed {
				t.Errorf("readResponse(%q) = status %d, body %q, close %v; want %d, %q, %v",
					tt.raw, resp.status, resp.body, resp.close, tt.status, tt.body, tt.wantClosed)
			}
		})
	}
}

// TestReadResponseKeepAlive reads two answers from one connection, as every keep-alive
// connection of the load generator does, reusing one body buffer.
func TestReadResponseKeepAlive(t *testing.T) {
	raw := "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfirst" +
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nsecond\r\n0\r\n\r\n" +
		"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}"
	r := bufio.NewReader(strings.NewReader(raw))
	var buf []byte
	for i, want := range []string{"first", "second", "{}"} {
		resp, err := readResponse(r, &buf)
		if err != nil {
			t.Fatalf("response %d: %v", i+1, err)
		}
		if string(resp.body) != want || resp.close {
			t.Errorf("response %d: body %q, close %v; want %q, false", i+1, resp.body, resp.close, want)
		}
	}
	if _, err := readResponse(r, &buf); !errors.Is(err, io.EOF) {
		t.Errorf("after the last response: %v, want io.EOF (the server closed an idle connection)", err)
	}
}

// TestReadResponseBroken makes sure a broken or oversized answer is an error, never a
// success, and that the reader's memory stays bounded whatever the server sends.
func TestReadResponseBroken(t *testing.T) {
	for _, raw := range []string{
		"HTTP/1.1 200 OK\r\nX-Long: " + strings.Repeat("a", 1<<20) + "\r\n\r\n",
		// Bodies one byte over maxBody, complete, so that only the bound can refuse them.
		"HTTP/1.1 200 OK\r\nContent-Length: 16777217\r\n\r\n" + strings.Repeat("a", maxBody+1),
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n1000000\r\n" + strings.Repeat("a", maxBody) +
			"\r\n1\r\na\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nabc",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
		"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
		"HTTP/1.1 200 OK\r\nContent-Length",
		"SSH-2.0-OpenSSH\r\n\r\n",
		"HTTP/1.1 2x0 OK\r\n\r\n",
	} {
		var buf []byte
		if resp, err := readResponse(bufio.NewReader(strings.NewReader(raw)), &buf); err == nil {
			t.Errorf("readResponse(%.80q) = status %d, body %.80q; want an error", raw, resp.status, resp.body)
		}
	}
}

// TestPercentile checks the nearest-rank percentiles the report prints.
func TestPercentile(t *testing.T) {
	var r result
	for i := 1; i <= 100; i++ {
		r.lat = append(r.lat, time.Duration(i)*time.Millisecond)
	}
	for _, tt := range []struct {
		p    float64
		want time.Duration
	}{{0.5, 50 * time.Millisecond}, {0.99, 99 * time.Millisecond}, {1, 100 * time.Millisecond}} {
		if got := r.percentile(tt.p); got != tt.want {
			t.Errorf("percentile(%g) = %v, want %v", tt.p, got, tt.want)
		}
	}
	if got := (result{}).percentile(0.5); got != 0 {
		t.Errorf("percentile of nothing = %v, want 0", got)
	}
}

// fakeServer answers every request on a loopback listener with answer, the way the
// servers under test frame theirs, and counts the connections it accepted.
func fakeServer(t *testing.T, answer string) (addr string, conns *atomic.Int64) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	conns = new(atomic.Int64)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns.Add(1)
			go serveFake(c, answer)
		}
	}()
	return l.Addr().String(), conns
}

func serveFake(c net.Conn, answer string) {
	defer c.Close()
	r := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(r)
		if err != nil {
			return
		}
		_, _ = io.Copy(io.Discard, req.Body)
		if _, err := io.WriteString(c, answer); err != nil || strings.Contains(answer, "Connection: close") {
			return
		}
	}
}

// TestRunLoad drives fake servers: keep-alive answers reuse one connection per worker,
// gunicorn-style Connection: close answers make every request dial again without errors,
// and non-2xx answers count as errors, not as throughput.
func TestRunLoad(t *testing.T) {
	tests := []struct {
		name, answer string
		wantOK       bool
		wantReuse    bool
	}{
		{"keep-alive", "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}", true, true},
		{"connection close", "HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}", true, false},
		{"unauthorized", "HTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\n\r\n{}", false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			addr, conns := fakeServer(t, tt.answer)
			req := appendRequest(nil, "GET", addr, "/api/me/", "token", nil)
			res := runLoad(context.Background(), addr, repeat(fixed{req}, 2), 200*time.Millisecond)
			answers := res.ok + res.errs
			if answers < 4 {
				t.Fatalf("runLoad: %d answers in 200ms, want more", answers)
			}
			if tt.wantOK && res.errs != 0 || !tt.wantOK && res.ok != 0 {
				t.Errorf("runLoad: %d ok, %d errors (first: %s); want all ok: %v", res.ok, res.errs, res.firstErr, tt.wantOK)
			}
			if reused := conns.Load() == 2; reused != tt.wantReuse {
				t.Errorf("runLoad made %d connections for %d answers on 2 workers; want reuse %v",
					conns.Load(), answers, tt.wantReuse)
			}
			if len(res.lat) != answers {
				t.Errorf("runLoad kept %d latencies for %d answers", len(res.lat), answers)
			}
		})
	}
}
