package main

import (
	"path/filepath"
	"testing"
)

// TestShutdownBadSettings: a shutdown setting serve cannot honour stops start-up with one
// line naming it.
func TestShutdownBadSettings(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	checkBadSettings(t, db, []badSetting{
		{"zero timeout", nil, []string{"--shutdown-timeout", "0s"}, "--shutdown-timeout"},
		{"negative timeout", nil, []string{"--shutdown-timeout", "-1s"}, "--shutdown-timeout"},
		{"negative delay", nil, []string{"--shutdown-delay", "-5s"}, "--shutdown-delay"},
		{"timeout not a duration", nil, []string{"--shutdown-timeout", "10"}, "--shutdown-timeout"},
		{"delay env", map[string]string{"CIPHEMIC_SHUTDOWN_DELAY": "soon"}, nil, "CIPHEMIC_SHUTDOWN_DELAY"},
	})
}
