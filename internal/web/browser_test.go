package web_test

import (
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/web/browsertest"
)

// TestBrowserProfiles logs in as each kind of person in a real Chromium, looks at
// their pages, checks accessibility with axe-core and keeps screenshots.
func TestBrowserProfiles(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	b := browsertest.New(t)
	base := browsertest.HostURL(k.URL, "0690001a.localhost")

	for _, who := range []struct {
		name string
		p    string
		want []string
	}{
		{"eleve", f.Pupil.Login, []string{"Bonjour Léa", "4e A"}},
		{"parent", f.Parent.Login, []string{"Mes enfants", "Léa MARTIN"}},
		{"enseignant", f.Teacher.Login, []string{"Mes classes et groupes", "4e A"}},
		{"direction", f.Head.Login, []string{"Administration", "Principale"}},
		{"admin", f.Admin.Login, []string{"Administration"}},
	} {
		t.Run(who.name, func(t *testing.T) {
			tab := b.NewIncognito().WithT(t)
			// A visitor lands on the school's public site, whose first link is the login.
			tab.Navigate(base + "/")
			tab.ClickAndWait("main a[href='/connexion']")
			if !strings.Contains(tab.Location(), "/connexion") {
				t.Fatalf("visitor not sent to login: %s", tab.Location())
			}
			if who.name == "eleve" {
				tab.CheckA11y(t)
				tab.Screenshot("connexion")
			}
			tab.Fill("#f-login", who.p)
			tab.Fill("#f-password", apptest.Password)
			tab.Submit("form[action='/connexion']")
			text := tab.Text("main")
			for _, w := range who.want {
				if !strings.Contains(text, w) {
					t.Errorf("dashboard of %s lacks %q:\n%s", who.name, w, text)
				}
			}
			tab.CheckA11y(t)
			tab.Screenshot("tableau-de-bord")

			tab.ClickAndWait("a[href='/annuaire']")
			tab.Fill("#f-q", "mar")
			tab.Submit("form[role='search']")
			tab.CheckA11y(t)
			tab.Screenshot("annuaire")

			tab.ClickAndWait("nav a[href='/mon-compte']")
			tab.CheckA11y(t)
			tab.Screenshot("mon-compte")
		})
	}
}

// TestBrowserPasswordChange changes a password through the page, with a mistake first.
func TestBrowserPasswordChange(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	b := browsertest.New(t)
	base := browsertest.HostURL(k.URL, "localhost")
	b.Navigate(base + "/connexion")
	b.Fill("#f-login", f.Teacher.Login)
	b.Fill("#f-password", apptest.Password)
	b.Submit("form[action='/connexion']")
	b.Navigate(base + "/mon-compte")
	b.Fill("#f-current", apptest.Password)
	b.Fill("#f-password", "paul")
	b.Fill("#f-confirm", "paul")
	b.Submit("form[action='/mon-compte/mot-de-passe']")
	if txt := b.Text(".alert"); !strings.Contains(txt, "entre 8 et 128") {
		t.Fatalf("policy error not shown: %q", txt)
	}
	b.CheckA11y(t)
	b.Screenshot("erreur-mot-de-passe")
	b.Fill("#f-current", apptest.Password)
	b.Fill("#f-password", "Craie-Blanche-31")
	b.Fill("#f-confirm", "Craie-Blanche-31")
	b.Submit("form[action='/mon-compte/mot-de-passe']")
	if txt := b.Text(".flash"); !strings.Contains(txt, "mot de passe est changé") {
		t.Fatalf("no confirmation: %q", txt)
	}
	b.Submit("form[action='/deconnexion']")
	b.Fill("#f-login", f.Teacher.Login)
	b.Fill("#f-password", "Craie-Blanche-31")
	b.Submit("form[action='/connexion']")
	if !strings.Contains(b.Text("h1"), "Bonjour Paul") {
		t.Fatalf("new password does not log in: %s", b.Text("main"))
	}
}
