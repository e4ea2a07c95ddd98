package web

import (
	"context"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/faq"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/rights"
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
	mux.HandleFunc("GET /faq/questions/{id}/modifier", s.requireLogin(s.faqEditEntry))
	mux.HandleFunc("POST /faq/questions/{id}/modifier", s.requireLogin(s.faqUpdateEntry))
	mux.HandleFunc("POST /faq/questions/{id}/deplacer", s.requireLogin(s.faqMoveEntry))
	mux.HandleFunc("GET /faq/categories/{id}/modifier", s.requireLogin(s.faqEditCategory))
	mux.HandleFunc("POST /faq/categories/{id}/modifier", s.requireLogin(s.faqRenameCategory))
	mux.HandleFunc("POST /faq/categories/{id}/deplacer", s.requireLogin(s.faqMoveCategory))
	mux.HandleFunc("GET /faq/partage", s.requireLogin(s.faqShares))
	mux.HandleFunc("POST /faq/partage", s.requireLogin(s.faqShare))
}

type faqData struct {
	Structure  directory.Structure
	Structures []directory.Structure // the person's, to choose from
	Categories []faq.Category
	Editor     bool
	Admin      bool // shares the FAQ's editing
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
	admin, err := s.svc.Rights.CanAdminStructure(r.Context(), actorOf(r), cur.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page := s.page(r, "faq.title", faqData{Structure: cur, Structures: sts, Categories: cats, Editor: editor, Admin: admin})
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

// ---- Editing in place ----

type faqEditData struct {
	Structure  directory.Structure
	Entry      faq.Entry    // the question edited
	Category   faq.Category // or the section
	Categories []faq.Category
}

// backToFAQ is the FAQ page of a structure.
func backToFAQ(structureID string) string { return "/faq?structure=" + urlQueryEscape(structureID) }

func (s *Server) faqEditEntry(w http.ResponseWriter, r *http.Request) {
	e, err := s.svc.FAQ.EntryForEdit(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "faq.edit_entry", nil)
	p.Form.Set("category", e.CategoryID)
	p.Form.Set("question", e.Question)
	p.Form.Set("answer", string(e.Answer))
	if e.Public {
		p.Form.Set("public", "on")
	}
	s.renderFAQEdit(w, r, http.StatusOK, p, e, faq.Category{})
}

// renderFAQEdit shows the form of a question or of a section.
func (s *Server) renderFAQEdit(w http.ResponseWriter, r *http.Request, status int, p Page, e faq.Entry, c faq.Category) {
	sid := e.StructureID + c.StructureID
	cur, err := s.svc.Directory.Structure(r.Context(), sid)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := faqEditData{Structure: cur, Entry: e, Category: c}
	if e.ID != "" {
		if d.Categories, _, err = s.svc.FAQ.FAQ(r.Context(), actorOf(r), sid); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.render(w, r, status, "faq_edit", withData(p, d))
}

func (s *Server) faqUpdateEntry(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	old, err := s.svc.FAQ.EntryForEdit(ctx, a, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	e, err := s.svc.FAQ.SaveEntry(ctx, a, old.ID, faq.EntryInput{CategoryID: r.PostFormValue("category"), Question: r.PostFormValue("question"),
		Answer: r.PostFormValue("answer"), Public: r.PostFormValue("public") != ""})
	if errs, ok := formErrors(r, err); ok {
		p := s.page(r, "faq.edit_entry", nil)
		p.Errors, p.Form = errs, r.PostForm
		s.renderFAQEdit(w, r, http.StatusBadRequest, p, old, faq.Category{})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, "faq.saved")
	http.Redirect(w, r, backToFAQ(e.StructureID)+"#q-"+e.ID, http.StatusSeeOther)
}

func (s *Server) faqEditCategory(w http.ResponseWriter, r *http.Request) {
	c, err := s.svc.FAQ.CategoryForEdit(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "faq.edit_category", nil)
	p.Form.Set("name", c.Name)
	s.renderFAQEdit(w, r, http.StatusOK, p, faq.Entry{}, c)
}

func (s *Server) faqRenameCategory(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	old, err := s.svc.FAQ.CategoryForEdit(ctx, a, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	_, err = s.svc.FAQ.RenameCategory(ctx, a, old.ID, r.PostFormValue("name"))
	if errs, ok := formErrors(r, err); ok {
		p := s.page(r, "faq.edit_category", nil)
		p.Errors, p.Form = errs, r.PostForm
		s.renderFAQEdit(w, r, http.StatusBadRequest, p, faq.Entry{}, old)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, "faq.saved")
	http.Redirect(w, r, backToFAQ(old.StructureID)+"#cat-"+old.ID, http.StatusSeeOther)
}

func (s *Server) faqMoveEntry(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	err := s.svc.FAQ.MoveEntry(r.Context(), actorOf(r), id, r.PostFormValue("direction") == "up")
	s.faqMoved(w, r, err, "#q-"+id)
}

func (s *Server) faqMoveCategory(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	err := s.svc.FAQ.MoveCategory(r.Context(), actorOf(r), id, r.PostFormValue("direction") == "up")
	s.faqMoved(w, r, err, "#cat-"+id)
}

func (s *Server) faqMoved(w http.ResponseWriter, r *http.Request, err error, anchor string) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, "faq.moved")
	http.Redirect(w, r, backToFAQ(r.PostFormValue("structure"))+anchor, http.StatusSeeOther)
}

// ---- Sharing the FAQ's editing ----

type faqShareData struct {
	Structure directory.Structure
	Editors   []memberRow
	Groups    []directory.Group
}

func (s *Server) faqShares(w http.ResponseWriter, r *http.Request) {
	s.renderFAQShares(w, r, http.StatusOK, s.page(r, "faq.sharing", nil))
}

func (s *Server) renderFAQShares(w http.ResponseWriter, r *http.Request, status int, p Page) {
	ctx, a := r.Context(), actorOf(r)
	sid := r.FormValue("structure")
	shares, err := s.svc.FAQ.Editors(ctx, a, sid)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := faqShareData{}
	if d.Structure, err = s.svc.Directory.Structure(ctx, sid); err != nil {
		s.fail(w, r, err)
		return
	}
	d.Editors = s.memberRows(ctx, shares)
	if d.Groups, err = s.svc.Directory.Groups(ctx, sid, directory.GroupProfile, directory.GroupClass, directory.GroupTeaching, directory.GroupManual); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, status, "faq_share", withData(p, d))
}

// memberRows names the persons and groups of shares.
func (s *Server) memberRows(ctx context.Context, shares []rights.Share) []memberRow {
	var out []memberRow
	for _, sh := range shares {
		m := memberRow{Grantee: sh.Grantee, Level: sh.Level, Name: sh.ID}
		if sh.Kind == "person" {
			if p, err := s.svc.Directory.Person(ctx, sh.ID); err == nil {
				m.Name = p.DisplayName()
			}
		} else if g, err := s.svc.Directory.Group(ctx, sh.ID); err == nil {
			m.Name = g.Name
		}
		out = append(out, m)
	}
	return out
}

// faqShare gives a group or a person (by login) the editing of the FAQ, or takes it
// back (level "none").
func (s *Server) faqShare(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	sid := r.PostFormValue("structure")
	level := rights.Contribute
	if r.PostFormValue("level") == "none" {
		level = rights.None
	}
	var g rights.Grantee
	var err error
	switch login := strings.TrimSpace(r.PostFormValue("login")); {
	case r.PostFormValue("person") != "":
		g = rights.Grantee{Kind: "person", ID: r.PostFormValue("person")}
	case login != "":
		var p directory.Person
		if p, err = s.svc.Directory.PersonByLogin(ctx, login); err != nil {
			err = actor.Invalid("login", "faq.editor_unknown")
		}
		g = rights.Grantee{Kind: "person", ID: p.ID}
	case r.PostFormValue("group") != "":
		g = rights.Grantee{Kind: "group", ID: r.PostFormValue("group")}
	default:
		err = actor.Invalid("group", "faq.editor_required")
	}
	if err == nil {
		err = s.svc.FAQ.ShareEditing(ctx, actorOf(r), sid, g, level)
	}
	if errs, ok := formErrors(r, err); ok {
		p := s.page(r, "faq.sharing", nil)
		p.Errors, p.Form = errs, r.PostForm
		s.renderFAQShares(w, r, http.StatusBadRequest, p)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, "faq.shared")
	http.Redirect(w, r, "/faq/partage?structure="+urlQueryEscape(sid), http.StatusSeeOther)
}
