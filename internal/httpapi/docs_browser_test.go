package httpapi

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/ciphemic/ciphemic/internal/ciphemic"
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

// browserWatch records what a page did that the docs page must never do: ask another
// origin for anything, or log an error to its console (a Content-Security-Policy
// violation is one).
type browserWatch struct {
	origin string
	mu     sync.Mutex
	bad    []string
}

func (w *browserWatch) add(format string, args ...any) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.bad = append(w.bad, fmt.Sprintf(format, args...))
}

func (w *browserWatch) problems() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.bad...)
}

// request notes a request of the page; data: URLs (Swagger UI's icons) are no request to
// anyone.
func (w *browserWatch) request(ev any) {
	e, ok := ev.(*network.EventRequestWillBeSent)
	if !ok {
		return
	}
	u, err := url.Parse(e.Request.URL)
	if err == nil && u.Scheme == "data" {
		return
	}
	if err != nil || u.Scheme+"://"+u.Host != w.origin {
		w.add("the page requested %s, outside its origin %s", e.Request.URL, w.origin)
	}
}

// newBrowser starts headless Chromium for one test and watches its page.
func newBrowser(t *testing.T, origin string) (context.Context, *browserWatch) {
	t.Helper()
	bin := chromiumPath(t)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	t.Cleanup(cancel)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx,
		chromedp.ExecPath(bin), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 1600),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true))
	t.Cleanup(cancelAlloc)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx)
	t.Cleanup(cancelTab)
	watch := &browserWatch{origin: origin}
	if err := chromedp.Do(tabCtx); err != nil { // starts the browser and opens the tab
		t.Fatalf("start chromium: %v", err)
	}
	if _, err := chromedp.Call(tabCtx, network.Enable, network.EnableParams{}); err != nil {
		t.Fatalf("Network.enable: %v", err)
	}
	if err := chromedp.Listen(tabCtx, watch.request); err != nil {
		t.Fatal(err)
	}
	messages := chromedp.Console(tabCtx)
	go func() {
		for m, err := range messages {
			if err != nil {
				return
			}
			if m.Type == chromedp.ConsoleError || m.IsException() {
				watch.add("console %s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line+1)
			}
		}
	}()
	return tabCtx, watch
}

// TestDocsPageInBrowser uses /api/docs/ as a person would, in headless Chromium under the
// page's real Content-Security-Policy: "Try it out" on POST /api/token/ with a real user,
// "Authorize" with the access token the page got, then "Try it out" on GET /api/me/,
// which must show 200 and the user. The page may ask nothing of another origin and log
// no console error. The screenshot is kept as an artifact (see docsArtifact).
func TestDocsPageInBrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a browser")
	}
	in := newInstance(t, options{})
	in.mustCreateUser(t, "ada", "correct horse battery", ciphemic.RoleStudent)
	ctx, watch := newBrowser(t, in.srv.URL)

	login, me := "#operations-auth-tokenObtain", "#operations-account-meGet"
	step(t, ctx, "open the page and the login operation",
		chromedp.Navigate(in.srv.URL+"/api/docs/#/auth/tokenObtain"),
		chromedp.WaitVisible(chromedp.CSS(login+" .try-out__btn")))
	step(t, ctx, "log in with Try it out",
		tryItOut(login, login+" textarea.body-param__text"),
		// Select the example body and type over it, as a person would.
		chromedp.Click(chromedp.CSS(login+" textarea.body-param__text")),
		chromedp.KeyEvent("a", chromedp.KeyModifiers(kb.ModifierCtrl)),
		chromedp.KeyEvent(kb.Backspace),
		chromedp.SendKeys(chromedp.CSS(login+" textarea.body-param__text"), `{"username": "ada", "password": "correct horse battery"}`),
		chromedp.Click(chromedp.CSS(login+" button.execute")),
		chromedp.WaitVisible(chromedp.CSS(login+" .live-responses-table .response-col_status")))
	status := text(t, ctx, login+" .live-responses-table .response .response-col_status")
	body := text(t, ctx, login+" .live-responses-table .response-col_description pre")
	var pair struct{ Access, Refresh string }
	if !strings.HasPrefix(status, "200") || json.Unmarshal([]byte(body), &pair) != nil || pair.Access == "" {
		t.Fatalf("Try it out on POST /api/token/ shows %q %q, want 200 and a token pair", status, body)
	}

	step(t, ctx, "authorize with the access token",
		chromedp.Click(chromedp.CSS("button.btn.authorize")),
		chromedp.WaitVisible(chromedp.ID("auth-bearer-value")),
		chromedp.SendKeys(chromedp.ID("auth-bearer-value"), pair.Access),
		chromedp.Click(chromedp.CSS(".modal-ux form:has(#auth-bearer-value) button.authorize")),
		// Authorized, the form shows Logout instead of the field.
		chromedp.WaitVisible(chromedp.CSS(`.modal-ux button[aria-label="Remove authorization"]`)),
		chromedp.Click(chromedp.CSS(".modal-ux button.btn-done")),
		chromedp.WaitNotPresent(chromedp.CSS(".modal-ux")))
	step(t, ctx, "GET /api/me/ with Try it out",
		chromedp.Click(chromedp.CSS(me+" .opblock-summary-control")),
		chromedp.WaitVisible(chromedp.CSS(me+" .try-out__btn")),
		tryItOut(me, me+" button.execute"),
		chromedp.Click(chromedp.CSS(me+" button.execute")),
		chromedp.WaitVisible(chromedp.CSS(me+" .live-responses-table .response-col_status")))
	status = text(t, ctx, me+" .live-responses-table .response .response-col_status")
	body = text(t, ctx, me+" .live-responses-table .response-col_description pre")
	if !strings.HasPrefix(status, "200") || !strings.Contains(body, `"username": "ada"`) {
		t.Errorf("Try it out on GET /api/me/ shows %q %q, want 200 and the user ada", status, body)
	}
	if curl := text(t, ctx, me+" .curl-command"); !strings.Contains(curl, "Authorization: Bearer "+pair.Access) {
		t.Errorf("GET /api/me/ was sent as %q, want it authorized with the access token", curl)
	}

	for name, shoot := range map[string]chromedp.Action[[]byte]{
		"docs-page.png": chromedp.FullScreenshot(100),
		"docs-me.png":   chromedp.Screenshot(chromedp.CSS(me)),
	} {
		shot, err := chromedp.Run(ctx, shoot)
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		path := docsArtifact(t, name)
		if err := os.WriteFile(path, shot, 0o600); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot of /api/docs/ after GET /api/me/: %s", path)
	}
	for _, p := range watch.problems() {
		t.Error(p)
	}
}

