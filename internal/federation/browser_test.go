package federation_test

import (
	"strings"
	"testing"

	"github.com/preau-ent/preau/internal/app/apptest"
	"github.com/preau-ent/preau/internal/web/browsertest"
)

// TestBrowserFederatedLogin signs in with the external provider in Chromium: the
// button on the login page, the provider's form, the link confirmed with the ENT
// password, the dashboard. Pages are checked with axe-core.
func TestBrowserFederatedLogin(t *testing.T) {
	e := setup(t)
	f := e.ent.School
	b := browsertest.New(t)
	b.Navigate(e.entBase + "/connexion")
	b.CheckA11y(t)
	b.Screenshot("connexion-federee")
	b.ClickAndWait("a[href='/connexion/federee/" + e.provider.ID + "']")
	if !strings.HasPrefix(b.Location(), e.idp.URL+"/oidc/authorize?") {
		t.Fatalf("not at the provider: %s", b.Location())
	}
	b.Fill("#f-login", f.Parent.Login)
	b.Fill("#f-password", apptest.Password)
	b.Submit("form button[type=submit]")
	if !strings.Contains(b.Text("main"), "Lier votre compte") {
		t.Fatalf("link page: %s\n%s", b.Location(), b.Text("main"))
	}
	b.CheckA11y(t)
	b.Screenshot("lien-compte")
	b.Fill("#f-login", f.Parent.Login)
	b.Fill("#f-password", apptest.Password)
	b.Submit("form[action='/connexion/federee/lier'] button[type=submit]")
	if !strings.Contains(b.Text(".flash"), "Votre compte est lié") {
		t.Fatalf("not linked: %s\n%s", b.Location(), b.Text("main"))
	}
	b.CheckA11y(t)

	// The console page of the providers.
	admin := b.NewIncognito()
	admin.Navigate(e.entBase + "/connexion")
	admin.Fill("#f-login", f.Admin.Login)
	admin.Fill("#f-password", apptest.Password)
	admin.Submit("form[action='/connexion'] button[type=submit]")
	admin.Navigate(e.entBase + "/admin/federation")
	if !strings.Contains(admin.Text("main"), "Académie") {
		t.Fatalf("console: %s", admin.Text("main"))
	}
	admin.CheckA11y(t)
	admin.Screenshot("console-federation")
}
