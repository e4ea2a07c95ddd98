// Package browsertest drives a real headless Chromium against pages served on
// loopback, for Préau's browser tests.
//
// A test starts a server with httptest.NewServer, opens a browser with New and
// drives it with the helpers of Tab (Navigate, Fill, Click, Submit, WaitVisible,
// Text, Screenshot, CheckA11y...). Every helper waits at most the tab's timeout
// (10 s by default, see Tab.WithTimeout) and fails the test with a message that
// names the helper, the selector and the current URL, and saves a screenshot
// named <TestName>-failure.png.
//
//	srv := httptest.NewServer(handler)
//	defer srv.Close()
//	b := browsertest.New(t)
//	b.Navigate(browsertest.HostURL(srv.URL, "0750001a.localhost") + "/login")
//	b.Fill("#login", "jeanne.dupont")
//	b.Fill("#password", "secret")
//	b.Submit("#login-form button[type=submit]")
//	b.WaitVisible("main h1")
//	b.CheckA11y(t)
//	b.Screenshot("home")
//	parent := b.NewIncognito() // a second user, with its own cookies
//
// Portals are chosen by Host. Chromium resolves every *.localhost name to
// loopback, so a test opens a school's portal with
//
//	b.Navigate(browsertest.HostURL(srv.URL, "0750001a.localhost") + "/")
//
// Environment:
//
//	PREAU_CHROMIUM     the Chromium binary (default /usr/bin/chromium, then
//	                   chromium, chromium-browser, google-chrome in PATH)
//	PREAU_AXE          axe.min.js (default web/testdata/a11y/node_modules/
//	                   axe-core/axe.min.js under the module root; install it
//	                   with `npm ci --prefix web/testdata/a11y`)
//	PREAU_SCREENSHOTS  where screenshots go (default screenshots/ at the
//	                   module root)
//	CI=true            a missing Chromium or axe-core fails the test instead
//	                   of skipping it
package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// DefaultTimeout is how long a helper waits before it fails the test.
const DefaultTimeout = 10 * time.Second

// The size of the window and of the viewport of every new tab.
const (
	ViewportWidth  = 1280
	ViewportHeight = 900
)

// startTimeout bounds the start of the browser process.
const startTimeout = 60 * time.Second

// Browser is one headless Chromium process. It embeds its first tab, so
// b.Navigate(...) drives that tab. NewTab opens another tab that shares the
// cookies of the first one; NewIncognito opens a tab in a fresh browser
// context (its own cookies and storage), for a second user.
type Browser struct {
	*Tab

	rootCtx context.Context // the context of the first tab; owns the browser
	output  *limitedBuffer
}

// Tab is one page of a Browser. A Tab is not safe for concurrent use.
type Tab struct {
	t       testing.TB
	b       *Browser
	ctx     context.Context
	timeout time.Duration
	status  *int // HTTP status of the last document loaded by Navigate, Submit or ClickAndWait
}

// InCI reports whether the tests run in CI (CI=true), where a browser test must
// not skip because a tool is missing.
func InCI() bool {
	v := strings.ToLower(strings.TrimSpace(os.Getenv("CI")))
	return v == "true" || v == "1" || v == "yes"
}

// FindChromium returns the path of the Chromium binary: $PREAU_CHROMIUM, then
// /usr/bin/chromium, then chromium (or chromium-browser, google-chrome) in
// PATH. It returns an error when none is found.
func FindChromium() (string, error) {
	if p := os.Getenv("PREAU_CHROMIUM"); p != "" {
		if isExecutable(p) {
			return p, nil
		}
		if lp, err := exec.LookPath(p); err == nil {
			return lp, nil
		}
		return "", fmt.Errorf("PREAU_CHROMIUM=%s is not an executable file", p)
	}
	if isExecutable("/usr/bin/chromium") {
		return "/usr/bin/chromium", nil
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p, nil
		}
	}
	return "", errors.New("no Chromium found (looked at $PREAU_CHROMIUM, /usr/bin/chromium and chromium in PATH; install it with `apt-get install chromium`)")
}

