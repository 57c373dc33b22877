package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// server is a ciphemic started in-process through run(), as `ciphemic serve` starts.
type server struct {
	url      string
	adminPW  string
	stop     context.CancelFunc
	done     chan error
	stderr   *bytes.Buffer
	errw     *lockedWriter
	database string
	startup  []string // the lines serve printed up to "Listening on"
}

var listeningRE = regexp.MustCompile(`^Listening on (https?://\S+)$`)

// adminPasswordFileOf is where serve with these arguments writes the first admin's
// password, standard output being no terminal: --initial-admin-password-file, beside
// the SQLite file, or, on PostgreSQL, a file the harness names.
func adminPasswordFileOf(t *testing.T, database string, args []string) string {
	if i := slices.Index(args, "--initial-admin-password-file"); i >= 0 && i+1 < len(args) {
		return args[i+1]
	}
	if path, ok := strings.CutPrefix(database, "sqlite:"); ok {
		return path + adminPasswordSuffix
	}
	return filepath.Join(t.TempDir(), "admin-password")
}

// readAdminPassword reads the first admin's password from file, if this start wrote one,
// and removes the file, as README tells the operator to.
func readAdminPassword(t *testing.T, file string) string {
	t.Helper()
	data, err := os.ReadFile(file)
	if errors.Is(err, fs.ErrNotExist) {
		return ""
	}
	if err != nil {
		t.Fatalf("read admin password: %v", err)
	}
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(data))
}

// startServer runs `ciphemic serve` on port 0 with a temporary SQLite file (or dbPath) and
// waits until it listens.
func startServer(t *testing.T, dbPath string, extraArgs ...string) *server {
	t.Helper()
	if dbPath == "" {
		dbPath = filepath.Join(t.TempDir(), "ciphemic.db")
	}
	return startServerArgs(t, "sqlite:"+dbPath, extraArgs...)
}

// startServerArgs runs `ciphemic serve` on port 0 against database.
func startServerArgs(t *testing.T, database string, extraArgs ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	outR, outW := io.Pipe()
	s := &server{stop: cancel, done: make(chan error, 1), stderr: &bytes.Buffer{}, database: database}
	s.errw = &lockedWriter{w: s.stderr}
	pwFile := adminPasswordFileOf(t, database, extraArgs)
	if !strings.HasPrefix(database, "sqlite:") && !slices.Contains(extraArgs, "--initial-admin-password-file") {
		extraArgs = append(extraArgs, "--initial-admin-password-file", pwFile)
	}
	args := append([]string{"ciphemic", "serve", "--addr", "127.0.0.1:0", "--database", s.database}, extraArgs...)
	go func() {
		err := run(ctx, args, func(string) string { return "" }, strings.NewReader(""), outW, s.errw)
		outW.Close()
		s.done <- err
	}()
	lines := bufio.NewScanner(outR)
	for lines.Scan() {
		s.startup = append(s.startup, lines.Text())
		if m := listeningRE.FindStringSubmatch(lines.Text()); m != nil {
			s.url = m[1]
			break
		}
	}
	if s.url == "" {
		t.Fatalf("serve did not start: %v", <-s.done)
	}
	go io.Copy(io.Discard, outR)
	s.adminPW = readAdminPassword(t, pwFile)
	t.Cleanup(func() { s.shutdown(t) })
	return s
}

// logText returns what the server logged so far, read under the writer's lock.
//
// serve buffers its log and writes it out every logFlushInterval, so logText first waits
// a few intervals: every line logged before the call has reached stderr by then.
func (s *server) logText() string {
	time.Sleep(3 * logFlushInterval)
	s.errw.mu.Lock()
	defer s.errw.mu.Unlock()
	return s.stderr.String()
}

// shutdown stops the server as SIGTERM would and checks that it exits cleanly.
func (s *server) shutdown(t *testing.T) {
	if s.stop == nil {
		return
	}
	s.stop()
	s.stop = nil
	select {
	case err := <-s.done:
		if err != nil {
			t.Errorf("serve returned %v after shutdown, want nil", err)
		}
	case <-time.After(20 * time.Second):
		t.Errorf("serve did not shut down")
	}
}

func (s *server) post(t *testing.T, path, body, bearer string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, s.url+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return doJSON(t, req)
}

func (s *server) get(t *testing.T, path, bearer string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, s.url+path, nil)
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return doJSON(t, req)
}

func doJSON(t *testing.T, req *http.Request) (int, map[string]any) {
	t.Helper()
	resp, err := contractClient(t).Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", req.Method, req.URL.Path, err)
	}
	defer resp.Body.Close()
	var body map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		t.Fatalf("%s %s: body is not JSON: %v", req.Method, req.URL.Path, err)
	}
	return resp.StatusCode, body
}

// TestWalkthrough follows README.md's curl walk-through against a real server: the admin
// password printed once, login, /api/me/, refresh, logout.
func TestWalkthrough(t *testing.T) {
	s := startServer(t, "")
	if s.adminPW == "" {
		t.Fatal("serve on an empty store printed no admin password")
	}
	if strings.Contains(s.logText(), s.adminPW) {
		t.Error("the admin password reached the log")
	}
	status, pair := s.post(t, "/api/token/", `{"username":"admin","password":"`+s.adminPW+`"}`, "")
	if status != 200 {
		t.Fatalf("login = %d %v, want 200", status, pair)
	}
	access, refresh := pair["access"].(string), pair["refresh"].(string)
	if status, me := s.get(t, "/api/me/", access); status != 200 || me["username"] != "admin" {
		t.Errorf("GET /api/me/ = %d %v, want 200 admin", status, me)
	}
	status, next := s.post(t, "/api/token/refresh/", `{"refresh":"`+refresh+`"}`, "")
	if status != 200 || next["refresh"] == refresh {
		t.Fatalf("refresh = %d %v, want 200 with a rotated token", status, next)
	}
	access2, refresh2 := next["access"].(string), next["refresh"].(string)
	if status, _ := s.post(t, "/api/token/blacklist/", `{"refresh":"`+refresh2+`"}`, access2); status != 200 {
		t.Errorf("logout = %d, want 200", status)
	}
	if status, _ := s.get(t, "/api/me/", access2); status != 401 {
		t.Errorf("access token after logout with it = %d, want 401", status)
	}
	if status, _ := s.post(t, "/api/token/refresh/", `{"refresh":"`+refresh2+`"}`, ""); status != 401 {
		t.Errorf("refresh after logout = %d, want 401", status)
	}
	for _, secret := range []string{access, refresh, s.adminPW} {
		if strings.Contains(s.logText(), secret) {
			t.Errorf("a secret reached the log")
		}
	}
}

// TestServeRestartKeepsKey: the generated key lives beside the SQLite file with mode 0600,
// and a restart reuses it, so tokens survive restarts; the admin is created only once.
func TestServeRestartKeepsKey(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "ciphemic.db")
	s := startServer(t, dbPath)
	_, pair := s.post(t, "/api/token/", `{"username":"admin","password":"`+s.adminPW+`"}`, "")
	s.shutdown(t)

	info, err := os.Stat(dbPath + ".hs256.key")
	if err != nil {
		t.Fatalf("generated key: %v", err)
	}
	if info.Mode().Perm() != 0o600 {
		t.Errorf("key file mode = %v, want 0600", info.Mode().Perm())
	}
	again := startServer(t, dbPath)
	if again.adminPW != "" {
		t.Error("restart created the admin again")
	}
	if status, _ := again.get(t, "/api/me/", pair["access"].(string)); status != 200 {
		t.Errorf("token from before the restart = %d, want 200", status)
	}
}
