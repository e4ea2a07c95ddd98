package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/preau-ent/preau/internal/platform/actor"
)

type legalData struct {
	Paragraphs []string
}

// legalNotice shows the portal's legal notice with its publication director; it is
// public, as the law requires.
func (s *Server) legalNotice(w http.ResponseWriter, r *http.Request) {
	var paras []string
	for _, para := range strings.Split(strings.ReplaceAll(st(r).portal.LegalNotice, "\r\n", "\n"), "\n\n") {
		if t := strings.TrimSpace(para); t != "" {
			paras = append(paras, t)
		}
	}
	s.render(w, r, http.StatusOK, "legal", s.page(r, "legal.title", legalData{Paragraphs: paras}))
}

func (s *Server) portalLogo(w http.ResponseWriter, r *http.Request) {
	data, ct, err := s.svc.Portals.Logo(r.Context(), r.PathValue("id"))
	if errors.Is(err, actor.ErrNotFound) {
		http.NotFound(w, r)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Write(data)
}

// portalTheme serves the portal's colours as CSS custom properties; the colours are
// validated as #rrggbb on the way in, and kept readable under white text.
func (s *Server) portalTheme(w http.ResponseWriter, r *http.Request) {
	p := st(r).portal
	w.Header().Set("Content-Type", "text/css; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	fmt.Fprintf(w, ":root{--primary:%s;--accent:%s}\n", p.ColorPrimary, p.ColorAccent)
}
