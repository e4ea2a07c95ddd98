package web

import (
	"net/http"

	"github.com/preau-ent/preau/internal/connector"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/news"
	"github.com/preau-ent/preau/internal/rights"
)

type dashboardData struct {
	Apps      []rights.App
	Services  []connector.Connector // connected services, as tiles after the apps
	Situation directory.Situation
	Notify    *notifyBlock // the latest notifications
	News      []news.Item  // the latest news for the person, headlines first
	// Moderates: the person handles reported content; Reports are waiting for them.
	Moderates bool
	Reports   int
}

// home is the dashboard of a signed-in person; visitors see the portal's public
// site (the default portal has none: they go to the login page).
func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	me := st(r).person
	if me == nil {
		s.publicHome(w, r)
		return
	}
	sit, err := s.svc.Directory.SituationOf(r.Context(), *me)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var sids []string
	for _, st := range sit.Structures {
		sids = append(sids, st.ID)
	}
	apps, err := s.svc.Rights.AppsFor(r.Context(), actorOf(r), sids)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	services, err := s.svc.Connectors.VisibleTo(r.Context(), me.Profile, sids)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	nb, err := s.dashboardNotifications(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	latest, err := s.svc.News.Feed(r.Context(), actorOf(r), 5)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	mod, reports, err := s.moderates(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	p := s.page(r, "dashboard.title", dashboardData{Apps: apps, Services: services, Situation: sit, Notify: nb, News: latest, Moderates: mod, Reports: len(reports)})
	s.render(w, r, http.StatusOK, "dashboard", p)
}
