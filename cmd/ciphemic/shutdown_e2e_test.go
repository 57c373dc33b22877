package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/store/sqlite"
)

// helperEnv makes the test binary, run again by startProcess, act as the ciphemic command.
const helperEnv = "CIPHEMIC_TEST_HELPER_MAIN"

// TestHelperMain is no test of its own: startProcess runs the test binary again with only
// it selected and helperEnv set, and it then is `ciphemic` with the arguments after "--",
// so that a real signal reaches main's signal handling in a real process.
func TestHelperMain(t *testing.T) {
	if os.Getenv(helperEnv) != "1" {
		t.Skip("runs only as the child process of an end-to-end test")
	}
	os.Args = append([]string{"ciphemic"}, flag.Args()...)
	main()
	os.Exit(0) // main returned: serve shut down cleanly
}

// process is `ciphemic serve` running as a child process.
type process struct {
	cmd     *exec.Cmd
	url     string
	adminPW string
	stderr  *lockedWriter
	errBuf  *bytes.Buffer
	exited  chan error
}

// startProcess starts `ciphemic serve --addr 127.0.0.1:0` with args in a child process
// and waits until it listens; t's end kills it if the test has not stopped it.
func startProcess(t *testing.T, args ...string) *process {
	t.Helper()
	var database string
	if i := slices.Index(args, "--database"); i >= 0 && i+1 < len(args) {
		database = args[i+1]
	}
	pwFile := adminPasswordFileOf(t, database, args)
	args = append([]string{"-test.run=^TestHelperMain$", "--", "serve", "--addr", "127.0.0.1:0"}, args...)
	cmd := exec.Command(os.Args[0], args...) // #nosec G204 -- the test binary itself, with the test's own arguments
	cmd.Env = append(os.Environ(), helperEnv+"=1")
	p := &process{cmd: cmd, errBuf: &bytes.Buffer{}, exited: make(chan error, 1)}
	p.stderr = &lockedWriter{w: p.errBuf}
	cmd.Stderr = p.stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start ciphemic serve: %v", err)
	}
	go func() { p.exited <- cmd.Wait() }()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	lines := bufio.NewScanner(out)
	for lines.Scan() {
		if m := listeningRE.FindStringSubmatch(lines.Text()); m != nil {
			p.url = m[1]
			break
		}
	}
	if p.url == "" {
		t.Fatalf("serve did not start: %v\n%s", <-p.exited, p.log())
	}
	p.adminPW = readAdminPassword(t, pwFile)
	go io.Copy(io.Discard, out)
	return p
}

// log returns what the process wrote to standard error so far.
func (p *process) log() string {
	p.stderr.mu.Lock()
	defer p.stderr.mu.Unlock()
	return p.errBuf.String()
}

// outcome is one request of the load: when it started, and its status or transport error.
type outcome struct {
	start  time.Time
	status int
	id     int64
	err    error
}

