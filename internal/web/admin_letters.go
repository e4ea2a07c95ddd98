package web

import (
	"bytes"
	"net/http"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/letters"
)

type adminLettersData struct {
	Nav       adminNav
	Structure directory.Structure
	Classes   []option
	For       []option
}

// adminLetters shows the form that prints a structure's activation letters.
func (s *Server) adminLetters(w http.ResponseWriter, r *http.Request) {
	s.lettersPage(w, r, http.StatusOK, s.page(r, "admin.letters.title", nil))
}

func (s *Server) lettersPage(w http.ResponseWriter, r *http.Request, status int, p Page) {
	st, nav, err := s.administered(r, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	classes, err := s.svc.Directory.Groups(r.Context(), st.ID, directory.GroupClass)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := adminLettersData{Nav: nav, Structure: st, Classes: []option{{Value: "", Key: "admin.letters.all_classes"}},
		For: []option{{Value: letters.ForBoth, Key: "admin.letters.for_both"}, {Value: letters.ForPupils, Key: "admin.letters.for_pupils"},
			{Value: letters.ForResponsables, Key: "admin.letters.for_responsables"}}}
	for _, g := range classes {
		if !g.Archived {
			d.Classes = append(d.Classes, option{Value: g.ID, Label: g.Name})
		}
	}
	p.Title = p.L.T("admin.letters.title")
	p.Data = d
	s.render(w, r, status, "admin_letters", p)
}

// adminPrintLetters issues the codes and sends the letters as a PDF to print.
func (s *Server) adminPrintLetters(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, id := r.Context(), r.PathValue("id")
	list, err := s.svc.Letters.Prepare(ctx, actorOf(r), id, r.PostForm.Get("classe"), r.PostForm.Get("pour"))
	if errs, ok := formErrors(r, err); ok {
		p := s.page(r, "", nil)
		p.Errors, p.Form = errs, r.PostForm
		s.lettersPage(w, r, http.StatusBadRequest, p)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	school, err := s.svc.Directory.Structure(ctx, id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	scheme := "http"
	if r.TLS != nil || s.opt.SecureCookies {
		scheme = "https"
	}
	var buf bytes.Buffer
	if err := letters.Render(&buf, list, letters.Page{Deployment: st(r).portal.Name, School: school.Name,
		PortalURL:  scheme + "://" + strings.TrimSuffix(r.Host, "."),
		ValidUntil: time.Now().Add(s.svc.Accounts.Config().ActivationValidity)}, true); err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", `attachment; filename="lettres-activation.pdf"`)
	w.Header().Set("Cache-Control", "no-store")
	w.Write(buf.Bytes())
}
