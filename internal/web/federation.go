package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/preau-ent/preau/internal/federation"
	"github.com/preau-ent/preau/internal/platform/actor"
)

// Federated login: "Se connecter avec …" on the login page leads to the external
// OpenID Connect provider, whose answer comes back to /connexion/federee/{id}/retour.
// A linked account is signed in at once; otherwise the person confirms the link, once,
// with their Préau password (a same-origin form). The super administrators configure
// the providers at /admin/federation.

func (s *Server) federationRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /connexion/federee/{id}", s.federationBegin)
	mux.HandleFunc("GET /connexion/federee/{id}/retour", s.federationReturn)
	mux.HandleFunc("POST /connexion/federee/lier", s.federationLink)
	mux.HandleFunc("GET /admin/federation", s.requireLogin(s.adminFederation))
	mux.HandleFunc("POST /admin/federation", s.requireLogin(s.adminCreateFederation))
	mux.HandleFunc("POST /admin/federation/{id}/supprimer", s.requireLogin(s.adminDeleteFederation))
}

func (s *Server) federationCallback(r *http.Request, id string) string {
	return s.baseURL(r) + "/connexion/federee/" + id + "/retour"
}

func (s *Server) federationBegin(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	to, err := s.svc.Federation.Begin(r.Context(), id, s.federationCallback(r, id))
	if err != nil {
		s.federationRefused(w, r, err)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// federationLinkData is the page that asks for the password of the matching account.
type federationLinkData struct {
	Provider string
	Handle   string
}

func (s *Server) federationReturn(w http.ResponseWriter, r *http.Request) {
	id, q := r.PathValue("id"), r.URL.Query()
	state := st(r)
	o, err := s.svc.Federation.Complete(r.Context(), id, q.Get("state"), q.Get("code"), s.federationCallback(r, id), state.ip)
	if err != nil {
		s.federationRefused(w, r, err)
		return
	}
	if o.PersonID == "" {
		p := s.page(r, "federation.link_title", federationLinkData{Provider: o.Provider.Name, Handle: o.LinkHandle})
		s.render(w, r, http.StatusOK, "federation_link", p)
		return
	}
	token, person, err := s.svc.Accounts.LoginFederated(r.Context(), o.PersonID, o.Provider.Name, state.ip, r.UserAgent())
	if err != nil {
		status, key, ok := s.loginRefused(w, r, err)
		if ok {
			s.errorPage(w, r, status, key)
		}
		return
	}
	if !s.switchSession(w, r, person, token) {
		return
	}
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// federationLink confirms a link with the password of the account the claim matched.
func (s *Server) federationLink(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	f := r.PostForm
	handle := f.Get("h")
	provider, err := s.svc.Federation.PendingLink(r.Context(), handle)
	if err != nil {
		s.federationRefused(w, r, err)
		return
	}
	state := st(r)
	login := strings.TrimSpace(f.Get("login"))
	again := func(status int, key string) {
		p := s.page(r, "federation.link_title", federationLinkData{Provider: provider.Name, Handle: handle})
		p.Errors = map[string]string{"login": state.L.T(key)}
		p.Form.Set("login", login)
		s.render(w, r, status, "federation_link", p)
	}
	token, person, err := s.svc.Accounts.Login(r.Context(), login, f.Get("password"), state.ip, r.UserAgent())
	if err != nil {
		status, key, ok := s.loginRefused(w, r, err)
		if ok {
			again(status, key)
		}
		return
	}
	if err := s.svc.Federation.ConfirmLink(r.Context(), handle, person, state.ip); err != nil {
		// The password was right but for another account: that session is not kept.
		if lerr := s.svc.Accounts.Logout(r.Context(), token); lerr != nil {
			s.fail(w, r, lerr)
			return
		}
		s.federationRefused(w, r, err)
		return
	}
	if !s.switchSession(w, r, person, token) {
		return
	}
	flash(w, "federation.linked")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (s *Server) federationRefused(w http.ResponseWriter, r *http.Request, err error) {
	var rf *federation.Refusal
	switch {
	case errors.As(err, &rf):
		s.errorPage(w, r, http.StatusBadRequest, rf.Message)
	case errors.Is(err, actor.ErrNotFound):
		s.errorPage(w, r, http.StatusNotFound, "error.not_found")
	default:
		s.fail(w, r, err)
	}
}

type adminFederationData struct {
	Nav       adminNav
	Providers []federation.Provider
	Matches   []option
	Callback  string // the redirect address pattern to register at the provider
}

func (s *Server) federationPage(w http.ResponseWriter, r *http.Request, status int, p Page) {
	if err := s.svc.Rights.MustSuperAdmin(r.Context(), actorOf(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	list, err := s.svc.Federation.Providers(r.Context())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d := adminFederationData{Providers: list, Callback: s.federationCallback(r, "{id}")}
	if d.Nav, err = s.nav(r, nil); err != nil {
		s.fail(w, r, err)
		return
	}
	for _, m := range federation.Matches {
		d.Matches = append(d.Matches, option{Value: m, Key: "federation.match." + m})
	}
	setDefault(p.Form, "match", "externalId")
	setDefault(p.Form, "claim", "sub")
	p.Title, p.Data = p.L.T("admin.federation.title"), d
	s.render(w, r, status, "admin_federation", p)
}

func (s *Server) adminFederation(w http.ResponseWriter, r *http.Request) {
	s.federationPage(w, r, http.StatusOK, s.page(r, "", nil))
}

func (s *Server) adminCreateFederation(w http.ResponseWriter, r *http.Request) {
	if !s.parseForm(w, r) {
		return
	}
	f := r.PostForm
	_, err := s.svc.Federation.Create(r.Context(), actorOf(r), federation.Input{Name: f.Get("name"), Issuer: f.Get("issuer"), ClientID: f.Get("client_id"),
		ClientSecret: f.Get("client_secret"), Claim: f.Get("claim"), Match: f.Get("match")})
	s.done(w, r, err, "admin.federation.created", "/admin/federation", same("name", "issuer", "client_id", "claim", "match"), "name", func(p Page) {
		p.Form.Del("client_secret") // never given back
		s.federationPage(w, r, http.StatusBadRequest, p)
	})
}

func (s *Server) adminDeleteFederation(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.Federation.Delete(r.Context(), actorOf(r), r.PathValue("id")); err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, "admin.federation.deleted")
	http.Redirect(w, r, "/admin/federation", http.StatusSeeOther)
}
