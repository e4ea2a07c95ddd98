package web_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/preau-ent/preau/internal/app"
	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/notify"
)

func postEvent(t *testing.T, k *apptest.Kit, e notify.Event) {
	t.Helper()
	if err := k.App.Services.Notify.Post(k.Ctx, e); err != nil {
		t.Fatal(err)
	}
}

// ticking gives the notification service a clock that moves a millisecond at each
// reading, so that events posted in a row are ordered as posted.
func ticking(o *app.Options) {
	var mu sync.Mutex
	t := time.Now()
	o.Notify.Now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		t = t.Add(time.Millisecond)
		return t
	}
}

var notifyLink = regexp.MustCompile(`href="/notifications/([a-z0-9]{20,})">[^\n]*Sortie`)

func TestNotificationCentreAndDashboard(t *testing.T) {
	k := apptest.New(t, ticking)
	f := k.School
	postEvent(t, k, notify.Event{Kind: notify.KindMessage, Recipients: []string{f.Parent.ID, f.Teacher.ID}, ActorID: f.Teacher.ID,
		Title: `Sortie <script>alert("x")</script> & musée`, Link: "/messagerie/m1", StructureID: f.College.ID})
	for i := range 24 {
		postEvent(t, k, notify.Event{Kind: notify.KindPublication, Recipients: []string{f.Parent.ID}, Title: fmt.Sprintf("Actualité n°%02d", i), Link: fmt.Sprintf("/actualites/%d", i)})
	}
	parent := k.As(f.Parent)
	_, body := parent.Get("/")
	contains(t, body, "Dernières notifications", "Actualité n°23", `href="/notifications"`, `<span class="notify-badge">25</span>`, "(25 non lues)")
	if c := strings.Count(body, `class="notify-item`); c != 5 {
		t.Errorf("dashboard lists %d notifications, want 5", c)
	}

	// The teacher wrote the message: not notified of it.
	_, tbody := k.As(f.Teacher).Get("/notifications")
	contains(t, tbody, "Aucune notification")
	if strings.Contains(tbody, "notify-badge") {
		t.Error("the actor has a badge")
	}

	resp, body := parent.Get("/notifications")
	if resp.StatusCode != 200 {
		t.Fatalf("centre: %d", resp.StatusCode)
	}
	contains(t, body, "25 notification(s) non lue(s)", "Tout marquer comme lu", "Notifications plus anciennes", `aria-current="page"`)
	if c := strings.Count(body, `class="notify-item`); c != 20 {
		t.Errorf("first page lists %d, want 20", c)
	}
	next := regexp.MustCompile(`href="/notifications\?apres=([^"]+)"`).FindStringSubmatch(body)
	if next == nil {
		t.Fatal("no link to older notifications")
	}
	_, older := parent.Get("/notifications?apres=" + strings.ReplaceAll(next[1], "&amp;", "&"))
	contains(t, older, "Sortie &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; musée", "par Paul DURAND", "Revenir aux plus récentes")
	if strings.Contains(older, "<script>alert") {
		t.Fatal("title not escaped")
	}
	if c := strings.Count(older, `class="notify-item`); c != 5 {
		t.Errorf("second page lists %d, want 5", c)
	}

	// Opening one marks it read and goes to its link.
	id := notifyLink.FindStringSubmatch(older)[1]
	resp, _ = k.As(f.Pupil).Get("/notifications/" + id)
	if resp.StatusCode != 404 {
		t.Errorf("another person opens my notification: %d", resp.StatusCode)
	}
	resp, _ = parent.Get("/notifications/" + id)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/messagerie/m1" {
		t.Fatalf("open: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	_, body = parent.Get("/")
	contains(t, body, `<span class="notify-badge">24</span>`)

	resp, _ = parent.Post("/notifications/lu", url.Values{})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("mark all: %d", resp.StatusCode)
	}
	_, body = parent.Get("/notifications")
	contains(t, body, "Toutes vos notifications sont marquées comme lues.", "0 notification(s) non lue(s)")
	if strings.Contains(body, "notify-badge") || strings.Contains(body, "notify-unread") {
		t.Error("still unread after marking all")
	}
	resp, _ = k.Client().Get("/notifications")
	if resp.StatusCode != http.StatusSeeOther {
		t.Errorf("anonymous centre: %d", resp.StatusCode)
	}
}

