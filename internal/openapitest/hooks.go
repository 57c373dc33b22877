package openapitest

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"testing"
)

// Handler wraps h so that every exchange it serves is checked against v; a mismatch is
// reported with t.Errorf, so it fails the test whose request produced it.
//
// It sits in front of everything, so it sees the answers of the middleware (401, 413,
// 415, 429, 503) as well as the handlers'. The request body is recorded as the handler
// reads it, not read ahead, so body limits and slow clients behave as without it.
func Handler(t testing.TB, v *Validator, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var reqBody bytes.Buffer
		if r.Body != nil && r.Body != http.NoBody {
			r.Body = teeBody{Reader: io.TeeReader(r.Body, &reqBody), Closer: r.Body}
		}
		rec := &recorder{ResponseWriter: w}
		original := r.Clone(r.Context())
		h.ServeHTTP(rec, r)
		if rec.hijacked {
			return
		}
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		report(t, v.Check(Exchange{Request: original, RequestBody: reqBody.Bytes(), Status: status,
			Header: w.Header().Clone(), ResponseBody: rec.body.Bytes()}))
	})
}

type teeBody struct {
	io.Reader
	io.Closer
}

// recorder passes the answer through and keeps a copy of its status and body.
type recorder struct {
	http.ResponseWriter
	mu       sync.Mutex
	status   int
	body     bytes.Buffer
	hijacked bool
}

func (r *recorder) WriteHeader(status int) {
	r.mu.Lock()
	if r.status == 0 && status >= 200 {
		r.status = status
	}
	r.mu.Unlock()
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	r.mu.Lock()
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	r.mu.Unlock()
	return r.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the real writer (deadlines, flushing).
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Flush keeps streaming answers streaming.
func (r *recorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Hijack hands the connection over; what is then written is not HTTP the document describes.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h, ok := r.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("openapitest: the writer cannot be hijacked")
	}
	r.hijacked = true
	return h.Hijack()
}

// Transport returns a RoundTripper that sends through base (http.DefaultTransport when
// nil) and checks each exchange against v, reporting a mismatch with t.Errorf. It is for
// clients of a server the test did not build itself, such as one started through run().
func Transport(t testing.TB, v *Validator, base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return roundTripper{t: t, v: v, base: base}
}

type roundTripper struct {
	t    testing.TB
	v    *Validator
	base http.RoundTripper
}

func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	var reqBody []byte
	if req.Body != nil && req.Body != http.NoBody {
		b, err := io.ReadAll(req.Body)
		if closeErr := req.Body.Close(); err == nil {
			err = closeErr
		}
		if err != nil {
			return nil, err
		}
		reqBody = b
		req = req.Clone(req.Context())
		req.Body = io.NopCloser(bytes.NewReader(b))
	}
	resp, err := rt.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	respBody, err := io.ReadAll(resp.Body)
	if closeErr := resp.Body.Close(); err == nil {
		err = closeErr
	}
	if err != nil {
		return nil, err
	}
	resp.Body = io.NopCloser(bytes.NewReader(respBody))
	report(rt.t, rt.v.Check(Exchange{Request: req, RequestBody: reqBody, Status: resp.StatusCode,
		Header: resp.Header, ResponseBody: respBody}))
	return resp, nil
}

// report fails the test for each error and logs what was tolerated, so a reader of -v
// output sees where the server is more lenient than its document.
func report(t testing.TB, p Problems) {
	for _, e := range p.Errors {
		t.Errorf("%s", e)
	}
	for _, e := range p.Tolerated {
		t.Logf("tolerated: %s", e)
	}
}
