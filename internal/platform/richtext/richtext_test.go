package richtext

import (
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// Hostile inputs, from the usual cheat sheets: none may leave a way to run script,
// load a frame or style, or send the reader to another site through a relative-looking
// address.
func TestSanitizeHostileInputs(t *testing.T) {
	hostile := []string{
		`<script>alert(1)</script>`,
		`<SCRIPT SRC=//evil.example/x.js></SCRIPT>`,
		`<img src=x onerror=alert(1)>`,
		`<img src="javascript:alert(1)">`,
		`<img src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">`,
		`<a href="javascript:alert(1)">x</a>`,
		`<a href="JaVaScRiPt:alert(1)">x</a>`,
		`<a href="java&#x09;script:alert(1)">x</a>`,
		`<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>`,
		`<a href="vbscript:msgbox(1)">x</a>`,
		`<a href="data:text/html,<script>alert(1)</script>">x</a>`,
		`<svg onload=alert(1)>`,
		`<svg><script>alert(1)</script></svg>`,
		`<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>`,
		`<iframe src="https://evil.example"></iframe>`,
		`<object data="x.swf"></object><embed src="x.swf">`,
		`<form action="https://evil.example"><input name=p></form>`,
		`<p style="background:url(javascript:alert(1))">x</p>`,
		`<style>body{display:none}</style>`,
		`<link rel=stylesheet href=https://evil.example/x.css>`,
		`<meta http-equiv="refresh" content="0;url=https://evil.example">`,
		`<base href="https://evil.example/">`,
		`<div onmouseover="alert(1)">x</div>`,
		`<p onclick=alert(1)>x</p>`,
		`<a href="//evil.example/">x</a>`,
		`<a href="/\evil.example/">x</a>`,
		`<a href="\\evil.example/">x</a>`,
		`<img src="//evil.example/track.gif">`,
		`<<script>script>alert(1)<</script>/script>`,
		`<noscript><p title="</noscript><img src=x onerror=alert(1)>">`,
		`<template><script>alert(1)</script></template>`,
		`<details open ontoggle=alert(1)>`,
		`<a href="https://ok.example" target="_top" onclick="x()">ok</a>`,
		"<img src=`x`onerror=alert(1)>",
		`<body onload=alert(1)>`,
		`"><script>alert(1)</script>`,
		`<input autofocus onfocus=alert(1)>`,
		`<video><source onerror="alert(1)">`,
		`<a href="https://ok.example/?q=<script>">ok</a>`,
	}
	for _, in := range hostile {
		out := string(Sanitize(in))
		if problem := unsafe(out); problem != "" {
			t.Errorf("Sanitize(%q) = %q: %s", in, out, problem)
		}
	}
}

// allowed are the elements the policy lets through.
var allowed = map[string]bool{}

func init() {
	for _, e := range strings.Fields(`h2 h3 h4 p br hr blockquote pre code strong em b i u s sub sup mark small
		ul ol li dl dt dd figure figcaption table caption thead tbody tfoot tr td th a img`) {
		allowed[e] = true
	}
}

// unsafe reads sanitized HTML as a browser would and says what is wrong with it: an
// element outside the allow-list, an event handler or style attribute, or an address
// that runs script, carries data or leaves for another site while looking relative.
func unsafe(s string) string {
	z := html.NewTokenizer(strings.NewReader(s))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return ""
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			if !allowed[tok.Data] {
				return "element " + tok.Data
			}
			for _, a := range tok.Attr {
				k := strings.ToLower(a.Key)
				if strings.HasPrefix(k, "on") || k == "style" || k == "srcdoc" || k == "formaction" {
					return "attribute " + k
				}
				if k == "href" || k == "src" {
					v := strings.ToLower(strings.TrimSpace(a.Val))
					if u, err := url.Parse(v); err == nil && u.Scheme != "" && u.Scheme != "http" && u.Scheme != "https" && u.Scheme != "mailto" {
						return "scheme " + u.Scheme
					}
					if strings.HasPrefix(v, "//") || strings.HasPrefix(v, `\`) || strings.HasPrefix(v, `/\`) || strings.HasPrefix(v, `\/`) {
						return "protocol-relative " + v
					}
				}
			}
		}
	}
}

func TestSanitizeKeepsWhatEditorsMake(t *testing.T) {
	in := `<h2>Sortie au musée</h2><p>Le <strong>jeudi 12</strong>, la classe de <em>4e A</em> visite le
<a href="https://musee.example/expo">musée</a>. Voir <a href="/blogs/4ea">le blog</a>.</p>
<ul><li>Pique-nique</li><li>Carnet</li></ul><img src="/fichiers/abc" alt="Affiche" width="300">
<table><caption>Horaires</caption><tr><th scope="col">Départ</th></tr><tr><td>8 h</td></tr></table>`
	out := string(Sanitize(in))
	for _, want := range []string{`<h2>Sortie au musée</h2>`, `<strong>jeudi 12</strong>`, `<em>4e A</em>`,
		`href="https://musee.example/expo"`, `rel="nofollow noreferrer"`, `<a href="/blogs/4ea">`, `<li>Pique-nique</li>`,
		`<img src="/fichiers/abc" alt="Affiche" width="300">`, `<caption>Horaires</caption>`, `<th scope="col">`} {
		if !strings.Contains(out, want) {
			t.Errorf("lost %q in %q", want, out)
		}
	}
}

func TestTextSummaryAndFromText(t *testing.T) {
	h := Sanitize(`<h2>Réunion</h2><p>Parents &amp; professeurs : mardi à 18 h.</p><ul><li>Salle 12</li></ul>`)
	if got := Text(h); got != "Réunion\n\nParents & professeurs : mardi à 18 h.\n\nSalle 12" {
		t.Errorf("Text = %q", got)
	}
	if got := Summary(h, 30); got != "Réunion Parents & professeurs…" {
		t.Errorf("Summary = %q", got)
	}
	if got := string(FromText("Bonjour <b>tous</b>,\nà demain.\n\nCordialement")); got != "<p>Bonjour &lt;b&gt;tous&lt;/b&gt;,<br>à demain.</p><p>Cordialement</p>" {
		t.Errorf("FromText = %q", got)
	}
}

// The checker itself must see what it looks for, or the test above proves nothing.
func TestCheckerCatchesRawInputs(t *testing.T) {
	for _, raw := range []string{`<img src=x onerror=alert(1)>`, `<a href="javascript:alert(1)">x</a>`,
		`<a href="//evil.example/">x</a>`, `<iframe></iframe>`, `<p style="x">x</p>`, `<img src="data:image/png;base64,AA">`} {
		if unsafe(raw) == "" {
			t.Errorf("checker missed %q", raw)
		}
	}
}
