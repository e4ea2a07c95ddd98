package web

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/preau-ent/preau/internal/account"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/actor"
	"github.com/preau-ent/preau/internal/platform/i18n"
	"github.com/preau-ent/preau/internal/portal"
	"github.com/preau-ent/preau/internal/rights"
)

const (
	sessionCookie = "preau_session"
	langCookie    = "preau_lang"
	maxFormBody   = 1 << 20 // 1 MiB: forms; uploads have their own limit
)

// state is what the middleware learns about a request.
type state struct {
	portal  portal.Portal
	person  *directory.Person
	session account.Session
	token   string
	L       *i18n.Localizer
	ip      string
}

type stateKey struct{}

func st(r *http.Request) *state {
	if s, ok := r.Context().Value(stateKey{}).(*state); ok {
		return s
	}
	return &state{}
}

// actorOf is who is acting in this request.
func actorOf(r *http.Request) actor.Actor {
	s := st(r)
	if s.person == nil {
		return actor.Actor{IP: s.ip}
	}
	return actor.Actor{PersonID: s.person.ID, Login: s.person.Login, Profile: s.person.Profile, IP: s.ip}
}

type metrics struct {
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	inflight prometheus.Gauge
	rejected prometheus.Counter
}

func newMetrics(reg *prometheus.Registry) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "preau_http_requests_total", Help: "Requêtes HTTP servies, par route et code."}, []string{"route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "preau_http_request_duration_seconds", Help: "Durée des requêtes HTTP, par route.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"route"}),
		inflight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "preau_http_inflight", Help: "Requêtes en cours."}),
		rejected: prometheus.NewCounter(prometheus.CounterOpts{Name: "preau_http_rejected_total", Help: "Requêtes renvoyées vers la page d'attente (saturation)."}),
	}
	reg.MustRegister(m.requests, m.duration, m.inflight, m.rejected)
	return m
}

type recorder struct {
	http.ResponseWriter
	code int
}

func (r *recorder) WriteHeader(code int) {
	r.code = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// withObservability logs each request, counts it, and turns panics into a 500 page.
func (s *Server) withObservability(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		rec := &recorder{ResponseWriter: w, code: 200}
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				slog.Error("panique dans un gestionnaire", "panic", v, "path", r.URL.Path)
				s.errorPage(rec, r, http.StatusInternalServerError, "error.internal")
			}
			route := r.Pattern
			if route == "" {
				route = "other"
			}
			d := time.Since(start)
			s.metrics.requests.WithLabelValues(route, strconv.Itoa(rec.code)).Inc()
			s.metrics.duration.WithLabelValues(route).Observe(d.Seconds())
			switch {
			case rec.code == http.StatusServiceUnavailable:
				// Said on purpose, to be tried again: a database busy with an import
				// (logged where it was found), a full server (counted in the metrics),
				// a database that does not answer (logged by the readiness check).
				slog.Warn("requête", "method", r.Method, "path", r.URL.Path, "code", rec.code, "ms", d.Milliseconds())
			case rec.code >= 500:
				slog.Error("requête", "method", r.Method, "path", r.URL.Path, "code", rec.code, "ms", d.Milliseconds())
			default:
				slog.Debug("requête", "method", r.Method, "path", r.URL.Path, "code", rec.code, "ms", d.Milliseconds())
			}
		}()
		next.ServeHTTP(rec, r)
	})
}

