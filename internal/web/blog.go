package web

import (
	"errors"
	"html"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/blog"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/rights"
)

// Blogs: the list of one's blogs, a blog and its posts, a post with its comments,
// the blog's settings and shares, the post editor, reports and the moderation queue,
// and the same operations in the JSON API. Public blogs are readable without signing in.
func (s *Server) blogRoutes(mux *http.ServeMux) {
	if s.svc.Blog == nil {
		return
	}
	mux.HandleFunc("GET /blogs", s.requireLogin(s.blogList))
	mux.HandleFunc("GET /blogs/nouveau", s.requireLogin(s.blogNew))
	mux.HandleFunc("POST /blogs/nouveau", s.requireLogin(s.blogCreate))
	mux.HandleFunc("POST /blogs/moderation/signalements/{id}", s.requireLogin(s.blogResolve))
	mux.HandleFunc("GET /blogs/publics", s.blogPublic)
	mux.HandleFunc("GET /blogs/{id}", s.blogShow)
	mux.HandleFunc("GET /blogs/reglages/{id}", s.requireLogin(s.blogSettings))
	mux.HandleFunc("POST /blogs/reglages/{id}", s.requireLogin(s.blogSaveSettings))
	mux.HandleFunc("POST /blogs/reglages/{id}/partages", s.requireLogin(s.blogAddShares))
	mux.HandleFunc("POST /blogs/reglages/{id}/partages/retirer", s.requireLogin(s.blogRemoveShare))
	mux.HandleFunc("POST /blogs/suppression/{id}", s.requireLogin(s.blogDelete))
	mux.HandleFunc("GET /blogs/ecrire/{id}", s.requireLogin(s.blogPostNew))
	mux.HandleFunc("POST /blogs/ecrire/{id}", s.requireLogin(s.blogPostSave))
	mux.HandleFunc("GET /blogs/billets/{id}", s.blogPostShow)
	mux.HandleFunc("GET /blogs/billets/{id}/modifier", s.requireLogin(s.blogPostEdit))
	mux.HandleFunc("POST /blogs/billets/{id}/modifier", s.requireLogin(s.blogPostSave))
	mux.HandleFunc("POST /blogs/billets/{id}/publier", s.requireLogin(s.blogPostPublish))
	mux.HandleFunc("POST /blogs/billets/{id}/supprimer", s.requireLogin(s.blogPostDelete))
	mux.HandleFunc("POST /blogs/billets/{id}/commentaires", s.requireLogin(s.blogComment))
	mux.HandleFunc("POST /blogs/commentaires/{id}/approuver", s.requireLogin(s.blogCommentApprove))
	mux.HandleFunc("POST /blogs/commentaires/{id}/supprimer", s.requireLogin(s.blogCommentDelete))
	mux.HandleFunc("POST /blogs/billets/{id}/signaler", s.requireLogin(s.blogReport))
	mux.HandleFunc("POST /blogs/commentaires/{id}/signaler", s.requireLogin(s.blogReport))
	mux.HandleFunc("GET /blogs/fichiers/{id}", s.blogFile)

	mux.HandleFunc("GET /api/v1/blogs", s.requireLogin(s.apiBlogList))
	mux.HandleFunc("GET /api/v1/blogs/{id}", s.apiBlog)
	mux.HandleFunc("POST /api/v1/blogs/{id}/billets", s.requireLogin(s.apiBlogPost))
	mux.HandleFunc("GET /api/v1/blogs/billets/{id}", s.apiBlogPostShow)
	mux.HandleFunc("POST /api/v1/blogs/billets/{id}/commentaires", s.requireLogin(s.apiBlogComment))
}

