package web

import (
	"errors"
	"html"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/moderation"
	"github.com/preau-ent/preau/internal/news"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/rights"
)

func (s *Server) newsRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /actualites", s.requireLogin(s.newsList))
	mux.HandleFunc("GET /actualites/mes-articles", s.requireLogin(s.newsMine))
	mux.HandleFunc("GET /actualites/a-publier", s.requireLogin(s.newsQueue))
	mux.HandleFunc("POST /actualites/signalements/{id}/decision", s.requireLogin(s.newsResolve))
	mux.HandleFunc("GET /actualites/fils", s.requireLogin(s.newsThreads))
	mux.HandleFunc("POST /actualites/fils", s.requireLogin(s.newsCreateThread))
	mux.HandleFunc("POST /actualites/fils/{id}/membres", s.requireLogin(s.newsSetMember))
	mux.HandleFunc("GET /actualites/nouvelle", s.requireLogin(s.newsNew))
	mux.HandleFunc("POST /actualites/nouvelle", s.requireLogin(s.newsCreate))
	mux.HandleFunc("GET /actualites/{id}", s.newsItem)
	mux.HandleFunc("GET /actualites/{id}/modifier", s.requireLogin(s.newsEdit))
	mux.HandleFunc("POST /actualites/{id}/modifier", s.requireLogin(s.newsUpdate))
	mux.HandleFunc("POST /actualites/{id}/{action}", s.requireLogin(s.newsAction))
	mux.HandleFunc("GET /contenus/fichiers/{id}", s.newsFile)
	mux.HandleFunc("GET /actualites.atom", s.newsAtom)

	mux.HandleFunc("GET /api/v1/actualites", s.requireLogin(s.apiNewsList))
	mux.HandleFunc("POST /api/v1/actualites", s.requireLogin(s.apiNewsCreate))
	mux.HandleFunc("GET /api/v1/actualites/{id}", s.requireLogin(s.apiNewsGet))
	mux.HandleFunc("POST /api/v1/actualites/{id}/{action}", s.requireLogin(s.apiNewsAction))

	s.siteRoutes(mux)
}

// newsNav is what the Actualités pages' sub-navigation shows.
type newsNav struct {
	Write    bool // writes in at least one thread
	Publish  bool
	Moderate bool
	Manage   bool // administers a structure: manages threads
	Queue    int
	Reports  int
}

func (s *Server) newsNav(r *http.Request) (newsNav, error) {
	ctx, a := r.Context(), actorOf(r)
	var n newsNav
	threads, err := s.svc.News.Threads(ctx, a)
	if err != nil {
		return n, err
	}
	for _, t := range threads {
		n.Write = true
		n.Publish = n.Publish || t.Role >= news.RolePublisher
	}
	if n.Publish {
		q, err := s.svc.News.Queue(ctx, a)
		if err != nil {
			return n, err
		}
		n.Queue = len(q)
	}
	if n.Moderate, err = s.svc.News.IsModerator(ctx, a); err != nil {
		return n, err
	}
	if n.Moderate {
		reports, err := s.svc.News.Reports(ctx, a)
		if err != nil {
			return n, err
		}
		n.Reports = len(reports)
	}
	n.Manage, err = s.svc.Rights.IsAdmin(ctx, a)
	return n, err
}

type newsListData struct {
	Nav   newsNav
	Items []news.Item
	Now   time.Time
	Mine  bool
	Queue bool
}

func (s *Server) newsListPage(w http.ResponseWriter, r *http.Request, title string, items []news.Item, err error, d newsListData) {
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Nav, err = s.newsNav(r); err != nil {
		s.fail(w, r, err)
		return
	}
	d.Items, d.Now = items, s.svc.News.Now()
	s.render(w, r, http.StatusOK, "news_list", s.page(r, title, d))
}

