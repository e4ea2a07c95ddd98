package web

import (
	"errors"
	"io/fs"
	"net/http"

	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/mail"
)

type adminMailsData struct {
	Nav     adminNav
	Spooled bool // false: mails go through SMTP
	Dir     string
	Mails   []mail.Spooled
	Mail    mail.Spooled
}

// mailNav checks that the actor is a super administrator: spooled mails hold
// activation and reset links of everyone.
func (s *Server) mailNav(w http.ResponseWriter, r *http.Request) (adminNav, bool) {
	nav, err := s.nav(r, nil)
	if err == nil && !nav.Super {
		err = actor.ErrForbidden
	}
	if err != nil {
		s.fail(w, r, err)
		return nav, false
	}
	return nav, true
}

func (s *Server) adminMails(w http.ResponseWriter, r *http.Request) {
	nav, ok := s.mailNav(w, r)
	if !ok {
		return
	}
	d := adminMailsData{Nav: nav, Spooled: s.svc.Spool != nil}
	if d.Spooled {
		var err error
		d.Dir = s.svc.Spool.Dir()
		if d.Mails, err = s.svc.Spool.List(r.Context()); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	s.render(w, r, http.StatusOK, "admin_mails", s.page(r, "admin.mails.title", d))
}

func (s *Server) adminMail(w http.ResponseWriter, r *http.Request) {
	nav, ok := s.mailNav(w, r)
	if !ok {
		return
	}
	if s.svc.Spool == nil {
		s.fail(w, r, actor.ErrNotFound)
		return
	}
	m, err := s.svc.Spool.Read(r.PathValue("name"))
	if errors.Is(err, mail.ErrBadName) || errors.Is(err, fs.ErrNotExist) {
		err = actor.ErrNotFound
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "", adminMailsData{Nav: nav, Spooled: true, Mail: m})
	p.Title = m.Subject
	s.render(w, r, http.StatusOK, "admin_mail", p)
}
