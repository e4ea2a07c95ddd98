package web

import (
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

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

// uploadLimit bounds an uploaded AAF export: the exports of a large académie are
// hundreds of megabytes; files are streamed to disk, never held in memory.
const uploadLimit = 4 << 30

// uploadPath is where the console sends export files.
const uploadPath = "/admin/imports/televersement"

// adminUpload receives the files of an export, streams them to a temporary folder
// and starts the import in the background; the answer is the job's page.
func (s *Server) adminUpload(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	if ok, err := s.svc.Rights.IsSuperAdmin(ctx, a); err != nil || !ok {
		if err == nil {
			err = actor.ErrForbidden
		}
		s.fail(w, r, err)
		return
	}
	mr, err := r.MultipartReader()
	if err != nil {
		s.fail(w, r, actor.Invalid("fichiers", "admin.imports.upload_none"))
		return
	}
	dir, err := os.MkdirTemp("", "preau-aaf-")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	started := false
	defer func() {
		if !started {
			os.RemoveAll(dir)
		}
	}()
	n := 0
	for {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		name := filepath.Base(part.FileName())
		if part.FormName() != "fichiers" || part.FileName() == "" {
			part.Close()
			continue
		}
		if name == "." || name == string(filepath.Separator) || strings.HasPrefix(name, ".") {
			s.fail(w, r, actor.Invalid("fichiers", "admin.imports.upload_bad_name"))
			return
		}
		f, err := os.OpenFile(filepath.Join(dir, name), os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
		if err != nil {
			s.fail(w, r, actor.Invalid("fichiers", "admin.imports.upload_bad_name"))
			return
		}
		_, err = io.Copy(f, part)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		part.Close()
		if err != nil {
			s.fail(w, r, err)
			return
		}
		n++
	}
	if n == 0 {
		s.fail(w, r, actor.Invalid("fichiers", "admin.imports.upload_none"))
		return
	}
	id, err := s.svc.AAF.Start(ctx, a, dir)
	if errors.Is(err, aaf.ErrPlan) || (err != nil && strings.Contains(err.Error(), "aucun fichier d'export")) {
		s.fail(w, r, actor.Invalid("fichiers", "admin.imports.upload_not_export"))
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	started = true
	http.Redirect(w, r, "/admin/imports/taches/"+id, http.StatusSeeOther)
}

type adminJobData struct {
	Nav adminNav
	Job aaf.Job
}

// adminJob shows a background import's progress (the page's script refreshes it).
func (s *Server) adminJob(w http.ResponseWriter, r *http.Request) {
	job, err := s.svc.AAF.Job(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	nav, err := s.nav(r, nil)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The page's heading says where the import is: the script reloads the page
	// when it ends.
	title := "admin.imports.job_title"
	switch job.Status {
	case aaf.JobDone:
		title = "admin.imports.job_title_done"
	case aaf.JobFailed:
		title = "admin.imports.job_title_failed"
	}
	s.render(w, r, http.StatusOK, "admin_job", s.page(r, title, adminJobData{Nav: nav, Job: job}))
}

// adminJobJSON is the progress the page's script polls.
func (s *Server) adminJobJSON(w http.ResponseWriter, r *http.Request) {
	job, err := s.svc.AAF.Job(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": job.Status, "files_done": job.FilesDone, "files_total": job.FilesTotal,
		"report": job.ReportID, "error": job.Error})
}
