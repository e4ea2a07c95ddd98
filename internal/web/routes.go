package web

import (
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus/promhttp"
)

func (s *Server) routes(mux *http.ServeMux) {
	mux.Handle("GET /static/", s.static)
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.opt.Registry, promhttp.HandlerOpts{}))

	// Sign-in and account life.
	mux.HandleFunc("GET /connexion", s.loginForm)
	mux.HandleFunc("POST /connexion", s.login)
	mux.HandleFunc("POST /deconnexion", s.logout)
	mux.HandleFunc("GET /activation", s.activationForm)
	mux.HandleFunc("POST /activation", s.activate)
	mux.HandleFunc("GET /mot-de-passe-oublie", s.forgotForm)
	mux.HandleFunc("POST /mot-de-passe-oublie", s.forgot)
	mux.HandleFunc("GET /reinitialisation", s.resetForm)
	mux.HandleFunc("POST /reinitialisation", s.reset)
	mux.HandleFunc("POST /langue", s.setLanguage)

	// Pages of a signed-in person.
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /mon-compte", s.requireLogin(s.myAccount))
	mux.HandleFunc("POST /mon-compte/mot-de-passe", s.requireLogin(s.changePassword))
	mux.HandleFunc("POST /mon-compte/sessions/{id}/fermer", s.requireLogin(s.revokeSession))
	mux.HandleFunc("POST /mon-compte/deconnexion-partout", s.requireLogin(s.logoutEverywhere))
	mux.HandleFunc("GET /annuaire", s.requireLogin(s.directorySearch))
	mux.HandleFunc("GET /annuaire/personnes/{id}", s.requireLogin(s.directoryPerson))
	mux.HandleFunc("GET /annuaire/groupes/{id}", s.requireLogin(s.directoryGroup))

	// Portal.
	mux.HandleFunc("GET /mentions-legales", s.legalNotice)
	mux.HandleFunc("GET /portail/logo/{id}", s.portalLogo)
	mux.HandleFunc("GET /portail/theme.css", s.portalTheme)

	s.casRoutes(mux)
	s.oidcRoutes(mux)
	s.samlRoutes(mux)
	s.federationRoutes(mux)
	s.adminRoutes(mux)
	s.messagerieRoutes(mux)
	s.notifyRoutes(mux)
	s.chatRoutes(mux)
	s.newsRoutes(mux) // Actualités and the public site, with their API
	s.blogRoutes(mux)
	s.faqRoutes(mux)
	s.forumRoutes(mux)
	s.moderationRoutes(mux) // the one queue of reported content
	s.apiRoutes(mux)

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, http.StatusNotFound, "error.not_found")
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz says whether this instance can serve: its database answers.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.svc.DB.PingContext(r.Context()); err != nil {
		slog.Error("base de données injoignable", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "indisponible", "database": err.Error()})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
