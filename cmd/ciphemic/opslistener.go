package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/ciphemic/ciphemic/internal/httpapi"
)

// startOps serves the operations handler on addr (--admin-addr) until stop. It prints the
// address it listens on, as serve prints its own, so that scripts and tests find port 0's.
// There is no write timeout: /debug/pprof/profile and trace stream for as long as asked.
func startOps(addr string, h http.Handler, draining *atomic.Bool, log *slog.Logger, e env) (stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("listen on %s (--admin-addr): %w", addr, err)
	}
	srv := &http.Server{
		BaseContext:       func(net.Listener) context.Context { return httpapi.WithDraining(context.Background(), draining) },
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    16 << 10,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	fmt.Fprintf(e.stdout, "Operations listening on http://%s\n", ln.Addr())
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			log.Error("operations listener stopped", "error", err.Error())
		}
	}()
	return func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		// A profile still streaming is cut off: the process is going away.
		if err := srv.Shutdown(ctx); err != nil {
			_ = srv.Close()
		}
		<-done
	}, nil
}
