package httpapi

import (
	"io"
	"strconv"
	"time"
	"unicode"
	"unicode/utf8"
)

// accessLog writes withRequestLog's line per request: byte for byte the line slog's JSON
// or text handler writes for the same record, composed by hand into a pooled buffer. The
// access log is the one line every request writes, and slog's general path (a Record,
// attribute values behind interfaces, per-attribute escaping decisions) costs more than
// the rest of a cached GET /api/me/'s own work (accesslog_test.go holds the two to the
// same bytes).
type accessLog struct {
	w    io.Writer
	json bool
	bufs *bufferPool
}

// accessEntry is what one line says.
type accessEntry struct {
	at                             time.Time
	requestID, method, route, path string
	remote                         string
	status, bytes                  int
	elapsed                        time.Duration
}

func newAccessLog(w io.Writer, format string) *accessLog {
	return &accessLog{w: w, json: format == "json", bufs: newBufferPool(512)}
}

// write writes e's line with one Write, as slog handlers do, so lines are never torn.
func (a *accessLog) write(e accessEntry) {
	bp := a.bufs.get()
	b := *bp
	if a.json {
		b = e.appendJSON(b)
	} else {
		b = e.appendText(b)
	}
	_, _ = a.w.Write(b) // a log that cannot be written has nowhere to report it
	*bp = b
	a.bufs.put(bp)
}

// durationMS is the duration in milliseconds, to the microsecond.
func (e accessEntry) durationMS() float64 { return float64(e.elapsed.Microseconds()) / 1000 }

func (e accessEntry) appendJSON(b []byte) []byte {
	b = append(b, `{"time":"`...)
	// slog's JSON handler writes nanoseconds; for this layout AppendFormat has a fast path
	// (timefmt.go writes the others).
	b = e.at.AppendFormat(b, time.RFC3339Nano)
	b = append(b, `","level":"INFO","msg":"request","request_id":`...)
	b = appendJSONString(b, e.requestID)
	b = append(b, `,"method":`...)
	b = appendJSONString(b, e.method)
	b = append(b, `,"route":`...)
	b = appendJSONString(b, e.route)
	b = append(b, `,"path":`...)
	b = appendJSONString(b, e.path)
	b = append(b, `,"status":`...)
	b = strconv.AppendInt(b, int64(e.status), 10)
	b = append(b, `,"bytes":`...)
	b = strconv.AppendInt(b, int64(e.bytes), 10)
	b = append(b, `,"duration_ms":`...)
	b = strconv.AppendFloat(b, e.durationMS(), 'f', -1, 64) // as encoding/json writes it in this range
	b = append(b, `,"remote":`...)
	b = appendJSONString(b, e.remote)
	return append(b, "}\n"...)
}

func (e accessEntry) appendText(b []byte) []byte {
	b = append(b, "time="...)
	b = appendSlogTime(b, e.at)
	b = append(b, " level=INFO msg=request request_id="...)
	b = appendTextValue(b, e.requestID)
	b = append(b, " method="...)
	b = appendTextValue(b, e.method)
	b = append(b, " route="...)
	b = appendTextValue(b, e.route)
	b = append(b, " path="...)
	b = appendTextValue(b, e.path)
	b = append(b, " status="...)
	b = strconv.AppendInt(b, int64(e.status), 10)
	b = append(b, " bytes="...)
	b = strconv.AppendInt(b, int64(e.bytes), 10)
	b = append(b, " duration_ms="...)
	b = strconv.AppendFloat(b, e.durationMS(), 'g', -1, 64)
	b = append(b, " remote="...)
	b = appendTextValue(b, e.remote)
	return append(b, '\n')
}

// appendTextValue appends s as slog's text handler writes a string value: as it is, or
// quoted with strconv's Go syntax when it is empty or holds a space, '=', a character
// JSON would escape (but '\\'), a Unicode space or unprintable character, or invalid
// UTF-8.
func appendTextValue(b []byte, s string) []byte {
	if textNeedsQuoting(s) {
		return strconv.AppendQuote(b, s)
	}
	return append(b, s...)
}

func textNeedsQuoting(s string) bool {
	if s == "" {
		return true
	}
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c != '\\' && (c <= ' ' || c == '=' || c == '"') {
				return true
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError || unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return true
		}
		i += size
	}
	return false
}
