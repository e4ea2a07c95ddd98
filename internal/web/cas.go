package web

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/preau-ent/preau/internal/cas"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/federation"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/i18n"
)

// The CAS server's endpoints (protocol 1.0, 2.0 and 3.0) under /cas. The browser
// endpoints (/cas/login, /cas/logout) never send anyone to an address that is not a
// registered connector's; the validation endpoints answer the services in the
// protocol's formats, with French descriptions of every refusal.

func (s *Server) casRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /cas/login", s.casLoginForm)
	mux.HandleFunc("POST /cas/login", s.casLogin)
	mux.HandleFunc("GET /cas/logout", s.casLogout)
	mux.HandleFunc("GET /cas/validate", s.casValidate1)
	mux.HandleFunc("GET /cas/serviceValidate", s.casValidate(false, false))
	mux.HandleFunc("GET /cas/proxyValidate", s.casValidate(true, false))
	mux.HandleFunc("GET /cas/p3/serviceValidate", s.casValidate(false, true))
	mux.HandleFunc("GET /cas/p3/proxyValidate", s.casValidate(true, true))
	mux.HandleFunc("GET /cas/proxy", s.casProxy)
}

// casLoginData is what the login page shows when a service asks for a sign-on.
type casLoginData struct {
	Action      string
	ServiceName string
	Providers   []federation.Provider // Préau's own login page: external identity providers
}

// flag reads a boolean parameter of the protocol (renew, gateway): set unless absent,
// empty or "false".
func flag(q url.Values, name string) bool {
	if !q.Has(name) {
		return false
	}
	v := strings.ToLower(q.Get(name))
	return v != "false" && v != "0"
}

// casLoginForm is GET /cas/login: with a session, the service gets its ticket at once
// (unless renew asks for the password again); without one, gateway sends the person
// back without a ticket, otherwise they see the login form.
func (s *Server) casLoginForm(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	service := q.Get("service")
	state := st(r)
	if service == "" {
		// No service: a plain sign-in to Préau.
		if state.person != nil {
			http.Redirect(w, r, "/", http.StatusSeeOther)
			return
		}
		http.Redirect(w, r, "/connexion", http.StatusSeeOther)
		return
	}
	c, err := s.svc.CAS.Connector(r.Context(), service)
	if err != nil {
		s.casRefused(w, r, err)
		return
	}
	renew := flag(q, "renew")
	if state.person != nil && !renew {
		s.casGrant(w, r, service, false)
		return
	}
	if state.person == nil && flag(q, "gateway") && !renew {
		// The service asked not to show a login form: back to it, without a ticket.
		http.Redirect(w, r, service, http.StatusSeeOther)
		return
	}
	p := s.page(r, "login.title", casLoginData{Action: "/cas/login", ServiceName: c.Name})
	p.Form.Set("service", service)
	if renew {
		p.Form.Set("renew", "true")
	}
	s.renderCASLogin(w, r, http.StatusOK, service, p)
}

// renderCASLogin shows the login form for a service. The page's CSP lets its form lead
// to the service (a browser checks form-action along the redirections that follow a
// form): the service's origin is a registered connector's, checked already.
func (s *Server) renderCASLogin(w http.ResponseWriter, r *http.Request, status int, service string, p Page) {
	allowFormTo(w, service)
	s.render(w, r, status, "login", p)
}

// allowFormTo lets the page's forms lead to the origin of target, an address already
// checked against the registered connectors.
func allowFormTo(w http.ResponseWriter, target string) {
	if u, err := url.Parse(target); err == nil {
		csp := w.Header().Get("Content-Security-Policy")
		w.Header().Set("Content-Security-Policy", strings.Replace(csp, "form-action 'self'", "form-action 'self' "+u.Scheme+"://"+u.Host, 1))
	}
}

// casLogin is POST /cas/login: the password, then the ticket. The form is protected
// against cross-site posts like every other form (login CSRF), and the service is
// checked again before anything else.
func (s *Server) casLogin(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	service := f.Get("service")
	c, err := s.svc.CAS.Connector(r.Context(), service)
	if err != nil {
		s.casRefused(w, r, err)
		return
	}
	login := strings.TrimSpace(f.Get("login"))
	state := st(r)
	token, person, err := s.svc.Accounts.Login(r.Context(), login, f.Get("password"), state.ip, r.UserAgent())
	if err != nil {
		status, key, ok := s.loginRefused(w, r, err)
		if !ok {
			return
		}
		p := s.page(r, "login.title", casLoginData{Action: "/cas/login", ServiceName: c.Name})
		p.Errors = map[string]string{"login": state.L.T(key)}
		p.Form.Set("login", login)
		p.Form.Set("service", service)
		if flag(f, "renew") {
			p.Form.Set("renew", "true")
		}
		s.renderCASLogin(w, r, status, service, p)
		return
	}
	// A renewed login replaces the session it was typed in.
	if !s.switchSession(w, r, person, token) {
		return
	}
	s.casGrant(w, r, service, true)
}

