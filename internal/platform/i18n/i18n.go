// Package i18n holds the message catalogs: French first, English second. Every
// user-facing string goes through it.
package i18n

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"path"
	"sort"
	"strings"
	"sync"
)

// Languages in order of preference; the first is the default.
var Languages = []string{"fr", "en"}

// Catalog is every message in every language.
type Catalog struct {
	messages map[string]map[string]string // lang → key → text
	warned   sync.Map
}

// Load reads <lang>/*.json files (flat objects key → text) from fsys. Splitting a
// language into several files lets each service keep its own strings.
func Load(fsys fs.FS) (*Catalog, error) {
	c := &Catalog{messages: map[string]map[string]string{}}
	for _, lang := range Languages {
		c.messages[lang] = map[string]string{}
		files, err := fs.Glob(fsys, lang+"/*.json")
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			b, err := fs.ReadFile(fsys, f)
			if err != nil {
				return nil, err
			}
			var m map[string]string
			if err := json.Unmarshal(b, &m); err != nil {
				return nil, fmt.Errorf("%s: %w", path.Base(f), err)
			}
			for k, v := range m {
				if _, dup := c.messages[lang][k]; dup {
					return nil, fmt.Errorf("%s: clé %q en double", f, k)
				}
				c.messages[lang][k] = v
			}
		}
	}
	return c, nil
}

// Keys lists the keys of a language, sorted (for the catalog's own tests).
func (c *Catalog) Keys(lang string) []string {
	var out []string
	for k := range c.messages[lang] {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Has tells whether the key exists in the language.
func (c *Catalog) Has(lang, key string) bool {
	_, ok := c.messages[lang][key]
	return ok
}

// Match picks the best supported language from an Accept-Language header.
func Match(acceptLanguage string) string {
	best, bestQ := Languages[0], -1.0
	for _, part := range strings.Split(acceptLanguage, ",") {
		tag, q := strings.TrimSpace(part), 1.0
		if i := strings.Index(tag, ";"); i >= 0 {
			fmt.Sscanf(strings.TrimPrefix(strings.TrimSpace(tag[i+1:]), "q="), "%g", &q)
			tag = tag[:i]
		}
		base := strings.ToLower(strings.SplitN(tag, "-", 2)[0])
		for _, l := range Languages {
			if l == base && q > bestQ {
				best, bestQ = l, q
			}
		}
	}
	return best
}

// Supported tells whether lang is one of Languages.
func Supported(lang string) bool {
	for _, l := range Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// Localizer translates for one language.
type Localizer struct {
	Lang string
	c    *Catalog
}

// For returns the localizer of a language (the default for an unsupported one).
func (c *Catalog) For(lang string) *Localizer {
	if !Supported(lang) {
		lang = Languages[0]
	}
	return &Localizer{Lang: lang, c: c}
}

// N returns the text of a counted phrase: key.one or key.other by the language's
// plural rule (in French 0 and 1 take the singular, in English only 1), formatted
// with n and then args.
func (l *Localizer) N(key string, n int, args ...any) string {
	form := ".other"
	if n == 1 || (n == 0 && l.Lang == "fr") {
		form = ".one"
	}
	return l.T(key+form, append([]any{n}, args...)...)
}

// T returns the text of key, formatted with args (fmt verbs) when there are any.
// A key missing in English falls back to French; a key missing everywhere shows
// itself, and is logged once.
func (l *Localizer) T(key string, args ...any) string {
	msg, ok := l.c.messages[l.Lang][key]
	if !ok {
		msg, ok = l.c.messages[Languages[0]][key]
	}
	if !ok {
		if _, seen := l.c.warned.LoadOrStore(key, true); !seen {
			slog.Warn("i18n: clé absente du catalogue", "key", key)
		}
		return key
	}
	if len(args) > 0 {
		return fmt.Sprintf(msg, args...)
	}
	return msg
}
