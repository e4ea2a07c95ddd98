package web

import (
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/preau-ent/preau/internal/account"
	"github.com/preau-ent/preau/internal/platform/i18n"
)

func (s *Server) loginForm(w http.ResponseWriter, r *http.Request) {
	if st(r).person != nil {
		http.Redirect(w, r, safeReturn(r.URL.Query().Get("retour")), http.StatusSeeOther)
		return
	}
	p := s.page(r, "login.title", s.plainLogin(r))
	p.Form.Set("retour", safeReturn(r.URL.Query().Get("retour")))
	s.render(w, r, http.StatusOK, "login", p)
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	login := strings.TrimSpace(r.PostForm.Get("login"))
	state := st(r)
	token, person, err := s.svc.Accounts.Login(r.Context(), login, r.PostForm.Get("password"), state.ip, r.UserAgent())
	if err != nil {
		status, key, ok := s.loginRefused(w, r, err)
		if !ok {
			return
		}
		p := s.page(r, "login.title", s.plainLogin(r))
		p.Errors = map[string]string{"login": state.L.T(key)}
		p.Form.Set("login", login)
		p.Form.Set("retour", safeReturn(r.PostForm.Get("retour")))
		s.render(w, r, status, "login", p)
		return
	}
	s.setSessionCookie(w, token)
	if person.Language != "" && i18n.Supported(person.Language) {
		http.SetCookie(w, &http.Cookie{Name: langCookie, Value: person.Language, Path: "/", MaxAge: 365 * 86400, SameSite: http.SameSiteLaxMode})
	}
	http.Redirect(w, r, safeReturn(r.PostForm.Get("retour")), http.StatusSeeOther)
}

// plainLogin is the data of Préau's own login page: the external providers one may
// sign in with too (none when they cannot be listed: the password still works).
func (s *Server) plainLogin(r *http.Request) casLoginData {
	list, err := s.svc.Federation.Providers(r.Context())
	if err != nil {
		slog.Error("fournisseurs d'identité externes", "err", err)
	}
	return casLoginData{Providers: list}
}

// loginRefused turns a refused login into the status and message of the login form
// again; ok false means the answer is already written (a waiting page, an error).
func (s *Server) loginRefused(w http.ResponseWriter, r *http.Request, err error) (status int, key string, ok bool) {
	status, key = http.StatusUnauthorized, "auth.bad_credentials"
	switch {
	case errors.Is(err, account.ErrLocked):
		key = "auth.locked"
	case errors.Is(err, account.ErrRateLimited):
		status, key = http.StatusTooManyRequests, "auth.rate_limited"
		w.Header().Set("Retry-After", "300")
	case errors.Is(err, account.ErrBusy):
		w.Header().Set("Retry-After", "5")
		s.errorPage(w, r, http.StatusServiceUnavailable, "error.busy")
		return 0, "", false
	case errors.Is(err, account.ErrNotActivated):
		key = "auth.not_activated"
	case errors.Is(err, account.ErrBlocked):
		status, key = http.StatusForbidden, "auth.blocked"
	case errors.Is(err, account.ErrBadCredentials):
	default:
		s.fail(w, r, err)
		return 0, "", false
	}
	return status, key, true
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	if !s.endSession(w, r) {
		return
	}
	s.clearSessionCookie(w)
	flash(w, "auth.logged_out")
	http.Redirect(w, r, "/connexion", http.StatusSeeOther)
}

func (s *Server) activationForm(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "activation.title", nil)
	p.Form.Set("login", r.URL.Query().Get("login"))
	s.render(w, r, http.StatusOK, "activation", p)
}