// createCourses posts courses as fast as one client can until stop is closed.
func createCourses(url, access string, worker int, stop <-chan struct{}) []outcome {
	client := &http.Client{Transport: &http.Transport{}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	var out []outcome
	for i := 0; ; i++ {
		select {
		case <-stop:
			return out
		default:
		}
		o := outcome{start: time.Now()}
		body := fmt.Sprintf(`{"code":"W%d-%d","title":"load"}`, worker, i)
		req, _ := http.NewRequest(http.MethodPost, url+"/api/school/courses/", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+access)
		resp, err := client.Do(req)
		if o.err = err; err == nil {
			var c struct{ ID int64 }
			_ = json.NewDecoder(resp.Body).Decode(&c)
			resp.Body.Close()
			o.status, o.id = resp.StatusCode, c.ID
		}
		out = append(out, o)
		if err != nil {
			return out // the server is gone: nothing more to send
		}
	}
}

// slowPost sends a login whose body arrives in two halves, the second after gap, so the
// request is certainly in flight, its handler reading the body, when the signal comes.
func slowPost(url, username, pw string, gap time.Duration, sent chan<- struct{}) (int, error) {
	body := `{"username":"` + username + `","password":"` + pw + `"}`
	pr, pw2 := io.Pipe()
	go func() {
		_, _ = io.WriteString(pw2, body[:len(body)/2])
		close(sent)
		time.Sleep(gap)
		_, _ = io.WriteString(pw2, body[len(body)/2:])
		_ = pw2.Close()
	}()
	req, _ := http.NewRequest(http.MethodPost, url+"/api/token/", pr)
	req.Header.Set("Content-Type", "application/json")
	req.ContentLength = int64(len(body))
	resp, err := (&http.Client{Transport: &http.Transport{}}).Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, nil
}

// probeReadyz polls /readyz until stop is closed and returns the statuses it saw after
// the signal was sent (signalled closed); a refused connection ends the probing.
func probeReadyz(url string, signalled, stop <-chan struct{}) []int {
	client := &http.Client{Transport: &http.Transport{}, Timeout: 5 * time.Second}
	var seen []int
	for {
		select {
		case <-stop:
			return seen
		case <-time.After(20 * time.Millisecond):
		}
		after := isClosed(signalled)
		resp, err := client.Get(url + "/readyz")
		if err != nil {
			if after {
				return seen
			}
			continue
		}
		resp.Body.Close()
		if after {
			seen = append(seen, resp.StatusCode)
		}
	}
}

func isClosed(c <-chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}

// TestGracefulShutdownUnderLoad sends SIGTERM to a real serve process while eight clients
// create courses: /readyz turns 503 at once, every request sent before the signal is
// answered (one of them still uploading its body when the listener closes), the process
// exits 0 with its last log line written, and every course it acknowledged with 201 is
// in the database afterwards.
func TestGracefulShutdownUnderLoad(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "ciphemic.db")
	const delay = 700 * time.Millisecond
	p := startProcess(t, "--database", "sqlite:"+dbPath, "--login-throttle=false",
		"--shutdown-delay", delay.String(), "--shutdown-timeout", "20s")
	status, pair := (&server{url: p.url}).post(t, "/api/token/", `{"username":"admin","password":"`+p.adminPW+`"}`, "")
	access, _ := pair["access"].(string)
	if status != 200 || access == "" {
		t.Fatalf("login = %d %v, want 200", status, pair)
	}

	stop, signalled := make(chan struct{}), make(chan struct{})
	var wg sync.WaitGroup
	results := make([][]outcome, 8)
	for w := range results {
		wg.Go(func() { results[w] = createCourses(p.url, access, w, stop) })
	}
	var readyz []int
	wg.Go(func() { readyz = probeReadyz(p.url, signalled, stop) })
	var slowStatus int
	var slowErr error
	sent := make(chan struct{})
	wg.Go(func() { slowStatus, slowErr = slowPost(p.url, "admin", p.adminPW, delay+time.Second, sent) })

	time.Sleep(500 * time.Millisecond)
	<-sent
	signalAt := time.Now()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatalf("SIGTERM: %v", err)
	}
	close(signalled)
	var exitErr error
	select {
	case exitErr = <-p.exited:
	case <-time.After(60 * time.Second):
		t.Fatal("serve did not exit within 60 s of SIGTERM")
	}
	close(stop)
	wg.Wait()

	if exitErr != nil {
		t.Errorf("serve exited with %v after SIGTERM, want exit code 0\n%s", exitErr, p.log())
	}
	if slowErr != nil || slowStatus != 200 {
		t.Errorf("login in flight across the shutdown = %d, %v; want 200", slowStatus, slowErr)
	}
	// The signal reaches the process asynchronously, so a probe sent right after it may
	// still be answered 200; from the first 503 on, every answer must be 503.
	first := slices.Index(readyz, 503)
	if first < 0 || slices.ContainsFunc(readyz[first:], func(code int) bool { return code != 503 }) {
		t.Errorf("/readyz after SIGTERM = %v, want 503 from when the drain starts on", readyz)
	}
	acked := checkOutcomes(t, results, signalAt)
	lines := strings.Split(strings.TrimSpace(p.log()), "\n")
	if last := lines[len(lines)-1]; !strings.Contains(last, `msg="shut down"`) {
		t.Errorf("last log line = %q, want the shutdown's", last)
	}
	checkStored(t, dbPath, acked)
}

// checkOutcomes fails t for a request started before signalAt that got no answer, or any
// answer other than 201, and returns the ids of the courses acknowledged with 201.
func checkOutcomes(t *testing.T, results [][]outcome, signalAt time.Time) []int64 {
	t.Helper()
	var acked []int64
	before, cut := 0, 0
	for _, rs := range results {
		for _, o := range rs {
			if o.start.Before(signalAt) {
				before++
			}
			switch {
			case o.err != nil && o.start.Before(signalAt):
				t.Errorf("a request sent %v before SIGTERM was cut: %v", signalAt.Sub(o.start), o.err)
			case o.err != nil:
				cut++ // sent after the signal, to a server that is going away: refused
			case o.status != http.StatusCreated:
				t.Errorf("POST /api/school/courses/ = %d, want 201", o.status)
			default:
				acked = append(acked, o.id)
			}
		}
	}
	if before < 8 {
		t.Errorf("only %d requests before SIGTERM: the load did not run", before)
	}
	t.Logf("%d courses acknowledged, %d requests sent before SIGTERM, %d refused after it", len(acked), before, cut)
	return acked
}

// checkStored fails t for every acknowledged course the database does not hold.
func checkStored(t *testing.T, dbPath string, ids []int64) {
	t.Helper()
	db, err := sqlite.Open(dbPath)
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	defer db.Close()
	for _, id := range ids {
		if _, err := db.Course(context.Background(), id); err != nil {
			t.Errorf("course %d was acknowledged with 201 but is not stored: %v", id, err)
		}
	}
}
