// Command ciphemic is a JSON API server with JWT authentication, wire-compatible with
// Django REST Framework and djangorestframework-simplejwt. See README.md.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdin, os.Stdout, os.Stderr); err != nil {
		if !errors.As(err, new(loggedError)) { // serve logged it already, as JSON
			fmt.Fprintln(os.Stderr, "ciphemic:", err)
		}
		if errors.Is(err, errUsage) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}
