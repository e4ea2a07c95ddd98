package web

import (
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/preau-ent/preau/internal/oidc"
	"github.com/preau-ent/preau/internal/platform/actor"
)

// The OpenID Connect provider's endpoints. /oidc/authorize never sends a browser to
// an address that is not the client's registered redirect URI; /oidc/token and
// /oidc/userinfo are called by the clients' servers (and by browser applications,
// cross-origin): they use no cookie, so they bypass the cross-origin protection,
// which stays on for everything else.

func (s *Server) oidcRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /.well-known/openid-configuration", s.oidcDiscovery)
	mux.HandleFunc("GET /oidc/jwks", s.oidcJWKS)
	mux.HandleFunc("GET /oidc/authorize", s.oidcAuthorize)
	mux.HandleFunc("POST /oidc/authorize", s.oidcAuthorize)
	mux.HandleFunc("POST /oidc/token", s.oidcToken)
	mux.HandleFunc("GET /oidc/userinfo", s.oidcUserInfo)
	mux.HandleFunc("POST /oidc/userinfo", s.oidcUserInfo)
	mux.HandleFunc("GET /oidc/logout", s.oidcLogout)
}

// oidcBypass lists the cookie-less endpoints other sites' pages may post to.
var oidcBypass = []string{"POST /oidc/token", "POST /oidc/userinfo"}

func (s *Server) oidcDiscovery(w http.ResponseWriter, r *http.Request) {
	iss := s.baseURL(r)
	writeJSON(w, http.StatusOK, map[string]any{
		"issuer":                                iss,
		"authorization_endpoint":                iss + "/oidc/authorize",
		"token_endpoint":                        iss + "/oidc/token",
		"userinfo_endpoint":                     iss + "/oidc/userinfo",
		"jwks_uri":                              iss + "/oidc/jwks",
		"end_session_endpoint":                  iss + "/oidc/logout",
		"response_types_supported":              []string{"code"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"scopes_supported":                      []string{"openid", "profile", "email"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "none"},
		"code_challenge_methods_supported":      []string{"S256"},
		"claims_supported": []string{"sub", "iss", "aud", "exp", "iat", "auth_time", "nonce", "sid", "preferred_username", "family_name", "given_name",
			"name", "email", "birthdate", "ent_profil", "ent_structures", "ent_classes", "ent_jointure", "preau_id"},
	})
}

func (s *Server) oidcJWKS(w http.ResponseWriter, r *http.Request) {
	set, err := s.svc.OIDC.JWKS(r.Context())
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, set)
}