func isExecutable(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// New starts a headless Chromium for the test and returns it with one open
// tab. The browser is closed when the test ends. Without Chromium the test is
// skipped, or fails when CI=true.
func New(t testing.TB) *Browser {
	t.Helper()
	path, err := FindChromium()
	if err != nil {
		if InCI() {
			t.Fatalf("browsertest: %v; CI=true, so a browser test may not skip", err)
		}
		t.Skipf("browsertest: skipping browser test: %v", err)
	}

	dataDir, err := os.MkdirTemp("", "preau-chromium-")
	if err != nil {
		t.Fatalf("browsertest: %v", err)
	}
	out := &limitedBuffer{max: 64 << 10}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("no-proxy-server", true), // tests only reach loopback
		chromedp.Flag("lang", "fr-FR"),
		chromedp.Flag("accept-lang", "fr-FR,fr"),
		chromedp.UserDataDir(dataDir),
		chromedp.WindowSize(ViewportWidth, ViewportHeight),
		chromedp.CombinedOutput(out),
	)
	allocCtx, allocCancel := chromedp.NewExecAllocator(context.Background(), opts...)
	rootCtx, rootCancel := chromedp.NewContext(allocCtx)

	b := &Browser{rootCtx: rootCtx, output: out}
	t.Cleanup(func() {
		// Close the browser gracefully, then make sure the process is gone
		// before its profile directory is removed.
		done := make(chan struct{})
		go func() {
			_ = chromedp.Cancel(rootCtx)
			rootCancel()
			allocCancel()
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(15 * time.Second):
			t.Logf("browsertest: Chromium did not stop within 15 s")
		}
		for i := 0; i < 20; i++ {
			if err := os.RemoveAll(dataDir); err == nil {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	// The first run starts the process and opens the first tab.
	if err := firstRun(rootCtx, rootCancel, startTimeout); err != nil {
		t.Fatalf("browsertest: cannot start Chromium (%s): %v\nChromium output:\n%s", path, err, out.String())
	}
	b.Tab = &Tab{t: t, b: b, ctx: rootCtx, timeout: DefaultTimeout, status: new(int)}
	b.SetViewport(ViewportWidth, ViewportHeight)
	return b
}

// Output returns what the Chromium process wrote on stdout and stderr so far
// (at most its first 64 KiB).
func (b *Browser) Output() string { return b.output.String() }

// NewTab opens a new tab in the browser. It shares cookies and storage with
// the first tab (the same user in two windows). It closes when the test ends.
func (b *Browser) NewTab() *Tab {
	b.t.Helper()
	return b.openTab("NewTab")
}

// NewIncognito opens a tab in a fresh browser context, with its own cookies
// and storage: another user in the same browser. It closes when the test ends.
func (b *Browser) NewIncognito() *Tab {
	b.t.Helper()
	return b.openTab("NewIncognito", chromedp.WithNewBrowserContext())
}

func (b *Browser) openTab(what string, opts ...chromedp.ContextOption) *Tab {
	t := b.t
	t.Helper()
	ctx, cancel := chromedp.NewContext(b.rootCtx, opts...)
	t.Cleanup(cancel)
	if err := firstRun(ctx, cancel, DefaultTimeout); err != nil {
		t.Fatalf("browsertest: %s: cannot open a tab: %v", what, err)
	}
	tab := &Tab{t: t, b: b, ctx: ctx, timeout: DefaultTimeout, status: new(int)}
	tab.SetViewport(ViewportWidth, ViewportHeight)
	return tab
}

// firstRun runs the first action of a chromedp context, which starts the
// browser or opens the tab. That run must not have a deadline, because the
// tab (or the whole browser) lives as long as the context of its first run;
// so a watchdog cancels the context instead when it takes too long.
func firstRun(ctx context.Context, cancel context.CancelFunc, timeout time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- chromedp.Do(ctx) }()
	select {
	case err := <-errc:
		return err
	case <-time.After(timeout):
		cancel()
		<-errc
		return fmt.Errorf("no answer within %s", timeout)
	}
}

// WithTimeout returns the same tab with another timeout for its helpers:
//
//	b.WithTimeout(30*time.Second).WaitVisible("#report")
func (tab *Tab) WithTimeout(d time.Duration) *Tab {
	c := *tab
	c.timeout = d
	return &c
}

// WithT returns the same tab bound to another test, typically a subtest, so
// that its failures and screenshots belong to that test.
func (tab *Tab) WithT(t testing.TB) *Tab {
	c := *tab
	c.t = t
	return &c
}

// SetViewport sets the size of the tab's viewport in CSS pixels, for example
// SetViewport(375, 812) to see a page as on a phone. New tabs have
// ViewportWidth×ViewportHeight.
func (tab *Tab) SetViewport(width, height int) {
	tab.t.Helper()
	tab.run(fmt.Sprintf("SetViewport(%d, %d)", width, height), chromedp.EmulateViewport(int64(width), int64(height)))
}

// Context returns the chromedp context of the tab, for actions that the
// helpers do not cover: chromedp.Run(tab.Context(), ...).
func (tab *Tab) Context() context.Context { return tab.ctx }

// run runs the action under the tab's timeout, and fails the test with a clear
// message if it fails.
func (tab *Tab) run(what string, actions ...chromedp.Action[chromedp.Void]) {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, tab.timeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		tab.fail(what, err)
	}
}

// runLoad runs the actions and waits for the document that they load, and
// records its HTTP status.
func (tab *Tab) runLoad(what string, actions ...chromedp.Action[chromedp.Void]) {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, tab.timeout)
	defer cancel()
	resp, err := chromedp.RunResponse(ctx, actions...)
	if err != nil {
		tab.fail(what, err)
	}
	*tab.status = 0
	if resp != nil {
		*tab.status = int(resp.Status)
	}
}

// failures numbers the failure screenshots of each test.
var failures = struct {
	sync.Mutex
	n map[string]int
}{n: map[string]int{}}

// fail reports a failed helper with the current URL, saves a screenshot, and
// stops the test.
func (tab *Tab) fail(what string, err error) {
	tab.t.Helper()
	msg := err.Error()
	if errors.Is(err, context.DeadlineExceeded) {
		msg = fmt.Sprintf("timed out after %s (%v)", tab.timeout, err)
	}
	loc := tab.currentURL()
	shot := ""
	if p, err := tab.saveScreenshot("failure", true); err == nil {
		shot = "\n\tscreenshot: " + p
	}
	tab.t.Fatalf("browsertest: %s failed at %s: %s%s", what, loc, msg, shot)
}

// currentURL returns the URL of the tab, or a note saying why it is unknown.
func (tab *Tab) currentURL() string {
	ctx, cancel := context.WithTimeout(tab.ctx, 2*time.Second)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		return "(URL unknown: " + err.Error() + ")"
	}
	return loc
}

