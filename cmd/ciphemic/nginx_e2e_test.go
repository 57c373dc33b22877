package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/store/postgres"
)

// nginxConf is the configuration deploy/ ships, which the test runs as it is, with its
// ports, names and certificate paths filled in.
const nginxConf = "../../deploy/nginx/ciphemic.conf"

// publicHost is the name clients use in deploy/'s nginx configuration.
const publicHost = "api.example.com"

// edge is nginx started from deploy/nginx/ciphemic.conf in front of some instances.
type edge struct {
	client   *http.Client // talks HTTPS to nginx for https://api.example.com/
	httpAddr string       // nginx's plain-HTTP listener
}

// startNginx runs nginx with deploy/'s configuration in front of upstreams (host:port).
// Without nginx it skips, except in CI (CI=true), which installs it.
func startNginx(t *testing.T, upstreams ...string) *edge {
	t.Helper()
	bin := findNginx(t)
	dir := t.TempDir()
	certFile, keyFile, pool := writeSelfSigned(t, publicHost)
	httpsAddr, httpAddr := freeAddr(t), freeAddr(t)
	conf := fillNginxConf(t, map[string]string{
		"server 127.0.0.1:8001 ":           "server " + upstreams[0] + " ",
		"server 127.0.0.1:8002 ":           "server " + upstreams[1] + " ",
		"listen 443 ssl http2;":            "listen " + httpsAddr + " ssl http2;",
		"listen 80;":                       "listen " + httpAddr + ";",
		"/etc/ssl/ciphemic/fullchain.pem;": certFile + ";",
		"/etc/ssl/ciphemic/privkey.pem;":   keyFile + ";",
	})
	mustWrite(t, filepath.Join(dir, "ciphemic.conf"), conf)
	mustWrite(t, filepath.Join(dir, "nginx.conf"), nginxMain(dir))
	cmd := exec.Command(bin, "-p", dir, "-c", filepath.Join(dir, "nginx.conf"), "-e", filepath.Join(dir, "error.log")) // #nosec G204 -- nginx with the test's own configuration
	out := &lockedWriter{w: &strings.Builder{}}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start nginx: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(os.Interrupt) // fast shutdown; the test is over
		_ = cmd.Wait()
	})
	waitListening(t, httpsAddr, filepath.Join(dir, "error.log"))
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	transport := &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return dialer.DialContext(ctx, network, httpsAddr) // api.example.com is this nginx
		},
	}
	t.Cleanup(transport.CloseIdleConnections)
	return &edge{client: &http.Client{Transport: transport, Timeout: 30 * time.Second}, httpAddr: httpAddr}
}

func findNginx(t *testing.T) string {
	t.Helper()
	if bin, err := exec.LookPath("nginx"); err == nil {
		return bin
	}
	if _, err := os.Stat("/usr/sbin/nginx"); err == nil {
		return "/usr/sbin/nginx"
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("nginx is missing, and CI must run deploy/'s configuration (.ci/run installs nginx-light)")
	}
	t.Skip("nginx is not installed (apt-get install nginx-light): deploy/nginx/ciphemic.conf is not exercised")
	return ""
}

// fillNginxConf returns deploy/'s configuration with each key replaced by its value; a
// key that no longer occurs once means the file changed under the test, which says so.
func fillNginxConf(t *testing.T, fill map[string]string) string {
	t.Helper()
	b, err := os.ReadFile(nginxConf)
	if err != nil {
		t.Fatal(err)
	}
	conf := string(b)
	for old, repl := range fill {
		if n := strings.Count(conf, old); n != 1 {
			t.Fatalf("%s holds %q %d times, want once: update the test with the file", nginxConf, old, n)
		}
		conf = strings.Replace(conf, old, repl, 1)
	}
	return conf
}

// nginxMain is the smallest main configuration around deploy/'s file: everything nginx
// writes stays in dir.
func nginxMain(dir string) string {
	user := ""
	if os.Geteuid() == 0 {
		user = "user root;\n" // workers must reach dir, which is the test's alone
	}
	return fmt.Sprintf(`%sdaemon off;
worker_processes 1;
pid %[2]s/nginx.pid;
error_log %[2]s/error.log notice;
events { worker_connections 256; }
http {
    access_log %[2]s/access.log;
    client_body_temp_path %[2]s/body;
    proxy_temp_path %[2]s/proxy;
    fastcgi_temp_path %[2]s/fastcgi;
    uwsgi_temp_path %[2]s/uwsgi;
    scgi_temp_path %[2]s/scgi;
    include %[2]s/ciphemic.conf;
}
`, user, dir)
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func waitListening(t *testing.T, addr, errorLog string) {
	t.Helper()
	for start := time.Now(); time.Since(start) < 10*time.Second; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
	}
	log, _ := os.ReadFile(errorLog)
	t.Fatalf("nginx does not listen on %s:\n%s", addr, log)
}

// call sends a request to https://api.example.com through nginx and returns its status,
// body and X-Request-Id.
func (e *edge) call(t *testing.T, method, path, body, bearer string) (int, map[string]any, string) {
	t.Helper()
	req, err := http.NewRequest(method, "https://"+publicHost+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		t.Fatalf("%s %s through nginx: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatalf("%s %s through nginx = %d, body is not JSON: %q", method, path, resp.StatusCode, raw)
	}
	return resp.StatusCode, m, resp.Header.Get("X-Request-Id")
}

// servedBy returns which of servers logged the request id, or -1.
func servedBy(id string, servers ...*server) int {
	for i, s := range servers {
		if id != "" && strings.Contains(s.logText(), "request_id="+id) {
			return i
		}
	}
	return -1
}

func writeSigningKey(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "signing.key")
	mustWrite(t, path, rand.Text()+rand.Text())
	return path
}

