package main

import (
	"bufio"
	"io"
	"sync"
	"time"
)

// logFlushInterval is how long a log line may wait in the buffer: short enough for a
// person tailing the log, long enough that a busy server writes many lines per write(2).
const logFlushInterval = 100 * time.Millisecond

// logWriter buffers the server's log lines and writes them out every logFlushInterval,
// whenever the buffer fills, and at Close, so that the access line of a request costs a
// copy into memory rather than a system call. slog handlers write each record with one
// Write, so lines are never torn. Close must be called before the process exits, or
// up to logFlushInterval of lines are lost; serve closes it after the last request.
type logWriter struct {
	mu   sync.Mutex
	buf  *bufio.Writer
	stop chan struct{}
	done chan struct{}
}

func newLogWriter(w io.Writer) *logWriter {
	l := &logWriter{buf: bufio.NewWriterSize(w, 64<<10), stop: make(chan struct{}), done: make(chan struct{})}
	go l.flushEvery(logFlushInterval)
	return l
}

func (l *logWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

// Flush writes out what the buffer holds.
func (l *logWriter) Flush() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Flush()
}

func (l *logWriter) flushEvery(d time.Duration) {
	defer close(l.done)
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-l.stop:
			return
		case <-t.C:
			_ = l.Flush() // a log that cannot be written has nowhere to report it
		}
	}
}

// Close stops the periodic flush and writes out the rest. Writes after it are still
// buffered and go out with the next Flush.
func (l *logWriter) Close() error {
	close(l.stop)
	<-l.done
	return l.Flush()
}