// Navigate opens the URL and waits for the page to load. A network error fails
// the test; an HTTP error status does not (see Status).
func (tab *Tab) Navigate(u string) {
	tab.t.Helper()
	tab.runLoad(fmt.Sprintf("Navigate(%q)", u), chromedp.Navigate(u))
}

// Status returns the HTTP status code of the last document that Navigate,
// Submit or ClickAndWait loaded, or 0 if unknown.
func (tab *Tab) Status() int { return *tab.status }

// WaitVisible waits until an element matching the CSS selector is visible.
func (tab *Tab) WaitVisible(sel string) {
	tab.t.Helper()
	tab.run(fmt.Sprintf("WaitVisible(%q)", sel), chromedp.WaitVisible(chromedp.CSS(sel)))
}

// WaitNotPresent waits until no element matches the CSS selector.
func (tab *Tab) WaitNotPresent(sel string) {
	tab.t.Helper()
	tab.run(fmt.Sprintf("WaitNotPresent(%q)", sel), chromedp.WaitNotPresent(chromedp.CSS(sel)))
}

// Fill waits for the visible field matching the CSS selector, empties it and
// types the value into it, as a person would. For a <select>, it chooses the
// option whose value (or else whose text) is the value.
func (tab *Tab) Fill(sel, value string) {
	tab.t.Helper()
	what := fmt.Sprintf("Fill(%q, %q)", sel, value)
	tab.run(what, chromedp.WaitVisible(chromedp.CSS(sel)))
	kind := tab.evalString(what, fmt.Sprintf(`((sel, value) => {
		const el = document.querySelector(sel);
		if (!el) return "error: no element";
		if (el.tagName === "SELECT") {
			const opt = Array.from(el.options).find(o => o.value === value) ||
				Array.from(el.options).find(o => o.text.trim() === value);
			if (!opt) return "error: the select has no option " + JSON.stringify(value);
			el.focus();
			el.value = opt.value;
			el.dispatchEvent(new Event("input", {bubbles: true}));
			el.dispatchEvent(new Event("change", {bubbles: true}));
			return "select";
		}
		if (!("value" in el) && !el.isContentEditable) return "error: " + el.tagName.toLowerCase() + " is not a field";
		el.focus();
		if ("value" in el) el.value = ""; else el.textContent = "";
		el.dispatchEvent(new Event("input", {bubbles: true}));
		return "typed";
	})(%s, %s)`, jsString(sel), jsString(value)))
	if strings.HasPrefix(kind, "error: ") {
		tab.fail(what, errors.New(strings.TrimPrefix(kind, "error: ")))
	}
	if kind == "typed" && value != "" {
		tab.run(what, chromedp.SendKeys(chromedp.CSS(sel), value))
	}
}

