package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/i18n"
	"github.com/preau-ent/preau/internal/portal"
	assets "github.com/preau-ent/preau/web"
)

// staticVersion changes the static URLs at each start so browsers pick up new assets.
var staticVersion = fmt.Sprint(time.Now().Unix())

var funcs = template.FuncMap{
	"date": func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.Local().Format("02/01/2006 15:04")
	},
	"day":    func(t time.Time) string { return t.Local().Format("02/01/2006") },
	"iso":    func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"join":   strings.Join,
	"upper":  strings.ToUpper,
	"lower":  strings.ToLower,
	"static": func(p string) string { return "/static/" + p + "?v=" + staticVersion },
	"query":  url.QueryEscape,
	"add":    func(a, b int) int { return a + b },
	// current gives a navigation link its aria-current value: "page" on the page
	// itself, "true" on the pages below it (a section stays marked), "" elsewhere.
	"current": func(path, link string) string {
		switch {
		case path == link:
			return "page"
		case link != "/" && strings.HasPrefix(path, link+"/"):
			return "true"
		}
		return ""
	},
	"dict": func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i+1 < len(kv); i += 2 {
			m[fmt.Sprint(kv[i])] = kv[i+1]
		}
		return m
	},
	"has": func(list []string, v string) bool {
		for _, x := range list {
			if x == v {
				return true
			}
		}
		return false
	},
}

// parseTemplates parses layout and partials once, then each page on a clone of them.
func parseTemplates() (map[string]*template.Template, error) {
	base, err := template.New("").Funcs(funcs).ParseFS(assets.Templates, "templates/layout/*.html")
	if err != nil {
		return nil, err
	}
	pages, err := fs.Glob(assets.Templates, "templates/pages/*.html")
	if err != nil {
		return nil, err
	}
	out := map[string]*template.Template{}
	for _, p := range pages {
		t, err := base.Clone()
		if err != nil {
			return nil, err
		}
		if _, err := t.ParseFS(assets.Templates, p); err != nil {
			return nil, err
		}
		out[strings.TrimSuffix(path.Base(p), ".html")] = t
	}
	return out, nil
}

// Page is what every template receives.
type Page struct {
	L       *i18n.Localizer
	Portal  portal.Portal
	Me      *directory.Person
	IsAdmin bool
	Title   string
	Path    string
	Flash   string
	Errors  map[string]string // form field → message
	Form    url.Values        // what was typed, to give it back after an error
	Data    any
	// MailUnread is the person's count of unread messages, for the header's link.
	MailUnread int
	Unread     int // the signed-in person's unread notifications (capped: notify.MaxUnread)
}

// Err returns the message of a field's error, for templates.
func (p Page) Err(field string) string { return p.Errors[field] }

// Value returns what was typed in a field.
func (p Page) Value(field string) string { return p.Form.Get(field) }

func (s *Server) page(r *http.Request, titleKey string, data any) Page {
	st := st(r)
	p := Page{L: st.L, Portal: st.portal, Me: st.person, Path: r.URL.Path, Data: data, Form: url.Values{}}
	if titleKey != "" {
		p.Title = st.L.T(titleKey)
	}
	if st.person != nil {
		p.IsAdmin, _ = s.svc.Rights.IsAdmin(r.Context(), actorOf(r))
		if s.svc.Messaging != nil {
			p.MailUnread, _ = s.svc.Messaging.Unread(r.Context(), st.person.ID)
		}
		p.Unread = s.unreadOf(r)
	}
	if c, err := r.Cookie("preau_flash"); err == nil {
		if v, err := url.QueryUnescape(c.Value); err == nil && st.L != nil {
			// "key|argument": a message with a number in it ("3 copies recalled").
			if key, arg, ok := strings.Cut(v, "|"); ok {
				p.Flash = st.L.T(key, arg)
			} else {
				p.Flash = st.L.T(v)
			}
		}
	}
	return p
}

