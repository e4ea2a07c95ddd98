package web

import (
	"errors"
	"net/http"
	"strings"

	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/saml"
)

// The SAML 2.0 identity provider's endpoints under /saml. Requests received (either
// binding) are checked and kept by the service, then the browser continues at
// /saml/continue, a same-site page: that is where the session cookie is read and the
// password asked for. Responses only go to a registered assertion consumer address,
// by an auto-submitted form. /saml/sso and /saml/slo receive cross-site posts by
// design (the POST binding) and use no cookie there, so they bypass the cross-origin
// protection, which stays on for everything else, /saml/continue included.

func (s *Server) samlRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /saml/metadata", s.samlMetadata)
	mux.HandleFunc("GET /saml/sso", s.samlSSO)
	mux.HandleFunc("POST /saml/sso", s.samlSSO)
	mux.HandleFunc("GET /saml/continue", s.samlContinue)
	mux.HandleFunc("POST /saml/continue", s.samlContinue)
	mux.HandleFunc("GET /saml/idp-initiated", s.samlIdPInitiated)
	mux.HandleFunc("GET /saml/slo", s.samlSLO)
	mux.HandleFunc("POST /saml/slo", s.samlSLO)
}

// samlBypass lists the endpoints other sites' pages post SAML messages to.
var samlBypass = []string{"POST /saml/sso", "POST /saml/slo"}

func (s *Server) samlMetadata(w http.ResponseWriter, r *http.Request) {
	md, err := s.svc.SAML.Metadata(r.Context(), s.baseURL(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/samlmetadata+xml")
	w.Write(md)
}

// samlIncoming reads a SAML message from the query (Redirect binding) or the form
// (POST binding).
func (s *Server) samlIncoming(r *http.Request) saml.Incoming {
	in := saml.Incoming{Binding: saml.BindingRedirect, Base: s.baseURL(r), IP: st(r).ip, Person: st(r).person, RawQuery: r.URL.RawQuery}
	v := r.URL.Query()
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err == nil {
			v = r.PostForm
		}
		in.Binding, in.RawQuery = saml.BindingPOST, ""
	}
	in.Message, in.RelayState = v.Get("SAMLRequest"), v.Get("RelayState")
	if in.Message == "" && v.Get("SAMLResponse") != "" {
		in.Message, in.Response = v.Get("SAMLResponse"), true
	}
	return in
}

// samlSSO receives an AuthnRequest and sends the browser on to /saml/continue.
func (s *Server) samlSSO(w http.ResponseWriter, r *http.Request) {
	p, err := s.svc.SAML.ReceiveAuthnRequest(r.Context(), s.samlIncoming(r))
	if err != nil {
		s.samlRefused(w, r, err)
		return
	}
	http.Redirect(w, r, "/saml/continue?r="+p.Handle, http.StatusSeeOther)
}

// samlIdPInitiated starts a sign-on from Préau (a tile, the GAR's link):
// ?sp=<connector id or entity ID>&RelayState=...
func (s *Server) samlIdPInitiated(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	in := s.samlIncoming(r)
	p, err := s.svc.SAML.StartIdPInitiated(r.Context(), q.Get("sp"), q.Get("RelayState"), in)
	if err != nil {
		s.samlRefused(w, r, err)
		return
	}
	http.Redirect(w, r, "/saml/continue?r="+p.Handle, http.StatusSeeOther)
}

// samlContinue answers a waiting request: at once for a signed-in person (unless
// the service asked for the password again), otherwise after the login form, which
// posts back here.
func (s *Server) samlContinue(w http.ResponseWriter, r *http.Request) {
	handle := r.URL.Query().Get("r")
	p, err := s.svc.SAML.PendingFor(r.Context(), handle)
	if err != nil {
		s.samlRefused(w, r, err)
		return
	}
	state := st(r)
	action := "/saml/continue?r=" + handle
	if r.Method == http.MethodPost {
		if !s.parseForm(w, r) {
			return
		}
		login := strings.TrimSpace(r.PostForm.Get("login"))
		token, person, err := s.svc.Accounts.Login(r.Context(), login, r.PostForm.Get("password"), state.ip, r.UserAgent())
		if err != nil {
			status, key, ok := s.loginRefused(w, r, err)
			if !ok {
				return
			}
			pg := s.page(r, "login.title", casLoginData{Action: action, ServiceName: p.Connector.Name})
			pg.Errors = map[string]string{"login": state.L.T(key)}
			pg.Form.Set("login", login)
			s.render(w, r, status, "login", pg)
			return
		}
		if !s.switchSession(w, r, person, token) {
			return
		}
		s.samlRespond(w, r, handle)
		return
	}
	if state.person != nil && !p.ForceAuthn {
		s.samlRespond(w, r, handle)
		return
	}
	if p.Passive {
		post, err := s.svc.SAML.Passive(r.Context(), handle, s.baseURL(r), state.ip)
		if err != nil {
			s.samlRefused(w, r, err)
			return
		}
		s.samlPost(w, r, post)
		return
	}
	s.render(w, r, http.StatusOK, "login", s.page(r, "login.title", casLoginData{Action: action, ServiceName: p.Connector.Name}))
}

func (s *Server) samlRespond(w http.ResponseWriter, r *http.Request, handle string) {
	state := st(r)
	post, err := s.svc.SAML.Respond(r.Context(), saml.Login{Person: *state.person, SessionID: state.session.ID, AuthAt: state.session.CreatedAt, IP: state.ip},
		handle, s.baseURL(r))
	if err != nil {
		s.samlRefused(w, r, err)
		return
	}
	s.samlPost(w, r, post)
}

// samlPost shows the page whose form carries the message to the service provider;
// its CSP lets the form lead there (a registered address).
func (s *Server) samlPost(w http.ResponseWriter, r *http.Request, post saml.Post) {
	allowFormTo(w, post.URL)
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, "saml_post", s.page(r, "saml.post_title", post))
}

// samlSLO receives a LogoutRequest (the Préau sessions it names end, everywhere) or
// a LogoutResponse.
func (s *Server) samlSLO(w http.ResponseWriter, r *http.Request) {
	out, err := s.svc.SAML.ReceiveLogout(r.Context(), s.samlIncoming(r))
	if err != nil {
		s.samlRefused(w, r, err)
		return
	}
	state := st(r)
	for _, id := range out.Sessions {
		if err := s.endSSO(r, id); err != nil {
			s.fail(w, r, err)
			return
		}
		if err := s.svc.Accounts.Revoke(r.Context(), actor.Actor{PersonID: out.PersonID, IP: state.ip}, id); err != nil && !errors.Is(err, actor.ErrNotFound) {
			s.fail(w, r, err)
			return
		}
		if state.session.ID == id {
			s.clearSessionCookie(w)
		}
	}
	if out.Redirect != "" {
		http.Redirect(w, r, out.Redirect, http.StatusSeeOther)
		return
	}
	flash(w, "auth.logged_out")
	http.Redirect(w, r, "/connexion", http.StatusSeeOther)
}

func (s *Server) samlRefused(w http.ResponseWriter, r *http.Request, err error) {
	var rf *saml.Refusal
	if errors.As(err, &rf) {
		s.errorPage(w, r, rf.Status, rf.Message)
		return
	}
	s.fail(w, r, err)
}
