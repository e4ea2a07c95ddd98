package web_test

import (
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/notify"
	"github.com/preau-ent/preau/internal/web/browsertest"
)

// TestBrowserNotifications: a parent changes their preferences, sees a notification
// on the dashboard and opens it, in a real Chromium checked with axe-core.
func TestBrowserNotifications(t *testing.T) {
	k := apptest.New(t, ticking)
	f := k.School
	b := browsertest.New(t)
	base := browsertest.HostURL(k.URL, "0690001a.localhost")
	tab := b.NewIncognito().WithT(t)
	tab.Navigate(base + "/connexion")
	tab.Fill("#f-login", f.Parent.Login)
	tab.Fill("#f-password", apptest.Password)
	tab.Submit("form[action='/connexion']")
	if txt := tab.Text("#notify-h + p"); !strings.Contains(txt, "Aucune notification") {
		t.Errorf("empty dashboard block: %q", txt)
	}

	tab.ClickAndWait("main a[href='/notifications/preferences']")
	if !tab.Exists("input[name='c_messagerie.message'][value='digest']:checked") {
		t.Error("a parent's messages are not in the digest by default")
	}
	tab.CheckA11y(t)
	tab.Screenshot("preferences")
	tab.Click("input[name='c_actualites.publication'][value='off']")
	tab.Click("input[name='c_chat.message'][value='now']")
	tab.Fill("#f-digest_hour", "19")
	tab.Submit("form[action='/notifications/preferences'] button[type='submit']")
	if txt := tab.Text(".flash"); !strings.Contains(txt, "préférences de notification sont enregistrées") {
		t.Errorf("flash: %q", txt)
	}
	if !tab.Exists("input[name='c_chat.message'][value='now']:checked") || tab.Value("#f-digest_hour") != "19" {
		t.Error("preferences not kept")
	}

	// A publication (turned off) and a message (kept) are posted.
	for _, e := range []notify.Event{
		{Kind: notify.KindPublication, Recipients: []string{f.Parent.ID}, Title: "Fête du collège", Link: "/annuaire"},
		{Kind: notify.KindMessage, Recipients: []string{f.Parent.ID}, ActorID: f.Teacher.ID, Title: "Sortie au musée jeudi", Link: "/annuaire/personnes/" + f.Teacher.ID},
	} {
		if err := k.App.Services.Notify.Post(k.Ctx, e); err != nil {
			t.Fatal(err)
		}
	}
	tab.ClickAndWait("nav a[href='/']")
	block := tab.Text(".notify-block")
	if !strings.Contains(block, "Sortie au musée jeudi") || strings.Contains(block, "Fête du collège") {
		t.Errorf("dashboard block: %q", block)
	}
	if badge := tab.Text("nav a[href='/notifications'] .notify-badge"); badge != "1" {
		t.Errorf("badge %q", badge)
	}
	tab.CheckA11y(t)
	tab.Screenshot("tableau-de-bord")

	tab.ClickAndWait(".notify-block .notify-item a")
	if loc := tab.Location(); !strings.HasSuffix(loc, "/annuaire/personnes/"+f.Teacher.ID) {
		t.Errorf("opened %s", loc)
	}
	if tab.Exists("nav a[href='/notifications'] .notify-badge") {
		t.Error("still unread after opening it")
	}
	tab.ClickAndWait("nav a[href='/notifications']")
	if txt := tab.Text("main"); !strings.Contains(txt, "Sortie au musée jeudi") || !strings.Contains(txt, "par Paul DURAND") {
		t.Errorf("centre: %q", txt)
	}
	tab.CheckA11y(t)
	tab.Screenshot("centre")
}
