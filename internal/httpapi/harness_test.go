package httpapi

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
	"github.com/ciphemic/ciphemic/internal/password"
	"github.com/ciphemic/ciphemic/internal/store"
	"github.com/ciphemic/ciphemic/internal/store/sqlite"
	"github.com/ciphemic/ciphemic/internal/token"
)

// testSecret is the HMAC secret of the test servers; tests forge tokens with it.
const testSecret = "test-secret-that-is-at-least-32-bytes-long"

// cheapParams keep argon2id fast in tests; DefaultParams are tested in internal/password.
var cheapParams = password.Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// testClock is a settable clock shared by the token service, the revocation view and the
// handlers, so expiry is tested without sleeping.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// instance is one running server: a real HTTP server on a real SQLite file.
type instance struct {
	srv    *httptest.Server
	db     *store.DB
	tokens *token.Service
	view   *token.RevocationView
	hasher *password.Hasher
	clock  *testClock
}

// options tweak newInstance.
type options struct {
	cfg    *Config // nil: rotation and blacklist-after-rotation on, login throttle off
	key    *token.Key
	dbPath string
	clock  *testClock
}

// newInstance starts a server; with opts.dbPath it shares that SQLite file with other
// instances, as several instances behind a load balancer share one database.
func newInstance(t testing.TB, opts options) *instance {
	t.Helper()
	if opts.clock == nil {
		opts.clock = &testClock{t: time.Now().Truncate(time.Second)}
	}
	if opts.dbPath == "" {
		opts.dbPath = filepath.Join(t.TempDir(), "test.db")
	}
	if opts.key == nil {
		opts.key = mustParseKey(t, "HS256", []byte(testSecret))
	}
	db, err := sqlite.Open(opts.dbPath)
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	db.SetNow(opts.clock.Now)
	keys, err := token.NewKeySet(opts.key)
	if err != nil {
		t.Fatalf("NewKeySet: %v", err)
	}
	tokens, err := token.NewService(keys, token.Config{
		AccessLifetime: 5 * time.Minute, RefreshLifetime: 24 * time.Hour, Now: opts.clock.Now,
	})
	if err != nil {
		t.Fatalf("NewService: %v", err)
	}
	view := token.NewRevocationView(opts.clock.Now)
	if err := view.Sync(context.Background(), db); err != nil {
		t.Fatalf("Sync: %v", err)
	}
	// Tests log in, and fail to, far more often than a person; the throttle's own tests
	// pass a cfg, in which a zero LoginThrottle means the production limits.
	cfg := Config{RotateRefreshTokens: true, BlacklistAfterRotation: true, LoginThrottle: LoginThrottle{Disabled: true}}
	if opts.cfg != nil {
		cfg = *opts.cfg
	}
	cfg.Now = opts.clock.Now
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	hasher := password.NewHasher(cheapParams)
	h := NewServer(cfg, Deps{Store: db, School: db, Tokens: tokens, Revocations: view, Passwords: hasher})
	srv := httptest.NewServer(checkContract(t, h))
	t.Cleanup(srv.Close)
	return &instance{srv: srv, db: db, tokens: tokens, view: view, hasher: hasher, clock: opts.clock}
}

func mustParseKey(t testing.TB, alg string, data []byte) *token.Key {
	t.Helper()
	key, err := token.ParseKey(alg, data)
	if err != nil {
		t.Fatalf("ParseKey(%s): %v", alg, err)
	}
	return key
}

// mustCreateUser creates an active user with the given password and role.
func (in *instance) mustCreateUser(t testing.TB, username, pw string, role ciphemic.Role) ciphemic.User {
	t.Helper()
	return in.mustCreateUserWith(t, ciphemic.User{
		Username: username, Email: username + "@example.com", Role: role, IsActive: true,
	}, pw)
}