// casGrant issues the ticket and sends the browser to the service with it.
func (s *Server) casGrant(w http.ResponseWriter, r *http.Request, service string, newLogin bool) {
	state := st(r)
	to, err := s.svc.CAS.Grant(r.Context(), cas.Login{Person: *state.person, SessionID: state.session.ID, AuthAt: state.session.CreatedAt,
		NewLogin: newLogin, IP: state.ip}, service)
	if err != nil {
		s.casRefused(w, r, err)
		return
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (s *Server) casRefused(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, cas.ErrUnknownService):
		service := r.URL.Query().Get("service")
		if r.Method == http.MethodPost {
			service = r.PostForm.Get("service")
		}
		s.svc.CAS.LogUnknownService(r.Context(), st(r).person, st(r).ip, service)
		s.errorPage(w, r, http.StatusBadRequest, "cas.unknown_service")
	case errors.Is(err, actor.ErrForbidden):
		s.errorPage(w, r, http.StatusForbidden, "cas.not_allowed")
	default:
		s.fail(w, r, err)
	}
}

// casLogout is GET /cas/logout (a GET, as the protocol says): the Préau session ends,
// the services are told, and the browser goes back to the service only if it is a
// registered connector's address (the old "url" parameter is ignored).
func (s *Server) casLogout(w http.ResponseWriter, r *http.Request) {
	if !s.endSession(w, r) {
		return
	}
	s.clearSessionCookie(w)
	if service := r.URL.Query().Get("service"); service != "" {
		if _, err := s.svc.CAS.Connector(r.Context(), service); err == nil {
			http.Redirect(w, r, service, http.StatusSeeOther)
			return
		}
		s.svc.CAS.LogUnknownService(r.Context(), nil, st(r).ip, service)
	}
	flash(w, "auth.logged_out")
	http.Redirect(w, r, "/connexion", http.StatusSeeOther)
}

// endSSO ends the single sign-on side of a closing Préau session: CAS tickets,
// OpenID Connect grants, SAML sessions, with single logout where services asked for it.
func (s *Server) endSSO(r *http.Request, sessionID string) error {
	if err := s.svc.CAS.EndSession(r.Context(), sessionID); err != nil {
		return err
	}
	if err := s.svc.OIDC.EndSession(r.Context(), sessionID); err != nil {
		return err
	}
	return s.svc.SAML.EndSession(r.Context(), sessionID, s.baseURL(r))
}

// endSSOPerson does the same for every session of a person.
func (s *Server) endSSOPerson(r *http.Request, personID string) error {
	if err := s.svc.CAS.EndPerson(r.Context(), personID); err != nil {
		return err
	}
	if err := s.svc.OIDC.EndPerson(r.Context(), personID); err != nil {
		return err
	}
	return s.svc.SAML.EndPerson(r.Context(), personID, s.baseURL(r))
}

// endSession closes the request's Préau session and its single sign-on side; false when the
// answer is already written (an error).
func (s *Server) endSession(w http.ResponseWriter, r *http.Request) bool {
	state := st(r)
	if state.token == "" {
		return true
	}
	if err := s.endSSO(r, state.session.ID); err != nil {
		s.fail(w, r, err)
		return false
	}
	if err := s.svc.Accounts.Logout(r.Context(), state.token); err != nil {
		s.fail(w, r, err)
		return false
	}
	return true
}

// casText is the French description of a refusal: services' logs are read by
// administrators of French schools.
func (s *Server) casText(key string) string { return s.svc.Catalog.For("fr").T(key) }

// casValidate1 is CAS 1.0's /validate: "yes\n<login>\n" or "no\n".
func (s *Server) casValidate1(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	v, err := s.svc.CAS.Validate(r.Context(), cas.Request{Ticket: q.Get("ticket"), Service: q.Get("service"), Renew: flag(q, "renew"), IP: st(r).ip})
	var f *cas.Failure
	if errors.As(err, &f) {
		w.Write([]byte("no\n"))
		return
	}
	if err != nil {
		if r.Context().Err() == nil {
			slog.Error("cas: erreur interne", "path", r.URL.Path, "err", err)
		}
		w.WriteHeader(http.StatusInternalServerError)
		w.Write([]byte("no\n"))
		return
	}
	w.Write([]byte("yes\n" + v.Person.Login + "\n"))
}