// oidcAuthorize is the authorization endpoint. GET with a session issues the code at
// once; without one (or with prompt=login) it shows the login form, which posts back
// here with the same query; POST checks the password, then issues the code.
func (s *Server) oidcAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	redirectURI := q.Get("redirect_uri")
	c, err := s.svc.OIDC.Client(r.Context(), q.Get("client_id"), redirectURI)
	if errors.Is(err, oidc.ErrUnknownClient) {
		s.svc.OIDC.LogUnknownClient(r.Context(), st(r).person, st(r).ip, q.Get("client_id"), redirectURI)
		s.errorPage(w, r, http.StatusBadRequest, "oidc.unknown_client")
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	back := func(params url.Values) {
		if state := q.Get("state"); state != "" {
			params.Set("state", state)
		}
		params.Set("iss", s.baseURL(r))
		sep := "?"
		if strings.Contains(redirectURI, "?") {
			sep = "&"
		}
		http.Redirect(w, r, redirectURI+sep+params.Encode(), http.StatusSeeOther)
	}
	if err := oidc.CheckRequest(q.Get("response_type"), q.Get("scope"), q.Get("code_challenge"), q.Get("code_challenge_method")); err != nil {
		var oe *oidc.Error
		errors.As(err, &oe)
		back(url.Values{"error": {oe.Code}, "error_description": {s.casText(oe.Message)}})
		return
	}
	state := st(r)
	prompt := strings.Fields(q.Get("prompt"))
	newLogin := false
	decision := ""
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err != nil {
			s.fail(w, r, err)
			return
		}
		decision = r.PostForm.Get("consentement")
	}
	if r.Method == http.MethodPost && decision == "" {
		login := strings.TrimSpace(r.PostForm.Get("login"))
		token, person, err := s.svc.Accounts.Login(r.Context(), login, r.PostForm.Get("password"), state.ip, r.UserAgent())
		if err != nil {
			status, key, ok := s.loginRefused(w, r, err)
			if !ok {
				return
			}
			p := s.page(r, "login.title", casLoginData{Action: "/oidc/authorize?" + r.URL.RawQuery, ServiceName: c.Name})
			p.Errors = map[string]string{"login": state.L.T(key)}
			p.Form.Set("login", login)
			s.renderCASLogin(w, r, status, redirectURI, p)
			return
		}
		if !s.switchSession(w, r, person, token) {
			return
		}
		newLogin = true
	}
	if state.person == nil || (!newLogin && contains(prompt, "login")) {
		if contains(prompt, "none") {
			back(url.Values{"error": {"login_required"}})
			return
		}
		p := s.page(r, "login.title", casLoginData{Action: "/oidc/authorize?" + r.URL.RawQuery, ServiceName: c.Name})
		s.renderCASLogin(w, r, http.StatusOK, redirectURI, p)
		return
	}
	who := oidc.Login{Person: *state.person, SessionID: state.session.ID, AuthAt: state.session.CreatedAt, IP: state.ip}
	switch decision {
	case "refuser":
		if err := s.svc.OIDC.Consent(r.Context(), who, c, false); err != nil {
			s.fail(w, r, err)
			return
		}
		back(url.Values{"error": {"access_denied"}, "error_description": {s.casText("oidc.consent_refused")}})
		return
	case "accepter":
		if err := s.svc.OIDC.Consent(r.Context(), who, c, true); err != nil {
			s.fail(w, r, err)
			return
		}
	default:
		need, err := s.svc.OIDC.NeedsConsent(r.Context(), c, state.person.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if need {
			if contains(prompt, "none") {
				back(url.Values{"error": {"consent_required"}})
				return
			}
			allowFormTo(w, redirectURI)
			p := s.page(r, "oidc.consent_title", oidcConsentData{Action: "/oidc/authorize?" + r.URL.RawQuery, ServiceName: c.Name, Attributes: c.Attributes})
			s.render(w, r, http.StatusOK, "oidc_consent", p)
			return
		}
	}
	code, err := s.svc.OIDC.Authorize(r.Context(), who,
		oidc.AuthRequest{ClientID: c.ID, RedirectURI: redirectURI, Scope: q.Get("scope"), State: q.Get("state"), Nonce: q.Get("nonce"), CodeChallenge: q.Get("code_challenge")})
	if errors.Is(err, actor.ErrForbidden) {
		back(url.Values{"error": {"access_denied"}, "error_description": {s.casText("cas.not_allowed")}})
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	back(url.Values{"code": {code}})
}

// oidcConsentData is what the consent page shows: who asks, for what.
type oidcConsentData struct {
	Action, ServiceName string
	Attributes          []string
}

func contains(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// oidcToken is the token endpoint: client_secret_basic, client_secret_post, or none
// (public clients, PKCE alone).
func (s *Server) oidcToken(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.oidcError(w, http.StatusBadRequest, "invalid_request", "error.bad_request")
		return
	}
	f := r.PostForm
	id, secret, basic := r.BasicAuth()
	if basic {
		// RFC 6749 §2.3.1: both are form-encoded inside the header.
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = f.Get("client_id"), f.Get("client_secret")
	}
	t, err := s.svc.OIDC.Token(r.Context(), oidc.TokenRequest{GrantType: f.Get("grant_type"), Code: f.Get("code"), RedirectURI: f.Get("redirect_uri"),
		CodeVerifier: f.Get("code_verifier"), RefreshToken: f.Get("refresh_token"), ClientID: id, ClientSecret: secret, Issuer: s.baseURL(r), IP: st(r).ip})
	var oe *oidc.Error
	switch {
	case errors.As(err, &oe):
		status := http.StatusBadRequest
		if oe.Code == "invalid_client" {
			status = http.StatusUnauthorized
			if basic {
				w.Header().Set("WWW-Authenticate", `Basic realm="oidc"`)
			}
		}
		s.oidcError(w, status, oe.Code, oe.Message)
	case err != nil:
		slog.Error("oidc: erreur interne", "err", err)
		s.oidcError(w, http.StatusInternalServerError, "server_error", "error.internal")
	default:
		w.Header().Set("Pragma", "no-cache")
		writeJSON(w, http.StatusOK, t)
	}
}

func (s *Server) oidcError(w http.ResponseWriter, status int, code, key string) {
	writeJSON(w, status, map[string]string{"error": code, "error_description": s.casText(key)})
}

func (s *Server) oidcUserInfo(w http.ResponseWriter, r *http.Request) {
	token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || token == "" {
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		s.oidcError(w, http.StatusUnauthorized, "invalid_token", "oidc.bad_token")
		return
	}
	claims, err := s.svc.OIDC.UserInfo(r.Context(), token)
	var oe *oidc.Error
	switch {
	case errors.As(err, &oe):
		w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
		s.oidcError(w, http.StatusUnauthorized, oe.Code, oe.Message)
	case err != nil:
		slog.Error("oidc: erreur interne", "err", err)
		s.oidcError(w, http.StatusInternalServerError, "server_error", "error.internal")
	default:
		writeJSON(w, http.StatusOK, claims)
	}
}

// oidcLogout is RP-initiated logout: the session ends everywhere, and the browser
// goes back to the client only to a registered address, named with a valid ID token.
func (s *Server) oidcLogout(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if !s.endSession(w, r) {
		return
	}
	s.clearSessionCookie(w)
	if to := s.svc.OIDC.LogoutTarget(r.Context(), q.Get("id_token_hint"), q.Get("post_logout_redirect_uri")); to != "" {
		if state := q.Get("state"); state != "" {
			to = strings.TrimSuffix(to, "?")
			sep := "?"
			if strings.Contains(to, "?") {
				sep = "&"
			}
			to += sep + "state=" + url.QueryEscape(state)
		}
		http.Redirect(w, r, to, http.StatusSeeOther)
		return
	}
	flash(w, "auth.logged_out")
	http.Redirect(w, r, "/connexion", http.StatusSeeOther)
}
