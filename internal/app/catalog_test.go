package app

import (
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/platform/i18n"
	assets "github.com/preau-ent/preau/web"
)

// Every key a template names must exist in French and in English, and both catalogs
// must hold the same keys.
func TestCatalogCoversTemplates(t *testing.T) {
	c := loadCatalog(t)
	keyRE := regexp.MustCompile(`\.([TN]) "([a-z_]+\.[A-Za-z_.]+)"`)
	err := fs.WalkDir(assets.Templates, ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(assets.Templates, path)
		if err != nil {
			return err
		}
		for _, m := range keyRE.FindAllStringSubmatch(string(b), -1) {
			keys := []string{m[2]}
			if m[1] == "N" { // a counted phrase has its two forms
				keys = []string{m[2] + ".one", m[2] + ".other"}
			}
			for _, k := range keys {
				for _, lang := range i18n.Languages {
					if !c.Has(lang, k) {
						t.Errorf("%s: key %q missing in %s", path, k, lang)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range c.Keys("fr") {
		if !c.Has("en", k) {
			t.Errorf("key %q has no English text", k)
		}
	}
	for _, k := range c.Keys("en") {
		if !c.Has("fr", k) {
			t.Errorf("key %q has no French text", k)
		}
	}
}

func loadCatalog(t *testing.T) *i18n.Catalog {
	t.Helper()
	sub, err := fs.Sub(assets.I18n, "i18n")
	if err != nil {
		t.Fatal(err)
	}
	c, err := i18n.Load(sub)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// Every message key named in Go code — service validation errors, flashes, error
// pages, translations — must exist in both catalogs: a missing key would show its raw
// name to a pupil or a parent.
func TestGoMessageKeysExist(t *testing.T) {
	c := loadCatalog(t)
	patterns := []*regexp.Regexp{
		regexp.MustCompile(`Invalid\("[^"]*", "([^"]+)"\)`),
		regexp.MustCompile(`\.T\("([^"%]+)"`),
		regexp.MustCompile(`errorPage\([^,]+, [^,]+, [^,]+, "([^"]+)"\)`),
		regexp.MustCompile(`apiError\([^,]+, [^,]+, [^,]+, "[^"]+", "([^"]+)"\)`),
		regexp.MustCompile(`flash\(w, "([^"]+)"\)`),
	}
	root := filepath.Join("..")
	checked := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for _, re := range patterns {
			for _, m := range re.FindAllStringSubmatch(string(b), -1) {
				checked++
				for _, lang := range i18n.Languages {
					if !c.Has(lang, m[1]) {
						t.Errorf("%s: key %q missing in %s", path, m[1], lang)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 50 {
		t.Fatalf("only %d keys found: the patterns no longer match the code", checked)
	}
}
