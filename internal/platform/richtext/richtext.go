// Package richtext makes user-written HTML (news, blog posts, forum messages, pages)
// safe to store and show: content is sanitized on the way in with an allow-list of
// elements and attributes, and the templates still treat everything else as text.
// The allow-list is what an accessible editor produces: structure (headings, lists,
// quotes, tables), emphasis, links and images; never scripts, styles, frames, forms
// or event handlers.
package richtext

import (
	"html"
	"html/template"
	"regexp"
	"strings"

	"github.com/microcosm-cc/bluemonday"
)

// HTML is sanitized HTML, safe to put in a page as it is.
type HTML string

// Template gives the value to html/template without escaping it again: only
// Sanitize makes an HTML, so nothing unsanitized can take this way.
func (h HTML) Template() template.HTML { return template.HTML(h) }

var policy = newPolicy()

func newPolicy() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	// Headings start at h2: the page's own h1 is the title of the content.
	p.AllowElements("h2", "h3", "h4", "p", "br", "hr", "blockquote", "pre", "code",
		"strong", "em", "b", "i", "u", "s", "sub", "sup", "mark", "small",
		"ul", "ol", "li", "dl", "dt", "dd", "figure", "figcaption",
		"table", "caption", "thead", "tbody", "tfoot", "tr")
	p.AllowAttrs("scope").Matching(regexp.MustCompile(`^(row|col|rowgroup|colgroup)$`)).OnElements("th")
	p.AllowAttrs("colspan", "rowspan").Matching(bluemonday.Integer).OnElements("td", "th")
	p.AllowElements("td", "th")
	p.AllowAttrs("start").Matching(bluemonday.Integer).OnElements("ol")
	p.AllowAttrs("lang").Matching(regexp.MustCompile(`^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})?$`)).Globally()

	// Links: web and mail addresses, and paths inside Préau; no javascript:, data:
	// or protocol-relative tricks. Links to other sites open no door back to the page.
	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("https", "http", "mailto")
	p.AllowRelativeURLs(true)
	p.RequireParseableURLs(true)
	p.RequireNoFollowOnFullyQualifiedLinks(true)
	p.RequireNoReferrerOnFullyQualifiedLinks(true)
	p.AddTargetBlankToFullyQualifiedLinks(false)

	// Images: their text alternative is kept; sizes are numbers.
	p.AllowAttrs("src", "alt").OnElements("img")
	p.AllowAttrs("width", "height").Matching(bluemonday.Integer).OnElements("img")
	// No data: images (not in the schemes above): they would escape the upload size
	// limits and the scan of uploaded files.
	return p
}

// protocolRelative matches "//host/…", which a relative-URL allow-list would let
// through as a path while browsers read it as another site.
var protocolRelative = regexp.MustCompile(`(?i)(href|src)\s*=\s*("|')?\s*(/|\\){2}`)

// Sanitize returns the safe form of user HTML.
func Sanitize(s string) HTML {
	out := policy.Sanitize(s)
	out = protocolRelative.ReplaceAllString(out, `$1=$2#`)
	return HTML(strings.TrimSpace(out))
}

// FromText turns plain text into HTML paragraphs: blank lines separate paragraphs,
// single line breaks are kept.
func FromText(s string) HTML {
	var b strings.Builder
	for _, para := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n\n") {
		para = strings.TrimSpace(para)
		if para == "" {
			continue
		}
		b.WriteString("<p>")
		b.WriteString(strings.ReplaceAll(html.EscapeString(para), "\n", "<br>"))
		b.WriteString("</p>")
	}
	return HTML(b.String())
}

// Text is the content without markup, for search indexes, summaries, feeds' plain
// parts and notifications.
func Text(h HTML) string {
	stripped := bluemonday.StrictPolicy().Sanitize(strings.NewReplacer("<br>", "\n", "</p>", "\n\n", "</li>", "\n", "</h2>", "\n\n", "</h3>", "\n\n", "</h4>", "\n\n").Replace(string(h)))
	return strings.TrimSpace(html.UnescapeString(stripped))
}

// Summary is the first n runes of the text, cut on a word, with an ellipsis.
func Summary(h HTML, n int) string {
	t := strings.Join(strings.Fields(Text(h)), " ")
	r := []rune(t)
	if len(r) <= n {
		return t
	}
	cut := string(r[:n])
	if i := strings.LastIndexByte(cut, ' '); i > n/2 {
		cut = cut[:i]
	}
	return strings.TrimRight(cut, " ,;:.") + "…"
}
