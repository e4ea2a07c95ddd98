package browsertest

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// A11yTags are the axe-core rule tags that CheckA11y runs: WCAG 2.0 and 2.1,
// levels A and AA (what RGAA 4 asks).
var A11yTags = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

// a11yTimeout is the least time given to one axe-core run.
const a11yTimeout = 30 * time.Second

// Violation is one axe-core rule that the page breaks.
type Violation struct {
	ID      string   `json:"id"`     // rule id, such as "image-alt"
	Impact  string   `json:"impact"` // "minor", "moderate", "serious" or "critical"
	Help    string   `json:"help"`
	HelpURL string   `json:"helpUrl"`
	Targets []string `json:"targets"` // CSS selectors of the elements at fault
	HTML    []string `json:"html"`    // their HTML, abbreviated by axe
}

// Blocking reports whether the violation fails CheckA11y: its impact is
// serious or critical.
func (v Violation) Blocking() bool {
	return v.Impact == "serious" || v.Impact == "critical"
}

func (v Violation) String() string {
	targets := v.Targets
	more := ""
	if len(targets) > 3 {
		more = fmt.Sprintf(" and %d more", len(targets)-3)
		targets = targets[:3]
	}
	return fmt.Sprintf("%s (%s): %s; at %s%s", v.ID, v.Impact, v.Help, strings.Join(targets, ", "), more)
}

// ErrNoAxe is returned by A11yViolations when the axe-core script is missing.
var ErrNoAxe = errors.New("axe-core not found")

// AxePath returns the path of axe.min.js: $PREAU_AXE, or
// web/testdata/a11y/node_modules/axe-core/axe.min.js under the module root.
func AxePath() (string, error) {
	if p := os.Getenv("PREAU_AXE"); p != "" {
		return p, nil
	}
	root, err := ModuleRoot()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "web", "testdata", "a11y", "node_modules", "axe-core", "axe.min.js"), nil
}

var axeCache struct {
	sync.Mutex
	path string
	src  string
}

func axeSource() (string, error) {
	p, err := AxePath()
	if err != nil {
		return "", err
	}
	axeCache.Lock()
	defer axeCache.Unlock()
	if axeCache.path == p {
		return axeCache.src, nil
	}
	b, err := os.ReadFile(p)
	if err != nil {
		return "", fmt.Errorf("%w: %v (install it with `npm ci --prefix web/testdata/a11y`, or set PREAU_AXE)", ErrNoAxe, err)
	}
	axeCache.path, axeCache.src = p, string(b)
	return axeCache.src, nil
}

// axeRunJS runs axe on the document with the WCAG A/AA tags and returns the
// violations in the shape of Violation.
const axeRunJS = `axe.run(document, {runOnly: {type: "tag", values: %s}, resultTypes: ["violations"]}).then(r =>
	r.violations.map(v => ({
		id: v.id,
		impact: v.impact || "",
		help: v.help,
		helpUrl: v.helpUrl,
		targets: v.nodes.map(n => n.target.map(t => Array.isArray(t) ? t.join(" >>> ") : String(t)).join(" ")),
		html: v.nodes.map(n => n.html),
	})))`

// A11yViolations injects axe-core into the page (once per document) and runs
// it with the A11yTags. It returns every violation, whatever its impact. It
// returns an error wrapping ErrNoAxe when the axe-core script is missing.
func (tab *Tab) A11yViolations() ([]Violation, error) {
	src, err := axeSource()
	if err != nil {
		return nil, err
	}
	timeout := max(tab.timeout, a11yTimeout)
	ctx, cancel := context.WithTimeout(tab.ctx, timeout)
	defer cancel()
	loaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`typeof window.axe === "object" && typeof window.axe.run === "function"`))
	if err != nil {
		return nil, fmt.Errorf("checking for axe-core: %w", err)
	}
	if !loaded {
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](src+"\n;void 0")); err != nil {
			return nil, fmt.Errorf("injecting axe-core: %w", err)
		}
	}
	vs, err := chromedp.Run(ctx, chromedp.Evaluate[[]Violation](
		fmt.Sprintf(axeRunJS, jsStrings(A11yTags)), chromedp.EvalAwaitPromise))
	if err != nil {
		return nil, fmt.Errorf("running axe-core: %w", err)
	}
	return vs, nil
}

// CheckA11y checks the page with axe-core (WCAG 2.1 A and AA rules) and fails
// t, listing them, if it finds any serious or critical violation; minor and
// moderate ones are logged. Without axe-core, the test is skipped, or fails
// when CI=true. t is usually the tab's test; it may be a subtest.
func (tab *Tab) CheckA11y(t testing.TB) {
	t.Helper()
	vs, err := tab.A11yViolations()
	if errors.Is(err, ErrNoAxe) {
		if InCI() {
			t.Fatalf("browsertest: CheckA11y: %v; CI=true, so the accessibility check may not skip", err)
		}
		t.Skipf("browsertest: CheckA11y: skipping: %v", err)
	}
	if err != nil {
		tab.WithT(t).fail("CheckA11y", err)
	}
	var blocking []string
	for _, v := range vs {
		if v.Blocking() {
			blocking = append(blocking, v.String())
		} else {
			t.Logf("browsertest: CheckA11y at %s: %s", tab.currentURL(), v)
		}
	}
	if len(blocking) > 0 {
		t.Errorf("browsertest: CheckA11y at %s: %d serious or critical accessibility violation(s):\n\t%s",
			tab.currentURL(), len(blocking), strings.Join(blocking, "\n\t"))
	}
}

func jsStrings(ss []string) string {
	q := make([]string, len(ss))
	for i, s := range ss {
		q[i] = jsString(s)
	}
	return "[" + strings.Join(q, ", ") + "]"
}
