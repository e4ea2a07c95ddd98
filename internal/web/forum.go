package web

import (
	"net/http"

	"github.com/preau-ent/preau/internal/forum"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/rights"
)

// Forums: the categories one may read, a category's subjects (and, for its managers,
// its sharing), a subject's messages with the reply form, locking, pinning and removal.
func (s *Server) forumRoutes(mux *http.ServeMux) {
	if s.svc.Forum == nil {
		return
	}
	mux.HandleFunc("GET /forums", s.requireLogin(s.forumList))
	mux.HandleFunc("POST /forums", s.requireLogin(s.forumCreate))
	mux.HandleFunc("GET /forums/categories/{id}", s.requireLogin(s.forumCategory))
	mux.HandleFunc("POST /forums/categories/{id}/partage", s.requireLogin(s.forumShare))
	mux.HandleFunc("POST /forums/categories/{id}/sujets", s.requireLogin(s.forumOpen))
	mux.HandleFunc("GET /forums/sujets/{id}", s.requireLogin(s.forumSubject))
	mux.HandleFunc("POST /forums/sujets/{id}/reponses", s.requireLogin(s.forumReply))
	mux.HandleFunc("POST /forums/sujets/{id}/etat", s.requireLogin(s.forumFlags))
	mux.HandleFunc("POST /forums/messages/{id}/retirer", s.requireLogin(s.forumRemove))
	mux.HandleFunc("POST /forums/messages/{id}/signaler", s.requireLogin(s.forumReport))
	mux.HandleFunc("POST /forums/moderation/{id}", s.requireLogin(s.forumResolve))
	mux.HandleFunc("POST /forums/sujets/{id}/suivi", s.requireLogin(s.forumFollow))
	s.forumAPIRoutes(mux)
}

type forumListData struct {
	Categories  []forum.Category
	StructureID string // where the person may create a category; "" if nowhere
}

func (s *Server) forumList(w http.ResponseWriter, r *http.Request) {
	s.renderForumList(w, r, nil, http.StatusOK)
}

