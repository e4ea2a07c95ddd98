package web

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/preau-ent/preau/internal/notify"
	"github.com/preau-ent/preau/internal/platform/actor"
)

// The notification centre: the list, opening a notification, marking all read, the
// preferences, and the same operations in the JSON API.
func (s *Server) notifyRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /notifications", s.requireLogin(s.notifications))
	mux.HandleFunc("GET /notifications/{id}", s.requireLogin(s.notificationOpen))
	mux.HandleFunc("POST /notifications/lu", s.requireLogin(s.notificationsMarkAll))
	mux.HandleFunc("GET /notifications/preferences", s.requireLogin(s.notifyPrefs))
	mux.HandleFunc("POST /notifications/preferences", s.requireLogin(s.notifyPrefsSave))

	mux.HandleFunc("GET /api/v1/notifications", s.requireLogin(s.apiNotifications))
	mux.HandleFunc("POST /api/v1/notifications/lu", s.requireLogin(s.apiNotificationsMarkAll))
	mux.HandleFunc("POST /api/v1/notifications/{id}/lu", s.requireLogin(s.apiNotificationRead))
	mux.HandleFunc("GET /api/v1/notifications/preferences", s.requireLogin(s.apiNotifyPrefs))
	mux.HandleFunc("PUT /api/v1/notifications/preferences", s.requireLogin(s.apiNotifyPrefsSave))
}

// unreadOf is the badge's count for the signed-in person (0 on error: a badge is not
// worth failing a page for).
func (s *Server) unreadOf(r *http.Request) int {
	me := st(r).person
	if me == nil || s.svc.Notify == nil {
		return 0
	}
	n, err := s.svc.Notify.UnreadCount(r.Context(), me.ID)
	if err != nil && r.Context().Err() == nil {
		slog.Error("notifications non lues", "err", err)
	}
	return n
}

// notifyPasswordChanged tells the person their password changed: by e-mail at once
// by default, so that someone else's doing does not go unnoticed. The system is the
// actor, so the person is notified of their own action. A failure is logged only:
// the password did change.
func (s *Server) notifyPasswordChanged(r *http.Request) {
	me := st(r).person
	if s.svc.Notify == nil || me == nil {
		return
	}
	err := s.svc.Notify.Post(r.Context(), notify.Event{Kind: notify.KindSecurity, Recipients: []string{me.ID},
		Title: st(r).L.T("notify.password_changed"), Link: "/mon-compte"})
	if err != nil {
		slog.Error("notification de changement de mot de passe", "err", err)
	}
}

// notifyBlock is the dashboard's block: the latest notifications.
type notifyBlock struct {
	Items []notify.Notification
}

// dashboardNotifications returns the dashboard's block (the unread count is the
// page's, already counted for the badge).
func (s *Server) dashboardNotifications(r *http.Request) (*notifyBlock, error) {
	if s.svc.Notify == nil {
		return nil, nil
	}
	p, err := s.svc.Notify.List(r.Context(), actorOf(r), "", 5)
	if err != nil {
		return nil, err
	}
	return &notifyBlock{Items: p.Items}, nil
}

type notificationsData struct {
	Page  notify.Page
	After string // this page's cursor: "" on the first
}

func (s *Server) notifications(w http.ResponseWriter, r *http.Request) {
	after := r.URL.Query().Get("apres")
	page, err := s.svc.Notify.List(r.Context(), actorOf(r), after, 20)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "notifications", s.page(r, "notify.title", notificationsData{Page: page, After: after}))
}

// notificationOpen marks a notification read and goes to its link.
func (s *Server) notificationOpen(w http.ResponseWriter, r *http.Request) {
	n, err := s.svc.Notify.Open(r.Context(), actorOf(r), r.PathValue("id"))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, safeReturn(n.Link), http.StatusSeeOther)
}

func (s *Server) notificationsMarkAll(w http.ResponseWriter, r *http.Request) {
	if _, err := s.svc.Notify.MarkAllRead(r.Context(), actorOf(r)); err != nil {
		s.fail(w, r, err)
		return
	}
	flash(w, "notify.marked_all")
	http.Redirect(w, r, "/notifications", http.StatusSeeOther)
}