// casValidate serves /serviceValidate, /proxyValidate and their /p3/ versions, which
// add the attributes.
func (s *Server) casValidate(allowProxy, v3 bool) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		format := strings.ToUpper(q.Get("format"))
		v, err := s.svc.CAS.Validate(r.Context(), cas.Request{Ticket: q.Get("ticket"), Service: q.Get("service"), PGTURL: q.Get("pgtUrl"),
			Renew: flag(q, "renew"), AllowProxy: allowProxy, IP: st(r).ip})
		var f *cas.Failure
		switch {
		case errors.As(err, &f):
			if format == "JSON" {
				casWrite(w, "JSON", cas.FailureJSON(f.Code, s.casText(f.Message)))
			} else {
				casWrite(w, "XML", cas.FailureXML(f.Code, s.casText(f.Message)))
			}
		case err != nil:
			s.casInternal(w, r, err, true, format)
		case format == "JSON":
			casWrite(w, "JSON", cas.SuccessJSON(v, v3))
		default:
			casWrite(w, "XML", cas.SuccessXML(v, v3))
		}
	}
}

// casProxy is /proxy: a proxy ticket for a target service, to the holder of a PGT.
func (s *Server) casProxy(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format := strings.ToUpper(q.Get("format"))
	pt, err := s.svc.CAS.Proxy(r.Context(), q.Get("pgt"), q.Get("targetService"), st(r).ip)
	var f *cas.Failure
	switch {
	case errors.As(err, &f):
		if format == "JSON" {
			casWrite(w, "JSON", cas.ProxyFailureJSON(f.Code, s.casText(f.Message)))
		} else {
			casWrite(w, "XML", cas.ProxyFailureXML(f.Code, s.casText(f.Message)))
		}
	case err != nil:
		s.casInternal(w, r, err, false, format)
	case format == "JSON":
		casWrite(w, "JSON", cas.ProxySuccessJSON(pt))
	default:
		casWrite(w, "XML", cas.ProxySuccessXML(pt))
	}
}

// casInternal answers INTERNAL_ERROR in the protocol's format, and logs the cause.
func (s *Server) casInternal(w http.ResponseWriter, r *http.Request, err error, validation bool, format string) {
	if r.Context().Err() != nil {
		return
	}
	slog.Error("cas: erreur interne", "path", r.URL.Path, "err", err)
	desc := s.casText("error.internal")
	switch {
	case format == "JSON" && validation:
		casWriteStatus(w, "JSON", http.StatusInternalServerError, cas.FailureJSON(cas.InternalError, desc))
	case format == "JSON":
		casWriteStatus(w, "JSON", http.StatusInternalServerError, cas.ProxyFailureJSON(cas.InternalError, desc))
	case validation:
		casWriteStatus(w, "XML", http.StatusInternalServerError, cas.FailureXML(cas.InternalError, desc))
	default:
		casWriteStatus(w, "XML", http.StatusInternalServerError, cas.ProxyFailureXML(cas.InternalError, desc))
	}
}

func casWrite(w http.ResponseWriter, format string, body []byte) {
	casWriteStatus(w, format, http.StatusOK, body)
}

func casWriteStatus(w http.ResponseWriter, format string, status int, body []byte) {
	ct := "application/xml; charset=utf-8"
	if format == "JSON" {
		ct = "application/json; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(body)
}

// switchSession makes the session just opened by a login typed on a single sign-on page
// the request's own: the one it was typed in ends, the cookie and the language follow,
// and the rest of the request runs as the new session. It reports false after having
// answered with an error.
func (s *Server) switchSession(w http.ResponseWriter, r *http.Request, person directory.Person, token string) bool {
	state := st(r)
	if old := state.token; old != "" {
		if err := s.svc.Accounts.Logout(r.Context(), old); err != nil {
			s.fail(w, r, err)
			return false
		}
	}
	s.setSessionCookie(w, token)
	if person.Language != "" && i18n.Supported(person.Language) {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: person.Language, Path: "/", MaxAge: 365 * 86400, SameSite: http.SameSiteLaxMode})
	}
	sess, p, err := s.svc.Accounts.Lookup(r.Context(), token)
	if err != nil {
		s.fail(w, r, err)
		return false
	}
	state.person, state.session, state.token = &p, sess, token
	return true
}
