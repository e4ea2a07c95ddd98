package web

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/preau-ent/preau/internal/blog"
	"github.com/preau-ent/preau/internal/faq"
	"github.com/preau-ent/preau/internal/news"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/richtext"
)

// The public site of a portal: reachable without login, it shows the structure's
// public news, the pages its administrators write, its contact and practical
// information, with an Atom feed of the public news.

func (s *Server) siteRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /site", s.publicHome)
	mux.HandleFunc("GET /site/{slug}", s.sitePage)
	mux.HandleFunc("GET /site/gestion", s.requireLogin(s.siteAdmin))
	mux.HandleFunc("POST /site/gestion/infos", s.requireLogin(s.siteSaveInfo))
	mux.HandleFunc("GET /site/gestion/pages/nouvelle", s.requireLogin(s.sitePageNew))
	mux.HandleFunc("POST /site/gestion/pages/nouvelle", s.requireLogin(s.sitePageCreate))
	mux.HandleFunc("GET /site/gestion/pages/{id}", s.requireLogin(s.sitePageEdit))
	mux.HandleFunc("POST /site/gestion/pages/{id}", s.requireLogin(s.sitePageUpdate))
	mux.HandleFunc("POST /site/gestion/pages/{id}/supprimer", s.requireLogin(s.sitePageDelete))
}

// siteCache keeps the rendered public home of each portal for visitors: it is good
// while the structure's site version (in the database, so that every instance sees
// every change) stays the same and the clock reaches no scheduled item or expiry.
type siteCache struct {
	mu      sync.RWMutex
	entries map[string]*siteEntry
}

type siteEntry struct {
	version int64
	until   time.Time
	body    []byte
	etag    string
	built   time.Time
}

// publicSites holds one siteCache per application (tests run several): *news.Service → *siteCache.
var publicSites sync.Map

func (s *Server) siteCache() *siteCache {
	if c, ok := publicSites.Load(s.svc.News); ok {
		return c.(*siteCache)
	}
	c, _ := publicSites.LoadOrStore(s.svc.News, &siteCache{entries: map[string]*siteEntry{}})
	return c.(*siteCache)
}

type siteData struct {
	News   []news.Item
	Pages  []news.Page
	Info   news.Info
	Page   news.Page // a page of the site
	Public bool      // shown to a visitor: the login button is the first thing
	// FAQ tells whether the structure has public questions; Blogs are its public
	// blogs. The site's navigation links both.
	FAQ   bool
	Blogs []blog.Blog
	// Categories are the public FAQ's sections, on the site's FAQ page.
	Categories []faq.Category
}

// siteNav fills the site's navigation: its published pages, whether it has a public
// FAQ, its public blogs.
func (s *Server) siteNav(r *http.Request, sid string, d *siteData) error {
	ctx := r.Context()
	var err error
	if d.Pages, err = s.svc.News.Pages(ctx, sid, false); err != nil {
		return err
	}
	if s.svc.FAQ != nil {
		if d.FAQ, err = s.svc.FAQ.HasPublic(ctx, sid); err != nil {
			return err
		}
	}
	if s.svc.Blog != nil {
		if d.Blogs, err = s.svc.Blog.PublicBlogs(ctx, sid); err != nil {
			return err
		}
	}
	return nil
}