func (s *Server) renderForumList(w http.ResponseWriter, r *http.Request, errs map[string]string, status int) {
	cats, err := s.svc.Forum.Categories(r.Context(), actorOf(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sts, err := s.creatable(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := forumListData{Categories: cats}
	if len(sts) > 0 {
		d.StructureID = sts[0].ID
	}
	page := s.page(r, "forum.title", d)
	if errs != nil {
		page.Form, page.Errors = r.PostForm, errs
	}
	s.render(w, r, status, "forum_list", page)
}

func (s *Server) forumCreate(w http.ResponseWriter, r *http.Request) {
	c, err := s.svc.Forum.CreateCategory(r.Context(), actorOf(r), r.PostFormValue("structure"), r.PostFormValue("name"), r.PostFormValue("description"))
	if errs, ok := formErrors(r, err); ok {
		s.renderForumList(w, r, errs, http.StatusBadRequest)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/forums/categories/"+c.ID, http.StatusSeeOther)
}

type forumCategoryData struct {
	Category forum.Category
	Subjects []forum.Subject
	Shares   []shareRow // managers only
	Levels   []string
}

func (s *Server) forumCategory(w http.ResponseWriter, r *http.Request) {
	s.renderForumCategory(w, r, nil, http.StatusOK)
}

func (s *Server) renderForumCategory(w http.ResponseWriter, r *http.Request, errs map[string]string, status int) {
	c, subjects, err := s.svc.Forum.Subjects(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := forumCategoryData{Category: c, Subjects: subjects, Levels: shareLevels}
	if c.Level >= rights.Manage {
		shares, err := s.svc.Forum.Shares(r.Context(), actorOf(r), c.ID)
		if err == nil {
			d.Shares, err = s.shareRows(r, c.StructureID, shares, nil)
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	page := s.page(r, "", d)
	page.Title = c.Name
	if errs != nil {
		page.Form, page.Errors = r.PostForm, errs
	}
	s.render(w, r, status, "forum_category", page)
}

func (s *Server) forumShare(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	before, err := s.svc.Forum.Shares(r.Context(), actorOf(r), id)
	if err == nil {
		err = applyShares(r, before, func(g rights.Grantee, l rights.Level) error {
			return s.svc.Forum.Share(r.Context(), actorOf(r), id, g, l)
		})
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, "forum.shared")
	http.Redirect(w, r, "/forums/categories/"+id, http.StatusSeeOther)
}

func (s *Server) forumOpen(w http.ResponseWriter, r *http.Request) {
	o, err := s.svc.Forum.OpenSubject(r.Context(), actorOf(r), r.PathValue("id"), r.PostFormValue("title"), r.PostFormValue("body"))
	if errs, ok := formErrors(r, err); ok {
		s.renderForumCategory(w, r, errs, http.StatusBadRequest)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/forums/sujets/"+o.ID, http.StatusSeeOther)
}

type forumSubjectData struct {
	Category  forum.Category
	Subject   forum.Subject
	Messages  []forum.Message
	Following bool
}

func (s *Server) forumSubject(w http.ResponseWriter, r *http.Request) {
	s.renderForumSubject(w, r, nil, http.StatusOK)
}

func (s *Server) renderForumSubject(w http.ResponseWriter, r *http.Request, errs map[string]string, status int) {
	c, o, msgs, err := s.svc.Forum.Subject(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	following, err := s.svc.Forum.Following(r.Context(), actorOf(r), o.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page := s.page(r, "", forumSubjectData{Category: c, Subject: o, Messages: msgs, Following: following})
	page.Title = o.Title
	if errs != nil {
		page.Form, page.Errors = r.PostForm, errs
	}
	s.render(w, r, status, "forum_subject", page)
}

// forumThen answers a subject's form: back to the subject, or the page with the error.
func (s *Server) forumThen(w http.ResponseWriter, r *http.Request, subjectID string, err error) {
	if errs, ok := formErrors(r, err); ok {
		s.renderForumSubject(w, r, errs, http.StatusBadRequest)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/forums/sujets/"+subjectID, http.StatusSeeOther)
}

func (s *Server) forumReply(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	_, err := s.svc.Forum.Reply(r.Context(), actorOf(r), id, r.PostFormValue("body"))
	s.forumThen(w, r, id, err)
}

func (s *Server) forumFlags(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.forumThen(w, r, id, s.svc.Forum.SetFlags(r.Context(), actorOf(r), id, r.PostFormValue("locked") != "", r.PostFormValue("pinned") != ""))
}

func (s *Server) forumRemove(w http.ResponseWriter, r *http.Request) {
	subject := r.PostFormValue("subject")
	if subject == "" {
		s.fail(w, r, actor.ErrNotFound)
		return
	}
	s.forumThen(w, r, subject, s.svc.Forum.RemoveMessage(r.Context(), actorOf(r), r.PathValue("id"), r.PostFormValue("note")))
}

func (s *Server) forumReport(w http.ResponseWriter, r *http.Request) {
	subject := r.PostFormValue("subject")
	err := s.svc.Forum.Report(r.Context(), actorOf(r), r.PathValue("id"), r.PostFormValue("reason"))
	if _, ok := formErrors(r, err); ok {
		flash(w, "forum.reason_required")
	} else if err != nil {
		s.fail(w, r, err)
		return
	} else {
		flash(w, "forum.reported")
	}
	http.Redirect(w, r, "/forums/sujets/"+urlQueryEscape(subject), http.StatusSeeOther)
}

func (s *Server) forumResolve(w http.ResponseWriter, r *http.Request) {
	remove := r.PostFormValue("decision") == "remove"
	if err := s.svc.Forum.Resolve(r.Context(), actorOf(r), r.PathValue("id"), remove, r.PostFormValue("note")); err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, map[bool]string{true: "blog.removed", false: "blog.dismissed"}[remove])
	http.Redirect(w, r, "/moderation", http.StatusSeeOther)
}

// forumFollow follows a subject, or stops following it (following=off).
func (s *Server) forumFollow(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	on := r.PostFormValue("following") != "off"
	if err := s.svc.Forum.Follow(r.Context(), actorOf(r), id, on); err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, map[bool]string{true: "forum.followed", false: "forum.unfollowed"}[on])
	http.Redirect(w, r, "/forums/sujets/"+id, http.StatusSeeOther)
}
