package web

import (
	"net/http"

	"github.com/preau-ent/preau/internal/aaf"
	"github.com/preau-ent/preau/internal/platform/actor"
)

type adminImportsData struct {
	Nav     adminNav
	Reports []aaf.Report
	Grace   int // days
	Purge   int // days
}

// adminImports lists the directory imports, newest first: all of them to a super
// administrator, those that covered their structures to a local administrator.
func (s *Server) adminImports(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	reports, err := s.svc.AAF.Reports(ctx, a, aaf.ReportFilter{Limit: 100})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	nav, err := s.nav(r, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	o := s.svc.AAF.Options()
	p := s.page(r, "admin.imports.title", adminImportsData{Nav: nav, Reports: reports,
		Grace: int(o.Grace.Hours() / 24), Purge: int(o.PurgeAfter.Hours() / 24)})
	s.render(w, r, http.StatusOK, "admin_imports", p)
}

type adminImportData struct {
	Nav    adminNav
	Report aaf.Report
}

// adminImport shows one import report with its rejected records and warnings (a local
// administrator sees those about their structures).
func (s *Server) adminImport(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	rep, err := s.svc.AAF.Report(ctx, a, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	nav, err := s.nav(r, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "admin_import", s.page(r, "admin.imports.report_title", adminImportData{Nav: nav, Report: rep}))
}

// adminCloseYear closes the school year: of one structure (its administrators), or
// of the whole deployment (super administrators), after an explicit confirmation.
func (s *Server) adminCloseYear(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	structureID := r.PostForm.Get("structure")
	back := "/admin/imports"
	if structureID != "" {
		back = "/admin/structures/" + structureID
	}
	if r.PostForm.Get("confirmer") != "oui" {
		s.fail(w, r, actor.Invalid("confirmer", "admin.rollover.confirm_required"))
		return
	}
	_, err := s.svc.AAF.CloseSchoolYear(r.Context(), actorOf(r), structureID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, "admin.rollover.done")
	http.Redirect(w, r, back, http.StatusSeeOther)
}
