package web_test

import (
	"strings"
	"testing"
	"time"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/directory"
	"github.com/preau-ent/preau/internal/platform/db"
	"github.com/preau-ent/preau/internal/web/browsertest"
)

func browserLogin(t *testing.T, tab *browsertest.Tab, base string, p directory.Person) {
	t.Helper()
	tab.Navigate(base + "/connexion")
	tab.Fill("#f-login", p.Login)
	tab.Fill("#f-password", apptest.Password)
	tab.Submit("form[action='/connexion']")
}

// waitText waits until the text of the element matching sel contains want.
func waitText(t *testing.T, tab *browsertest.Tab, sel, want string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		var got string
		tab.Eval(`(document.querySelector(`+"`"+sel+"`"+`) || {innerText: ""}).innerText`, &got)
		if strings.Contains(got, want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s ne contient pas %q :\n%s", sel, want, got)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Two persons chat in real time in two Chromium pages; on PostgreSQL each page is
// served by its own instance of Préau (two servers on one database), so that every
// message crosses instances. A report reaches the head, whose removal shows at once.
func TestBrowserChat(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	kB := k
	if k.App.DB.Dialect == db.Postgres {
		kB = k.Instance()
	}
	baseA := browsertest.HostURL(k.URL, "localhost")
	baseB := browsertest.HostURL(kB.URL, "localhost")
	b := browsertest.New(t)

	// Léa starts a discussion with Tom through the form.
	lea := b.Tab
	browserLogin(t, lea, baseA, f.Pupil)
	lea.ClickAndWait("nav a[href='/discussions']")
	lea.CheckA11y(t)
	lea.Fill("#f-q", "petit")
	lea.Submit("#f-q")
	lea.Click("#p-" + f.Classmate.ID)
	lea.Submit("form[method='post'][action='/discussions'] button.primary")
	if !strings.Contains(lea.Location(), "/discussions/") || lea.Title() == "" {
		t.Fatalf("pas de discussion : %s", lea.Location())
	}
	conv := lea.Location()[strings.LastIndex(lea.Location(), "/")+1:]
	lea.CheckA11y(t)

	// Tom, on the other instance, opens it.
	tom := b.NewIncognito()
	browserLogin(t, tom, baseB, f.Classmate)
	tom.Navigate(baseB + "/discussions/" + conv)
	waitText(t, tom, ".chat-members summary", "en ligne") // Léa, at least
	for deadline := time.Now().Add(10 * time.Second); kB.App.Services.ChatHub.Connected() == 0 || (kB != k && k.App.Services.ChatHub.Connected() == 0); {
		if time.Now().After(deadline) {
			t.Fatal("les pages n'ont pas ouvert leur flux")
		}
		time.Sleep(50 * time.Millisecond)
	}

	lea.Fill("#f-message", "Salut Tom, tu as compris l'exercice 3 ?")
	lea.Click("#chat-send button[type=submit]")
	waitText(t, lea, "#messages", "l'exercice 3")
	waitText(t, tom, "#messages", "l'exercice 3")
	waitText(t, tom, "#chat-live", "Nouveau message de Léa MARTIN")
	tom.Fill("#f-message", "Oui ! On factorise d'abord.")
	tom.Click("#chat-send button[type=submit]")
	waitText(t, lea, "#messages", "On factorise d'abord.")
	if n := lea.Count("#messages li"); n != 2 {
		t.Fatalf("%d messages chez Léa", n)
	}
	if v := lea.Value("#f-message"); v != "" {
		t.Fatalf("le champ garde %q après l'envoi", v)
	}
	lea.CheckA11y(t)
	tom.CheckA11y(t)
	lea.Screenshot("discussion-lea")
	tom.Screenshot("discussion-tom")

	// Tom reports Léa's message; the head removes it; both pages show it at once.
	tom.Click("#messages li:first-child details.report summary")
	tom.Fill("#messages li:first-child input[name=motif]", "Pour essayer")
	tom.Submit("#messages li:first-child details.report button")
	waitText(t, tom, ".flash", "signalé")
	head := b.NewIncognito()
	browserLogin(t, head, baseA, f.Head)
	head.Navigate(baseA + "/discussions/moderation")
	waitText(t, head, "main", "Pour essayer")
	head.CheckA11y(t)
	head.Screenshot("moderation")
	head.Submit("form[action^='/moderation/discussions/'] button.danger")
	waitText(t, lea, "#messages li:first-child", "Message supprimé par la modération.")
	waitText(t, tom, "#messages li:first-child", "Message supprimé par la modération.")

	// The list shows the discussion; a new message counts as unread there, live.
	lea.Navigate(baseA + "/discussions")
	lea.CheckA11y(t)
	tom.Fill("#f-message", "Tu viens demain ?")
	tom.Click("#chat-send button[type=submit]")
	waitText(t, lea, "#chat-list .unread", "1 non lu(s)")
	lea.Screenshot("discussions-liste")

	// A teacher makes the class's discussion from the form; its page offers to add members.
	paul := b.NewIncognito()
	browserLogin(t, paul, baseA, f.Teacher)
	paul.Navigate(baseA + "/discussions")
	paul.Click("#g-" + f.Class.ID)
	paul.Fill("#f-titre", "4e A — Mathématiques")
	paul.Submit("form[method='post'][action='/discussions'] button.primary")
	waitText(t, paul, "h1", "4e A — Mathématiques")
	waitText(t, paul, ".chat-members summary", "3 membres")
	paul.Click(".chat-add summary")
	paul.CheckA11y(t)
	paul.Screenshot("discussion-de-classe")
}