// mustCreateUserWith creates u with pw hashed (or u.PasswordHash kept when pw is "").
func (in *instance) mustCreateUserWith(t testing.TB, u ciphemic.User, pw string) ciphemic.User {
	t.Helper()
	if pw != "" {
		hash, err := in.hasher.Hash(pw)
		if err != nil {
			t.Fatalf("Hash: %v", err)
		}
		u.PasswordHash = hash
	}
	created, err := in.db.CreateUser(context.Background(), u)
	if err != nil {
		t.Fatalf("CreateUser(%q): %v", u.Username, err)
	}
	return created
}

// response is a finished HTTP exchange, body read.
type response struct {
	status int
	header http.Header
	body   []byte
}

// json decodes the body into a generic map, failing the test if it is not a JSON object.
func (r response) json(t testing.TB) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body %q is not a JSON object: %v", r.body, err)
	}
	return m
}

// str returns a string field of the JSON body.
func (r response) str(t testing.TB, field string) string {
	t.Helper()
	s, _ := r.json(t)[field].(string)
	if s == "" {
		t.Fatalf("body %s has no string %q", r.body, field)
	}
	return s
}

// do sends a request with an optional body and headers ("Name: value"; "Host: …" sets
// the Host the request addresses, while it still goes to the test server).
func (in *instance) do(t testing.TB, method, path, contentType string, body io.Reader, headers ...string) response {
	t.Helper()
	req, err := http.NewRequest(method, in.srv.URL+path, body)
	if err != nil {
		t.Fatalf("NewRequest: %v", err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for _, h := range headers {
		name, value, _ := strings.Cut(h, ": ")
		if strings.EqualFold(name, "Host") {
			req.Host = value
			continue
		}
		req.Header.Set(name, value)
	}
	resp, err := in.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// postJSON posts v (a string is sent verbatim) as application/json.
func (in *instance) postJSON(t testing.TB, path string, v any, headers ...string) response {
	t.Helper()
	raw, ok := v.(string)
	if !ok {
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("Marshal: %v", err)
		}
		raw = string(b)
	}
	return in.do(t, http.MethodPost, path, "application/json", bytes.NewReader([]byte(raw)), headers...)
}

// postForm posts fields urlencoded.
func (in *instance) postForm(t testing.TB, path string, fields url.Values) response {
	t.Helper()
	return in.do(t, http.MethodPost, path, "application/x-www-form-urlencoded", strings.NewReader(fields.Encode()))
}

// get sends GET with an optional bearer token.
func (in *instance) get(t testing.TB, path, bearer string) response {
	t.Helper()
	if bearer == "" {
		return in.do(t, http.MethodGet, path, "", nil)
	}
	return in.do(t, http.MethodGet, path, "", nil, "Authorization: Bearer "+bearer)
}

// login obtains a pair for username/password and fails the test otherwise.
func (in *instance) login(t testing.TB, username, pw string) (access, refresh string) {
	t.Helper()
	r := in.postJSON(t, "/api/token/", map[string]string{"username": username, "password": pw})
	if r.status != http.StatusOK {
		t.Fatalf("login %q = %d %s, want 200", username, r.status, r.body)
	}
	return r.str(t, "access"), r.str(t, "refresh")
}

// wantStatusBody checks status and the exact compact JSON body.
func wantStatusBody(t testing.TB, r response, status int, body string) {
	t.Helper()
	if r.status != status || string(r.body) != body {
		t.Errorf("got %d %s, want %d %s", r.status, r.body, status, body)
	}
}

// Bodies of the contract, as they must appear on the wire.
const (
	bodyNotProvided  = `{"detail":"Authentication credentials were not provided."}`
	bodyAccessBad    = `{"detail":"Given token not valid for any token type","code":"token_not_valid","messages":[{"token_class":"AccessToken","token_type":"access","message":"Token is invalid or expired"}]}`
	bodyBadHeader    = `{"detail":"Authorization header must contain two space-delimited values","code":"bad_authorization_header"}`
	bodyTokenInvalid = `{"detail":"Token is invalid or expired","code":"token_not_valid"}`
	bodyBlacklisted  = `{"detail":"Token is blacklisted","code":"token_not_valid"}`
	bodyNoAccount    = `{"detail":"No active account found with the given credentials"}`
)