// Upload chooses files for the file input matching the CSS selector, as a person
// picking them in the browser's dialog would.
func (tab *Tab) Upload(sel string, paths ...string) {
	tab.t.Helper()
	what := fmt.Sprintf("Upload(%q, %q)", sel, paths)
	tab.run(what, chromedp.WaitReady(chromedp.CSS(sel)), chromedp.SetUploadFiles(chromedp.CSS(sel), paths))
}

// Click waits for the visible element matching the CSS selector and clicks
// it. It does not wait for a page that the click may load: use ClickAndWait
// for a link or a submit button.
func (tab *Tab) Click(sel string) {
	tab.t.Helper()
	tab.run(fmt.Sprintf("Click(%q)", sel), chromedp.Click(chromedp.CSS(sel)))
}

// ClickAndWait clicks the element matching the CSS selector and waits for the
// page that the click loads (a link, a submit button).
func (tab *Tab) ClickAndWait(sel string) {
	tab.t.Helper()
	what := fmt.Sprintf("ClickAndWait(%q)", sel)
	tab.run(what, chromedp.WaitVisible(chromedp.CSS(sel)))
	tab.runLoad(what, chromedp.Click(chromedp.CSS(sel)))
}

// Submit submits the form of the element matching the CSS selector (the form
// itself, a field of it, or a submit button, which is then the submitter),
// as pressing Enter or the button would, with the browser's validation and
// submit handlers, and waits for the page that the server answers with.
func (tab *Tab) Submit(sel string) {
	tab.t.Helper()
	what := fmt.Sprintf("Submit(%q)", sel)
	tab.run(what, chromedp.WaitReady(chromedp.CSS(sel)))
	submit := chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		res, err := chromedp.Evaluate[string](fmt.Sprintf(`((sel) => {
			const el = document.querySelector(sel);
			if (!el) return "no element";
			const form = el.tagName === "FORM" ? el : (el.form || el.closest("form"));
			if (!form) return "the element is in no form";
			const submitter = (el.type === "submit" || el.type === "image") && el.form === form ? el : null;
			if (!form.checkValidity()) {
				const bad = Array.from(form.elements).filter(e => e.willValidate && !e.checkValidity())
					.map(e => (e.name || e.id || e.tagName.toLowerCase()) + ": " + e.validationMessage);
				return "the form is not valid: " + bad.join("; ");
			}
			if (submitter) form.requestSubmit(submitter); else form.requestSubmit();
			return "";
		})(%s)`, jsString(sel)))(ctx, t)
		if err != nil {
			return err
		}
		if res != "" {
			return errors.New(res)
		}
		return nil
	})
	tab.runLoad(what, submit)
}

// Text returns the visible text (innerText) of the first element matching the
// CSS selector, once it is visible.
func (tab *Tab) Text(sel string) string {
	tab.t.Helper()
	what := fmt.Sprintf("Text(%q)", sel)
	ctx, cancel := context.WithTimeout(tab.ctx, tab.timeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
	if err != nil {
		tab.fail(what, err)
	}
	return strings.TrimSpace(s)
}

// Value returns the current value of the form field matching the CSS selector.
func (tab *Tab) Value(sel string) string {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, tab.timeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Value(chromedp.CSS(sel)))
	if err != nil {
		tab.fail(fmt.Sprintf("Value(%q)", sel), err)
	}
	return s
}

// Exists reports whether an element matches the CSS selector now, without
// waiting.
func (tab *Tab) Exists(sel string) bool {
	tab.t.Helper()
	return tab.Count(sel) > 0
}

// Count returns how many elements match the CSS selector now, without
// waiting.
func (tab *Tab) Count(sel string) int {
	tab.t.Helper()
	var n int
	tab.Eval(fmt.Sprintf(`document.querySelectorAll(%s).length`, jsString(sel)), &n)
	return n
}

