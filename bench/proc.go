package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// process is a child the benchmark started: a server, in its own process group so that
// stopping it also stops what it started (gunicorn's workers).
type process struct {
	name string
	cmd  *exec.Cmd
	log  string // file holding its standard output and error
	done chan struct{}
	err  error // of Wait, once done is closed
}

// procs are the children still running; stopAll ends them, on success, on error and on
// Ctrl-C alike.
type procs struct {
	mu   sync.Mutex
	list []*process
}

// start runs argv in dir with its output in logPath and env as its environment.
func (ps *procs) start(name, dir, logPath string, env []string, argv ...string) (*process, error) {
	out, err := os.Create(logPath) // #nosec G304 -- a log file in this run's temporary directory
	if err != nil {
		return nil, err
	}
	// The child gets a descriptor of its own; this one closes when start returns.
	defer out.Close()
	cmd := exec.Command(argv[0], argv[1:]...) // #nosec G204 -- a server this run built or the Django reference's run.sh, with arguments of its own
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = out, out
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	ps.mu.Lock()
	ps.list = append(ps.list, p)
	ps.mu.Unlock()
	return p, nil
}

// pid is the process's id, which is also its process group's.
func (p *process) pid() int { return p.cmd.Process.Pid }

// stop asks the process group to end (SIGTERM), waits up to five seconds for its leader,
// then kills whatever of the group is left.
func (ps *procs) stop(p *process) {
	ps.mu.Lock()
	running := slices.Contains(ps.list, p)
	ps.list = slices.DeleteFunc(ps.list, func(q *process) bool { return q == p })
	ps.mu.Unlock()
	if !running { // stopped already: its group id may belong to someone else by now
		return
	}
	_ = syscall.Kill(-p.pid(), syscall.SIGTERM) // fails only when the group is gone
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
	}
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL) // stragglers of the group, if any
	<-p.done
}

func (ps *procs) stopAll() {
	ps.mu.Lock()
	list := append([]*process(nil), ps.list...)
	ps.mu.Unlock()
	for _, p := range list {
		ps.stop(p)
	}
}

// environ is this process's environment without the variables drop matches, plus add.
func environ(drop func(kv string) bool, add ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !drop(kv) {
			env = append(env, kv)
		}
	}
	return append(env, add...)
}

// failure describes a child that failed: the error and the end of its output.
func (p *process) failure(err error) error {
	return fmt.Errorf("%s: %w\n--- last lines of %s:\n%s", p.name, err, p.log, tail(p.log, 15))
}

// tail returns the last n lines of a file.
func tail(path string, n int) string {
	b, err := os.ReadFile(path) // #nosec G304 -- a child's log in this run's temporary directory
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// runTool runs a command to completion (a build, createuser, keys generate) and returns
// its error with its output. A nil env is this process's environment.
func runTool(ctx context.Context, dir string, env []string, stdin io.Reader, argv ...string) error {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...) // #nosec G204 -- go or the ciphemic binary this run built, with arguments of its own
	cmd.Dir = dir
	cmd.Env = env
	cmd.Stdin = stdin
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("%s: %w\n%s", strings.Join(argv, " "), err, out.String())
	}
	return nil
}

// repoRoot is the directory of the go.mod that go reports for the working directory.
func repoRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	gomod := strings.TrimSpace(string(out))
	if err != nil || gomod == "" || gomod == os.DevNull {
		return "", errors.New("run from inside the ciphemic repository (go env GOMOD names no go.mod)")
	}
	return filepath.Dir(gomod), nil
}

// buildCiphemic builds ./cmd/ciphemic of the repository into dir.
func buildCiphemic(ctx context.Context, root, dir string) (string, error) {
	bin := filepath.Join(dir, "ciphemic")
	return bin, runTool(ctx, root, nil, nil, "go", "build", "-o", bin, "./cmd/ciphemic")
}

// freeAddr returns a loopback address with a port nobody listens on now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// peakRSS is the process's peak resident set size (VmHWM) in MiB.
func peakRSS(pid int) (float64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseFloat(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 64)
			return kb / 1024, err
		}
	}
	return 0, errors.New("no VmHWM in /proc/PID/status")
}