func TestNotificationPreferencesForm(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	parent := k.As(f.Parent)
	_, body := parent.Get("/notifications/preferences")
	// Parents: digest by default; no address on the fixture's account.
	contains(t, body, `name="c_messagerie.message" value="digest" checked`, `name="c_compte.securite" value="now" checked`, `value="20:00"`, `value="07:00"`,
		`<option value="18" selected>`, "pas d&#39;adresse électronique")
	form := url.Values{"c_messagerie.message": {"off"}, "c_chat.message": {"now"}, "quiet_start": {"21h"}, "quiet_end": {"06:30"}, "digest_hour": {"17"}}
	resp, body := parent.Post("/notifications/preferences", form)
	if resp.StatusCode != 400 {
		t.Fatalf("bad time: %d", resp.StatusCode)
	}
	contains(t, body, "Indiquez une heure au format HH:MM.", `value="21h"`, `value="06:30"`, `name="c_messagerie.message" value="off" checked`, `<option value="17" selected>`)
	form.Set("quiet_start", "21:00")
	resp, _ = parent.Post("/notifications/preferences", form)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("save: %d", resp.StatusCode)
	}
	_, body = parent.Get("/notifications/preferences")
	contains(t, body, "Vos préférences de notification sont enregistrées.", `name="c_messagerie.message" value="off" checked`, `name="c_chat.message" value="now" checked`,
		`value="21:00"`, `value="06:30"`, `<option value="17" selected>`)
	// Turned off: a message no longer reaches them.
	postEvent(t, k, notify.Event{Kind: notify.KindMessage, Recipients: []string{f.Parent.ID}, Title: "Message", Link: "/messagerie/1"})
	_, body = parent.Get("/")
	if strings.Contains(body, "notify-badge") {
		t.Error("a kind turned off still notifies")
	}
}

func TestPasswordChangeIsNotified(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	c := k.As(f.Teacher)
	resp, _ := c.Post("/mon-compte/mot-de-passe", url.Values{"current": {apptest.Password}, "password": {"Trousse-2027!"}, "confirm": {"Trousse-2027!"}})
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("password change: %d", resp.StatusCode)
	}
	_, body := c.Get("/notifications")
	contains(t, body, "Sécurité de mon compte", "Votre mot de passe a été modifié", `<span class="notify-badge">1</span>`)
}

