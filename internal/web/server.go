// Package web is Préau's HTTP layer: routing, middleware (portal, session, language,
// cross-origin protection, admission control), the pages and the JSON API. Handlers
// stay thin: they parse, call a service (which checks rights itself) and render.
package web

import (
	"context"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/preau-ent/preau/internal/aaf"
	"github.com/preau-ent/preau/internal/account"
	"github.com/preau-ent/preau/internal/blog"
	"github.com/preau-ent/preau/internal/cas"
	"github.com/preau-ent/preau/internal/chat"
	"github.com/preau-ent/preau/internal/commrules"
	"github.com/preau-ent/preau/internal/connector"
	"github.com/preau-ent/preau/internal/csvfeed"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/faq"
	"github.com/preau-ent/preau/internal/federation"
	"github.com/preau-ent/preau/internal/forum"
	"github.com/preau-ent/preau/internal/letters"
	"github.com/preau-ent/preau/internal/messaging"
	"github.com/preau-ent/preau/internal/moderation"
	"github.com/preau-ent/preau/internal/news"
	"github.com/preau-ent/preau/internal/notify"
	"github.com/preau-ent/preau/internal/oidc"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/audit"
	"github.com/preau-ent/preau/internal/platform/blob"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/platform/i18n"
	"github.com/preau-ent/preau/internal/platform/mail"
	"github.com/preau-ent/preau/internal/portal"
	"github.com/preau-ent/preau/internal/rights"
	"github.com/preau-ent/preau/internal/saml"
	assets "github.com/preau-ent/preau/web"
)

// Services are what the web layer calls.
type Services struct {
	DB        *db.DB
	Blobs     *blob.Store // uploaded files
	Audit     *audit.Log
	Rights    *rights.Service
	Comm      *commrules.Engine
	Directory *directory.Service
	Accounts  *account.Service
	Portals   *portal.Service
	Spool     *mail.Spool // nil when mails go through SMTP
	Catalog   *i18n.Catalog
	AAF       *aaf.Importer    // directory feeds: AAF imports and their reports
	CSV       *csvfeed.Feed    // CSV imports for schools outside the AAF
	Letters   *letters.Service // activation letters to print
	// Connectors are the connected services (tiles, single sign-on registrations).
	Connectors *connector.Service
	CAS        *cas.Service       // the CAS server
	OIDC       *oidc.Service      // the OpenID Connect provider
	SAML       *saml.Service      // the SAML 2.0 identity provider
	Messaging  *messaging.Service // the messagerie
	Chat       *chat.Service      // instant messaging (discussions)
	ChatHub    *chat.Hub          // this instance's live streams of discussions
	News       *news.Service      // Actualités and the portals' public sites
	// Federation is the login with external OpenID Connect providers.
	Federation *federation.Service
	Blog       *blog.Service  // blogs
	FAQ        *faq.Service   // questions and answers of each structure
	Forum      *forum.Service // forums
	// Moderation names the services that take reports, for the one moderation queue.
	Moderation moderation.Registry

	// Notify is the notification centre: events, preferences, e-mail delivery.
	Notify *notify.Service
}

// Options are the HTTP settings.
type Options struct {
	SecureCookies bool
	TrustProxy    bool
	MaxInflight   int
	SessionIdle   time.Duration
	Registry      *prometheus.Registry // nil: a private one
}

// Server serves Préau over HTTP.
type Server struct {
	svc     Services
	opt     Options
	pages   map[string]*template.Template
	static  http.Handler
	metrics *metrics
	slots   chan struct{}
}

// New parses the templates and returns the server.
func New(svc Services, opt Options) (*Server, error) {
	if opt.MaxInflight <= 0 {
		opt.MaxInflight = 512
	}
	if opt.Registry == nil {
		opt.Registry = prometheus.NewRegistry()
	}
	s := &Server{svc: svc, opt: opt, slots: make(chan struct{}, opt.MaxInflight)}
	var err error
	if s.pages, err = parseTemplates(); err != nil {
		return nil, err
	}
	sub, _ := fs.Sub(assets.Static, "static")
	s.static = http.StripPrefix("/static/", cacheForever(http.FileServerFS(sub)))
	s.metrics = newMetrics(opt.Registry)
	return s, nil
}

// Handler returns the whole application with its middleware.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	s.routes(mux)
	cop := http.NewCrossOriginProtection()
	for _, p := range append(oidcBypass, samlBypass...) {
		cop.AddInsecureBypassPattern(p)
	}
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.errorPage(w, r, http.StatusForbidden, "error.cross_origin")
	}))
	var h http.Handler = mux
	h = s.withSession(h)
	h = cop.Handler(h)
	h = s.withPortal(h)
	h = s.withLimits(h)
	h = s.withObservability(h)
	return h
}

// Housekeeping runs periodic clean-ups until ctx ends.
func (s *Server) Housekeeping(ctx context.Context) {
	t := time.NewTicker(10 * time.Minute)
	defer t.Stop()
	// Notification mails go out every minute (immediate ones cannot wait ten); every
	// instance runs the worker, which claims what it sends.
	if s.svc.Notify != nil {
		go s.svc.Notify.Run(ctx, time.Minute)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.svc.Accounts.PurgeExpired(ctx); err != nil {
				slog.Error("purge des sessions expirées", "err", err)
			}
			// Persons who left the directory's feeds lose access, then are purged,
			// on schedule even when no import comes.
			if ended, purged, err := s.svc.AAF.Sweep(ctx, actor.System("conservation")); err != nil {
				slog.Error("délais de conservation de l'annuaire", "err", err)
			} else if ended+purged > 0 {
				slog.Info("délais de conservation de l'annuaire", "accès retirés", ended, "personnes supprimées", purged)
			}
			// Readers of scheduled news are told when its date comes.
			if _, err := s.svc.News.NotifyDue(ctx); err != nil {
				slog.Error("actualités programmées", "err", err)
			}
			if err := s.svc.CAS.Purge(ctx); err != nil {
				slog.Error("purge des tickets CAS", "err", err)
			}
			if err := s.svc.OIDC.Purge(ctx); err != nil {
				slog.Error("purge des jetons OpenID Connect", "err", err)
			}
			if err := s.svc.SAML.Purge(ctx); err != nil {
				slog.Error("purge des demandes SAML", "err", err)
			}
			if n, f, err := s.svc.Messaging.Sweep(ctx); err != nil {
				slog.Error("purge de la messagerie", "err", err)
			} else if n+f > 0 {
				slog.Info("purge de la messagerie", "messages", n, "fichiers", f)
			}
			if err := s.svc.Federation.Purge(ctx); err != nil {
				slog.Error("purge des connexions fédérées", "err", err)
			}
			if s.svc.Notify != nil {
				if _, err := s.svc.Notify.Purge(ctx); err != nil {
					slog.Error("purge des notifications", "err", err)
				}
			}
			// Application logs are kept one year (CNIL recommendation: 6 months to 1 year).
			if _, err := s.svc.Audit.Purge(ctx, time.Now().AddDate(-1, 0, 0)); err != nil {
				slog.Error("purge du journal d'audit", "err", err)
			}
		}
	}
}

func cacheForever(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Static URLs carry a version query (?v=...), so they can be cached long.
		w.Header().Set("Cache-Control", "public, max-age=86400")
		h.ServeHTTP(w, r)
	})
}