func (s *Server) activate(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	p := s.page(r, "activation.title", nil)
	p.Form.Set("login", strings.TrimSpace(f.Get("login")))
	p.Form.Set("code", strings.TrimSpace(f.Get("code")))
	var err error
	if f.Get("password") != f.Get("confirm") {
		p.Errors = map[string]string{"confirm": p.L.T("account.password_mismatch")}
	} else if err = s.svc.Accounts.Activate(r.Context(), strings.TrimSpace(f.Get("login")), strings.ToUpper(strings.TrimSpace(f.Get("code"))), f.Get("password"), st(r).ip); err != nil {
		switch {
		case errors.Is(err, account.ErrBadCode):
			p.Errors = map[string]string{"code": p.L.T("activation.bad_code")}
		case errors.Is(err, account.ErrRateLimited):
			p.Errors = map[string]string{"code": p.L.T("auth.rate_limited")}
		case errors.Is(err, account.ErrBlocked):
			p.Errors = map[string]string{"code": p.L.T("auth.blocked")}
		case errors.Is(err, account.ErrBusy):
			w.Header().Set("Retry-After", "5")
			s.errorPage(w, r, http.StatusServiceUnavailable, "error.busy")
			return
		default:
			var ok bool
			if p.Errors, ok = formErrors(r, err); !ok {
				s.fail(w, r, err)
				return
			}
		}
	}
	if p.Errors != nil {
		s.render(w, r, http.StatusBadRequest, "activation", p)
		return
	}
	flash(w, "activation.done")
	http.Redirect(w, r, "/connexion", http.StatusSeeOther)
}

func (s *Server) forgotForm(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "forgot", s.page(r, "forgot.title", nil))
}

func (s *Server) forgot(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	who := strings.TrimSpace(r.PostForm.Get("login"))
	p := s.page(r, "forgot.title", nil)
	if who == "" {
		p.Errors = map[string]string{"login": p.L.T("forgot.required")}
		s.render(w, r, http.StatusBadRequest, "forgot", p)
		return
	}
	scheme := "http"
	if s.opt.SecureCookies || r.TLS != nil {
		scheme = "https"
	}
	link := func(token string) string {
		return scheme + "://" + r.Host + "/reinitialisation?jeton=" + urlQueryEscape(token)
	}
	err := s.svc.Accounts.RequestReset(r.Context(), who, st(r).ip, link)
	if errors.Is(err, account.ErrRateLimited) {
		p.Errors = map[string]string{"login": p.L.T("auth.rate_limited")}
		p.Form.Set("login", who)
		s.render(w, r, http.StatusTooManyRequests, "forgot", p)
		return
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The same answer whether the account exists or not: no account enumeration.
	p.Data = map[string]bool{"Sent": true}
	s.render(w, r, http.StatusOK, "forgot", p)
}

func (s *Server) resetForm(w http.ResponseWriter, r *http.Request) {
	p := s.page(r, "reset.title", nil)
	p.Form.Set("jeton", r.URL.Query().Get("jeton"))
	s.render(w, r, http.StatusOK, "reset", p)
}

func (s *Server) reset(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	p := s.page(r, "reset.title", nil)
	p.Form.Set("jeton", f.Get("jeton"))
	if f.Get("password") != f.Get("confirm") {
		p.Errors = map[string]string{"confirm": p.L.T("account.password_mismatch")}
	} else if err := s.svc.Accounts.ResetPassword(r.Context(), f.Get("jeton"), f.Get("password"), st(r).ip); err != nil {
		if errors.Is(err, account.ErrBadToken) || errors.Is(err, account.ErrRateLimited) {
			p.Errors = map[string]string{"password": p.L.T("reset.bad_token")}
		} else {
			var ok bool
			if p.Errors, ok = formErrors(r, err); !ok {
				s.fail(w, r, err)
				return
			}
		}
	}
	if p.Errors != nil {
		s.render(w, r, http.StatusBadRequest, "reset", p)
		return
	}
	flash(w, "reset.done")
	http.Redirect(w, r, "/connexion", http.StatusSeeOther)
}

// setLanguage remembers the chosen language in a cookie, and for a signed-in
// person in their account.
func (s *Server) setLanguage(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	lang := r.PostForm.Get("lang")
	if !i18n.Supported(lang) {
		s.errorPage(w, r, http.StatusBadRequest, "error.bad_request")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: langCookie, Value: lang, Path: "/", MaxAge: 365 * 86400, SameSite: http.SameSiteLaxMode})
	if st(r).person != nil {
		if err := s.svc.Directory.SetLanguage(r.Context(), actorOf(r), lang); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	http.Redirect(w, r, safeReturn(r.PostForm.Get("retour")), http.StatusSeeOther)
}
