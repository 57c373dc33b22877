package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"time"
)

// The bare baseline is this program run again with these variables set: a separate
// process, so that it never shares a Go runtime with the load generator, as ciphemic
// does not either.
const (
	bareAddrEnv = "CIPHEMIC_BENCH_BARE_ADDR"
	bareBodyEnv = "CIPHEMIC_BENCH_BARE_BODY"
)

// serveBare is the bare baseline: a plain net/http server whose one handler writes, as
// JSON, the bytes ciphemic answered to GET /api/me/. It is what /api/me/ would cost with
// no middleware, no authentication and no store.
func serveBare(ctx context.Context, addr, bodyFile string) error {
	body, err := os.ReadFile(bodyFile) // #nosec G304 G703 -- the file the parent benchmark wrote into its own temporary directory
	if err != nil {
		return err
	}
	srv := &http.Server{
		Addr:              addr,
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write(body) // a failed write is the client's problem
		}),
	}
	go func() {
		<-ctx.Done()
		_ = srv.Close() // the process ends right after
	}()
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// startBare fetches GET /api/me/ from ciphemic and starts the bare baseline serving the
// same bytes.
func startBare(ctx context.Context, ps *procs, dir string, c *server) (*server, error) {
	pair, err := login(ctx, c, c.user)
	if err != nil {
		return nil, err
	}
	body, status, err := call(ctx, c, "GET", "/api/me/", pair.Access, nil)
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("GET /api/me/: HTTP %d: %.300s", status, body)
	}
	if err != nil {
		return nil, err
	}
	bodyFile := filepath.Join(dir, "me.json")
	if err := os.WriteFile(bodyFile, body, 0o600); err != nil {
		return nil, err
	}
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	env := environ(func(string) bool { return false }, bareAddrEnv+"="+addr, bareBodyEnv+"="+bodyFile)
	p, err := ps.start("bare", dir, filepath.Join(dir, "bare.log"), env, self)
	if err != nil {
		return nil, err
	}
	s := &server{name: "bare", addr: addr, user: c.user, proc: p, auth: c}
	return s, waitHTTP(ctx, s, "/api/me/", func(st int) bool { return st == 200 }, 30*time.Second)
}
