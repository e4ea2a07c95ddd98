package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/preau-ent/preau/internal/app"
	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/chat"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/web"
)

// sseEvent is one server-sent event as a client reads it.
type sseEvent struct {
	ID, Name, Data string
}

// sseStream is a real client of the live stream: an HTTP request left open, read
// line by line.
type sseStream struct {
	Events <-chan sseEvent
	cancel context.CancelFunc
	resp   *http.Response
}

func (s *sseStream) Close() { s.cancel() }

// openStream connects client c of kit k to the stream, resuming after lastID when
// it is not "".
func openStream(t testing.TB, k *apptest.Kit, c *apptest.Client, lastID string) *sseStream {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	req, err := http.NewRequestWithContext(ctx, "GET", k.URL+"/discussions/flux", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Accept", "text/event-stream")
	if lastID != "" {
		req.Header.Set("Last-Event-ID", lastID)
	}
	resp, err := c.HTTP.Do(req)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
		cancel()
		t.Fatalf("flux : %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	ch := make(chan sseEvent, 64)
	ready := make(chan struct{})
	go func() {
		defer close(ch)
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		var ev sseEvent
		first := true
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "":
				if first {
					close(ready) // the server wrote its opening comment: it is subscribed
					first = false
				}
				if ev.Data != "" {
					ch <- ev
				}
				ev = sseEvent{}
			case strings.HasPrefix(line, "id: "):
				ev.ID = line[4:]
			case strings.HasPrefix(line, "event: "):
				ev.Name = line[7:]
			case strings.HasPrefix(line, "data: "):
				ev.Data += line[6:]
			}
		}
	}()
	select {
	case <-ready:
	case <-time.After(10 * time.Second):
		t.Fatal("le flux ne s'ouvre pas")
	}
	s := &sseStream{Events: ch, cancel: cancel, resp: resp}
	t.Cleanup(s.Close)
	return s
}

// next returns the next event named name.
func (s *sseStream) next(t testing.TB, name string) sseEvent {
	t.Helper()
	timeout := time.After(10 * time.Second)
	for {
		select {
		case ev, ok := <-s.Events:
			if !ok {
				t.Fatalf("flux fermé avant l'événement %s", name)
			}
			if ev.Name == name {
				return ev
			}
		case <-timeout:
			t.Fatalf("pas d'événement %s", name)
		}
	}
}

func (s *sseStream) nextMessage(t testing.TB) chat.WireMessage {
	t.Helper()
	ev := s.next(t, "message")
	var m chat.WireMessage
	if err := json.Unmarshal([]byte(ev.Data), &m); err != nil {
		t.Fatal(err)
	}
	if ev.ID != fmt.Sprint(m.ID) {
		t.Fatalf("id d'événement %s pour le message %d", ev.ID, m.ID)
	}
	return m
}

var convPath = regexp.MustCompile(`^/discussions/([a-z0-9]+)$`)

