package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

// TestJSONLogStartup: with --log-format json every line serve writes to standard error is
// JSON, from the generated key at start-up to shutdown, and so is a start-up failure,
// which main then does not print a second time in text.
func TestJSONLogStartup(t *testing.T) {
	s := startServer(t, "", "--log-format", "json")
	s.get(t, "/api/me/", "")
	s.shutdown(t)
	log := s.logText()
	if !strings.Contains(log, "generated a new signing key") {
		t.Errorf("log = %q, want the generated key logged", log)
	}
	wantJSONLines(t, log)

	var stderr lockedBuffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	err := run(ctx, []string{"ciphemic", "serve", "--log-format", "json", "--addr", "127.0.0.1:0",
		"--database", "sqlite:" + s.database[len("sqlite:"):], "--signing-key-file", keyWithMode(t, 0o644)},
		func(string) string { return "" }, strings.NewReader(""), &strings.Builder{}, &stderr)
	if !errors.As(err, new(loggedError)) || !strings.Contains(err.Error(), "chmod 600") {
		t.Fatalf("serve with a world-readable key = %v, want the error, marked as logged", err)
	}
	wantJSONLines(t, stderr.String())
	if !strings.Contains(stderr.String(), "chmod 600") {
		t.Errorf("log = %q, want the start-up error in it", stderr.String())
	}
}

func wantJSONLines(t *testing.T, log string) {
	t.Helper()
	lines := strings.Split(strings.TrimSuffix(log, "\n"), "\n")
	for _, line := range lines {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil || v["msg"] == nil {
			t.Errorf("log line %q is not a JSON record: %v", line, err)
		}
	}
}
