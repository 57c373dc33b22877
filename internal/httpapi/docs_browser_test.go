package httpapi

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// chromiumPath finds Debian's headless-capable Chromium. Without it the browser test
// skips, except in CI, where a silent skip would hide a broken page.
func chromiumPath(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is not installed, and CI is set: install it (apt-get install -y chromium) so the docs page is tested in a browser")
	}
	t.Skip("chromium is not installed (apt-get install -y chromium); skipping the browser test of /api/docs/")
	return ""
}

// renderDOM loads url in headless Chromium, lets its scripts run, and returns the DOM.
func renderDOM(t *testing.T, url string) string {
	t.Helper()
	bin := chromiumPath(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+t.TempDir(), "--virtual-time-budget=10000", "--dump-dom", url)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		t.Fatalf("chromium did not finish within 90s; stderr:\n%s", stderr.String())
	}
	if err != nil {
		t.Fatalf("chromium --dump-dom %s: %v; stderr:\n%s", url, err, stderr.String())
	}
	return string(out)
}

// TestDocsPageInBrowser renders /api/docs/ in a real browser under its real
// Content-Security-Policy and checks that the script fetched the schema and listed the
// endpoints, with their methods, summaries and parameters.
func TestDocsPageInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	in := newInstance(t, options{})
	dom := renderDOM(t, in.srv.URL+"/api/docs/")
	if !strings.Contains(dom, `data-state="ready"`) {
		t.Fatalf("the docs page did not render the schema; DOM:\n%s", truncateDOM(dom))
	}
	ops, _ := documentedOperations(t)
	for _, want := range []string{
		">/api/token/<", ">/api/school/courses/{id}/<", ">/api/users/<", ">/.well-known/jwks.json<",
		"Log in: obtain an access and a refresh token", "page_size", "bearer JWT",
		">DELETE<", ">PATCH<", "No active account found with the given credentials",
	} {
		if !strings.Contains(dom, want) {
			t.Errorf("rendered docs page lacks %q", want)
		}
	}
	if got := strings.Count(dom, `<article class="operation"`); got != len(ops) {
		t.Errorf("rendered docs page shows %d operations, want %d (every one of openapi.json)", got, len(ops))
	}
}

func truncateDOM(dom string) string {
	if len(dom) > 4000 {
		return dom[:4000] + "…"
	}
	return dom
}