// startDirect opens a one-to-one conversation through the form and returns its id.
func startDirect(t *testing.T, c *apptest.Client, other string) string {
	t.Helper()
	resp, body := c.Post("/discussions", url.Values{"personne": {other}})
	m := convPath.FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("nouvelle discussion : %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	return m[1]
}

func TestChatPages(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	pupil, classmate, head, admin := k.As(f.Pupil), k.As(f.Classmate), k.As(f.Head), k.As(f.Admin)

	resp, body := pupil.Get("/discussions?q=petit")
	if resp.StatusCode != 200 {
		t.Fatalf("liste : %d", resp.StatusCode)
	}
	contains(t, body, `href="/discussions" aria-current="page"`, `name="personne" value="`+f.Classmate.ID+`"`, `name="groupe" value="`+f.Class.ID+`"`)
	// The other school's pupil is never offered, and cannot be forced.
	_, body = pupil.Get("/discussions?q=roux")
	lacks(t, body, f.OtherPupil.ID)
	if resp, _ := pupil.Post("/discussions", url.Values{"personne": {f.OtherPupil.ID}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("discussion avec un élève du lycée : %d", resp.StatusCode)
	}
	// A group without a title: the error, and the choices kept.
	resp, body = pupil.Post("/discussions", url.Values{"personne": {f.Classmate.ID, f.Teacher.ID}, "q": {"petit"}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("groupe sans titre : %d", resp.StatusCode)
	}
	contains(t, body, "Donnez un titre", `value="`+f.Classmate.ID+`" checked`, `value="`+f.Teacher.ID+`" checked`)

	conv := startDirect(t, pupil, f.Classmate.ID)
	resp, body = pupil.Post("/discussions/"+conv, url.Values{"message": {"Tu as fini l'exercice de maths ?"}})
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/discussions/"+conv+"#m-") {
		t.Fatalf("envoi : %d %s\n%s", resp.StatusCode, resp.Header.Get("Location"), body)
	}
	mid := strings.TrimPrefix(resp.Header.Get("Location"), "/discussions/"+conv+"#m-")
	resp, body = pupil.Post("/discussions/"+conv, url.Values{"message": {"  "}})
	if resp.StatusCode != http.StatusBadRequest {
		t.Fatalf("message vide : %d", resp.StatusCode)
	}
	contains(t, body, "Écrivez un message.", `aria-invalid="true"`)
	// The classmate has one unread message until they open the conversation.
	_, body = classmate.Get("/discussions")
	contains(t, body, "1 non lu(s)", f.Pupil.DisplayName())
	_, body = classmate.Get("/discussions/" + conv)
	contains(t, body, "Tu as fini l&#39;exercice de maths ?", `id="m-`+mid+`"`, "Signaler", "en ligne")
	_, body = classmate.Get("/discussions")
	lacks(t, body, "1 non lu(s)")
	_, body = classmate.Get("/discussions/recherche?q=exercice")
	contains(t, body, "1 message(s) trouvé(s)", "/discussions/"+conv+"?avant=")

	// Administrators do not read conversations.
	for _, c := range []*apptest.Client{head, admin} {
		if resp, _ := c.Get("/discussions/" + conv); resp.StatusCode != http.StatusNotFound {
			t.Fatalf("un administrateur lit la discussion : %d", resp.StatusCode)
		}
	}
	// Reported, it reaches the head, who removes it.
	if resp, _ := classmate.Post("/discussions/messages/"+mid+"/signaler", url.Values{"conversation": {conv}, "motif": {"Triche"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("signalement : %d", resp.StatusCode)
	}
	if resp, _ := pupil.Get("/moderation?type=discussion"); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("modération par un élève : %d", resp.StatusCode)
	}
	_, body = head.Get("/moderation?type=discussion")
	contains(t, body, "Tu as fini l&#39;exercice de maths ?", "Triche", f.Pupil.DisplayName())
	if resp, _ := head.Post("/discussions/moderation/"+mid+"/decision", url.Values{"decision": {"removed"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("suppression : %d", resp.StatusCode)
	}
	_, body = pupil.Get("/discussions/" + conv)
	contains(t, body, "Message supprimé par la modération.")
	lacks(t, body, "exercice de maths")
}

func TestChatAPI(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	pupil := k.As(f.Pupil)
	jsonH := http.Header{"Content-Type": {"application/json"}}
	resp, body := pupil.Do("POST", "/api/v1/discussions", strings.NewReader(`{"persons":["`+f.Classmate.ID+`"]}`), jsonH)
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("création : %d %s", resp.StatusCode, body)
	}
	var conv struct{ ID, Kind, Name string }
	must(t, json.Unmarshal([]byte(body), &conv))
	if conv.Kind != "direct" || conv.Name != f.Classmate.DisplayName() {
		t.Fatalf("discussion : %+v", conv)
	}
	resp, body = pupil.Do("POST", "/api/v1/discussions", strings.NewReader(`{"persons":["`+f.OtherPupil.ID+`"]}`), jsonH)
	if resp.StatusCode != http.StatusForbidden || !strings.Contains(body, `"code":"forbidden"`) {
		t.Fatalf("élève du lycée : %d %s", resp.StatusCode, body)
	}
	for i := 0; i < 3; i++ {
		resp, body = pupil.Do("POST", "/api/v1/discussions/"+conv.ID+"/messages", strings.NewReader(fmt.Sprintf(`{"body":"message %d"}`, i)), jsonH)
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("envoi : %d %s", resp.StatusCode, body)
		}
	}
	resp, body = pupil.Do("POST", "/api/v1/discussions/"+conv.ID+"/messages", strings.NewReader(`{"body":""}`), jsonH)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"field":"body"`) {
		t.Fatalf("message vide : %d %s", resp.StatusCode, body)
	}
	resp, body = pupil.Do("POST", "/api/v1/discussions/"+conv.ID+"/messages", strings.NewReader(`{"body":`), jsonH)
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"code":"invalid"`) {
		t.Fatalf("JSON invalide : %d %s", resp.StatusCode, body)
	}
	classmate := k.As(f.Classmate)
	_, body = classmate.Get("/api/v1/discussions")
	if !strings.Contains(body, `"unread":3`) {
		t.Fatalf("liste : %s", body)
	}
	// Keyset pages.
	_, body = classmate.Get("/api/v1/discussions/" + conv.ID + "/messages?limit=2")
	var page struct {
		Messages []chat.WireMessage
		Before   int64
	}
	must(t, json.Unmarshal([]byte(body), &page))
	if len(page.Messages) != 2 || page.Messages[1].Body != "message 2" {
		t.Fatalf("page : %s", body)
	}
	_, body = classmate.Get(fmt.Sprintf("/api/v1/discussions/%s/messages?limit=2&before=%d", conv.ID, page.Before))
	must(t, json.Unmarshal([]byte(body), &page))
	if len(page.Messages) != 1 || page.Messages[0].Body != "message 0" {
		t.Fatalf("page suivante : %s", body)
	}
	if resp, _ := classmate.Do("POST", "/api/v1/discussions/"+conv.ID+"/read", nil, nil); resp.StatusCode != http.StatusNoContent {
		t.Fatalf("lu : %d", resp.StatusCode)
	}
	_, body = classmate.Get("/api/v1/discussions")
	if !strings.Contains(body, `"unread":0`) {
		t.Fatalf("liste après lecture : %s", body)
	}
	_, body = classmate.Get("/api/v1/discussions/search?q=message")
	if strings.Count(body, `"conversationName"`) != 3 {
		t.Fatalf("recherche : %s", body)
	}
	_, body = classmate.Get("/api/v1/discussions/" + conv.ID + "/members")
	if !strings.Contains(body, `"presence":"offline"`) {
		t.Fatalf("membres : %s", body)
	}
	if resp, body := k.As(f.Admin).Get("/api/v1/discussions/" + conv.ID + "/messages"); resp.StatusCode != http.StatusNotFound || !strings.Contains(body, `"code":"not_found"`) {
		t.Fatalf("administrateur : %d %s", resp.StatusCode, body)
	}
	if resp, _ := k.Client().Get("/api/v1/discussions"); resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("anonyme : %d", resp.StatusCode)
	}
	resp, body = classmate.Do("POST", fmt.Sprintf("/api/v1/discussions/messages/%d/report", page.Messages[0].ID), strings.NewReader(`{"reason":"spam"}`), jsonH)
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("signalement : %d %s", resp.StatusCode, body)
	}
}

// The live stream delivers a message posted after connecting, and a reconnection
// with Last-Event-ID gets what it missed from the database. Streams do not take
// admission-control slots: with two slots, three streams leave pages working.
func TestChatStream(t *testing.T) {
	k := apptest.New(t, func(o *app.Options) { o.MaxInflight = 2 })
	f := k.School
	pupil, classmate := k.As(f.Pupil), k.As(f.Classmate)
	conv := startDirect(t, pupil, f.Classmate.ID)
	s1 := openStream(t, k, classmate, "")
	s2 := openStream(t, k, classmate, "")
	s3 := openStream(t, k, pupil, "")
	if resp, _ := pupil.Post("/discussions/"+conv, url.Values{"message": {"Salut !"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("envoi : %d", resp.StatusCode)
	}
	for _, s := range []*sseStream{s1, s2, s3} {
		if m := s.nextMessage(t); m.Body != "Salut !" || m.SenderID != f.Pupil.ID || m.ConversationID != conv {
			t.Fatalf("message reçu : %+v", m)
		}
	}
	s1.Close()
	// Missed while away: two messages; the stream resumed after the first gets both.
	var last chat.WireMessage
	for _, text := range []string{"Tu es là ?", "Réponds quand tu peux"} {
		resp, body := pupil.Do("POST", "/api/v1/discussions/"+conv+"/messages", strings.NewReader(`{"body":"`+text+`"}`), http.Header{"Content-Type": {"application/json"}})
		if resp.StatusCode != http.StatusCreated {
			t.Fatalf("envoi : %d %s", resp.StatusCode, body)
		}
		must(t, json.Unmarshal([]byte(body), &last))
	}
	resumed := openStream(t, k, classmate, fmt.Sprint(last.ID-1))
	if m := resumed.nextMessage(t); m.ID != last.ID || m.Body != "Réponds quand tu peux" {
		t.Fatalf("reprise : %+v", m)
	}
	s2.nextMessage(t)
	if m := s2.nextMessage(t); m.ID != last.ID {
		t.Fatalf("flux en direct : %+v", m)
	}
	if resp, _ := classmate.Get("/discussions"); resp.StatusCode != http.StatusOK {
		t.Fatalf("page pendant les flux : %d", resp.StatusCode)
	}
	if resp, _ := k.Client().Get("/discussions/flux"); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("flux anonyme : %d", resp.StatusCode)
	}
}

// Two instances behind a load balancer share a PostgreSQL database: a message posted
// through one reaches a stream held by the other (LISTEN/NOTIFY), and presence is
// seen from both.
func TestChatAcrossInstances(t *testing.T) {
	k := apptest.New(t)
	if k.App.DB.Dialect != db.Postgres {
		t.Skip("plusieurs instances : PostgreSQL seulement (PREAU_TEST_POSTGRES)")
	}
	k2 := k.Instance()
	f := k.School
	onA, onB := k.As(f.Pupil), k2.As(f.Classmate)
	conv := startDirect(t, onA, f.Classmate.ID)
	stream := openStream(t, k2, onB, "")
	long := strings.Repeat("é", chat.MaxBody) // more than NOTIFY carries: read from the database
	for _, text := range []string{"Bonjour depuis l'instance A", long} {
		if resp, _ := onA.Post("/discussions/"+conv, url.Values{"message": {text}}); resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("envoi : %d", resp.StatusCode)
		}
		if m := stream.nextMessage(t); m.Body != text {
			t.Fatalf("reçu sur B : %.60q", m.Body)
		}
	}
	_, body := onA.Get("/api/v1/discussions/" + conv + "/members")
	if !strings.Contains(body, `"id":"`+f.Classmate.ID+`","name":"`+f.Classmate.DisplayName()+`","profile":"Eleve","presence":"online"`) {
		t.Fatalf("présence vue de A : %s", body)
	}
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// A stream ends when its session does (here, a logout elsewhere).
func TestChatStreamEndsWithSession(t *testing.T) {
	defer web.SetChatHeartbeat(100 * time.Millisecond)()
	k := apptest.New(t)
	pupil := k.As(k.School.Pupil)
	s := openStream(t, k, pupil, "")
	if resp, _ := pupil.Post("/deconnexion", nil); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("déconnexion : %d", resp.StatusCode)
	}
	select {
	case _, ok := <-s.Events:
		if ok {
			t.Fatal("événement inattendu")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("le flux survit à la session")
	}
}

// The server's read and write time limits (cmd/preau sets one minute each) cut
// ordinary requests, not live streams: a stream outlives them and still delivers.
func TestChatStreamOutlivesServerTimeouts(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	must(t, err)
	srv := &http.Server{Handler: k.App.Server.Handler(), ReadTimeout: 300 * time.Millisecond, WriteTimeout: 300 * time.Millisecond}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	timed := *k
	timed.URL = "http://" + ln.Addr().String()
	pupil, classmate := timed.As(f.Pupil), timed.As(f.Classmate)
	conv := startDirect(t, pupil, f.Classmate.ID)
	s := openStream(t, &timed, classmate, "")
	time.Sleep(time.Second)
	if resp, _ := pupil.Post("/discussions/"+conv, url.Values{"message": {"Toujours là ?"}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("envoi : %d", resp.StatusCode)
	}
	if m := s.nextMessage(t); m.Body != "Toujours là ?" {
		t.Fatalf("reçu : %+v", m)
	}
}

// The creator of a group conversation adds members through the page, under the
// rules; other members cannot.
func TestChatAddMembersPage(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	teacher := k.As(f.Teacher)
	resp, body := teacher.Post("/discussions", url.Values{"titre": {"4e A — Mathématiques"}, "groupe": {f.Class.ID}})
	m := convPath.FindStringSubmatch(resp.Header.Get("Location"))
	if resp.StatusCode != http.StatusSeeOther || m == nil {
		t.Fatalf("création : %d\n%s", resp.StatusCode, body)
	}
	conv := m[1]
	_, body = teacher.Get("/discussions/" + conv + "?q=martin")
	contains(t, body, "Ajouter des membres", `value="`+f.Parent.ID+`"`)
	if resp, _ := teacher.Post("/discussions/"+conv+"/membres", url.Values{"personne": {f.Parent.ID}}); resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("ajout : %d", resp.StatusCode)
	}
	_, body = teacher.Get("/discussions/" + conv)
	contains(t, body, "Les membres sont ajoutés.", f.Parent.DisplayName(), "4 membres")
	if resp, _ := teacher.Post("/discussions/"+conv+"/membres", url.Values{"personne": {f.OtherPupil.ID}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("ajout d'un élève du lycée : %d", resp.StatusCode)
	}
	pupil := k.As(f.Pupil)
	_, body = pupil.Get("/discussions/" + conv)
	lacks(t, body, "Ajouter des membres")
	if resp, _ := pupil.Post("/discussions/"+conv+"/membres", url.Values{"personne": {f.Classmate.ID}}); resp.StatusCode != http.StatusForbidden {
		t.Fatalf("ajout par un élève : %d", resp.StatusCode)
	}
}