// Eval evaluates the JavaScript expression in the page and decodes its JSON
// result into out (which may be nil). A promise is awaited.
func (tab *Tab) Eval(expr string, out any) {
	tab.t.Helper()
	what := fmt.Sprintf("Eval(%q)", abbreviate(expr, 80))
	ctx, cancel := context.WithTimeout(tab.ctx, tab.timeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		tab.fail(what, err)
	}
	if out != nil {
		if len(raw) == 0 {
			raw = []byte("null")
		}
		if err := json.Unmarshal(raw, out); err != nil {
			tab.fail(what, fmt.Errorf("decoding %s: %w", abbreviate(string(raw), 200), err))
		}
	}
}

func (tab *Tab) evalString(what, expr string) string {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, tab.timeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		tab.fail(what, err)
	}
	return s
}

// Location returns the URL of the page.
func (tab *Tab) Location() string {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, tab.timeout)
	defer cancel()
	loc, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil {
		tab.fail("Location()", err)
	}
	return loc
}

// Title returns the title of the page.
func (tab *Tab) Title() string {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, tab.timeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Title())
	if err != nil {
		tab.fail("Title()", err)
	}
	return s
}

// HTML returns the current HTML of the whole document (as the DOM holds it
// now, not as the server sent it).
func (tab *Tab) HTML() string {
	tab.t.Helper()
	return tab.evalString("HTML()", `document.documentElement.outerHTML`)
}

// Screenshot saves a full-page PNG of the tab as <TestName>-<name>.png in
// $PREAU_SCREENSHOTS (default: screenshots/ at the module root) and returns
// its path.
func (tab *Tab) Screenshot(name string) string {
	tab.t.Helper()
	p, err := tab.saveScreenshot(name, false)
	if err != nil {
		tab.fail(fmt.Sprintf("Screenshot(%q)", name), err)
	}
	return p
}

func (tab *Tab) saveScreenshot(name string, failure bool) (string, error) {
	dir, err := ScreenshotDir()
	if err != nil {
		return "", err
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	timeout := tab.timeout
	if failure {
		timeout = 5 * time.Second
		failures.Lock()
		failures.n[tab.t.Name()]++
		n := failures.n[tab.t.Name()]
		failures.Unlock()
		if n > 1 {
			name = fmt.Sprintf("%s-%d", name, n)
		}
	}
	ctx, cancel := context.WithTimeout(tab.ctx, timeout)
	defer cancel()
	buf, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		return "", err
	}
	p := filepath.Join(dir, fileName(tab.t.Name())+"-"+fileName(name)+".png")
	if err := os.WriteFile(p, buf, 0o644); err != nil {
		return "", err
	}
	return p, nil
}

// fileName makes a test or screenshot name safe as a file name: subtests'
// slashes and anything but letters, digits, '.', '_' and '-' become '_'.
func fileName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '_', r == '-':
			return r
		}
		return '_'
	}, s)
}

// HostURL returns serverURL (such as httptest.Server.URL) with its host
// replaced by host and its port kept: HostURL("http://127.0.0.1:41234",
// "0750001a.localhost") is "http://0750001a.localhost:41234". Chromium resolves
// every *.localhost name to loopback, so the request reaches the test server
// with that Host.
func HostURL(serverURL, host string) string {
	u, err := url.Parse(serverURL)
	if err != nil || u.Host == "" {
		panic(fmt.Sprintf("browsertest.HostURL: not a server URL: %q", serverURL))
	}
	if port := u.Port(); port != "" {
		u.Host = net.JoinHostPort(host, port)
	} else {
		u.Host = host
	}
	return u.String()
}

// ModuleRoot returns the directory of the go.mod above the working directory
// (go test runs in the package's directory).
func ModuleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("no go.mod above the working directory")
		}
		dir = parent
	}
}

// ScreenshotDir returns $PREAU_SCREENSHOTS, or screenshots/ at the module
// root.
func ScreenshotDir() (string, error) {
	if d := os.Getenv("PREAU_SCREENSHOTS"); d != "" {
		return d, nil
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "screenshots"), nil
}

func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func abbreviate(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// limitedBuffer keeps the first max bytes written to it.
type limitedBuffer struct {
	mu  sync.Mutex
	max int
	buf bytes.Buffer
}

func (w *limitedBuffer) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if room := w.max - w.buf.Len(); room > 0 {
		if len(p) > room {
			w.buf.Write(p[:room])
		} else {
			w.buf.Write(p)
		}
	}
	return len(p), nil
}

func (w *limitedBuffer) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}
