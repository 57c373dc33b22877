package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// slogLine is the line slog's own handler of format writes for e: what accessLog must
// write byte for byte.
func slogLine(format string, e accessEntry) string {
	var buf bytes.Buffer
	var h slog.Handler = slog.NewTextHandler(&buf, nil)
	if format == "json" {
		h = slog.NewJSONHandler(&buf, nil)
	}
	r := slog.NewRecord(e.at, slog.LevelInfo, "request", 0)
	r.AddAttrs(
		slog.String("request_id", e.requestID), slog.String("method", e.method),
		slog.String("route", e.route), slog.String("path", e.path),
		slog.Int("status", e.status), slog.Int("bytes", e.bytes),
		slog.Float64("duration_ms", e.durationMS()), slog.String("remote", e.remote),
	)
	_ = h.Handle(context.Background(), r)
	return buf.String()
}

func accessLine(format string, e accessEntry) string {
	var buf bytes.Buffer
	newAccessLog(&buf, format).write(e)
	return buf.String()
}

func sampleEntry(path string) accessEntry {
	return accessEntry{
		at: time.Date(2026, 12, 3, 13, 4, 5, 678_901_234, time.FixedZone("x", 3600)), requestID: "0123456789abcdef",
		method: "GET", route: "/api/me/", path: path, remote: "127.0.0.1:54321",
		status: 200, bytes: 148, elapsed: 1234567 * time.Nanosecond,
	}
}

var accessPaths = []string{
	"/api/me/", "", "/a b", "/a=b", `/q"x"`, `/back\slash`, "/tab\t", "/nl\n", "/ctl\x01\x1f\x7f",
	"/é/ü", "/\u00a0nbsp", "/\u2028\u2029", "/bad\xff\xfe", "/<script>&amp;", "/\b\f", "/emoji😀",
}

// TestAccessLogMatchesSlog: for paths of every kind a client can send, accessLog's lines
// are the lines slog's JSON and text handlers write for the same record.
func TestAccessLogMatchesSlog(t *testing.T) {
	for _, format := range []string{"json", "text"} {
		for _, p := range accessPaths {
			e := sampleEntry(p)
			if got, want := accessLine(format, e), slogLine(format, e); got != want {
				t.Errorf("%s line for path %q:\n got %s\nwant %s", format, p, got, want)
			}
		}
	}
	for _, d := range []time.Duration{0, time.Microsecond, 999 * time.Microsecond, time.Hour} {
		e := sampleEntry("/")
		e.elapsed = d
		for _, format := range []string{"json", "text"} {
			if got, want := accessLine(format, e), slogLine(format, e); got != want {
				t.Errorf("%s line for duration %v:\n got %s\nwant %s", format, d, got, want)
			}
		}
	}
}

func FuzzAccessLogMatchesSlog(f *testing.F) {
	for _, p := range accessPaths {
		f.Add(p, "127.0.0.1:1")
	}
	f.Fuzz(func(t *testing.T, path, remote string) {
		e := sampleEntry(path)
		e.remote = remote
		for _, format := range []string{"json", "text"} {
			if got, want := accessLine(format, e), slogLine(format, e); got != want {
				t.Fatalf("%s line for path %q remote %q:\n got %s\nwant %s", format, path, remote, got, want)
			}
		}
	})
}

// FuzzAppendJSONStringStd: appendJSONStringStd writes what encoding/json writes with
// SetEscapeHTML(false), the form of every response body.
func FuzzAppendJSONStringStd(f *testing.F) {
	for _, p := range accessPaths {
		f.Add(p)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		if err := enc.Encode(s); err != nil {
			t.Fatal(err)
		}
		want := strings.TrimSuffix(buf.String(), "\n")
		if got := string(appendJSONStringStd(nil, s)); got != want {
			t.Fatalf("appendJSONStringStd(%q) = %s, want %s", s, got, want)
		}
	})
}

// BenchmarkAccessLog is the cost of one access-log line, its time read from the clock as
// withRequestLog reads it.
func BenchmarkAccessLog(b *testing.B) {
	for _, format := range []string{"json", "text"} {
		b.Run(format, func(b *testing.B) {
			log := newAccessLog(io.Discard, format)
			e := sampleEntry("/api/me/")
			b.ReportAllocs()
			for b.Loop() {
				e.at = time.Now()
				log.write(e)
			}
		})
	}
}