func (s *Server) newsList(w http.ResponseWriter, r *http.Request) {
	items, err := s.svc.News.Feed(r.Context(), actorOf(r), 100)
	s.newsListPage(w, r, "news.title", items, err, newsListData{})
}

func (s *Server) newsMine(w http.ResponseWriter, r *http.Request) {
	items, err := s.svc.News.Mine(r.Context(), actorOf(r))
	s.newsListPage(w, r, "news.mine", items, err, newsListData{Mine: true})
}

func (s *Server) newsQueue(w http.ResponseWriter, r *http.Request) {
	items, err := s.svc.News.Queue(r.Context(), actorOf(r))
	s.newsListPage(w, r, "news.queue", items, err, newsListData{Queue: true})
}

type newsItemData struct {
	Item      news.Item
	Role      int
	Mine      bool
	Live      bool
	Moderator bool
	Now       time.Time
}

// newsItem shows an item: a public one to anyone, others to the persons they are for
// and to their thread's writers and publishers.
func (s *Server) newsItem(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	it, role, err := s.svc.News.Get(ctx, a, r.PathValue("id"))
	if errors.Is(err, actor.ErrNotFound) && st(r).person == nil {
		http.Redirect(w, r, "/connexion?retour="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	mod := false
	if a.PersonID != "" {
		if mod, err = s.svc.Rights.IsModerator(ctx, a, it.StructureID); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	p := s.page(r, "", newsItemData{Item: it, Role: role, Mine: it.AuthorID == a.PersonID, Live: s.svc.News.Live(it), Moderator: mod, Now: s.svc.News.Now()})
	p.Title = it.Title
	s.render(w, r, http.StatusOK, "news_item", p)
}

// newsAction runs the workflow's buttons: submit, publish, reject, unpublish,
// delete, report and (moderators) remove.
func (s *Server) newsAction(w http.ResponseWriter, r *http.Request) {
	ctx, a, id := r.Context(), actorOf(r), r.PathValue("id")
	var err error
	key := ""
	switch r.PathValue("action") {
	case "soumettre":
		err, key = s.svc.News.Submit(ctx, a, id), "news.submitted"
	case "publier":
		err, key = s.svc.News.Publish(ctx, a, id), "news.published"
	case "rejeter":
		err, key = s.svc.News.Reject(ctx, a, id, r.PostFormValue("note")), "news.rejected"
	case "depublier":
		err, key = s.svc.News.Unpublish(ctx, a, id), "news.unpublished"
	case "retirer":
		err, key = s.svc.News.Remove(ctx, a, id, r.PostFormValue("note")), "news.removed"
	case "supprimer":
		if err = s.svc.News.Delete(ctx, a, id); err == nil {
			flash(w, "news.deleted")
			http.Redirect(w, r, "/actualites/mes-articles", http.StatusSeeOther)
			return
		}
	case "signaler":
		err, key = s.svc.News.Report(ctx, a, id, r.PostFormValue("reason")), "news.reported"
	default:
		s.errorPage(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, key)
	http.Redirect(w, r, "/actualites/"+id, http.StatusSeeOther)
}

// ---- Writing ----

type newsFormData struct {
	Nav      newsNav
	Threads  []news.ThreadWithRole
	Thread   news.ThreadWithRole
	Item     news.Item // zero when new
	School   bool      // the thread's structure is a school: classes; otherwise schools served
	Profiles []string
	Types    []string
	Classes  []directory.Group
	Served   []directory.Structure
}

func (s *Server) newsNew(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "news.write", nil)
	p.Form = r.URL.Query()
	s.newsForm(w, r, http.StatusOK, p, r.URL.Query().Get("fil"), news.Item{})
}

func (s *Server) newsEdit(w http.ResponseWriter, r *http.Request) {
	it, role, err := s.svc.News.Get(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if role == news.RoleNone {
		s.fail(w, r, actor.ErrForbidden)
		return
	}
	p := s.page(r, "news.edit", nil)
	p.Form = url.Values{"title": {it.Title}, "body": {string(it.Body)}, "profiles": it.Target.Profiles, "classes": it.Target.Classes,
		"types": it.Target.Types, "structures": it.Target.Structures}
	if it.Headline {
		p.Form.Set("headline", "on")
	}
	if it.Public {
		p.Form.Set("public", "on")
	}
	if !it.PublishAt.IsZero() {
		p.Form.Set("publish_at", it.PublishAt.Local().Format(dateTimeLocal))
	}
	if !it.ExpireAt.IsZero() {
		p.Form.Set("expire_at", it.ExpireAt.Local().Format(dateTimeLocal))
	}
	s.newsForm(w, r, http.StatusOK, p, it.ThreadID, it)
}

const dateTimeLocal = "2006-01-02T15:04"

func (s *Server) newsForm(w http.ResponseWriter, r *http.Request, status int, p Page, threadID string, it news.Item) {
	ctx := r.Context()
	d := newsFormData{Item: it, Profiles: directory.Profiles, Types: news.SchoolTypes}
	var err error
	if d.Nav, err = s.newsNav(r); err != nil {
		s.fail(w, r, err)
		return
	}
	if d.Threads, err = s.svc.News.Threads(ctx, actorOf(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	if threadID == "" && len(d.Threads) == 1 {
		threadID = d.Threads[0].ID
	}
	for _, t := range d.Threads {
		if t.ID == threadID {
			d.Thread = t
		}
	}
	if d.Thread.ID == "" {
		if len(d.Threads) == 0 {
			s.fail(w, r, actor.ErrForbidden)
			return
		}
		// Choose the thread first: what can be targeted depends on it.
		s.render(w, r, status, "news_form", withData(p, d))
		return
	}
	owner, err := s.svc.Directory.Structure(ctx, d.Thread.StructureID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d.School = directory.IsSchool(owner.Kind)
	if d.School {
		d.Classes, err = s.svc.Directory.Groups(ctx, owner.ID, directory.GroupClass, directory.GroupTeaching)
	} else {
		d.Served, err = s.svc.News.Served(ctx, owner.ID)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, status, "news_form", withData(p, d))
}

func withData(p Page, d any) Page {
	p.Data = d
	return p
}

func (s *Server) newsCreate(w http.ResponseWriter, r *http.Request) { s.newsSave(w, r, "") }

func (s *Server) newsUpdate(w http.ResponseWriter, r *http.Request) {
	s.newsSave(w, r, r.PathValue("id"))
}

func parseLocal(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return time.Time{}, true
	}
	for _, layout := range []string{dateTimeLocal, "2006-01-02T15:04:05", "2006-01-02"} {
		if t, err := time.ParseInLocation(layout, v, time.Local); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// newsSave saves the form, stores an image given with it into the text, then
// submits or publishes if asked.
func (s *Server) newsSave(w http.ResponseWriter, r *http.Request, id string) {
	ctx, a := r.Context(), actorOf(r)
	if err := r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		s.fail(w, r, err)
		return
	}
	f := r.Form
	in := news.Input{ThreadID: f.Get("thread"), Title: f.Get("title"), Body: f.Get("body"), Headline: f.Get("headline") != "", Public: f.Get("public") != "",
		Target: news.Target{Profiles: f["profiles"], Classes: f["classes"], Types: f["types"], Structures: f["structures"]}}
	var old news.Item
	if id != "" {
		var err error
		if old, _, err = s.svc.News.Get(ctx, a, id); err != nil {
			s.fail(w, r, err)
			return
		}
		in.ThreadID = old.ThreadID
	}
	var errs map[string]string
	var ok bool
	if in.PublishAt, ok = parseLocal(f.Get("publish_at")); !ok {
		errs = map[string]string{"publish_at": st(r).L.T("news.bad_date")}
	}
	if in.ExpireAt, ok = parseLocal(f.Get("expire_at")); !ok {
		errs = map[string]string{"expire_at": st(r).L.T("news.bad_date")}
	}
	file, header, ferr := r.FormFile("image")
	if ferr == nil {
		defer file.Close()
		if strings.TrimSpace(f.Get("image_alt")) == "" && errs == nil {
			errs = map[string]string{"image_alt": st(r).L.T("news.alt_required")}
		}
	}
	var it news.Item
	var err error
	if errs == nil {
		it, err = s.svc.News.Save(ctx, a, id, in)
		if err == nil && ferr == nil {
			it, err = s.attachImage(r, it, in, file, header.Filename, f.Get("image_alt"))
		}
		if err == nil {
			switch f.Get("action") {
			case "submit":
				err = s.svc.News.Submit(ctx, a, it.ID)
			case "publish":
				err = s.svc.News.Publish(ctx, a, it.ID)
			}
		}
		if err != nil {
			var isForm bool
			if errs, isForm = formErrors(r, err); !isForm {
				s.fail(w, r, err)
				return
			}
		}
	}
	if errs != nil {
		p := s.page(r, "news.write", nil)
		if id != "" {
			p.Title = st(r).L.T("news.edit")
		}
		p.Errors, p.Form = errs, f
		s.newsForm(w, r, http.StatusBadRequest, p, in.ThreadID, old)
		return
	}
	switch f.Get("action") {
	case "submit":
		flash(w, "news.submitted")
	case "publish":
		flash(w, "news.published")
	default:
		flash(w, "news.saved")
	}
	http.Redirect(w, r, "/actualites/"+it.ID, http.StatusSeeOther)
}

// attachImage stores an uploaded image and adds it, with its text alternative, at the
// end of the item's text.
func (s *Server) attachImage(r *http.Request, it news.Item, in news.Input, file io.Reader, name, alt string) (news.Item, error) {
	ctx, a := r.Context(), actorOf(r)
	fl, err := s.svc.News.AddFile(ctx, a, "item", it.ID, name, file)
	if err != nil {
		return it, err
	}
	in.Body = string(it.Body) + embed(fl, alt)
	return s.svc.News.Save(ctx, a, it.ID, in)
}

// embed is the HTML that shows an uploaded file in content: an image with its text
// alternative, or a link named by it.
func embed(fl news.File, alt string) string {
	alt = html.EscapeString(strings.TrimSpace(alt))
	if fl.IsImage() {
		return `<figure><img src="/contenus/fichiers/` + fl.ID + `" alt="` + alt + `"></figure>`
	}
	return `<p><a href="/contenus/fichiers/` + fl.ID + `">` + alt + `</a></p>`
}

// newsFile serves a file of an item or page to whoever may read it; public ones may
// be cached by anyone.
func (s *Server) newsFile(w http.ResponseWriter, r *http.Request) {
	ctx, a := r.Context(), actorOf(r)
	f, rc, err := s.svc.News.OpenFile(ctx, a, r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	defer rc.Close()
	w.Header().Set("Content-Type", f.ContentType)
	w.Header().Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if f.IsImage() {
		w.Header().Set("Content-Disposition", "inline")
	} else {
		w.Header().Set("Content-Disposition", "attachment; filename*=UTF-8''"+url.PathEscape(f.Name))
	}
	if s.svc.News.Public(ctx, f) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
	} else {
		w.Header().Set("Cache-Control", "private, max-age=300")
	}
	http.ServeContent(w, r, "", time.Time{}, rc)
}

// ---- Moderation ----

func (s *Server) newsResolve(w http.ResponseWriter, r *http.Request) {
	remove := r.PostFormValue("decision") == "remove"
	if err := s.svc.News.Resolve(r.Context(), actorOf(r), r.PathValue("id"), remove, r.PostFormValue("note")); err != nil {
		s.fail(w, r, err)
		return
	}
	if remove {
		flash(w, "news.removed")
	} else {
		flash(w, "news.dismissed")
	}
	http.Redirect(w, r, moderationURL(moderation.KindNews, 0), http.StatusSeeOther)
}

// ---- Threads ----

type threadRow struct {
	news.ThreadWithRole
	Members []memberRow
	Groups  []directory.Group
}

type memberRow struct {
	rights.Grantee
	Name  string
	Level rights.Level
}

type newsThreadsData struct {
	Nav        newsNav
	Threads    []threadRow
	Structures []directory.Structure // where the actor may create threads
}

func (s *Server) newsThreads(w http.ResponseWriter, r *http.Request) {
	s.newsThreadsPage(w, r, http.StatusOK, s.page(r, "news.threads", nil))
}

func (s *Server) newsThreadsPage(w http.ResponseWriter, r *http.Request, status int, p Page) {
	ctx, a := r.Context(), actorOf(r)
	all, adminIDs, err := s.svc.Rights.AdminScope(ctx, a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !all && len(adminIDs) == 0 {
		s.fail(w, r, actor.ErrForbidden)
		return
	}
	var d newsThreadsData
	if all {
		adminIDs = nil
	}
	if d.Structures, err = s.svc.Directory.Structures(ctx, adminIDs); err != nil {
		s.fail(w, r, err)
		return
	}
	threads, err := s.svc.News.Threads(ctx, a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	for _, t := range threads {
		if t.Role < news.RoleManager {
			continue
		}
		row := threadRow{ThreadWithRole: t}
		shares, err := s.svc.News.Members(ctx, t.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		row.Members = s.memberRows(ctx, shares)
		if row.Groups, err = s.svc.Directory.Groups(ctx, t.StructureID, directory.GroupProfile, directory.GroupClass, directory.GroupTeaching, directory.GroupManual); err != nil {
			s.fail(w, r, err)
			return
		}
		d.Threads = append(d.Threads, row)
	}
	if d.Nav, err = s.newsNav(r); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, status, "news_threads", withData(p, d))
}

func (s *Server) newsCreateThread(w http.ResponseWriter, r *http.Request) {
	_, err := s.svc.News.CreateThread(r.Context(), actorOf(r), r.PostFormValue("structure"), r.PostFormValue("name"))
	if errs, ok := formErrors(r, err); ok {
		p := s.page(r, "news.threads", nil)
		p.Errors, p.Form = errs, r.PostForm
		s.newsThreadsPage(w, r, http.StatusBadRequest, p)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, "news.thread_created")
	http.Redirect(w, r, "/actualites/fils", http.StatusSeeOther)
}

// newsSetMember makes a group or a person (by login) a writer or publisher of a thread.
func (s *Server) newsSetMember(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	g := rights.Grantee{Kind: "group", ID: r.PostFormValue("group")}
	if login := strings.TrimSpace(r.PostFormValue("login")); login != "" {
		p, err := s.svc.Directory.PersonByLogin(ctx, login)
		if err != nil {
			p := s.page(r, "news.threads", nil)
			p.Errors, p.Form = map[string]string{"login": st(r).L.T("news.unknown_login")}, r.PostForm
			s.newsThreadsPage(w, r, http.StatusBadRequest, p)
			return
		}
		g = rights.Grantee{Kind: "person", ID: p.ID}
	}
	if pid := r.PostFormValue("person"); pid != "" {
		g = rights.Grantee{Kind: "person", ID: pid}
	}
	level, _ := rights.ParseLevel(r.PostFormValue("level"))
	if g.ID == "" {
		s.errorPage(w, r, http.StatusBadRequest, "news.member_required")
		return
	}
	if err := s.svc.News.SetMember(ctx, actorOf(r), r.PathValue("id"), g, level); err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, "news.members_saved")
	http.Redirect(w, r, "/actualites/fils#fil-"+r.PathValue("id"), http.StatusSeeOther)
}
