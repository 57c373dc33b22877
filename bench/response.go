package main

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// response is what the load generator keeps of one HTTP answer.
type response struct {
	status int
	// body aliases the reader's buffer passed to readResponse: it is valid until the next
	// call with the same buffer.
	body []byte
	// close is true when the server will not take another request on this connection
	// (Connection: close, as gunicorn's sync workers always answer, or a body that ends
	// with the connection).
	close bool
}

// maxBody bounds a response body, so that a broken server cannot make the load generator
// buffer without limit; the API's answers are small. Status and header lines are bounded
// by the size of the bufio.Reader.
const maxBody = 16 << 20

var errMalformed = errors.New("malformed HTTP response")

// readResponse reads one HTTP/1.x response from r: the status line, the headers up to the
// blank line, then a body framed by Content-Length, by chunked transfer coding, or by the
// end of the connection. The body is read into buf (grown as needed), so one connection
// reading many responses allocates only when a body is larger than any before it. It
// never uses net/http, so it costs the load generator as little CPU as wrk's parser does.
func readResponse(r *bufio.Reader, buf *[]byte) (response, error) {
	line, err := readLine(r)
	if err != nil {
		return response{}, err
	}
	resp, http10, err := parseStatusLine(line)
	if err != nil {
		return response{}, err
	}
	h, err := readHeaders(r)
	if err != nil {
		return response{}, err
	}
	resp.close = h.close || (http10 && !h.keepAlive)
	switch {
	case resp.status == 204 || resp.status == 304 || resp.status < 200:
		resp.body = (*buf)[:0]
	case h.chunked:
		resp.body, err = readChunked(r, buf)
	case h.length >= 0:
		resp.body, err = readN(r, buf, h.length)
	default:
		resp.close = true
		resp.body, err = readToEOF(r, buf)
	}
	return resp, err
}

// readLine returns one line without its CRLF (or bare LF); a line longer than r's buffer
// is an error.
func readLine(r *bufio.Reader) ([]byte, error) {
	line, err := r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		return nil, fmt.Errorf("%w: line too long", errMalformed)
	}
	if err != nil {
		if errors.Is(err, io.EOF) && len(line) > 0 {
			err = io.ErrUnexpectedEOF
		}
		return nil, err
	}
	line = line[:len(line)-1]
	return bytes.TrimSuffix(line, []byte("\r")), nil
}

// parseStatusLine reads "HTTP/1.1 200 OK" into the status code.
func parseStatusLine(line []byte) (resp response, http10 bool, err error) {
	proto, rest, ok := bytes.Cut(line, []byte(" "))
	if !ok || !bytes.HasPrefix(proto, []byte("HTTP/1.")) || len(rest) < 3 {
		return response{}, false, fmt.Errorf("%w: status line %q", errMalformed, line)
	}
	code, err := strconv.Atoi(string(rest[:3]))
	if err != nil || code < 100 || code > 999 {
		return response{}, false, fmt.Errorf("%w: status line %q", errMalformed, line)
	}
	return response{status: code}, string(proto) == "HTTP/1.0", nil
}

// headers are the response headers that frame the body and the connection.
type headers struct {
	length    int64 // -1 when absent
	chunked   bool
	close     bool
	keepAlive bool
}

func readHeaders(r *bufio.Reader) (headers, error) {
	h := headers{length: -1}
	for {
		line, err := readLine(r)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = io.ErrUnexpectedEOF
			}
			return h, err
		}
		if len(line) == 0 {
			return h, nil
		}
		name, value, ok := bytes.Cut(line, []byte(":"))
		if !ok {
			return h, fmt.Errorf("%w: header line %q", errMalformed, line)
		}
		if err := h.add(name, bytes.TrimSpace(value)); err != nil {
			return h, err
		}
	}
}

// add records one header; names and the values that matter compare case-insensitively.
func (h *headers) add(name, value []byte) error {
	switch {
	case bytes.EqualFold(name, []byte("Content-Length")):
		n, err := strconv.ParseInt(string(value), 10, 64)
		if err != nil || n < 0 || n > maxBody {
			return fmt.Errorf("%w: Content-Length %q", errMalformed, value)
		}
		h.length = n
	case bytes.EqualFold(name, []byte("Transfer-Encoding")):
		h.chunked = bytes.EqualFold(lastToken(value), []byte("chunked"))
	case bytes.EqualFold(name, []byte("Connection")):
		for _, tok := range bytes.Split(value, []byte(",")) {
			tok = bytes.TrimSpace(tok)
			h.close = h.close || bytes.EqualFold(tok, []byte("close"))
			h.keepAlive = h.keepAlive || bytes.EqualFold(tok, []byte("keep-alive"))
		}
	}
	return nil
}

// lastToken is the last element of a comma-separated header value: chunked, when present,
// is the last transfer coding (RFC 9112, 6.1).
func lastToken(value []byte) []byte {
	if i := bytes.LastIndexByte(value, ','); i >= 0 {
		value = value[i+1:]
	}
	return bytes.TrimSpace(value)
}

// readN reads exactly n bytes into buf.
func readN(r *bufio.Reader, buf *[]byte, n int64) ([]byte, error) {
	if int64(cap(*buf)) < n {
		*buf = make([]byte, n)
	}
	b := (*buf)[:n]
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, unexpected(err)
	}
	return b, nil
}

// readChunked reads a chunked body (RFC 9112, 7.1) into buf: hexadecimal sizes with
// optional extensions, the data of each chunk, and the trailer section after the last.
func readChunked(r *bufio.Reader, buf *[]byte) ([]byte, error) {
	b := (*buf)[:0]
	for {
		line, err := readLine(r)
		if err != nil {
			return nil, unexpected(err)
		}
		size, _, _ := bytes.Cut(line, []byte(";"))
		n, err := strconv.ParseInt(string(bytes.TrimSpace(size)), 16, 64)
		if err != nil || n < 0 || int64(len(b))+n > maxBody {
			return nil, fmt.Errorf("%w: chunk size %q", errMalformed, line)
		}
		if n == 0 {
			_, err := readHeaders(r) // trailers, up to the blank line
			*buf = b
			return b, err
		}
		start := len(b)
		b = slices.Grow(b, int(n))[:start+int(n)]
		if _, err := io.ReadFull(r, b[start:]); err != nil {
			return nil, unexpected(err)
		}
		if crlf, err := readLine(r); err != nil || len(crlf) != 0 {
			return nil, fmt.Errorf("%w: no CRLF after a chunk", errMalformed)
		}
	}
}

// readToEOF reads a body that the end of the connection delimits.
func readToEOF(r *bufio.Reader, buf *[]byte) ([]byte, error) {
	w := bytes.NewBuffer((*buf)[:0])
	if _, err := io.Copy(w, io.LimitReader(r, maxBody)); err != nil {
		return nil, err
	}
	*buf = w.Bytes()
	return *buf, nil
}

func unexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}
