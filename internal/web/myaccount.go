package web

import (
	"errors"
	"net/http"

	"github.com/preau-ent/preau/internal/account"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/rights"
)

type myAccountData struct {
	Situation directory.Situation
	Sessions  []account.Session
	Current   string
	Roles     []rights.Assignment
	Names     map[string]string // structure id → name, for roles
}

func (s *Server) myAccountPage(w http.ResponseWriter, r *http.Request, status int, p Page) {
	ctx, a := r.Context(), actorOf(r)
	sit, err := s.svc.Directory.SituationOf(ctx, *st(r).person)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	sessions, err := s.svc.Accounts.Sessions(ctx, a)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	roles, err := s.svc.Rights.RolesOf(ctx, a.PersonID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	names := map[string]string{}
	for _, st := range sit.Structures {
		names[st.ID] = st.Name
	}
	p.Data = myAccountData{Situation: sit, Sessions: sessions, Current: st(r).session.ID, Roles: roles, Names: names}
	s.render(w, r, status, "myaccount", p)
}

func (s *Server) myAccount(w http.ResponseWriter, r *http.Request) {
	s.myAccountPage(w, r, http.StatusOK, s.page(r, "myaccount.title", nil))
}

func (s *Server) changePassword(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	p := s.page(r, "myaccount.title", nil)
	if f.Get("password") != f.Get("confirm") {
		p.Errors = map[string]string{"confirm": p.L.T("account.password_mismatch")}
	} else if err := s.svc.Accounts.ChangePassword(r.Context(), actorOf(r), f.Get("current"), f.Get("password")); err != nil {
		var ok bool
		switch {
		case errors.Is(err, account.ErrBusy):
			w.Header().Set("Retry-After", "5")
			s.errorPage(w, r, http.StatusServiceUnavailable, "error.busy")
			return
		case errors.Is(err, account.ErrRateLimited):
			p.Errors = map[string]string{"current": p.L.T("auth.rate_limited")}
		}
		if p.Errors == nil {
			p.Errors, ok = formErrors(r, err)
		} else {
			ok = true
		}
		if !ok {
			s.fail(w, r, err)
			return
		}
	}
	if p.Errors != nil {
		s.myAccountPage(w, r, http.StatusBadRequest, p)
		return
	}
	s.notifyPasswordChanged(r)
	flash(w, "myaccount.password_changed")
	http.Redirect(w, r, "/mon-compte", http.StatusSeeOther)
}

func (s *Server) revokeSession(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	err := s.svc.Accounts.Revoke(r.Context(), actorOf(r), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	// The services the session signed in to are told it ended (single logout).
	if err := s.endSSO(r, id); err != nil {
		s.fail(w, r, err)
		return
	}
	if id == st(r).session.ID {
		s.clearSessionCookie(w)
		http.Redirect(w, r, "/connexion", http.StatusSeeOther)
		return
	}
	flash(w, "myaccount.session_closed")
	http.Redirect(w, r, "/mon-compte#sessions", http.StatusSeeOther)
}

func (s *Server) logoutEverywhere(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.Accounts.RevokeAll(r.Context(), actorOf(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	if err := s.endSSOPerson(r, st(r).person.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	s.clearSessionCookie(w)
	flash(w, "myaccount.logged_out_everywhere")
	http.Redirect(w, r, "/connexion", http.StatusSeeOther)
}
