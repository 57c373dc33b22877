package main

import (
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ciphemic/ciphemic/internal/httpapi"
	"github.com/ciphemic/ciphemic/internal/store/sqlite"
)

// TestLoginThrottleBadSettings: a bad throttle setting stops start-up with one line
// naming it.
func TestLoginThrottleBadSettings(t *testing.T) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "x.db")
	checkBadSettings(t, db, []badSetting{
		{"free failures", nil, []string{"--login-throttle-free-failures", "0"}, "--login-throttle-free-failures"},
		{"max delay zero", nil, []string{"--login-throttle-max-delay", "0s"}, "--login-throttle-max-delay"},
		{"max delay long", nil, []string{"--login-throttle-max-delay", "240h"}, "--login-throttle-max-delay"},
		{"max delay env", map[string]string{"CIPHEMIC_LOGIN_THROTTLE_MAX_DELAY": "-1m"}, nil, "--login-throttle-max-delay"},
		{"per address", nil, []string{"--login-throttle-per-address", "-3"}, "--login-throttle-per-address"},
		{"window", nil, []string{"--login-throttle-address-window", "0s"}, "--login-throttle-address-window"},
		{"bool env", map[string]string{"CIPHEMIC_LOGIN_THROTTLE": "sometimes"}, nil, "CIPHEMIC_LOGIN_THROTTLE"},
	})
}

// TestLoginThrottleSettings: the throttle is on by default with the safe limits, and is
// turned off only on request, by flag or environment.
func TestLoginThrottleSettings(t *testing.T) {
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want httpapi.LoginThrottle
	}{
		{"default", nil, nil, httpapi.DefaultLoginThrottle()},
		{"flag off", nil, []string{"--login-throttle=false"}, withDisabled(httpapi.DefaultLoginThrottle())},
		{"env off", map[string]string{"CIPHEMIC_LOGIN_THROTTLE": "false"}, nil, withDisabled(httpapi.DefaultLoginThrottle())},
		{"flag wins", map[string]string{"CIPHEMIC_LOGIN_THROTTLE": "false"}, []string{"--login-throttle"}, httpapi.DefaultLoginThrottle()},
		{"limits", map[string]string{"CIPHEMIC_LOGIN_THROTTLE_PER_ADDRESS": "50"},
			[]string{"--login-throttle-free-failures", "3", "--login-throttle-max-delay", "1h", "--login-throttle-address-window", "1m"},
			httpapi.LoginThrottle{FreeFailures: 3, BaseDelay: time.Second, MaxDelay: time.Hour, AddressFailures: 50, AddressWindow: time.Minute}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var s serveSettings
			if err := parseFlags(s.flags(), tt.args, env{getenv: func(k string) string { return tt.env[k] }}); err != nil {
				t.Fatalf("parseFlags(%q) = %v", tt.args, err)
			}
			if err := s.throttle.validate(); err != nil {
				t.Fatalf("validate() = %v", err)
			}
			want := tt.want
			want.BaseDelay = 0 // not a setting: the server's default applies
			if got := s.throttle.config(); got != want {
				t.Errorf("settings %q %v = %+v, want %+v", tt.args, tt.env, got, want)
			}
		})
	}
}

func withDisabled(p httpapi.LoginThrottle) httpapi.LoginThrottle {
	p.Disabled = true
	return p
}

// TestLoginThrottleServe: `serve` throttles bad logins by default, and does not with
// --login-throttle=false.
func TestLoginThrottleServe(t *testing.T) {
	const attempts = 9 // 5 free failures, then a 1 s block doubling: a 429 comes by the 9th
	bad := `{"username":"admin","password":"wrong"}`
	t.Run("default", func(t *testing.T) {
		s := startServer(t, "")
		var statuses []int
		for range attempts {
			status, body := s.post(t, "/api/token/", bad, "")
			statuses = append(statuses, status)
			if status == 429 {
				if d, _ := body["detail"].(string); !strings.HasPrefix(d, "Request was throttled. Expected available in ") {
					t.Errorf("429 detail = %q, want DRF's throttled message", d)
				}
				return
			}
		}
		t.Errorf("%d bad logins = %v, want a 429 after the 5 free failures", attempts, statuses)
	})
	t.Run("off", func(t *testing.T) {
		s := startServer(t, "", "--login-throttle=false")
		for i := range attempts {
			if status, body := s.post(t, "/api/token/", bad, ""); status != 401 {
				t.Fatalf("bad login #%d with --login-throttle=false = %d %v, want 401", i+1, status, body)
			}
		}
	})
}

// TestFlushStaleLoginFailures: flushexpiredtokens deletes failed-login counts older than
// the throttle remembers them, and keeps recent ones.
func TestFlushStaleLoginFailures(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ciphemic.db")
	db, err := sqlite.Open(path)
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	ctx := t.Context()
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	for name, at := range map[string]time.Time{
		"stale":  time.Now().Add(-httpapi.LoginFailureMemory - time.Minute),
		"recent": time.Now().Add(-time.Minute),
	} {
		if _, _, err := db.RecordLoginFailure(ctx, name, at, httpapi.LoginFailureMemory, nil); err != nil {
			t.Fatalf("RecordLoginFailure(%s): %v", name, err)
		}
	}
	db.Close()
	out, _, err := runCmd(t, nil, "", "flushexpiredtokens", "--database", "sqlite:"+path)
	if err != nil || !strings.Contains(out, "Deleted 1 stale failed-login counts.") {
		t.Errorf("flushexpiredtokens = %q, %v, want 1 stale count deleted", out, err)
	}
}
