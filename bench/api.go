package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// account is a user the scenarios log in as.
type account struct{ username, password string }

// server is one server under load: its address and the accounts the scenarios use.
type server struct {
	name    string // ciphemic, bare or django
	addr    string // 127.0.0.1:PORT
	user    account
	teacher account // for the write scenario: a user allowed to create courses
	proc    *process
	// auth is the server that issues this one's tokens when it issues none itself (the
	// bare baseline accepts whatever ciphemic issued).
	auth *server
}

// tokenPair is the answer to a login or a refresh.
type tokenPair struct {
	Access  string `json:"access"`
	Refresh string `json:"refresh"`
}

// setupClient makes the requests that prepare a round (logins, fetching /api/me/'s
// bytes); the measured requests never go through net/http.
var setupClient = &http.Client{Timeout: 30 * time.Second}

// login logs a in on s (or on the server that issues s's tokens) with POST /api/token/.
func login(ctx context.Context, s *server, a account) (tokenPair, error) {
	if s.auth != nil {
		s = s.auth
	}
	var pair tokenPair
	body, status, err := call(ctx, s, "POST", "/api/token/", "", loginBody(a))
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("HTTP %d: %.300s", status, body)
	}
	if err == nil {
		err = json.Unmarshal(body, &pair)
	}
	if err == nil && (pair.Access == "" || pair.Refresh == "") {
		err = fmt.Errorf("no access or refresh token in %.300s", body)
	}
	if err != nil {
		return pair, fmt.Errorf("%s: log in as %s: %w", s.name, a.username, err)
	}
	return pair, nil
}

// call makes one request to s and returns the response body and status.
func call(ctx context.Context, s *server, method, path, token string, body []byte) ([]byte, int, error) {
	req, err := http.NewRequestWithContext(ctx, method, "http://"+s.addr+path, bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := setupClient.Do(req)
	if err != nil {
		return nil, 0, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	return b, resp.StatusCode, err
}

// waitHTTP polls path on s until it answers with a status ready accepts, the process
// exits or the timeout passes.
func waitHTTP(ctx context.Context, s *server, path string, ready func(int) bool, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		_, status, err := call(ctx, s, "GET", path, "", nil)
		if err == nil && ready(status) {
			return nil
		}
		if err == nil {
			err = fmt.Errorf("GET %s: HTTP %d", path, status)
		}
		select {
		case <-s.proc.done:
			return s.proc.failure(fmt.Errorf("exited while starting (%v)", s.proc.err))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return s.proc.failure(fmt.Errorf("not ready after %s: %w", timeout, err))
		}
	}
}

// loginBody is the JSON body of a login as a.
func loginBody(a account) []byte {
	b, _ := json.Marshal(map[string]string{"username": a.username, "password": a.password}) // strings always marshal
	return b
}

// appendRequest serialises an HTTP/1.1 request, with a JSON body when body is not nil and
// a Bearer token when token is not empty.
func appendRequest(b []byte, method, host, path, token string, body []byte) []byte {
	b = fmt.Appendf(b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, path, host)
	if token != "" {
		b = fmt.Appendf(b, "Authorization: Bearer %s\r\n", token)
	}
	if body != nil {
		b = fmt.Appendf(b, "Content-Type: application/json\r\nContent-Length: %d\r\n", len(body))
	}
	b = append(b, "\r\n"...)
	return append(b, body...)
}
