package main

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// systemdUnit is the unit deploy/ ships.
const systemdUnit = "../../deploy/systemd/ciphemic.service"

// TestSystemdUnitSettings: every CIPHEMIC_* variable the unit sets names a flag of serve
// (a misspelt one would be silently ignored), and together they make a valid serve
// configuration; the hardening the deployment relies on is there.
func TestSystemdUnitSettings(t *testing.T) {
	b, err := os.ReadFile(systemdUnit)
	if err != nil {
		t.Fatal(err)
	}
	unit := string(b)
	vars := map[string]string{}
	for line := range strings.Lines(unit) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "Environment="); ok {
			name, value, _ := strings.Cut(v, "=")
			vars[name] = value
		}
	}
	var s serveSettings
	fs := s.flags()
	names := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { names[envName(f.Name)] = true })
	for name := range vars {
		if !names[name] {
			t.Errorf("the unit sets %s, which is no flag of serve", name)
		}
	}
	// The unit's state directory exists where it runs (systemd makes it), not here.
	state := t.TempDir()
	e := env{getenv: func(k string) string { return strings.ReplaceAll(vars[k], "/var/lib/ciphemic", state) }}
	if err := parseFlags(fs, nil, e); err != nil {
		t.Fatalf("serve with the unit's settings: %v", err)
	}
	if err := s.validate(); err != nil {
		t.Errorf("serve with the unit's settings: %v", err)
	}
	for _, want := range []string{"\nNoNewPrivileges=yes\n", "\nProtectSystem=strict\n", "\nRestart=on-failure\n",
		"\nReadWritePaths=/var/lib/ciphemic\n", "\nUser=ciphemic\n", "\nCapabilityBoundingSet=\n"} {
		if !strings.Contains(unit, want) {
			t.Errorf("the unit lacks %q", strings.TrimSpace(want))
		}
	}
}

// TestSystemdUnitVerifies runs systemd-analyze on the unit, its binary path pointed at a
// real executable: `verify` must print nothing (it reports bad values on standard error
// but still exits 0), and `security` must rate its exposure at most 2.0 ("OK").
func TestSystemdUnitVerifies(t *testing.T) {
	bin, err := exec.LookPath("systemd-analyze")
	if err != nil {
		t.Skip("systemd-analyze is not installed: deploy/systemd/ciphemic.service is not verified")
	}
	b, err := os.ReadFile(systemdUnit)
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(t.TempDir(), "ciphemic.service")
	mustWrite(t, unit, strings.ReplaceAll(string(b), "/usr/local/bin/ciphemic", self))
	out, err := exec.Command(bin, "verify", unit).CombinedOutput() // #nosec G204 -- systemd-analyze on the test's copy of the unit
	if err != nil || len(out) > 0 {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, "security", "--offline=yes", "--threshold=20", unit).CombinedOutput() // #nosec G204 -- as above
	if err != nil {
		t.Errorf("systemd-analyze security: exposure above 2.0 (%v):\n%s", err, out)
	}
}
