// Package web holds what Préau serves that is not Go: templates, static assets and
// the message catalogs, embedded in the binary.
package web

import "embed"

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
