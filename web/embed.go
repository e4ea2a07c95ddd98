// Package web holds what Préau serves that is not Go: templates, static assets and
// the message catalogs, embedded in the binary.
package web

import (
	"embed"
	"io/fs"

	"github.com/preau-ent/preau/internal/platform/i18n"
)

// Templates are the html/template files.
//
//go:embed templates
var Templates embed.FS

// Static are the CSS, icons and the small script, served under /static/.
//
//go:embed static
var Static embed.FS

// I18n are the catalogs, one folder per language.
//
//go:embed i18n
var I18n embed.FS

// Catalog loads the embedded message catalogs.
func Catalog() (*i18n.Catalog, error) {
	sub, err := fs.Sub(I18n, "i18n")
	if err != nil {
		return nil, err
	}
	return i18n.Load(sub)
}