// flash leaves a one-time message (an i18n key) for the next page.
func flash(w http.ResponseWriter, key string) {
	http.SetCookie(w, &http.Cookie{Name: "preau_flash", Value: url.QueryEscape(key), Path: "/", MaxAge: 30, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

func (s *Server) render(w http.ResponseWriter, r *http.Request, status int, name string, p Page) {
	t, ok := s.pages[name]
	if !ok {
		slog.Error("gabarit inconnu", "name", name)
		http.Error(w, "gabarit inconnu", http.StatusInternalServerError)
		return
	}
	if p.Flash != "" {
		http.SetCookie(w, &http.Cookie{Name: "preau_flash", Value: "", Path: "/", MaxAge: -1})
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", p); err != nil {
		slog.Error("rendu de page", "page", name, "err", err)
		http.Error(w, "erreur de rendu", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// errorPage renders a clear error page (or a JSON error under /api/).
func (s *Server) errorPage(w http.ResponseWriter, r *http.Request, status int, key string) {
	if strings.HasPrefix(r.URL.Path, "/api/") {
		s.apiError(w, r, status, codeFor(status), key)
		return
	}
	L := st(r).L
	if L == nil {
		L = s.svc.Catalog.For("fr")
	}
	p := s.page(r, "", map[string]any{"Status": status, "Message": L.T(key)})
	p.L = L
	p.Title = L.T("error.title")
	s.render(w, r, status, "error", p)
}

// fail turns a service error into the right page: 403, 404, 400 or 500.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var inv *actor.InvalidError
	switch {
	case r.Context().Err() != nil:
		// The client went away (the driver may then report a cancelled query or a
		// closed connection): nobody to answer, nothing to report.
		return
	case errors.Is(err, actor.ErrForbidden):
		s.errorPage(w, r, http.StatusForbidden, "error.forbidden")
	case errors.Is(err, actor.ErrNotFound):
		s.errorPage(w, r, http.StatusNotFound, "error.not_found")
	case errors.As(err, &inv):
		s.errorPage(w, r, http.StatusBadRequest, inv.Message)
	case db.IsBusy(err):
		slog.Warn("base occupée", "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "60")
		s.errorPage(w, r, http.StatusServiceUnavailable, "error.database_busy")
	default:
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			s.errorPage(w, r, http.StatusRequestEntityTooLarge, "error.too_large")
			return
		}
		slog.Error("erreur interne", "path", r.URL.Path, "err", err)
		s.errorPage(w, r, http.StatusInternalServerError, "error.internal")
	}
}

// formErrors turns an *actor.InvalidError into the field → message map of a form;
// other errors are not form errors.
func formErrors(r *http.Request, err error) (map[string]string, bool) {
	var inv *actor.InvalidError
	if errors.As(err, &inv) {
		return map[string]string{inv.Field: st(r).L.T(inv.Message)}, true
	}
	return nil, false
}

func codeFor(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "invalid"
	case http.StatusUnauthorized:
		return "unauthenticated"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusRequestEntityTooLarge:
		return "too_large"
	case http.StatusTooManyRequests:
		return "rate_limited"
	case http.StatusServiceUnavailable:
		return "busy"
	}
	return "internal"
}

// apiError writes {"error": {"code": ..., "message": ..., "field": ...}}.
func (s *Server) apiError(w http.ResponseWriter, r *http.Request, status int, code, key string) {
	L := st(r).L
	if L == nil {
		L = s.svc.Catalog.For("fr")
	}
	writeJSON(w, status, map[string]any{"error": map[string]string{"code": code, "message": L.T(key)}})
}

// apiFail is fail for the JSON API.
func (s *Server) apiFail(w http.ResponseWriter, r *http.Request, err error) {
	var inv *actor.InvalidError
	switch {
	case r.Context().Err() != nil:
		return
	case errors.Is(err, actor.ErrForbidden):
		s.apiError(w, r, http.StatusForbidden, "forbidden", "error.forbidden")
	case errors.Is(err, actor.ErrNotFound):
		s.apiError(w, r, http.StatusNotFound, "not_found", "error.not_found")
	case errors.As(err, &inv):
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": map[string]string{"code": "invalid", "field": inv.Field, "message": st(r).L.T(inv.Message)}})
	case db.IsBusy(err):
		slog.Warn("base occupée (API)", "path", r.URL.Path, "err", err)
		w.Header().Set("Retry-After", "60")
		s.apiError(w, r, http.StatusServiceUnavailable, "busy", "error.database_busy")
	default:
		slog.Error("erreur interne (API)", "path", r.URL.Path, "err", err)
		s.apiError(w, r, http.StatusInternalServerError, "internal", "error.internal")
	}
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	enc.Encode(v)
}

func urlQueryEscape(s string) string { return url.QueryEscape(s) }

// safeReturn keeps only same-site relative paths, so that ?retour= cannot send a
// person to another site after login (no open redirect).
func safeReturn(v string) string {
	if v == "" || !strings.HasPrefix(v, "/") || strings.HasPrefix(v, "//") || strings.HasPrefix(v, "/\\") || strings.ContainsAny(v, "\r\n") {
		return "/"
	}
	return v
}