// TestNginxInFrontOfTwoInstances runs deploy/nginx/ciphemic.conf in front of two serve
// instances on one PostgreSQL database: a login through nginx, a refresh of its token
// answered by the other instance, the X-Forwarded-* headers believed (links are https://
// api.example.com), a body over the limit refused by nginx with the contract's 413, plain
// HTTP redirected, and a logout on one instance seen on the other.
func TestNginxInFrontOfTwoInstances(t *testing.T) {
	dsn := postgres.OpenTestURL(t)
	args := []string{"--signing-key-file", writeSigningKey(t), "--trusted-proxies", "127.0.0.1",
		"--allowed-hosts", publicHost, "--login-throttle=false"}
	a := startServerArgs(t, dsn, args...)
	b := startServerArgs(t, dsn, args...)
	e := startNginx(t, strings.TrimPrefix(a.url, "http://"), strings.TrimPrefix(b.url, "http://"))

	status, pair, id := e.call(t, "POST", "/api/token/", `{"username":"admin","password":"`+a.adminPW+`"}`, "")
	if status != 200 {
		t.Fatalf("login through nginx = %d %v, want 200", status, pair)
	}
	first := servedBy(id, a, b)
	if first < 0 {
		t.Fatalf("no instance logged the login's request id %q", id)
	}
	access, refresh := refreshOnOther(t, e, pair["refresh"].(string), first, a, b)

	for i := range 2 {
		if status, body, _ := e.call(t, "POST", "/api/school/courses/", fmt.Sprintf(`{"code":"N%d","title":"t"}`, i), access); status != 201 {
			t.Fatalf("create a course through nginx = %d %v, want 201", status, body)
		}
	}
	status, list, _ := e.call(t, "GET", "/api/school/courses/?page_size=1", "", access)
	if next, _ := list["next"].(string); status != 200 || !strings.HasPrefix(next, "https://"+publicHost+"/api/school/courses/") {
		t.Errorf("list through nginx = %d, next %q; want a link to https://%s/ (X-Forwarded-Proto and -Host)", status, list["next"], publicHost)
	}
	big := `{"title":"` + strings.Repeat("x", 1<<20) + `"}`
	if status, body, _ := e.call(t, "POST", "/api/school/courses/", big, access); status != 413 || body["detail"] != "Request body too large." {
		t.Errorf("1 MiB body through nginx = %d %v, want 413 Request body too large.", status, body)
	}
	checkRedirect(t, e.httpAddr)

	status, _, id = e.call(t, "POST", "/api/token/blacklist/", `{"refresh":"`+refresh+`"}`, access)
	loggedOut := servedBy(id, a, b)
	if status != 200 || loggedOut < 0 {
		t.Fatalf("logout through nginx = %d (served by %d), want 200", status, loggedOut)
	}
	other := []*server{a, b}[1-loggedOut]
	waitRefused(t, other, access)
}

// refreshOnOther refreshes through nginx until an instance other than the one numbered
// first answers (nginx alternates, so at once), and returns the last pair.
func refreshOnOther(t *testing.T, e *edge, refresh string, first int, servers ...*server) (string, string) {
	t.Helper()
	for range 4 {
		status, pair, id := e.call(t, "POST", "/api/token/refresh/", `{"refresh":"`+refresh+`"}`, "")
		if status != 200 {
			t.Fatalf("refresh through nginx = %d %v, want 200", status, pair)
		}
		refresh = pair["refresh"].(string)
		if by := servedBy(id, servers...); by >= 0 && by != first {
			return pair["access"].(string), refresh
		}
	}
	t.Fatalf("four refreshes through nginx all landed on instance %d", first)
	return "", ""
}

// checkRedirect: nginx's plain-HTTP listener answers 308 to the HTTPS URL and no more.
func checkRedirect(t *testing.T, addr string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, "http://"+addr+"/api/me/?x=1", nil)
	req.Host = publicHost
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("plain HTTP to nginx: %v", err)
	}
	resp.Body.Close()
	if want := "https://" + publicHost + "/api/me/?x=1"; resp.StatusCode != 308 || resp.Header.Get("Location") != want {
		t.Errorf("plain HTTP = %d to %q, want 308 to %q", resp.StatusCode, resp.Header.Get("Location"), want)
	}
}

// waitRefused waits until s, addressed directly, refuses the access token (its revocation
// view syncs every 500 ms; checked loosely, as TestRevocationReachesOtherInstance does).
func waitRefused(t *testing.T, s *server, access string) {
	t.Helper()
	for start := time.Now(); ; time.Sleep(20 * time.Millisecond) {
		req, _ := http.NewRequest(http.MethodGet, s.url+"/api/me/", nil)
		req.Host = publicHost
		req.Header.Set("Authorization", "Bearer "+access)
		if status, _ := doJSON(t, req); status == 401 {
			return
		}
		if time.Since(start) > 5*time.Second {
			t.Fatalf("the other instance still accepts the logged-out access token after %v", time.Since(start))
		}
	}
}