// publicHome is the portal's public home. A default portal has none: visitors go
// to the login page.
func (s *Server) publicHome(w http.ResponseWriter, r *http.Request) {
	sid := st(r).portal.StructureID
	if sid == "" {
		if st(r).person == nil {
			http.Redirect(w, r, "/connexion", http.StatusSeeOther)
		} else {
			s.errorPage(w, r, http.StatusNotFound, "error.not_found")
		}
		return
	}
	ctx := r.Context()
	if st(r).person != nil { // signed in: the same page, with the navigation, never cached
		d, _, err := s.siteHomeData(r, sid)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		s.render(w, r, http.StatusOK, "site_home", s.page(r, "", d))
		return
	}
	v, err := s.svc.News.Version(ctx, sid)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := st(r).portal
	key := p.Host + "|" + st(r).L.Lang + "|" + r.URL.Path + "|" + strconv.FormatInt(p.UpdatedAt.UnixMilli(), 10)
	c := s.siteCache()
	now := time.Now()
	c.mu.RLock()
	e := c.entries[key]
	c.mu.RUnlock()
	if e == nil || e.version != v || (!e.until.IsZero() && !now.Before(e.until)) {
		d, until, err := s.siteHomeData(r, sid)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		d.Public = true
		pg := s.page(r, "", d)
		pg.Flash = ""
		var buf bytes.Buffer
		if err := s.pages["site_home"].ExecuteTemplate(&buf, "layout", pg); err != nil {
			s.fail(w, r, err)
			return
		}
		h := fnv.New64a()
		h.Write(buf.Bytes())
		e = &siteEntry{version: v, until: until, body: buf.Bytes(), etag: fmt.Sprintf(`"%x"`, h.Sum64()), built: now}
		c.mu.Lock()
		if len(c.entries) > 10000 {
			c.entries = map[string]*siteEntry{}
		}
		c.entries[key] = e
		c.mu.Unlock()
	}
	hd := w.Header()
	hd.Set("ETag", e.etag)
	hd.Set("Last-Modified", e.built.UTC().Format(http.TimeFormat))
	hd.Set("Cache-Control", "public, max-age=60")
	hd.Set("Vary", "Cookie, Accept-Language")
	if match := r.Header.Get("If-None-Match"); match != "" && strings.Contains(match, e.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hd.Set("Content-Type", "text/html; charset=utf-8")
	hd.Set("Content-Length", strconv.Itoa(len(e.body)))
	w.WriteHeader(http.StatusOK)
	w.Write(e.body)
}

func (s *Server) siteHomeData(r *http.Request, sid string) (siteData, time.Time, error) {
	ctx := r.Context()
	var d siteData
	var err error
	if d.News, err = s.svc.News.PublicNews(ctx, sid, 10); err != nil {
		return d, time.Time{}, err
	}
	if err = s.siteNav(r, sid, &d); err != nil {
		return d, time.Time{}, err
	}
	if d.Info, err = s.svc.News.Info(ctx, sid); err != nil {
		return d, time.Time{}, err
	}
	until, err := s.svc.News.NextChange(ctx, sid)
	return d, until, err
}

func (s *Server) sitePage(w http.ResponseWriter, r *http.Request) {
	sid := st(r).portal.StructureID
	if sid == "" {
		s.errorPage(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	ctx := r.Context()
	pg, err := s.svc.News.PageBySlug(ctx, sid, r.PathValue("slug"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := siteData{Page: pg, Public: st(r).person == nil}
	if err := s.siteNav(r, sid, &d); err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "", d)
	p.Title = pg.Title
	if st(r).person != nil {
		s.render(w, r, http.StatusOK, "site_page", p)
		return
	}
	// A visitor's copy may be kept a minute, and revalidated by its date.
	if t, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !pg.UpdatedAt.Truncate(time.Second).After(t) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	p.Flash = ""
	var buf bytes.Buffer
	if err := s.pages["site_page"].ExecuteTemplate(&buf, "layout", p); err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "public, max-age=60")
	h.Set("Vary", "Cookie, Accept-Language")
	h.Set("Last-Modified", pg.UpdatedAt.UTC().Format(http.TimeFormat))
	w.Write(buf.Bytes())
}

// siteFAQ is the public FAQ of the portal's structure, in the site's layout: what a
// visitor who has not signed in reads at /faq.
func (s *Server) siteFAQ(w http.ResponseWriter, r *http.Request, sid string) {
	cats, _, err := s.svc.FAQ.FAQ(r.Context(), actor.Actor{}, sid)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := siteData{Categories: cats, Public: true}
	if err := s.siteNav(r, sid, &d); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "site_faq", s.page(r, "faq.title", d))
}

// siteBlogs lists the public blogs of the portal's structure, in the site's layout,
// for a visitor who has not signed in.
func (s *Server) siteBlogs(w http.ResponseWriter, r *http.Request, sid string) {
	d := siteData{Public: true}
	if err := s.siteNav(r, sid, &d); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "site_blogs", s.page(r, "blog.public_title", d))
}

// ---- Atom ----

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Links   []atomLink  `xml:"link"`
	Author  atomPerson  `xml:"author"`
	Entries []atomEntry `xml:"entry"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr,omitempty"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Body string `xml:",chardata"`
}

type atomEntry struct {
	ID        string     `xml:"id"`
	Title     string     `xml:"title"`
	Updated   string     `xml:"updated"`
	Published string     `xml:"published"`
	Links     []atomLink `xml:"link"`
	Summary   atomText   `xml:"summary"`
	Content   atomText   `xml:"content"`
}

// newsAtom is the Atom 1.0 feed of the portal's public news.
func (s *Server) newsAtom(w http.ResponseWriter, r *http.Request) {
	p := st(r).portal
	if p.StructureID == "" {
		s.errorPage(w, r, http.StatusNotFound, "error.not_found")
		return
	}
	items, err := s.svc.News.PublicNews(r.Context(), p.StructureID, 30)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	base := s.baseURL(r)
	updated := p.UpdatedAt
	f := atomFeed{ID: base + "/actualites.atom", Title: st(r).L.T("site.feed_title", p.Name), Author: atomPerson{Name: p.Name},
		Links: []atomLink{{Rel: "self", Type: "application/atom+xml", Href: base + "/actualites.atom"}, {Rel: "alternate", Type: "text/html", Href: base + "/site"}}}
	for _, it := range items {
		if it.UpdatedAt.After(updated) {
			updated = it.UpdatedAt
		}
		if it.PublishAt.After(updated) {
			updated = it.PublishAt
		}
		link := base + "/actualites/" + it.ID
		f.Entries = append(f.Entries, atomEntry{ID: link, Title: it.Title, Updated: it.UpdatedAt.UTC().Format(time.RFC3339), Published: it.PublishAt.UTC().Format(time.RFC3339),
			Links: []atomLink{{Rel: "alternate", Type: "text/html", Href: link}}, Summary: atomText{Type: "text", Body: it.Summary()},
			Content: atomText{Type: "html", Body: absolutize(it.Body, base)}})
	}
	f.Updated = updated.UTC().Format(time.RFC3339)
	out, err := xml.MarshalIndent(f, "", " ")
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/atom+xml; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Last-Modified", updated.UTC().Format(http.TimeFormat))
	if t, err := http.ParseTime(r.Header.Get("If-Modified-Since")); err == nil && !updated.Truncate(time.Second).After(t) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	w.Write([]byte(xml.Header))
	w.Write(out)
}

// absolutize makes the links and images of sanitized content absolute, for feed readers.
func absolutize(h richtext.HTML, base string) string {
	return strings.NewReplacer(`src="/`, `src="`+base+`/`, `href="/`, `href="`+base+`/`).Replace(string(h))
}

// ---- Site administration ----

type siteAdminData struct {
	StructureID   string
	StructureName string
	Pages         []news.Page
	Page          news.Page
}

// siteStructure is the structure whose site the actor edits: the portal's, or the
// one named by ?structure= (a person administering several).
func (s *Server) siteStructure(r *http.Request) (string, string, error) {
	sid := r.FormValue("structure")
	if sid == "" {
		sid = st(r).portal.StructureID
	}
	if sid == "" {
		_, ids, err := s.svc.Rights.AdminScope(r.Context(), actorOf(r))
		if err != nil {
			return "", "", err
		}
		if len(ids) == 0 {
			return "", "", actor.ErrForbidden
		}
		sid = ids[0]
	}
	ok, err := s.svc.Rights.CanAdminStructure(r.Context(), actorOf(r), sid)
	if err == nil && !ok {
		err = actor.ErrForbidden
	}
	if err != nil {
		return "", "", err
	}
	stc, err := s.svc.Directory.Structure(r.Context(), sid)
	return sid, stc.Name, err
}

func (s *Server) siteAdmin(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "site.admin", nil)
	s.siteAdminPage(w, r, http.StatusOK, p, true)
}

func (s *Server) siteAdminPage(w http.ResponseWriter, r *http.Request, status int, p Page, fill bool) {
	sid, name, err := s.siteStructure(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := siteAdminData{StructureID: sid, StructureName: name}
	if d.Pages, err = s.svc.News.Pages(r.Context(), sid, true); err != nil {
		s.fail(w, r, err)
		return
	}
	if fill {
		info, err := s.svc.News.Info(r.Context(), sid)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		p.Form.Set("address", info.Address)
		p.Form.Set("phone", info.Phone)
		p.Form.Set("email", info.Email)
		p.Form.Set("hours", info.Hours)
		p.Form.Set("practical", string(info.Practical))
	}
	s.render(w, r, status, "site_admin", withData(p, d))
}

func (s *Server) siteSaveInfo(w http.ResponseWriter, r *http.Request) {
	sid, _, err := s.siteStructure(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	err = s.svc.News.SaveInfo(r.Context(), actorOf(r), sid, news.InfoInput{Address: f.Get("address"), Phone: f.Get("phone"), Email: f.Get("email"), Hours: f.Get("hours"), Practical: f.Get("practical")})
	if errs, ok := formErrors(r, err); ok {
		p := s.page(r, "site.admin", nil)
		p.Errors, p.Form = errs, f
		s.siteAdminPage(w, r, http.StatusBadRequest, p, false)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, "site.info_saved")
	http.Redirect(w, r, "/site/gestion?structure="+urlQueryEscape(sid), http.StatusSeeOther)
}

func (s *Server) sitePageNew(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "site.new_page", nil)
	p.Form.Set("published", "on")
	s.sitePageForm(w, r, http.StatusOK, p, news.Page{})
}

func (s *Server) sitePageForm(w http.ResponseWriter, r *http.Request, status int, p Page, pg news.Page) {
	sid, name := pg.StructureID, ""
	var err error
	if sid == "" {
		sid, name, err = s.siteStructure(r)
	} else {
		var stc, e = s.svc.Directory.Structure(r.Context(), sid)
		name, err = stc.Name, e
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, status, "site_page_form", withData(p, siteAdminData{StructureID: sid, StructureName: name, Page: pg}))
}

func (s *Server) sitePageEdit(w http.ResponseWriter, r *http.Request) {
	pg, err := s.svc.News.PageForEdit(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "site.edit_page", nil)
	p.Form.Set("title", pg.Title)
	p.Form.Set("slug", pg.Slug)
	p.Form.Set("body", string(pg.Body))
	p.Form.Set("position", strconv.Itoa(pg.Position))
	if pg.Published {
		p.Form.Set("published", "on")
	}
	s.sitePageForm(w, r, http.StatusOK, p, pg)
}

func (s *Server) sitePageCreate(w http.ResponseWriter, r *http.Request) { s.sitePageSave(w, r, "") }

func (s *Server) sitePageUpdate(w http.ResponseWriter, r *http.Request) {
	s.sitePageSave(w, r, r.PathValue("id"))
}

func (s *Server) sitePageSave(w http.ResponseWriter, r *http.Request, id string) {
	ctx, a := r.Context(), actorOf(r)
	if err := r.ParseMultipartForm(1 << 20); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		s.fail(w, r, err)
		return
	}
	f := r.Form
	var old news.Page
	sid := ""
	var err error
	if id != "" {
		if old, err = s.svc.News.PageForEdit(ctx, a, id); err != nil {
			s.fail(w, r, err)
			return
		}
	} else if sid, _, err = s.siteStructure(r); err != nil {
		s.fail(w, r, err)
		return
	}
	pos, _ := strconv.Atoi(f.Get("position"))
	in := news.PageInput{Title: f.Get("title"), Slug: f.Get("slug"), Body: f.Get("body"), Position: pos, Published: f.Get("published") != ""}
	file, header, ferr := r.FormFile("image")
	var errs map[string]string
	if ferr == nil {
		defer file.Close()
		if strings.TrimSpace(f.Get("image_alt")) == "" {
			errs = map[string]string{"image_alt": st(r).L.T("news.alt_required")}
		}
	}
	var pg news.Page
	if errs == nil {
		pg, err = s.svc.News.SavePage(ctx, a, sid, id, in)
		if err == nil && ferr == nil {
			var fl news.File
			if fl, err = s.svc.News.AddFile(ctx, a, "page", pg.ID, header.Filename, file); err == nil {
				in.Body = string(pg.Body) + embed(fl, f.Get("image_alt"))
				pg, err = s.svc.News.SavePage(ctx, a, sid, pg.ID, in)
			}
		}
		if err != nil {
			var ok bool
			if errs, ok = formErrors(r, err); !ok {
				s.fail(w, r, err)
				return
			}
		}
	}
	if errs != nil {
		p := s.page(r, "site.new_page", nil)
		p.Errors, p.Form = errs, f
		s.sitePageForm(w, r, http.StatusBadRequest, p, old)
		return
	}
	flash(w, "site.page_saved")
	http.Redirect(w, r, "/site/gestion?structure="+urlQueryEscape(pg.StructureID), http.StatusSeeOther)
}

func (s *Server) sitePageDelete(w http.ResponseWriter, r *http.Request) {
	pg, err := s.svc.News.PageForEdit(r.Context(), actorOf(r), r.PathValue("id"))
	if err == nil {
		err = s.svc.News.DeletePage(r.Context(), actorOf(r), pg.ID)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, "site.page_deleted")
	http.Redirect(w, r, "/site/gestion?structure="+urlQueryEscape(pg.StructureID), http.StatusSeeOther)
}
