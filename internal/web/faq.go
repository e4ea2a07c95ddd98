package web

import (
	"net/http"
	"slices"
	"strconv"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/faq"
	"github.com/preau-ent/preau/internal/platform/actor"
)

// The FAQ of a structure: /faq reads it (public entries without signing in, on the
// portal's structure), and its editors add and delete categories and entries there.
func (s *Server) faqRoutes(mux *http.ServeMux) {
	if s.svc.FAQ == nil {
		return
	}
	mux.HandleFunc("GET /faq", s.faqPage)
	mux.HandleFunc("POST /faq/categories", s.requireLogin(s.faqAddCategory))
	mux.HandleFunc("POST /faq/categories/{id}/supprimer", s.requireLogin(s.faqDeleteCategory))
	mux.HandleFunc("POST /faq/questions", s.requireLogin(s.faqAddEntry))
	mux.HandleFunc("POST /faq/questions/{id}/supprimer", s.requireLogin(s.faqDeleteEntry))
}

type faqData struct {
	Structure  directory.Structure
	Structures []directory.Structure // the person's, to choose from
	Categories []faq.Category
	Editor     bool
}

// faqStructure is the structure whose FAQ is asked for: one of the signed-in person's
// (?structure=, or their first), else the portal's.
func (s *Server) faqStructure(r *http.Request, want string) (directory.Structure, []directory.Structure, error) {
	var sids []string
	if me := st(r).person; me != nil {
		var err error
		if sids, err = s.svc.Directory.PersonStructureIDs(r.Context(), me.ID); err != nil {
			return directory.Structure{}, nil, err
		}
	}
	if want == "" || !slices.Contains(sids, want) {
		want = st(r).portal.StructureID
		if want == "" && len(sids) > 0 {
			want = sids[0]
		}
	}
	if want == "" {
		return directory.Structure{}, nil, actor.ErrNotFound
	}
	sts, err := s.svc.Directory.Structures(r.Context(), sids)
	if err != nil {
		return directory.Structure{}, nil, err
	}
	cur, err := s.svc.Directory.Structure(r.Context(), want)
	return cur, sts, err
}

func (s *Server) faqPage(w http.ResponseWriter, r *http.Request) {
	if sid := st(r).portal.StructureID; st(r).person == nil && sid != "" {
		s.siteFAQ(w, r, sid) // a visitor: the public questions, in the site's layout
		return
	}
	s.renderFAQ(w, r, r.URL.Query().Get("structure"), nil, http.StatusOK)
}

func (s *Server) renderFAQ(w http.ResponseWriter, r *http.Request, structureID string, errs map[string]string, status int) {
	cur, sts, err := s.faqStructure(r, structureID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	cats, editor, err := s.svc.FAQ.FAQ(r.Context(), actorOf(r), cur.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page := s.page(r, "faq.title", faqData{Structure: cur, Structures: sts, Categories: cats, Editor: editor})
	if errs != nil {
		page.Form, page.Errors = r.PostForm, errs
	}
	s.render(w, r, status, "faq", page)
}

// faqDone answers an editor's form: back to the FAQ, or the form again with its error.
func (s *Server) faqDone(w http.ResponseWriter, r *http.Request, err error, done string) {
	if errs, ok := formErrors(r, err); ok {
		s.renderFAQ(w, r, r.PostFormValue("structure"), errs, http.StatusBadRequest)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, done)
	http.Redirect(w, r, "/faq?structure="+urlQueryEscape(r.PostFormValue("structure")), http.StatusSeeOther)
}

func (s *Server) faqAddCategory(w http.ResponseWriter, r *http.Request) {
	pos, _ := strconv.Atoi(r.PostFormValue("position"))
	_, err := s.svc.FAQ.AddCategory(r.Context(), actorOf(r), r.PostFormValue("structure"), r.PostFormValue("name"), pos)
	s.faqDone(w, r, err, "faq.category_added")
}

func (s *Server) faqDeleteCategory(w http.ResponseWriter, r *http.Request) {
	s.faqDone(w, r, s.svc.FAQ.DeleteCategory(r.Context(), actorOf(r), r.PathValue("id")), "faq.deleted")
}

func (s *Server) faqAddEntry(w http.ResponseWriter, r *http.Request) {
	_, err := s.svc.FAQ.SaveEntry(r.Context(), actorOf(r), "", faq.EntryInput{CategoryID: r.PostFormValue("category"), Question: r.PostFormValue("question"),
		Answer: r.PostFormValue("answer"), Public: r.PostFormValue("public") != ""})
	s.faqDone(w, r, err, "faq.entry_added")
}

func (s *Server) faqDeleteEntry(w http.ResponseWriter, r *http.Request) {
	s.faqDone(w, r, s.svc.FAQ.DeleteEntry(r.Context(), actorOf(r), r.PathValue("id")), "faq.deleted")
}
