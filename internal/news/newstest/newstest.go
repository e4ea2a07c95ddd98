// Package newstest holds what the tests of published content share: hostile HTML
// inputs and the check that a page carries none of what could run script.
package newstest

import (
	"regexp"
	"strings"
)

// Hostile are HTML inputs that try to run script in a page.
var Hostile = []string{
	`<script>alert(1)</script>`,
	`<img src=x onerror=alert(1)>`,
	`<a href="javascript:alert(1)">x</a>`,
	`<a href="JaVaScRiPt:alert(1)">x</a>`,
	`<a href="&#106;avascript:alert(1)">x</a>`,
	`<svg><script>alert(1)</script></svg>`,
	`<svg onload=alert(1)>`,
	`<iframe src="javascript:alert(1)"></iframe>`,
	`<math><mtext><table><mglyph><style><img src=x onerror=alert(1)></style></mglyph></table></mtext></math>`,
	`<p style="background:url(javascript:alert(1))">x</p>`,
	`<object data="data:text/html,<script>alert(1)</script>"></object>`,
	`<img src="data:image/svg+xml,<svg onload=alert(1)>">`,
	`<a href="//evil.example/">x</a>`,
	`<form action="javascript:alert(1)"><button>x</button></form>`,
	`<div onmouseover="alert(1)">x</div>`,
	`"><script>alert(1)</script>`,
	`<scr<script>ipt>alert(1)</script>`,
	`<base href="javascript:alert(1)//">`,
	`<meta http-equiv="refresh" content="0;url=javascript:alert(1)">`,
	`<details open ontoggle=alert(1)>`,
}

// Unsafe reports what in h could run script.
func Unsafe(h string) string {
	low := strings.ToLower(h)
	for _, bad := range []string{"<script", "javascript:", "onerror", "onload", "onmouseover", "ontoggle", "<iframe", "<object", "<svg", "<base", "<meta", "<form", "<style", "data:", `href="//`} {
		if strings.Contains(low, bad) {
			return bad
		}
	}
	return ""
}

var (
	handler = regexp.MustCompile(`(?i)<[^>]*\son[a-z]+\s*=`)
	jsURL   = regexp.MustCompile(`(?i)<[^>]*\s(href|src|action|formaction|data|content|style)\s*=\s*["']?[^"'>]*javascript:`)
)

// UnsafePage reports what in a whole rendered page could run script: script
// elements, event handler attributes, javascript: URLs, frames, objects, base
// elements (text that only reads like them is harmless). The pages under test carry
// no script of their own.
func UnsafePage(page string) string {
	low := strings.ToLower(page)
	for _, bad := range []string{"<script", "<iframe", "<object", "<embed", "<base", "<svg onload", "<meta http-equiv"} {
		if strings.Contains(low, bad) {
			return bad
		}
	}
	for _, re := range []*regexp.Regexp{handler, jsURL} {
		if m := re.FindString(page); m != "" {
			return m
		}
	}
	return ""
}