type prefKind struct {
	ID, Label string
	Channel   notify.Channel
}

type notifyPrefsData struct {
	Kinds      []prefKind
	Channels   []notify.Channel
	QuietStart string
	QuietEnd   string
	DigestHour int
	Hours      []int
	HasEmail   bool
}

func prefsData(r *http.Request, p notify.Preferences) notifyPrefsData {
	d := notifyPrefsData{Channels: notify.Channels, QuietStart: notify.Clock(p.Settings.QuietStart), QuietEnd: notify.Clock(p.Settings.QuietEnd),
		DigestHour: p.Settings.DigestHour, HasEmail: st(r).person.Email != ""}
	for h := range 24 {
		d.Hours = append(d.Hours, h)
	}
	for _, k := range notify.Kinds() {
		d.Kinds = append(d.Kinds, prefKind{ID: k.ID, Label: k.Label, Channel: p.Channels[k.ID]})
	}
	return d
}

func (s *Server) notifyPrefs(w http.ResponseWriter, r *http.Request) {
	p, err := s.svc.Notify.Preferences(r.Context(), actorOf(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	page := s.page(r, "notify.preferences", prefsData(r, p))
	page.Form.Set("quiet_start", notify.Clock(p.Settings.QuietStart))
	page.Form.Set("quiet_end", notify.Clock(p.Settings.QuietEnd))
	s.render(w, r, http.StatusOK, "notifications_prefs", page)
}

func (s *Server) notifyPrefsSave(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		s.fail(w, r, err)
		return
	}
	f := r.PostForm
	prefs := notify.Preferences{Channels: map[string]notify.Channel{}}
	for _, k := range notify.Kinds() {
		if v := f.Get("c_" + k.ID); v != "" {
			prefs.Channels[k.ID] = notify.Channel(v)
		}
	}
	var err error
	qs, okS := notify.ParseClock(f.Get("quiet_start"))
	qe, okE := notify.ParseClock(f.Get("quiet_end"))
	dh, errH := strconv.Atoi(f.Get("digest_hour"))
	switch {
	case !okS:
		err = actor.Invalid("quiet_start", "notify.bad_time")
	case !okE:
		err = actor.Invalid("quiet_end", "notify.bad_time")
	case errH != nil:
		err = actor.Invalid("digest_hour", "notify.bad_hour")
	default:
		prefs.Settings = notify.Settings{QuietStart: qs, QuietEnd: qe, DigestHour: dh}
		err = s.svc.Notify.SavePreferences(r.Context(), actorOf(r), prefs)
	}
	if err != nil {
		p := s.page(r, "notify.preferences", nil)
		var ok bool
		if p.Errors, ok = formErrors(r, err); !ok {
			s.fail(w, r, err)
			return
		}
		// What was typed comes back: the channels chosen, the hours as typed.
		current, cerr := s.svc.Notify.Preferences(r.Context(), actorOf(r))
		if cerr != nil {
			s.fail(w, r, cerr)
			return
		}
		for k, c := range prefs.Channels {
			current.Channels[k] = c
		}
		d := prefsData(r, current)
		d.QuietStart, d.QuietEnd = f.Get("quiet_start"), f.Get("quiet_end")
		if errH == nil {
			d.DigestHour = dh
		}
		p.Data, p.Form = d, f
		s.render(w, r, http.StatusBadRequest, "notifications_prefs", p)
		return
	}
	flash(w, "notify.saved")
	http.Redirect(w, r, "/notifications/preferences", http.StatusSeeOther)
}

// JSON API.

type apiNotification struct {
	ID        string    `json:"id"`
	Kind      string    `json:"kind"`
	KindLabel string    `json:"kindLabel"`
	Title     string    `json:"title"`
	Link      string    `json:"link"`
	ActorID   string    `json:"actorId,omitempty"`
	ActorName string    `json:"actorName,omitempty"`
	At        time.Time `json:"at"`
	Read      bool      `json:"read"`
}

// unreadJSON is the unread count as the API gives it: the count, capped, and
// whether there are more.
func unreadJSON(n int) map[string]any {
	return map[string]any{"unread": min(n, notify.MaxUnread-1), "unreadMore": n >= notify.MaxUnread}
}

func (s *Server) apiNotifications(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit, _ := strconv.Atoi(q.Get("limite"))
	page, err := s.svc.Notify.List(r.Context(), actorOf(r), q.Get("apres"), limit)
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	L := st(r).L
	items := make([]apiNotification, 0, len(page.Items))
	for _, n := range page.Items {
		items = append(items, apiNotification{ID: n.ID, Kind: n.Kind, KindLabel: L.T(n.Label), Title: n.Title, Link: n.Link, ActorID: n.ActorID, ActorName: n.ActorName, At: n.At.UTC(), Read: n.Read})
	}
	out := unreadJSON(s.unreadOf(r))
	out["items"] = items
	if page.Next != "" {
		out["next"] = page.Next
	}
	writeJSON(w, http.StatusOK, out)
}

func (s *Server) apiNotificationRead(w http.ResponseWriter, r *http.Request) {
	if _, err := s.svc.Notify.Open(r.Context(), actorOf(r), r.PathValue("id")); err != nil {
		s.apiFail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, unreadJSON(s.unreadOf(r)))
}

func (s *Server) apiNotificationsMarkAll(w http.ResponseWriter, r *http.Request) {
	n, err := s.svc.Notify.MarkAllRead(r.Context(), actorOf(r))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	out := unreadJSON(s.unreadOf(r))
	out["marked"] = n
	writeJSON(w, http.StatusOK, out)
}

type apiPrefs struct {
	Channels   map[string]notify.Channel `json:"channels"`
	QuietStart *string                   `json:"quietStart,omitempty"`
	QuietEnd   *string                   `json:"quietEnd,omitempty"`
	DigestHour *int                      `json:"digestHour,omitempty"`
}

func (s *Server) writePrefs(w http.ResponseWriter, r *http.Request) {
	p, err := s.svc.Notify.Preferences(r.Context(), actorOf(r))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	type kind struct {
		ID      string         `json:"id"`
		Label   string         `json:"label"`
		Default notify.Channel `json:"default"`
	}
	var kinds []kind
	for _, k := range notify.Kinds() {
		kinds = append(kinds, kind{ID: k.ID, Label: st(r).L.T(k.Label), Default: k.DefaultFor(st(r).person.Profile)})
	}
	qs, qe := notify.Clock(p.Settings.QuietStart), notify.Clock(p.Settings.QuietEnd)
	writeJSON(w, http.StatusOK, map[string]any{"channels": p.Channels, "quietStart": qs, "quietEnd": qe, "digestHour": p.Settings.DigestHour,
		"kinds": kinds, "choices": notify.Channels})
}

func (s *Server) apiNotifyPrefs(w http.ResponseWriter, r *http.Request) { s.writePrefs(w, r) }

// apiNotifyPrefsSave changes what the body names; what it leaves out stays.
func (s *Server) apiNotifyPrefsSave(w http.ResponseWriter, r *http.Request) {
	var in apiPrefs
	if !s.decode(w, r, &in) {
		return
	}
	p, err := s.svc.Notify.Preferences(r.Context(), actorOf(r))
	if err != nil {
		s.apiFail(w, r, err)
		return
	}
	p.Channels = in.Channels
	for field, v := range map[string]*string{"quietStart": in.QuietStart, "quietEnd": in.QuietEnd} {
		if v == nil {
			continue
		}
		m, ok := notify.ParseClock(*v)
		if !ok {
			s.apiFail(w, r, actor.Invalid(field, "notify.bad_time"))
			return
		}
		if field == "quietStart" {
			p.Settings.QuietStart = m
		} else {
			p.Settings.QuietEnd = m
		}
	}
	if in.DigestHour != nil {
		p.Settings.DigestHour = *in.DigestHour
	}
	if err := s.svc.Notify.SavePreferences(r.Context(), actorOf(r), p); err != nil {
		s.apiFail(w, r, err)
		return
	}
	s.writePrefs(w, r)
}
