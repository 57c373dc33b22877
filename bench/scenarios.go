package main

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
)

// scenario is one kind of load. Its workers are made once per server and kept over the
// rounds, so refresh chains continue and course codes stay unique.
type scenario struct {
	name string
	// conns is how many connections it uses, from the flags.
	conns func(o options) int
	// workers logs in on s as needed (outside the measurement) and returns n workers.
	workers func(ctx context.Context, s *server, n int) ([]worker, error)
}

// scenarioNames lists the scenarios in the order they run; rss is the peak-memory round.
var scenarioNames = []string{"me", "verify", "refresh", "login", "write", "rss"}

// scenarios are the loads a server is measured under, by name.
var scenarios = map[string]scenario{
	"me":      {"me", func(o options) int { return o.conns }, meWorkers},
	"verify":  {"verify", func(o options) int { return o.conns }, verifyWorkers},
	"refresh": {"refresh", func(o options) int { return o.chains }, refreshWorkers},
	"login":   {"login", func(o options) int { return o.loginConns }, loginWorkers},
	"write":   {"write", func(o options) int { return o.conns }, writeWorkers},
}

// fixed sends the same request every time.
type fixed struct{ req []byte }

func (f fixed) next() ([]byte, bool) { return f.req, true }

func (f fixed) answer(status int, _ []byte) bool { return status/100 == 2 }

func repeat(w worker, n int) []worker {
	ws := make([]worker, n)
	for i := range ws {
		ws[i] = w
	}
	return ws
}

// meWorkers: GET /api/me/ with one access token on every connection.
func meWorkers(ctx context.Context, s *server, n int) ([]worker, error) {
	pair, err := login(ctx, s, s.user)
	if err != nil {
		return nil, err
	}
	return meRequests(s, pair.Access, n), nil
}

func meRequests(s *server, access string, n int) []worker {
	return repeat(fixed{appendRequest(nil, "GET", s.addr, "/api/me/", access, nil)}, n)
}

// verifyWorkers: POST /api/token/verify/ of one access token.
func verifyWorkers(ctx context.Context, s *server, n int) ([]worker, error) {
	pair, err := login(ctx, s, s.user)
	if err != nil {
		return nil, err
	}
	body, _ := json.Marshal(map[string]string{"token": pair.Access}) // strings always marshal
	return repeat(fixed{appendRequest(nil, "POST", s.addr, "/api/token/verify/", "", body)}, n), nil
}

// loginWorkers: POST /api/token/ with the user's credentials.
func loginWorkers(_ context.Context, s *server, n int) ([]worker, error) {
	req := appendRequest(nil, "POST", s.addr, "/api/token/", "", loginBody(s.user))
	return repeat(fixed{req}, n), nil
}

// writeWorkers: POST /api/school/courses/ as a teacher, each course with a new code.
func writeWorkers(ctx context.Context, s *server, n int) ([]worker, error) {
	pair, err := login(ctx, s, s.teacher)
	if err != nil {
		return nil, err
	}
	ws := make([]worker, n)
	for i := range ws {
		ws[i] = &writer{host: s.addr, token: pair.Access, conn: i}
	}
	return ws, nil
}

// writer creates courses B<conn>-1, B<conn>-2, … (short enough for Django's 20
// characters).
type writer struct {
	host, token string
	conn, n     int
	body, req   []byte
}

func (w *writer) next() ([]byte, bool) {
	w.n++
	w.body = fmt.Appendf(w.body[:0], `{"code":"B%d-%d","title":"Bench course"}`, w.conn, w.n)
	w.req = appendRequest(w.req[:0], "POST", w.host, "/api/school/courses/", w.token, w.body)
	return w.req, true
}

func (w *writer) answer(status int, _ []byte) bool { return status == 201 }

// refreshWorkers: n refresh chains, each logged in once.
func refreshWorkers(ctx context.Context, s *server, n int) ([]worker, error) {
	pairs, err := logins(ctx, s, n)
	if err != nil {
		return nil, err
	}
	return chains(s, pairs), nil
}

// logins logs the user in n times, one after the other, so that setting up does not put
// n concurrent password hashes in the server's memory.
func logins(ctx context.Context, s *server, n int) ([]tokenPair, error) {
	pairs := make([]tokenPair, n)
	for i := range pairs {
		var err error
		if pairs[i], err = login(ctx, s, s.user); err != nil {
			return nil, err
		}
	}
	return pairs, nil
}

// chains returns a refresh chain on s for each pair's refresh token.
func chains(s *server, pairs []tokenPair) []worker {
	loginReq := appendRequest(nil, "POST", s.addr, "/api/token/", "", loginBody(s.user))
	ws := make([]worker, len(pairs))
	for i, p := range pairs {
		ws[i] = &chain{server: s, host: s.addr, login: loginReq, refresh: p.Refresh}
	}
	return ws
}

// chain refreshes with the refresh token the previous refresh returned, as a client
// does with rotation on. After an error it logs in again (not counted) and goes on.
type chain struct {
	server  *server
	stale   bool // a refresh was cut off: its token may be spent
	host    string
	login   []byte
	refresh string
	relogin bool
	body    []byte
	req     []byte
}

func (c *chain) next() ([]byte, bool) {
	if c.relogin {
		return c.login, false
	}
	c.body = append(append(c.body[:0], `{"refresh":`...), strconv.Quote(c.refresh)...)
	c.body = append(c.body, '}')
	c.req = appendRequest(c.req[:0], "POST", c.host, "/api/token/refresh/", "", c.body)
	return c.req, true
}

// cutOff marks the chain's token as possibly spent by a refresh whose answer it never read.
func (c *chain) cutOff() { c.stale = true }

// resume logs a stale chain in again, outside the measurement: presenting a spent token
// would be reuse, which revokes the session (as it should), and logging in inside the
// round would put a password hash into the refresh figures.
func (c *chain) resume(ctx context.Context) error {
	if !c.stale && !c.relogin {
		return nil
	}
	pair, err := login(ctx, c.server, c.server.user)
	if err != nil {
		return err
	}
	c.refresh, c.stale, c.relogin = pair.Refresh, false, false
	return nil
}

// answer takes the new refresh token from a login's or a refresh's answer; without one
// the chain is broken and logs in again.
func (c *chain) answer(status int, body []byte) bool {
	var pair tokenPair
	if status != 200 || json.Unmarshal(body, &pair) != nil || pair.Refresh == "" {
		c.relogin = true
		return false
	}
	c.refresh, c.relogin = pair.Refresh, false
	return true
}