// docsArtifact is where the browser test keeps a file for people to look at: under
// $CIPHEMIC_TEST_ARTIFACTS when set (CI), else under testdata/artifacts/, which git ignores.
func docsArtifact(t *testing.T, name string) string {
	t.Helper()
	dir := os.Getenv("CIPHEMIC_TEST_ARTIFACTS")
	if dir == "" {
		dir = filepath.Join("testdata", "artifacts")
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	abs, err := filepath.Abs(filepath.Join(dir, name))
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

// step runs the actions of one step a person takes on the page.
func step(t *testing.T, ctx context.Context, what string, actions ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	stepCtx, cancel := context.WithTimeout(ctx, 45*time.Second)
	defer cancel()
	for i, a := range actions {
		if err := chromedp.Do(stepCtx, a); err != nil {
			// What the page showed then says more than the error does.
			if shot, shotErr := chromedp.Run(ctx, chromedp.FullScreenshot(100)); shotErr == nil {
				path := docsArtifact(t, "docs-page-failed.png")
				if os.WriteFile(path, shot, 0o600) == nil {
					t.Logf("screenshot of the page when %q failed: %s", what, path)
				}
			}
			t.Fatalf("%s, action %d of %d: %v", what, i+1, len(actions), err)
		}
	}
}

// tryItOut presses the "Try it out" button of the operation op until ready, what the
// pressed button shows, is visible: as a person presses again when a press did nothing.
// Swagger UI scrolls to a deep-linked operation and renders it in steps, and a click
// while the page still moves can land beside the button (seen in CI, under load). Once
// pressed, the button turns into "Cancel" (class cancel), and it is never pressed again
// then, which would undo it.
func tryItOut(op, ready string) chromedp.Action[chromedp.Void] {
	unpressed := op + " .try-out__btn:not(.cancel)"
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for {
			pending, err := chromedp.Evaluate[bool](fmt.Sprintf("document.querySelector(%q) !== null", unpressed))(ctx, t)
			if err != nil {
				return err
			}
			if pending {
				if _, err := chromedp.Click(chromedp.CSS(unpressed))(ctx, t); err != nil {
					return err
				}
			}
			waitCtx, cancel := context.WithTimeout(ctx, 3*time.Second)
			_, err = chromedp.WaitVisible(chromedp.CSS(ready))(waitCtx, t)
			cancel()
			if err == nil || ctx.Err() != nil {
				return err
			}
		}
	})
}

// text returns the text of the element sel, as the page shows it.
func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("read %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}