func TestNotificationsAPI(t *testing.T) {
	k := apptest.New(t, ticking)
	f := k.School
	resp, body := k.Client().Get("/api/v1/notifications")
	if resp.StatusCode != 401 || !strings.Contains(body, `"unauthenticated"`) {
		t.Fatalf("anonymous: %d %s", resp.StatusCode, body)
	}
	for i := range 3 {
		postEvent(t, k, notify.Event{Kind: notify.KindChat, Recipients: []string{f.Pupil.ID}, ActorID: f.Classmate.ID, Title: fmt.Sprint("Salut ", i), Link: fmt.Sprint("/chat/", i)})
	}
	pupil := k.As(f.Pupil)
	type list struct {
		Items []struct {
			ID, Kind, KindLabel, Title, Link, ActorID, ActorName string
			Read                                                 bool
		}
		Next       string
		Unread     int
		UnreadMore bool
	}
	var l list
	resp, body = pupil.Get("/api/v1/notifications?limite=2")
	if err := json.Unmarshal([]byte(body), &l); err != nil || resp.StatusCode != 200 {
		t.Fatalf("list: %d %v %s", resp.StatusCode, err, body)
	}
	if len(l.Items) != 2 || l.Next == "" || l.Unread != 3 || l.UnreadMore || l.Items[0].Title != "Salut 2" || l.Items[0].KindLabel != "Message instantané" ||
		l.Items[0].ActorName != "Tom PETIT" || l.Items[0].Link != "/chat/2" {
		t.Fatalf("list: %+v", l)
	}
	_, body = pupil.Get("/api/v1/notifications?limite=2&apres=" + url.QueryEscape(l.Next))
	var l2 list
	json.Unmarshal([]byte(body), &l2)
	if len(l2.Items) != 1 || l2.Next != "" || l2.Items[0].Title != "Salut 0" {
		t.Fatalf("second page: %s", body)
	}
	resp, body = pupil.Get("/api/v1/notifications?apres=x")
	if resp.StatusCode != 400 || !strings.Contains(body, `"invalid"`) {
		t.Errorf("bad cursor: %d %s", resp.StatusCode, body)
	}
	h := http.Header{"Content-Type": {"application/json"}}
	resp, body = pupil.Do("POST", "/api/v1/notifications/"+l.Items[0].ID+"/lu", nil, h)
	if resp.StatusCode != 200 || !strings.Contains(body, `"unread":2`) {
		t.Fatalf("read one: %d %s", resp.StatusCode, body)
	}
	resp, body = k.As(f.Parent).Do("POST", "/api/v1/notifications/"+l.Items[1].ID+"/lu", nil, h)
	if resp.StatusCode != 404 || !strings.Contains(body, `"not_found"`) {
		t.Fatalf("someone else's: %d %s", resp.StatusCode, body)
	}
	resp, body = pupil.Do("POST", "/api/v1/notifications/lu", nil, h)
	if resp.StatusCode != 200 || !strings.Contains(body, `"marked":2`) || !strings.Contains(body, `"unread":0`) {
		t.Fatalf("read all: %d %s", resp.StatusCode, body)
	}

	resp, body = pupil.Get("/api/v1/notifications/preferences")
	var prefs struct {
		Channels   map[string]string
		QuietStart string
		QuietEnd   string
		DigestHour int
		Kinds      []struct{ ID, Label, Default string }
	}
	if err := json.Unmarshal([]byte(body), &prefs); err != nil || resp.StatusCode != 200 {
		t.Fatalf("preferences: %d %v %s", resp.StatusCode, err, body)
	}
	if prefs.Channels[notify.KindMessage] != "now" || prefs.QuietStart != "20:00" || prefs.QuietEnd != "07:00" || prefs.DigestHour != 18 || len(prefs.Kinds) < 4 {
		t.Fatalf("preferences: %+v", prefs)
	}
	resp, body = pupil.Do("PUT", "/api/v1/notifications/preferences", strings.NewReader(`{"channels":{"chat.message":"off"},"quietStart":"22:00","digestHour":7}`), h)
	if resp.StatusCode != 200 || !strings.Contains(body, `"chat.message":"off"`) || !strings.Contains(body, `"quietStart":"22:00"`) ||
		!strings.Contains(body, `"quietEnd":"07:00"`) || !strings.Contains(body, `"digestHour":7`) {
		t.Fatalf("put: %d %s", resp.StatusCode, body)
	}
	for _, bad := range []string{`{"channels":{"chat.message":"souvent"}}`, `{"quietEnd":"7h"}`, `{"digestHour":24}`, `{"channels":{"inconnu":"off"}}`, `{"frequence":1}`} {
		resp, body = pupil.Do("PUT", "/api/v1/notifications/preferences", strings.NewReader(bad), h)
		if resp.StatusCode != 400 || !strings.Contains(body, `"invalid"`) {
			t.Errorf("%s: %d %s", bad, resp.StatusCode, body)
		}
	}
	// Turned off through the API: the chat no longer notifies.
	postEvent(t, k, notify.Event{Kind: notify.KindChat, Recipients: []string{f.Pupil.ID}, Title: "Encore", Link: "/chat/9"})
	_, body = pupil.Get("/api/v1/notifications")
	if !strings.Contains(body, `"unread":0`) {
		t.Errorf("after turning chat off: %s", body)
	}
}
