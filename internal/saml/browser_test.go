package saml_test

import (
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/web/browsertest"
)

// TestBrowserSAMLSignOn signs in through SAML in a real Chromium, from a service
// provider application built on crewjam/saml: Préau's login form names the service,
// the auto-submitted response signs the person in with their attributes; logging out
// everywhere in Préau logs out of the service (back-channel logout), and logging out
// from the service logs out of Préau. Préau's pages are checked with axe-core.
func TestBrowserSAMLSignOn(t *testing.T) {
	k := kit(t)
	f := k.School
	base := preauBase(k)
	// The service on "localhost" too (another port): the same site as Préau, as a
	// school's services often are, so that the browser keeps each one's cookies.
	sp := newSPOn(t, k, base, "localhost", true, "", false)
	b := browsertest.New(t)

	b.Navigate(sp.URL + "/hello")
	if !strings.Contains(b.Location(), "/saml/continue?r=") || !strings.Contains(b.Text("main"), "Connexion au service « Ressources de test »") {
		t.Fatalf("no login form for the service: %s\n%s", b.Location(), b.Text("main"))
	}
	b.CheckA11y(t)
	b.Screenshot("connexion-saml")
	b.Fill("#f-login", f.Pupil.Login)
	b.Fill("#f-password", "mauvais")
	b.Submit("form[action^='/saml/continue'] button[type=submit]")
	if txt := b.Text(".alert"); !strings.Contains(txt, "Identifiant ou mot de passe incorrect") {
		t.Fatalf("no error for a wrong password: %q", txt)
	}
	b.CheckA11y(t)
	b.Fill("#f-password", apptest.Password)
	b.Submit("form[action^='/saml/continue'] button[type=submit]")
	b.WaitVisible("#attributes")
	if b.Text("#user") != f.Pupil.Login {
		t.Fatalf("not signed in to the service: %s\n%s", b.Location(), b.Text("body"))
	}
	for _, want := range []string{"National_ELV", "0690001A", "0690001A$4e A", "Martin", "Léa"} {
		if !strings.Contains(b.Text("#attributes"), want) {
			t.Errorf("the service did not receive %q:\n%s", want, b.Text("#attributes"))
		}
	}
	b.Screenshot("service-saml-connecte")

	// "Log out everywhere" in Préau: the service is told, and asks again.
	b.Navigate(base + "/mon-compte")
	b.Submit("form[action='/mon-compte/deconnexion-partout'] button")
	b.Navigate(sp.URL + "/hello")
	if !strings.Contains(b.Location(), "/saml/continue?r=") {
		t.Fatalf("still signed in to the service after logging out everywhere: %s", b.Location())
	}

	// Signed in again, then out from the service: out of Préau as well.
	b.Fill("#f-login", f.Pupil.Login)
	b.Fill("#f-password", apptest.Password)
	b.Submit("form[action^='/saml/continue'] button[type=submit]")
	b.WaitVisible("#logout")
	b.ClickAndWait("#logout")
	b.WaitVisible("#out")
	b.Navigate(base + "/")
	if !strings.HasSuffix(b.Location(), "/connexion") {
		t.Fatalf("still signed in to Préau after logging out from the service: %s", b.Location())
	}

	// An unknown service provider: a clear page, no redirection.
	b.Navigate(base + "/saml/idp-initiated?sp=inconnu")
	if b.Status() != 400 || !strings.Contains(b.Text("main"), "n'est pas enregistré") {
		t.Fatalf("unknown SP: %d %s", b.Status(), b.Text("main"))
	}
	b.CheckA11y(t)
	b.Screenshot("saml-service-inconnu")
}
