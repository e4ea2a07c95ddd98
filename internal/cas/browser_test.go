package cas_test

import (
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/web/browsertest"
)

// TestBrowserCASSignOn signs in through CAS in a real Chromium, from the relying-party
// application protected by connect-cas2: the login form names the service, the
// service shows the attributes it received, the dashboard shows its tile, a second
// person signs on without typing a password, and logging out — from Préau or from
// the service — logs out everywhere. Every page is checked with axe-core.
func TestBrowserCASSignOn(t *testing.T) {
	k := apptest.New(t)
	f := k.School
	// "localhost", which Node resolves too (the relying party validates tickets there).
	base := browsertest.HostURL(k.URL, "localhost")
	relying := startRP(t, base)
	relying.register(t, k)
	b := browsertest.New(t)

	// The pupil opens the service: Préau's login form, for that service.
	b.Navigate(relying.URL + "/")
	if !strings.Contains(b.Location(), "/cas/login?service=") {
		t.Fatalf("not sent to Préau: %s", b.Location())
	}
	if txt := b.Text("main"); !strings.Contains(txt, "Connexion au service « Service de test »") {
		t.Fatalf("the login form does not name the service:\n%s", txt)
	}
	b.CheckA11y(t)
	b.Screenshot("connexion-cas")
	b.Fill("#f-login", f.Pupil.Login)
	b.Fill("#f-password", "mauvais")
	b.Submit("form[action='/cas/login']")
	if txt := b.Text(".alert"); !strings.Contains(txt, "Identifiant ou mot de passe incorrect") {
		t.Fatalf("no error for a wrong password: %q", txt)
	}
	b.CheckA11y(t)
	b.Fill("#f-password", apptest.Password)
	b.Submit("form[action='/cas/login']")

	// Back at the service, signed in, with the attributes.
	if !strings.HasPrefix(b.Location(), relying.URL+"/") || b.Text("#user") != f.Pupil.Login {
		t.Fatalf("not signed in to the service: %s\n%s", b.Location(), b.Text("body"))
	}
	attrs := b.Text("#attributes")
	for _, want := range []string{"National_ELV", "0690001A", "0690001A$4e A", "Martin", "Léa"} {
		if !strings.Contains(attrs, want) {
			t.Errorf("the service did not receive %q:\n%s", want, attrs)
		}
	}
	b.CheckA11y(t)
	b.Screenshot("service-connecte")

	// The dashboard shows the service's tile, which leads to it.
	b.Navigate(base + "/")
	tile := "a.tile[href='" + relying.URL + "/']"
	if !b.Exists(tile) {
		t.Fatalf("no tile for the service:\n%s", b.Text("main"))
	}
	b.CheckA11y(t)
	b.Screenshot("tableau-de-bord")
	b.ClickAndWait(tile)
	if b.Text("#user") != f.Pupil.Login {
		t.Fatalf("the tile did not lead to the signed-in service: %s", b.Location())
	}

	// "Log out everywhere" in Préau logs out of the service too (single logout).
	b.Navigate(base + "/mon-compte")
	b.Submit("form[action='/mon-compte/deconnexion-partout'] button")
	b.Navigate(relying.URL + "/")
	if !strings.Contains(b.Location(), "/cas/login?service=") {
		t.Fatalf("still signed in to the service after logging out everywhere: %s", b.Location())
	}

	// A teacher signed in to Préau reaches the service without a password, then logs
	// out from the service: out of Préau as well.
	teacher := b.NewIncognito()
	teacher.Navigate(base + "/connexion")
	teacher.Fill("#f-login", f.Teacher.Login)
	teacher.Fill("#f-password", apptest.Password)
	teacher.Submit("form[action='/connexion']")
	teacher.Navigate(relying.URL + "/")
	if teacher.Text("#user") != f.Teacher.Login {
		t.Fatalf("no single sign-on for the teacher: %s", teacher.Location())
	}
	if attrs := teacher.Text("#attributes"); !strings.Contains(attrs, "National_ENS") {
		t.Errorf("teacher's attributes: %s", attrs)
	}
	teacher.ClickAndWait("#logout")
	if !strings.Contains(teacher.Location(), "/cas/login?service=") {
		t.Fatalf("after logging out from the service: %s", teacher.Location())
	}
	teacher.Navigate(base + "/")
	if !strings.HasSuffix(teacher.Location(), "/connexion") {
		t.Fatalf("still signed in to Préau after logging out from the service: %s", teacher.Location())
	}

	// An unregistered service: a clear page, no redirection.
	teacher.Navigate(base + "/cas/login?service=" + "https%3A%2F%2Fevil.example%2F")
	if teacher.Status() != 400 || !strings.Contains(teacher.Text("main"), "n'est pas enregistré") {
		t.Fatalf("unknown service: %d %s", teacher.Status(), teacher.Text("main"))
	}
	teacher.CheckA11y(t)
	teacher.Screenshot("service-inconnu")

	// The console pages of connected services.
	head := b.NewIncognito()
	head.Navigate(base + "/connexion")
	head.Fill("#f-login", f.Head.Login)
	head.Fill("#f-password", apptest.Password)
	head.Submit("form[action='/connexion']")
	head.Navigate(base + "/admin/structures/" + f.College.ID + "/connecteurs")
	head.CheckA11y(t)
	head.Screenshot("console-services")
	head.Fill("#f-name", "Pronote")
	head.Fill("#f-url", "http://pronote.example.org/")
	head.Fill("#f-icon", "vie-scolaire")
	head.Click("#f-profiles-Enseignant")
	head.Submit("form[action='/admin/connecteurs'] button[type=submit]")
	if txt := head.Text(".alert"); !strings.Contains(txt, "https://") {
		t.Fatalf("no error for an http CAS service: %q", txt)
	}
	head.CheckA11y(t)
	head.Screenshot("console-services-erreur")
	head.Fill("#f-url", "https://pronote.example.org/")
	head.Submit("form[action='/admin/connecteurs'] button[type=submit]")
	if txt := head.Text(".flash"); !strings.Contains(txt, "Le service est ajouté") {
		t.Fatalf("not added: %q", txt)
	}
	head.CheckA11y(t)
	head.Screenshot("console-service")
}