// blogFail is fail, but an anonymous visitor of a blog that is not public is asked to
// sign in first.
func (s *Server) blogFail(w http.ResponseWriter, r *http.Request, err error) {
	if st(r).person == nil && errors.Is(err, actor.ErrNotFound) && r.Method == http.MethodGet {
		http.Redirect(w, r, "/connexion?retour="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	s.fail(w, r, err)
}

type blogListData struct {
	Blogs     []blog.Blog
	MayCreate bool
	Moderator bool
}

// creatable lists the structures where the signed-in person may create a blog.
func (s *Server) creatable(r *http.Request) ([]directory.Structure, error) {
	sids, err := s.svc.Directory.PersonStructureIDs(r.Context(), st(r).person.ID)
	if err != nil {
		return nil, err
	}
	var ok []string
	for _, id := range sids {
		yes, err := s.svc.Blog.MayCreate(r.Context(), actorOf(r), id)
		if err != nil {
			return nil, err
		}
		if yes {
			ok = append(ok, id)
		}
	}
	if len(ok) == 0 {
		return nil, nil
	}
	return s.svc.Directory.Structures(r.Context(), ok)
}

func (s *Server) blogList(w http.ResponseWriter, r *http.Request) {
	list, err := s.svc.Blog.List(r.Context(), actorOf(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sts, err := s.creatable(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	mod, err := s.svc.Blog.IsModerator(r.Context(), actorOf(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "blogs_list", s.page(r, "blog.title", blogListData{Blogs: list, MayCreate: len(sts) > 0, Moderator: mod}))
}

// blogPublic lists the public blogs of the portal's structure, for everyone.
func (s *Server) blogPublic(w http.ResponseWriter, r *http.Request) {
	sid := st(r).portal.StructureID
	if sid == "" {
		s.fail(w, r, actor.ErrNotFound)
		return
	}
	if st(r).person == nil {
		s.siteBlogs(w, r, sid) // a visitor: in the site's layout
		return
	}
	list, err := s.svc.Blog.PublicBlogs(r.Context(), sid)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "blogs_list", s.page(r, "blog.public_title", blogListData{Blogs: list}))
}

// ---- Blog settings and shares ----

type shareRow struct {
	Group directory.Group
	Level string
}

// currentShare is a share the blog holds, with whom it names.
type currentShare struct {
	Kind, ID, Name, Level string
}

type blogFormData struct {
	Blog       *blog.Blog // nil when creating
	Structures []directory.Structure
	Shares     []shareRow
	Levels     []string
	Current    []currentShare     // the shares held, persons and groups (settings only)
	AddLevels  []string           // what the persons found may be given
	Query      string             // the search for persons
	Found      []directory.Person // persons matching it
	Searched   bool
	Checked    []string // persons ticked among them
	AddLevel   string
	AddError   string
}

// shareRows lists the groups of the structure a blog may be shared with, with the
// level each holds (from the shares, or as typed).
func (s *Server) shareRows(r *http.Request, structureID string, shares []rights.Share, form url.Values) ([]shareRow, error) {
	groups, err := s.svc.Directory.Groups(r.Context(), structureID)
	if err != nil {
		return nil, err
	}
	held := map[string]string{}
	for _, sh := range shares {
		if sh.Kind == "group" {
			held[sh.ID] = sh.Level.String()
		}
	}
	out := make([]shareRow, 0, len(groups))
	for _, g := range groups {
		if g.Archived {
			continue
		}
		l := held[g.ID]
		if form != nil {
			l = form.Get("share-" + g.ID)
		}
		out = append(out, shareRow{Group: g, Level: l})
	}
	return out, nil
}

// currentShares names the shares a blog holds: persons first, then groups.
func (s *Server) currentShares(r *http.Request, shares []rights.Share) []currentShare {
	var persons, groups []currentShare
	for _, sh := range shares {
		c := currentShare{Kind: sh.Kind, ID: sh.ID, Name: sh.ID, Level: sh.Level.String()}
		if sh.Kind == "person" {
			if p, err := s.svc.Directory.Person(r.Context(), sh.ID); err == nil {
				c.Name = p.DisplayName()
			}
			persons = append(persons, c)
		} else {
			if g, err := s.svc.Directory.Group(r.Context(), sh.ID); err == nil {
				c.Name = g.Name
			}
			groups = append(groups, c)
		}
	}
	byName := func(a, b currentShare) int { return strings.Compare(directory.Fold(a.Name), directory.Fold(b.Name)) }
	slices.SortFunc(persons, byName)
	slices.SortFunc(groups, byName)
	return append(persons, groups...)
}

var shareLevels = []string{"", "read", "contribute", "manage"}

func (s *Server) blogNew(w http.ResponseWriter, r *http.Request) {
	s.blogForm(w, r, nil, nil, http.StatusOK, nil)
}

// blogForm renders the creation or settings form; with errs it gives back what was
// typed; found is the result of a search for persons (nil: no search).
func (s *Server) blogForm(w http.ResponseWriter, r *http.Request, b *blog.Blog, errs map[string]string, status int, found *personSearch) {
	d := blogFormData{Blog: b, Levels: shareLevels, AddLevels: shareLevels[1:]}
	page := s.page(r, "blog.new_title", &d)
	var sid string
	var shares []rights.Share
	var form url.Values
	if errs != nil {
		form = r.PostForm
		page.Form, page.Errors = r.PostForm, errs
	}
	if b == nil {
		sts, err := s.creatable(r)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if len(sts) == 0 {
			s.fail(w, r, actor.ErrForbidden)
			return
		}
		d.Structures = sts
		sid = sts[0].ID
		if v := r.PostFormValue("structure"); v != "" {
			sid = v
		}
	} else {
		page.Title = st(r).L.T("blog.settings_title", b.Title)
		sid = b.StructureID
		var err error
		if shares, err = s.svc.Blog.Shares(r.Context(), actorOf(r), b.ID); err != nil {
			s.fail(w, r, err)
			return
		}
		d.Current = s.currentShares(r, shares)
		if errs == nil {
			page.Form.Set("title", b.Title)
			page.Form.Set("description", b.Description)
			if b.Moderated {
				page.Form.Set("moderated", "on")
			}
			if b.Public {
				page.Form.Set("public", "on")
			}
		}
		if found != nil {
			d.Query, d.Found, d.Searched, d.Checked, d.AddLevel, d.AddError = found.query, found.persons, true, found.checked, found.level, found.err
			if found.err != "" {
				page.Errors = map[string]string{"add_person": found.err}
			}
		}
	}
	rows, err := s.shareRows(r, sid, shares, form)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.Shares = rows
	s.render(w, r, status, "blogs_form", page)
}

// personSearch is what the settings page's search for persons found, with what was
// ticked and the error of an attempt to share with them.
type personSearch struct {
	query, level, err string
	persons           []directory.Person
	checked           []string
}

// findPersons looks up, among the persons the actor may reach in the directory (the
// annuaire's own search), those of the blog's school matching the text, leaving out
// the blog's owner and the accounts blocked or gone.
func (s *Server) findPersons(r *http.Request, b blog.Blog, text string) (*personSearch, error) {
	out := &personSearch{query: strings.TrimSpace(text)}
	if out.query == "" {
		return out, nil
	}
	list, err := s.svc.Directory.Search(r.Context(), actorOf(r), directory.SearchQuery{Text: out.query, StructureID: b.StructureID, Limit: 30})
	if err != nil {
		return nil, err
	}
	for _, p := range list {
		if p.ID != b.OwnerID && p.State != directory.StateBlocked && p.State != directory.StateRemoved {
			out.persons = append(out.persons, p)
		}
	}
	return out, nil
}

func blogInput(r *http.Request) blog.Input {
	return blog.Input{StructureID: r.PostFormValue("structure"), Title: r.PostFormValue("title"), Description: r.PostFormValue("description"),
		Moderated: r.PostFormValue("moderated") != "", Public: r.PostFormValue("public") != ""}
}

// applyShares sets the group shares chosen in the form ("share-<group id>" = level)
// that differ from those held before, through set (the service's own Share).
func applyShares(r *http.Request, before []rights.Share, set func(rights.Grantee, rights.Level) error) error {
	if err := r.ParseForm(); err != nil {
		return err
	}
	held := map[string]rights.Level{}
	for _, sh := range before {
		if sh.Kind == "group" {
			held[sh.ID] = sh.Level
		}
	}
	for key, v := range r.PostForm {
		gid, ok := strings.CutPrefix(key, "share-")
		if !ok || len(v) == 0 {
			continue
		}
		l, _ := rights.ParseLevel(v[0])
		if l == held[gid] {
			continue
		}
		if err := set(rights.Grantee{Kind: "group", ID: gid}, l); err != nil {
			return err
		}
	}
	return nil
}

func (s *Server) blogShare(r *http.Request, blogID string) func(rights.Grantee, rights.Level) error {
	return func(g rights.Grantee, l rights.Level) error {
		return s.svc.Blog.Share(r.Context(), actorOf(r), blogID, g, l)
	}
}

func (s *Server) blogCreate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	b, err := s.svc.Blog.Create(r.Context(), actorOf(r), blogInput(r))
	if err == nil {
		err = applyShares(r, nil, s.blogShare(r, b.ID))
	}
	if errs, ok := formErrors(r, err); ok && b.ID == "" {
		s.blogForm(w, r, nil, errs, http.StatusBadRequest, nil)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, "blog.created")
	http.Redirect(w, r, "/blogs/"+b.ID, http.StatusSeeOther)
}

func (s *Server) blogSettings(w http.ResponseWriter, r *http.Request) {
	b, err := s.svc.Blog.Get(r.Context(), actorOf(r), r.PathValue("id"))
	if err == nil && !b.CanManage() {
		err = actor.ErrForbidden
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var found *personSearch
	if q, ok := r.URL.Query()["personne"]; ok && len(q) > 0 {
		if found, err = s.findPersons(r, b, q[0]); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.blogForm(w, r, &b, nil, http.StatusOK, found)
}

func (s *Server) blogSaveSettings(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	id := r.PathValue("id")
	b, err := s.svc.Blog.Get(r.Context(), actorOf(r), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	before, err := s.svc.Blog.Shares(r.Context(), actorOf(r), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if _, err = s.svc.Blog.Update(r.Context(), actorOf(r), id, blogInput(r)); err == nil {
		err = applyShares(r, before, s.blogShare(r, b.ID))
	}
	if errs, ok := formErrors(r, err); ok {
		s.blogForm(w, r, &b, errs, http.StatusBadRequest, nil)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, "blog.saved")
	http.Redirect(w, r, "/blogs/"+id, http.StatusSeeOther)
}

// blogAddShares shares the blog with the persons ticked among those a search found
// (the second step of sharing with persons); with none ticked, the page comes back
// with the search and the error.
func (s *Server) blogAddShares(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	ctx, a, id := r.Context(), actorOf(r), r.PathValue("id")
	b, err := s.svc.Blog.Get(ctx, a, id)
	if err == nil && !b.CanManage() {
		err = actor.ErrForbidden
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	level, _ := rights.ParseLevel(r.PostFormValue("add_level"))
	if level == rights.None {
		level = rights.Read
	}
	added := r.PostForm["add_person"]
	err = nil
	if len(added) == 0 {
		err = actor.Invalid("add_person", "blog.person_none_chosen")
	}
	for _, pid := range added {
		if err == nil {
			err = s.svc.Blog.Share(ctx, a, id, rights.Grantee{Kind: "person", ID: pid}, level)
		}
	}
	var inv *actor.InvalidError
	if errors.As(err, &inv) {
		found, ferr := s.findPersons(r, b, r.PostFormValue("personne"))
		if ferr != nil {
			s.fail(w, r, ferr)
			return
		}
		found.checked, found.level, found.err = added, level.String(), st(r).L.T(inv.Message)
		s.blogForm(w, r, &b, nil, http.StatusBadRequest, found)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, "blog.persons_added")
	http.Redirect(w, r, "/blogs/reglages/"+id+"#partages", http.StatusSeeOther)
}

// blogRemoveShare takes a share away ("person:<id>" or "group:<id>").
func (s *Server) blogRemoveShare(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	kind, gid, _ := strings.Cut(r.PostFormValue("grantee"), ":")
	if (kind != "person" && kind != "group") || gid == "" {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	if err := s.svc.Blog.Share(r.Context(), actorOf(r), id, rights.Grantee{Kind: kind, ID: gid}, rights.None); err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, "blog.share_removed")
	http.Redirect(w, r, "/blogs/reglages/"+id+"#partages", http.StatusSeeOther)
}

func (s *Server) blogDelete(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.Blog.Delete(r.Context(), actorOf(r), r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, "blog.deleted")
	http.Redirect(w, r, "/blogs", http.StatusSeeOther)
}

// ---- A blog and its posts ----

type blogShowData struct {
	Blog  blog.Blog
	Posts []blog.Post
}

func (s *Server) blogShow(w http.ResponseWriter, r *http.Request) {
	b, posts, err := s.svc.Blog.Posts(r.Context(), actorOf(r), r.PathValue("id"), 50)
	if err != nil {
		s.blogFail(w, r, err)
		return
	}
	page := s.page(r, "", blogShowData{Blog: b, Posts: posts})
	page.Title = b.Title
	s.render(w, r, http.StatusOK, "blogs_blog", page)
}

type blogPostData struct {
	Blog     blog.Blog
	Post     blog.Post
	Comments []blog.Comment
}

func (s *Server) blogPostShow(w http.ResponseWriter, r *http.Request) {
	s.renderPost(w, r, nil, http.StatusOK)
}

func (s *Server) renderPost(w http.ResponseWriter, r *http.Request, errs map[string]string, status int) {
	b, o, err := s.svc.Blog.GetPost(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		s.blogFail(w, r, err)
		return
	}
	cs, err := s.svc.Blog.Comments(r.Context(), actorOf(r), o.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page := s.page(r, "", blogPostData{Blog: b, Post: o, Comments: cs})
	page.Title = o.Title
	if errs != nil {
		page.Form, page.Errors = r.PostForm, errs
	}
	s.render(w, r, status, "blogs_post", page)
}

// ---- The post editor ----

type blogEditorData struct {
	Blog blog.Blog
	Post *blog.Post // nil for a new post
}

func (s *Server) blogPostNew(w http.ResponseWriter, r *http.Request) {
	b, err := s.svc.Blog.Get(r.Context(), actorOf(r), r.PathValue("id"))
	if err == nil && !b.CanWrite() {
		err = actor.ErrForbidden
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "blogs_editor", s.page(r, "blog.new_post", blogEditorData{Blog: b}))
}

func (s *Server) blogPostEdit(w http.ResponseWriter, r *http.Request) {
	b, o, err := s.svc.Blog.GetPost(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page := s.page(r, "blog.edit_post", blogEditorData{Blog: b, Post: &o})
	page.Form.Set("title", o.Title)
	page.Form.Set("body", string(o.Body))
	s.render(w, r, http.StatusOK, "blogs_editor", page)
}

// blogPostSave creates (under /blogs/ecrire/{id}) or changes (under
// /blogs/billets/{id}/modifier) a post. An image sent with the form is stored and
// added at the end of the text with its text alternative: the editor works without
// JavaScript.
func (s *Server) blogPostSave(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, blog.MaxFile+512<<10)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		s.fail(w, r, err)
		return
	}
	editing := strings.HasSuffix(r.URL.Path, "/modifier")
	var b blog.Blog
	var o *blog.Post
	var err error
	if editing {
		var p blog.Post
		b, p, err = s.svc.Blog.GetPost(r.Context(), actorOf(r), r.PathValue("id"))
		o = &p
	} else {
		b, err = s.svc.Blog.Get(r.Context(), actorOf(r), r.PathValue("id"))
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	in := blog.PostInput{Title: r.PostFormValue("title"), Body: r.PostFormValue("body")}
	if f, hdr, ferr := r.FormFile("image"); ferr == nil {
		file, aerr := s.svc.Blog.AddFile(r.Context(), actorOf(r), b.ID, hdr.Filename, f)
		f.Close()
		err = aerr
		if err == nil {
			alt := strings.TrimSpace(r.PostFormValue("alt"))
			if file.IsImage() {
				in.Body += `<figure><img src="/blogs/fichiers/` + file.ID + `" alt="` + html.EscapeString(alt) + `">` +
					func() string {
						if alt == "" {
							return ""
						}
						return "<figcaption>" + html.EscapeString(alt) + "</figcaption>"
					}() + `</figure>`
			} else {
				in.Body += `<p><a href="/blogs/fichiers/` + file.ID + `">` + html.EscapeString(file.Name) + `</a></p>`
			}
			r.PostForm.Set("body", in.Body) // kept if the post is refused below
		}
	}
	var saved blog.Post
	if err == nil {
		if editing {
			saved, err = s.svc.Blog.UpdatePost(r.Context(), actorOf(r), o.ID, in)
		} else {
			saved, err = s.svc.Blog.CreatePost(r.Context(), actorOf(r), b.ID, in)
		}
	}
	if errs, ok := formErrors(r, err); ok {
		page := s.page(r, "blog.new_post", blogEditorData{Blog: b, Post: o})
		page.Form, page.Errors = r.PostForm, errs
		s.render(w, r, http.StatusBadRequest, "blogs_editor", page)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if saved.State == blog.Submitted && !editing {
		flash(w, "blog.post_submitted")
	} else {
		flash(w, "blog.post_saved")
	}
	http.Redirect(w, r, "/blogs/billets/"+saved.ID, http.StatusSeeOther)
}

// blogAct runs a post or comment action and goes back to the post.
func (s *Server) blogAct(w http.ResponseWriter, r *http.Request, postID string, fn func() error, done string) {
	if err := fn(); err != nil {
		if errs, ok := formErrors(r, err); ok && postID != "" {
			s.renderPost(w, r, errs, http.StatusBadRequest)
			return
		}
		s.fail(w, r, err)
		return
	}
	flash(w, done)
	to := r.PostFormValue("retour")
	if to == "" {
		to = "/blogs/billets/" + postID
	}
	http.Redirect(w, r, safeReturn(to), http.StatusSeeOther)
}

func (s *Server) blogPostPublish(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.blogAct(w, r, id, func() error { return s.svc.Blog.PublishPost(r.Context(), actorOf(r), id) }, "blog.post_published")
}

func (s *Server) blogPostDelete(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	b, _, err := s.svc.Blog.GetPost(r.Context(), actorOf(r), id)
	if err == nil {
		err = s.svc.Blog.DeletePost(r.Context(), actorOf(r), id)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, "blog.post_deleted")
	http.Redirect(w, r, "/blogs/"+b.ID, http.StatusSeeOther)
}

func (s *Server) blogComment(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s.blogAct(w, r, id, func() error {
		_, err := s.svc.Blog.AddComment(r.Context(), actorOf(r), id, r.PostFormValue("comment"))
		return err
	}, "blog.comment_added")
}

// commentAction approves or deletes a comment; the form says which post to go back to.
func (s *Server) commentAction(w http.ResponseWriter, r *http.Request, fn func(id string) error, done string) {
	if err := fn(r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, done)
	http.Redirect(w, r, safeReturn(r.PostFormValue("retour")), http.StatusSeeOther)
}

func (s *Server) blogCommentApprove(w http.ResponseWriter, r *http.Request) {
	s.commentAction(w, r, func(id string) error { return s.svc.Blog.ApproveComment(r.Context(), actorOf(r), id) }, "blog.comment_approved")
}

func (s *Server) blogCommentDelete(w http.ResponseWriter, r *http.Request) {
	s.commentAction(w, r, func(id string) error { return s.svc.Blog.DeleteComment(r.Context(), actorOf(r), id) }, "blog.comment_deleted")
}

func (s *Server) blogReport(w http.ResponseWriter, r *http.Request) {
	kind, id := "post", r.PathValue("id")
	if strings.HasPrefix(r.URL.Path, "/blogs/commentaires/") {
		kind = "comment"
	}
	err := s.svc.Blog.Report(r.Context(), actorOf(r), kind, id, r.PostFormValue("reason"))
	if _, ok := formErrors(r, err); ok {
		flash(w, "blog.reason_required")
	} else if err != nil {
		s.fail(w, r, err)
		return
	} else {
		flash(w, "blog.reported")
	}
	http.Redirect(w, r, safeReturn(r.PostFormValue("retour")), http.StatusSeeOther)
}

func (s *Server) blogFile(w http.ResponseWriter, r *http.Request) {
	f, rc, public, err := s.svc.Blog.OpenFile(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", f.ContentType)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if public {
		w.Header().Set("Cache-Control", "public, max-age=3600")
	} else {
		w.Header().Set("Cache-Control", "private, max-age=3600")
	}
	disp := "inline"
	if !f.IsImage() {
		disp = "attachment"
	}
	w.Header().Set("Content-Disposition", disp+`; filename*=UTF-8''`+url.PathEscape(f.Name))
	http.ServeContent(w, r, "", time.Time{}, rc)
}

// ---- Moderation ----

func (s *Server) blogResolve(w http.ResponseWriter, r *http.Request) {
	remove := r.PostFormValue("decision") == "remove"
	if err := s.svc.Blog.Resolve(r.Context(), actorOf(r), r.PathValue("id"), remove, r.PostFormValue("note")); err != nil {
		s.fail(w, r, err)
		return
	}
	if remove {
		flash(w, "blog.removed")
	} else {
		flash(w, "blog.dismissed")
	}
	http.Redirect(w, r, "/moderation", http.StatusSeeOther)
}

// ---- API ----

type apiBlog struct {
	ID          string `json:"id"`
	StructureID string `json:"structureId"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Owner       string `json:"owner"`
	Moderated   bool   `json:"moderated"`
	Public      bool   `json:"public"`
	Level       string `json:"level"`
}

type apiBlogPost struct {
	ID          string    `json:"id"`
	BlogID      string    `json:"blogId"`
	Title       string    `json:"title"`
	Author      string    `json:"author"`
	State       string    `json:"state"`
	Body        string    `json:"body,omitempty"` // sanitized HTML
	Summary     string    `json:"summary"`
	PublishedAt string    `json:"publishedAt,omitempty"`
	Comments    int       `json:"comments"`
	Thread      []apiNote `json:"thread,omitempty"`
}

type apiNote struct {
	ID     string `json:"id"`
	Author string `json:"author"`
	Body   string `json:"body"`
	State  string `json:"state"`
	At     string `json:"createdAt"`
}

func toAPIBlog(b blog.Blog) apiBlog {
	return apiBlog{ID: b.ID, StructureID: b.StructureID, Title: b.Title, Description: b.Description, Owner: b.OwnerName, Moderated: b.Moderated, Public: b.Public, Level: b.Level.String()}
}

func toAPIPost(o blog.Post, body bool) apiBlogPost {
	p := apiBlogPost{ID: o.ID, BlogID: o.BlogID, Title: o.Title, Author: o.AuthorName, State: o.State, Summary: o.Summary(), Comments: o.Comments}
	if body {
		p.Body = string(o.Body)
	}
	if !o.PublishedAt.IsZero() {
		p.PublishedAt = o.PublishedAt.UTC().Format("2006-01-02T15:04:05Z")
	}
	return p
}

func (s *Server) apiBlogList(w http.ResponseWriter, r *http.Request) {
	list, err := s.svc.Blog.List(r.Context(), actorOf(r))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	out := make([]apiBlog, 0, len(list))
	for _, b := range list {
		out = append(out, toAPIBlog(b))
	}
	writeJSON(w, http.StatusOK, map[string]any{"blogs": out})
}

func (s *Server) apiBlog(w http.ResponseWriter, r *http.Request) {
	b, posts, err := s.svc.Blog.Posts(r.Context(), actorOf(r), r.PathValue("id"), 50)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	out := make([]apiBlogPost, 0, len(posts))
	for _, o := range posts {
		out = append(out, toAPIPost(o, false))
	}
	writeJSON(w, http.StatusOK, map[string]any{"blog": toAPIBlog(b), "posts": out})
}

func (s *Server) apiBlogPostShow(w http.ResponseWriter, r *http.Request) {
	_, o, err := s.svc.Blog.GetPost(r.Context(), actorOf(r), r.PathValue("id"))
	var cs []blog.Comment
	if err == nil {
		cs, err = s.svc.Blog.Comments(r.Context(), actorOf(r), o.ID)
	}
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	p := toAPIPost(o, true)
	p.Thread = []apiNote{}
	for _, c := range cs {
		p.Thread = append(p.Thread, apiNote{ID: c.ID, Author: c.AuthorName, Body: c.Body, State: c.State, At: c.CreatedAt.UTC().Format("2006-01-02T15:04:05Z")})
	}
	writeJSON(w, http.StatusOK, map[string]any{"post": p})
}

func (s *Server) apiBlogPost(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Title string `json:"title"`
		Body  string `json:"body"`
	}
	if !s.decode(w, r, &in) {
		return
	}
	o, err := s.svc.Blog.CreatePost(r.Context(), actorOf(r), r.PathValue("id"), blog.PostInput{Title: in.Title, Body: in.Body})
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"post": toAPIPost(o, true)})
}

func (s *Server) apiBlogComment(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Body string `json:"body"`
	}
	if !s.decode(w, r, &in) {
		return
	}
	c, err := s.svc.Blog.AddComment(r.Context(), actorOf(r), r.PathValue("id"), in.Body)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, map[string]any{"comment": apiNote{ID: c.ID, Author: st(r).person.FirstName + " " + st(r).person.LastName, Body: c.Body, State: c.State,
		At: c.CreatedAt.UTC().Format("2006-01-02T15:04:05Z")}})
}