// withLimits bounds concurrent work (admission control: under a storm, people get a
// clear waiting page at once instead of time-outs), caps request bodies, and sets the
// security headers.
func (s *Server) withLimits(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" || strings.HasPrefix(r.URL.Path, "/static/") {
			next.ServeHTTP(w, r)
			return
		}
		// Live streams last for hours and wait, not work: they do not take a slot (the
		// chat hub bounds them per person), or a few thousand open pages would turn
		// every other request away.
		if r.Method == http.MethodGet && r.URL.Path == chatStreamPath {
			next.ServeHTTP(w, r)
			return
		}
		select {
		case s.slots <- struct{}{}:
		default:
			s.metrics.rejected.Inc()
			h.Set("Retry-After", "5")
			s.errorPage(w, r, http.StatusServiceUnavailable, "error.busy")
			return
		}
		s.metrics.inflight.Inc()
		defer func() {
			<-s.slots
			s.metrics.inflight.Dec()
		}()
		if r.ContentLength > maxFormBody && !strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
			s.errorPage(w, r, http.StatusRequestEntityTooLarge, "error.too_large")
			return
		}
		limit := int64(maxFormBody)
		if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
			limit = 2 << 20
			if r.Method == http.MethodPost && r.URL.Path == uploadPath {
				// AAF exports, streamed to disk by their handler.
				limit = uploadLimit
			}
			if isMailUpload(r) {
				// Message attachments, up to the messagerie's per-message limit.
				limit = s.mailUploadLimit()
			}
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		next.ServeHTTP(w, r)
	})
}

// withPortal picks the portal from the host name and the language from the cookie
// or the browser; an unknown host gets a clear page.
func (s *Server) withPortal(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		lang := ""
		if c, err := r.Cookie(langCookie); err == nil && i18n.Supported(c.Value) {
			lang = c.Value
		} else {
			lang = i18n.Match(r.Header.Get("Accept-Language"))
		}
		state := &state{L: s.svc.Catalog.For(lang), ip: s.clientIP(r)}
		r = r.WithContext(context.WithValue(r.Context(), stateKey{}, state))
		if r.URL.Path == "/healthz" || r.URL.Path == "/readyz" || r.URL.Path == "/metrics" || strings.HasPrefix(r.URL.Path, "/static/") {
			next.ServeHTTP(w, r)
			return
		}
		p, err := s.svc.Portals.Resolve(r.Context(), r.Host)
		if errors.Is(err, portal.ErrUnknownHost) {
			s.errorPage(w, r, http.StatusNotFound, "error.unknown_portal")
			return
		}
		if err != nil {
			s.fail(w, r, err)
			return
		}
		state.portal = p
		next.ServeHTTP(w, r)
	})
}

// withSession loads the person behind the session cookie. A forged or expired
// cookie is dropped: the request goes on anonymous and protected pages send to login.
func (s *Server) withSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(sessionCookie)
		if err == nil && c.Value != "" && !strings.HasPrefix(r.URL.Path, "/static/") {
			sess, p, err := s.svc.Accounts.Lookup(r.Context(), c.Value)
			switch {
			case err == nil:
				state := st(r)
				state.person, state.session, state.token = &p, sess, c.Value
				r = r.WithContext(rights.WithMemo(account.WithSession(r.Context(), sess.ID)))
				if !sess.HasRoles {
					rights.WithoutRoles(r.Context(), p.ID)
				}
				if p.Language != "" && i18n.Supported(p.Language) {
					if _, err := r.Cookie(langCookie); err != nil {
						state.L = s.svc.Catalog.For(p.Language)
					}
				}
			case errors.Is(err, account.ErrNoSession):
				s.clearSessionCookie(w)
			default:
				s.fail(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) setSessionCookie(w http.ResponseWriter, token string) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: token, Path: "/", HttpOnly: true, Secure: s.opt.SecureCookies, SameSite: http.SameSiteLaxMode})
}

func (s *Server) clearSessionCookie(w http.ResponseWriter) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.opt.SecureCookies, SameSite: http.SameSiteLaxMode})
}

func (s *Server) clientIP(r *http.Request) string {
	if s.opt.TrustProxy {
		if xff := r.Header.Get("X-Forwarded-For"); xff != "" {
			parts := strings.Split(xff, ",")
			return strings.TrimSpace(parts[len(parts)-1])
		}
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// requireLogin wraps handlers of pages that need a person; anonymous visitors go to
// the login page and come back after.
func (s *Server) requireLogin(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if st(r).person == nil {
			if strings.HasPrefix(r.URL.Path, "/api/") {
				s.apiError(w, r, http.StatusUnauthorized, "unauthenticated", "error.login_required")
				return
			}
			http.Redirect(w, r, "/connexion?retour="+urlQueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		h(w, r)
	}
}
