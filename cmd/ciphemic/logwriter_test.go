package main

import (
	"bytes"
	"strings"
	"sync"
	"testing"
	"time"
)

// countingWriter counts the writes that reach it, as write(2) calls would be.
type countingWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
}

func (c *countingWriter) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.writes++
	return c.buf.Write(p)
}

func (c *countingWriter) snapshot() (string, int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.buf.String(), c.writes
}

// TestLogWriterBatchesAndFlushes: many lines reach the output in few writes, none torn
// or lost, within the flush interval and at Close.
func TestLogWriterBatchesAndFlushes(t *testing.T) {
	out := &countingWriter{}
	l := newLogWriter(out)
	line := "level=INFO msg=request status=200\n"
	for range 1000 {
		if _, err := l.Write([]byte(line)); err != nil {
			t.Fatal(err)
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		got, _ := out.snapshot()
		if strings.Count(got, "\n") == 1000 || time.Now().After(deadline) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	got, writes := out.snapshot()
	if strings.Count(got, "\n") != 1000 || strings.ReplaceAll(got, line, "") != "" {
		t.Fatalf("after the flush interval the output holds %d lines, want all 1000 whole", strings.Count(got, "\n"))
	}
	if writes > 10 {
		t.Errorf("1000 lines took %d writes, want them batched", writes)
	}
	if _, err := l.Write([]byte("last\n")); err != nil {
		t.Fatal(err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	if got, _ := out.snapshot(); !strings.HasSuffix(got, "last\n") {
		t.Error("Close did not write out the buffered line")
	}
}
